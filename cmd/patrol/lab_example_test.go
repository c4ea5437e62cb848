package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	winrmlab "patrol/lab/winrm"
)

// repoRoot is the root of the repository, relative to this package. The
// commands in the docs are run from there.
const repoRoot = "../.."

// The shipped example, as the docs name it from the repository root.
const (
	exampleReplay    = "lab/winrm/examples/seal-db-1.yml"
	exampleInventory = "lab/winrm/examples/inventory.yml"
)

// exampleDocs are the files that tell a user how to run the example; each
// must give the same commands.
var exampleDocs = []string{
	"README.md",
	"README.zh-CN.md",
	"lab/winrm/examples/README.md",
	"lab/winrm/examples/README.zh-CN.md",
	exampleInventory,
}

// windowsChecksDaily and windowsChecksMonthly are the checks the shipped
// playbooks run on a Windows host when the inventory sets every optional
// variable, as the example inventory does.
var (
	windowsChecksDaily = []string{
		"check.disk", "check.service", "check.firewall", "check.hotfix", "check.reboot_pending",
		"check.uptime", "check.eventlog", "check.schedtask",
	}
	windowsChecksMonthly = append(append([]string{}, windowsChecksDaily...),
		"check.antivirus", "check.iis", "check.time")
)

// exampleCommands are the lines of the docs that start the lab and run the
// inspection.
type exampleCommands struct {
	passwordVar, password string
	labArgs               []string // after "patrol"
	inspectArgs           []string // after "patrol"
}

// TestLabExampleInspections starts `patrol lab winrm` with the shipped
// example and the flags the README gives, then runs the daily and monthly
// inspections with the example inventory. Every Windows check must report
// findings, and none may be an error, so a probe whose script no longer
// matches its replay entry, or a new probe without one, fails here.
func TestLabExampleInspections(t *testing.T) {
	cmds := readExampleCommands(t)
	dir := t.TempDir()

	// --tls writes the CA next to the replay file, so the lab serves a copy
	// in a temporary folder instead of writing into the repository.
	data, err := os.ReadFile(filepath.Join(repoRoot, exampleReplay))
	if err != nil {
		t.Fatal(err)
	}
	replayCopy := writeFile(t, filepath.Join(dir, filepath.Base(exampleReplay)), string(data))
	args := replaceArg(cmds.labArgs, exampleReplay, replayCopy)
	if !containsString(args, replayCopy) {
		t.Fatalf("the README's lab command %q does not serve %s", strings.Join(cmds.labArgs, " "), exampleReplay)
	}
	if !containsString(args, "--tls") {
		t.Fatalf("the README's lab command %q does not serve HTTPS (--tls), which the example inventory expects", strings.Join(cmds.labArgs, " "))
	}
	if containsString(args, "--listen") {
		t.Fatalf("the README's lab command %q sets --listen; the example inventory expects the default port", strings.Join(cmds.labArgs, " "))
	}
	t.Setenv(cmds.passwordVar, cmds.password)
	lab := startLabCommand(t, args[2:]...)

	// The example inventory must name the port the lab listens on by
	// default and the CA file it writes next to the replay file.
	invText := readRepoFile(t, exampleInventory)
	_, defaultPort, err := net.SplitHostPort(labDefaultListen(t))
	if err != nil {
		t.Fatal(err)
	}
	exampleCA := strings.TrimSuffix(exampleReplay, ".yml") + "-ca.pem"
	if got, want := filepath.Base(lab.caFile), filepath.Base(exampleCA); got != want {
		t.Fatalf("the lab wrote its CA as %s, but the example inventory expects %s", got, want)
	}
	invText = replaceOnce(t, invText, "port: "+defaultPort+"\n", "port: "+lab.port+"\n")
	invText = replaceOnce(t, invText, "ca_file: "+exampleCA+"\n", "ca_file: "+lab.caFile+"\n")

	// The registry variant of check.antivirus: the lab answers every
	// registry probe with the same output, so any key and value do.
	const avPath = `      av_signature_path: 'C:\Program Files (x86)\Rising\RAV\Data\virlib.dat'` + "\n"
	registryText := replaceOnce(t, invText, avPath,
		"      av_registry_key: 'HKLM\\SOFTWARE\\Rising\\RAV'\n      av_registry_value: SignatureDate\n")

	cases := []struct {
		name, kind, inventory string
		checks                []string
		antivirusItem         string
	}{
		{"daily", "daily", invText, windowsChecksDaily, ""},
		{"monthly", "monthly", invText, windowsChecksMonthly, `C:\Program Files (x86)\Rising\RAV\Data\virlib.dat`},
		{"monthly registry antivirus", "monthly", registryText, windowsChecksMonthly, "SignatureDate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home, work := t.TempDir(), t.TempDir()
			inv := writeFile(t, filepath.Join(work, "inventory.yml"), c.inventory)
			out := filepath.Join(work, "report")
			inspect := append([]string{}, cmds.inspectArgs...)
			inspect[1] = c.kind
			inspect = append(replaceArg(inspect, exampleInventory, inv), "--out", out)

			res := runPatrolEnv(t, []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=en", cmds.passwordVar + "=" + cmds.password},
				work, inspect...)

			// The example host has failing items on purpose, so 1 is the
			// only right exit code: 2 or 3 mean it was not inspected.
			if res.code != exitFailed {
				t.Fatalf("exit code = %d, want 1\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			report, err := os.ReadFile(filepath.Join(out, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			var unmatched []string
			for _, line := range strings.Split(string(report)+res.stdout+res.stderr, "\n") {
				if strings.Contains(line, "no replay entry matches") {
					unmatched = append(unmatched, strings.TrimSpace(line))
				}
			}
			if len(unmatched) > 0 {
				t.Errorf("%d lines of output say that a probe found no entry in %s, the first: %.300s", len(unmatched), exampleReplay, unmatched[0])
			}
			checkExampleReport(t, report, c.checks, c.antivirusItem)
		})
	}
}

// checkExampleReport checks that the one host of report was reachable, that
// each check in want reported at least one finding, and that no finding is
// an error.
func checkExampleReport(t *testing.T, report []byte, want []string, antivirusItem string) {
	t.Helper()
	var rep struct {
		Hosts []struct {
			Name      string `json:"name"`
			Reachable bool   `json:"reachable"`
			Items     []struct {
				Check   string `json:"check"`
				Item    string `json:"item"`
				Status  string `json:"status"`
				Message struct {
					EN string `json:"en"`
				} `json:"message"`
			} `json:"items"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(report, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 1 || !rep.Hosts[0].Reachable {
		t.Fatalf("report hosts = %+v, want seal-db-1 reachable", rep.Hosts)
	}

	found := map[string]bool{}
	for _, it := range rep.Hosts[0].Items {
		found[it.Check] = true
		if it.Status == "error" {
			t.Errorf("%s %s could not be measured from %s: %.300s", it.Check, it.Item, exampleReplay, it.Message.EN)
		}
		if it.Check == "check.antivirus" && !strings.Contains(it.Item, antivirusItem) {
			t.Errorf("check.antivirus item = %q, want it to name %q", it.Item, antivirusItem)
		}
	}
	for _, check := range want {
		if !found[check] {
			t.Errorf("%s reported no finding; the report has %v", check, found)
		}
	}
}

// TestLabExampleSources checks the "# source:" line above each entry of the
// example replay file: the entry's output must contain the named testdata
// file, or be a part of it, so the file's account of where each output came
// from stays true.
func TestLabExampleSources(t *testing.T) {
	text := readRepoFile(t, exampleReplay)
	entries, err := winrmlab.ParseReplay(exampleReplay, []byte(text))
	if err != nil {
		t.Fatal(err)
	}

	var sources []string
	pending := ""
	for _, line := range strings.Split(text, "\n") {
		if path, ok := strings.CutPrefix(line, "# source: "); ok {
			pending = path
		}
		if strings.HasPrefix(line, "- match:") {
			sources = append(sources, pending)
			pending = ""
		}
	}
	if len(sources) != len(entries) {
		t.Fatalf("found %d entries by their - match: lines and %d by parsing", len(sources), len(entries))
	}

	for i, e := range entries {
		if strings.HasPrefix(e.Match.String(), "^") {
			t.Errorf("line %d: match %q is anchored, but patrol's probes start with a prelude", e.Line, e.Match)
		}
		if sources[i] == "" {
			t.Errorf("line %d: entry %q has no # source: line", e.Line, e.Match)
			continue
		}
		recorded, err := os.ReadFile(filepath.Join(repoRoot, sources[i]))
		if err != nil {
			t.Errorf("line %d: %v", e.Line, err)
			continue
		}
		if !bytes.Contains(e.Stdout, recorded) && !bytes.Contains(recorded, e.Stdout) {
			t.Errorf("line %d: the output of %q neither contains %s nor is a part of it", e.Line, e.Match, sources[i])
		}
	}
}

// unusableListen is a --listen address that net.Listen rejects, so a lab
// that wrongly passes its flag checks exits with an error instead of
// serving until the test times out.
const unusableListen = "127.0.0.1:-1"

// TestLabWinRMRequiresUser checks that the lab does not start without
// --user, and says which flag to add in either language.
func TestLabWinRMRequiresUser(t *testing.T) {
	for _, lang := range []struct{ name, want string }{{"en", "--user is required"}, {"zh", "缺少 --user"}} {
		t.Run(lang.name, func(t *testing.T) {
			dir := t.TempDir()
			res := runPatrolEnv(t, []string{"PATROL_HOME=" + dir, "PATROL_LANG=" + lang.name, "LAB_PASSWORD=pw"}, dir,
				"lab", "winrm", "--replay", filepath.Join(repoRoot, exampleReplay), "--password-env", "LAB_PASSWORD", "--listen", unusableListen)

			if res.code != exitInvalid {
				t.Fatalf("exit code = %d, want 2\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			for _, want := range []string{lang.want, "--user Administrator"} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
		})
	}
}

// TestLabWinRMRequiresPassword checks that a lab accepting Basic or NTLM
// logins does not start without a password, which would make it reject
// every login, and names --password-env in either language. A lab that
// accepts client certificates only needs none.
func TestLabWinRMRequiresPassword(t *testing.T) {
	for _, c := range []struct {
		name, lang, want string
		auth             []string
	}{
		{"default auth en", "en", "--password-env is required", nil},
		{"default auth zh", "zh", "缺少 --password-env", nil},
		{"ntlm", "en", "--password-env is required", []string{"--auth", "ntlm"}},
		{"basic and cert", "en", "--password-env is required", []string{"--tls", "--auth", "basic,cert"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			replay := filepath.Join(dir, "seal-db-1.yml")
			writeFile(t, replay, readRepoFile(t, exampleReplay))
			args := append([]string{"lab", "winrm", "--replay", replay, "--user", "Administrator", "--listen", unusableListen}, c.auth...)

			res := runPatrolEnv(t, []string{"PATROL_HOME=" + dir, "PATROL_LANG=" + c.lang}, dir, args...)

			if res.code != exitInvalid {
				t.Fatalf("exit code = %d, want 2\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			for _, want := range []string{c.want, "SEAL_DB_PASSWORD"} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
			if strings.Contains(res.stdout, "serving WinRM") {
				t.Errorf("the lab started serving:\n%s", res.stdout)
			}
		})
	}
}

// readExampleCommands reads the commands that start the lab and run the
// inspection from README.md, and checks that every other doc of the example
// gives the same ones.
func readExampleCommands(t *testing.T) exampleCommands {
	t.Helper()
	labPrefix := "patrol lab winrm --replay " + exampleReplay
	inspectPrefix := "patrol inspect monthly -i " + exampleInventory
	exportLine := regexp.MustCompile(`^export ([A-Z_]+)='([^']+)'$`)

	var want [3]string
	for i, doc := range exampleDocs {
		got := [3]string{
			docLine(t, doc, labPrefix),
			docLine(t, doc, inspectPrefix),
			docLine(t, doc, "export "),
		}
		if i == 0 {
			want = got
			continue
		}
		if got != want {
			t.Errorf("%s gives the commands\n%q\nbut %s gives\n%q", doc, got, exampleDocs[0], want)
		}
	}

	m := exportLine.FindStringSubmatch(want[2])
	if m == nil {
		t.Fatalf("%s: %q does not export a password as export NAME='value'", exampleDocs[0], want[2])
	}
	cmds := exampleCommands{
		passwordVar: m[1],
		password:    m[2],
		labArgs:     strings.Fields(want[0])[1:],
		inspectArgs: strings.Fields(want[1])[1:],
	}
	if !containsString(cmds.labArgs, "--password-env") || !containsString(cmds.labArgs, cmds.passwordVar) {
		t.Fatalf("the lab command %q does not take the password from %s", want[0], cmds.passwordVar)
	}
	if !strings.Contains(readRepoFile(t, exampleInventory), "password_env: "+cmds.passwordVar+"\n") {
		t.Fatalf("%s does not read the password from %s", exampleInventory, cmds.passwordVar)
	}
	return cmds
}

// docLine returns the first line of a repository file that starts with
// prefix, after any comment mark and indentation.
func docLine(t *testing.T, path, prefix string) string {
	t.Helper()
	lines := bufio.NewScanner(strings.NewReader(readRepoFile(t, path)))
	for lines.Scan() {
		line := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(lines.Text()), "#"))
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	t.Fatalf("%s has no line starting with %q", path, prefix)
	return ""
}

// labDefaultListen returns the default of `patrol lab winrm --listen`.
func labDefaultListen(t *testing.T) string {
	t.Helper()
	flag := (&app{}).labWinRMCommand().Flags().Lookup("listen")
	if flag == nil {
		t.Fatal("patrol lab winrm has no --listen flag")
	}
	return flag.DefValue
}

func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// replaceOnce replaces old in s with new, and fails the test unless old
// occurs exactly once.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("%q occurs %d times in %s, want once", strings.TrimSpace(old), n, exampleInventory)
	}
	return strings.Replace(s, old, new, 1)
}

func replaceArg(args []string, old, new string) []string {
	out := append([]string{}, args...)
	for i, a := range out {
		if a == old {
			out[i] = new
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
