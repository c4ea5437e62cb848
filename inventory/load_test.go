package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"patrol/i18n"
)

func mustLoad(t *testing.T, paths ...string) *Inventory {
	t.Helper()
	inv, err := Load(paths...)
	if err != nil {
		t.Fatalf("Load(%v): %v", paths, err)
	}
	return inv
}

func TestLoadMinimal(t *testing.T) {
	inv := mustLoad(t, "testdata/minimal.yml")

	h := inv.Host("web1")
	if h == nil {
		t.Fatalf("host web1 missing; hosts: %v", names(inv.Hosts()))
	}
	want := Host{
		Name:       "web1",
		Address:    "127.0.0.1",
		Port:       2222,
		Connection: ConnSSH,
		User:       "root",
		KeyFile:    "/tmp/id_ed25519",
		OS:         "debian",
		System:     SystemSeal,
		Vars:       map[string]any{"foo": 1},
		Source:     "testdata/minimal.yml:4",
	}
	got := *h
	if got.Agent == nil || !*got.Agent {
		t.Errorf("Agent = %v, want true by default", got.Agent)
	}
	got.Agent = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("web1 =\n%+v\nwant\n%+v", got, want)
	}
	if len(inv.Groups()) != 0 {
		t.Errorf("Groups() = %v, want none", inv.Groups())
	}
	if !reflect.DeepEqual(inv.Files, []string{"testdata/minimal.yml"}) {
		t.Errorf("Files = %v", inv.Files)
	}
}

func TestLoadGroups(t *testing.T) {
	inv := mustLoad(t, "testdata/groups.yml")

	if got, want := names(inv.Hosts()), []string{"web1", "web2", "db1", "seal-app1", "seal-app2", "seal-db-1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("host order = %v, want %v", got, want)
	}

	db1 := inv.Host("db1")
	if got, want := db1.Groups, []string{"linux", "other-group", "seal", "seal-db"}; !reflect.DeepEqual(got, want) {
		t.Errorf("db1 groups = %v, want %v", got, want)
	}
	if db1.Vars["ntp_server"] != "127.0.0.10" || db1.Vars["backup_dir"] != "/backup" {
		t.Errorf("db1 vars = %v, want ntp_server from linux and backup_dir from seal-db", db1.Vars)
	}

	app1, app2 := inv.Host("seal-app1"), inv.Host("seal-app2")
	if app1.Connection != ConnWinRM || app1.Port != 5985 || app1.User != "Administrator" || app1.PasswordEnv != "SEAL_WIN_PASSWORD" {
		t.Errorf("seal-app1 = %+v, want winrm on 5985 as Administrator with password from SEAL_WIN_PASSWORD", app1)
	}
	if app2.Port != 5986 {
		t.Errorf("seal-app2 port = %d, want 5986 for winrm with tls", app2.Port)
	}
	if !app1.IsWindows() {
		t.Error("seal-app1 IsWindows() = false")
	}

	implicit := inv.Host("seal-db-1")
	if implicit == nil || implicit.Connection != ConnSSH || implicit.Port != 22 || implicit.User != "root" || implicit.Addr() != "seal-db-1" {
		t.Errorf("seal-db-1 = %+v, want a host with defaults defined by its group listing", implicit)
	}
	if implicit.Source != "testdata/groups.yml:37" {
		t.Errorf("seal-db-1 source = %q, want the group entry that named it", implicit.Source)
	}

	seal := inv.Group("seal-db")
	if seal == nil || seal.Depth != 2 || !reflect.DeepEqual(seal.Parents, []string{"seal"}) {
		t.Errorf("group seal-db = %+v, want depth 2 under seal", seal)
	}
	if other := inv.Group("other-group"); other.Depth != 2 || !reflect.DeepEqual(other.Hosts, []string{"web2", "db1"}) {
		t.Errorf("group other-group = %+v", other)
	}
	var groupNames []string
	for _, g := range inv.Groups() {
		groupNames = append(groupNames, g.Name)
	}
	if want := []string{"linux", "other-group", "seal", "seal-db", "windows"}; !reflect.DeepEqual(groupNames, want) {
		t.Errorf("Groups() = %v, want %v", groupNames, want)
	}
}

func TestLoadAnchorsAndMergeKeys(t *testing.T) {
	inv := mustLoad(t, "testdata/anchors.yml")

	db2 := inv.Host("db2")
	if db2.OS != "rhel7" || db2.System != SystemSeal || !db2.Become || db2.Address != "127.0.0.5" {
		t.Errorf("db2 = %+v, want merged seal settings with its own os rhel7", db2)
	}
}

func TestLoadEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.yml")
	if err := os.WriteFile(path, []byte("# nothing yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv := mustLoad(t, path)
	if len(inv.Hosts()) != 0 {
		t.Errorf("hosts = %v, want none", names(inv.Hosts()))
	}
}

// TestLoadInvalid loads each file under testdata/invalid and checks every problem
// it reports: position and the words a user needs to fix it.
func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		file string
		want []string // "line:col: message fragment", one per problem in order
	}{
		{"unknown-top-key.yml", []string{`1:1: unknown top-level key "host" (did you mean "hosts"?)`}},
		{"ansible-format.yml", []string{`1:1: unknown top-level key "all": this looks like an Ansible YAML inventory`}},
		{"not-a-mapping.yml", []string{`1:1: the inventory must be a mapping with the keys vars, hosts and groups, got a list`}},
		{"unknown-host-key.yml", []string{`3:5: host "web1": unknown key "adress" (did you mean "address"?); put custom variables under vars:`}},
		{"ansible-host-key.yml", []string{`3:5: host "web1": unknown key "ansible_user"; patrol calls this setting "user"`}},
		{"custom-key-outside-vars.yml", []string{`3:5: host "web1": unknown key "backup_dir"; put custom variables under vars:`}},
		{"bad-port.yml", []string{
			`3:11: port must be a whole number from 1 to 65535, got "70000"`,
			`5:11: port must be a whole number from 1 to 65535, got "ssh"`,
		}},
		{"bad-connection.yml", []string{`3:17: invalid connection "sshh" (did you mean "ssh"?); valid values: local, ssh, winrm`}},
		{"bad-system.yml", []string{`3:13: invalid system "sael" (did you mean "seal"?); valid values: entertainment, hotel, seal`}},
		{"bad-os.yml", []string{
			`3:9: invalid os "CentOS7" (did you mean "centos7"?); valid values: `,
			`5:9: invalid os "windows2012r2" (did you mean "win2012r2"?); valid values: `,
			`7:9: invalid os "solaris"; valid values: almalinux8,`,
		}},
		{"bad-auth.yml", []string{`4:11: invalid auth "kerberos"; valid values: basic, cert, ntlm`}},
		{"bad-bool.yml", []string{`3:13: become must be true or false, got "maybe"`}},
		{"secret-in-env.yml", []string{`3:19: password_env must name an environment variable`}},
		{"secret-var.yml", []string{
			`2:3: variable "ansible_password" would store a secret in the inventory; put it in an environment variable and set password_env`,
			`5:5: host "web1": key "password" would store a secret in the inventory`,
		}},
		{"cycle.yml", []string{`7:16: group cycle a → b → c → a; a group cannot contain itself`}},
		{"unknown-child.yml", []string{`5:16: group "seal": child group "linx" is not defined (did you mean "linux"?); define it under groups:`}},
		{"group-as-host.yml", []string{`5:13: group "seal" lists "linux" under hosts:, but "linux" is a group; list it under children:`}},
		{"misspelled-member.yml", []string{`6:13: group "seal" lists host "sael-db1", which is not defined under hosts: (did you mean "seal-db1"?)`}},
		{"duplicate-key.yml", []string{`4:5: duplicate key "port", first written at line 3; remove one of them`}},
		{"yaml-syntax.yml", []string{`3: invalid YAML: found character that cannot start any token; this line is indented with a tab`}},
		{"group-var-setting.yml", []string{`5:13: port must be a whole number from 1 to 65535, got "0"`}},
		{"group-setting-key.yml", []string{`4:5: group "linux": "user" is a connection setting; a group sets it for its hosts under vars:`}},
		{"unknown-group-key.yml", []string{`3:5: group "linux": unknown key "host" (did you mean "hosts"?); valid keys: hosts, children, vars`}},
		{"reserved-group.yml", []string{`2:3: group name "all" is reserved`}},
		{"bad-host-name.yml", []string{`2:3: invalid host name "web 1"; use letters, digits`}},
		{"host-group-clash.yml", []string{`5:3: group "db" has the same name as the host defined at testdata/invalid/host-group-clash.yml:2`}},
		{"bad-var-name.yml", []string{`2:3: invalid variable name "backup-dir"; use letters, digits and _`}},
		{"address-with-port.yml", []string{`3:14: address "127.0.0.1:2222" contains a port; write the address alone and the port as port: 2222`}},
		{"winrm-basic-http.yml", []string{`6:13: host "win1" uses WinRM basic authentication over HTTP, which sends the password in clear text; set tls: true`}},
		{"tls-and-http.yml", []string{`5:20: host "win1" sets both tls and insecure_http`}},
		{"winrm-cert-http.yml", []string{`4:11: host "win1" uses WinRM certificate authentication, which needs HTTPS; set tls: true`}},
		{"winrm-cert-files.yml", []string{
			`5:11: host "win1" uses WinRM certificate authentication but cert_file is not set; give the PEM client certificate in cert_file and its key in cert_key_file`,
			`5:11: host "win1" uses WinRM certificate authentication but cert_key_file is not set`,
			`9:11: host "win2" uses WinRM certificate authentication but cert_key_file is not set`,
			`17:13: host "win3" uses WinRM certificate authentication but cert_file is not set`,
		}},
		{"patch-roles.yml", []string{
			`11:14: system "seal" has two staging hosts, "seal-db-1" and "seal-test"; keep staging: true on one of them`,
			`13:11: host "hotel-app-1" is the only member of pair "hotel-ap" (did you mean "hotel-app"?); give its standby partner the same pair name`,
			`15:14: host "lab-1" is a staging host but has no system; set system`,
			`21:13: host "hotel-app-2" is the only member of pair "hotel-app" (did you mean "hotel-ap"?)`,
		}},
		{"bad-jump.yml", []string{
			`3:11: host "web1" lists itself as a jump host`,
			`5:11: invalid jump host "ops@127.0.0.9:99999"; write an inventory host name or user@address:port`,
		}},
	}

	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/invalid/" + tt.file
			inv, err := Load(path)
			if inv != nil {
				t.Errorf("Load returned an inventory along with problems")
			}
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error = %v (%T), want *ValidationError", err, err)
			}
			if len(verr.Problems) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(verr.Problems), len(tt.want), err)
			}
			for i, want := range tt.want {
				got := verr.Problems[i]
				if got.File != path {
					t.Errorf("problem %d file = %q, want %q", i, got.File, path)
				}
				if line := strings.TrimPrefix(got.String(), path+":"); !strings.HasPrefix(line, want) {
					t.Errorf("problem %d =\n%s\nwant prefix\n%s", i, line, want)
				}
				if got.Text.ZH == "" || got.Text.ZH == got.Text.EN {
					t.Errorf("problem %d has no Chinese text: %+v", i, got.Text)
				}
			}
		})
	}

	files, _ := filepath.Glob("testdata/invalid/*.yml")
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no case in TestLoadInvalid", f)
		}
	}
}

func TestLoadSecretNotShown(t *testing.T) {
	_, err := Load("testdata/invalid/secret-in-env.yml")
	if err == nil {
		t.Fatal("Load accepted a password in password_env")
	}
	var verr *ValidationError
	errors.As(err, &verr)
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		if text := verr.In(lang); strings.Contains(text, "P@ssw0rd") {
			t.Errorf("message in %s shows the secret: %s", lang, text)
		}
	}
}

func TestLoadCollectsAllFiles(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yml")
	_, err := Load("testdata/invalid/bad-port.yml", missing, "testdata/minimal.yml", "testdata/invalid/bad-system.yml")

	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error = %v, want *ValidationError", err)
	}
	lines := strings.Split(verr.Error(), "\n")
	wantPrefixes := []string{
		"testdata/invalid/bad-port.yml:3:11: ",
		"testdata/invalid/bad-port.yml:5:11: ",
		missing + ": cannot read inventory file: ",
		"testdata/invalid/bad-system.yml:3:13: ",
	}
	if len(lines) != len(wantPrefixes) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(wantPrefixes), verr.Error())
	}
	for i, want := range wantPrefixes {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want)
		}
	}
	if zh := verr.In(i18n.ZH); !strings.Contains(zh, "无法读取清单文件") {
		t.Errorf("Chinese message lacks the read failure:\n%s", zh)
	}
}

func TestLoadNoFiles(t *testing.T) {
	if _, err := Load(); err == nil {
		t.Error("Load() with no files succeeded")
	}
}

// TestLoadGroupVarReportedOnce checks that a bad group variable is reported once,
// not once per host in the group.
func TestLoadGroupVarReportedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inv.yml")
	data := "groups:\n  linux:\n    hosts: [a, b, c]\n    vars: {system: sael}\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 1 {
		t.Fatalf("error = %v, want exactly one problem", err)
	}
	if p := verr.Problems[0]; p.Line != 4 || p.Col != 20 {
		t.Errorf("problem at %d:%d, want 4:20", p.Line, p.Col)
	}
}

func TestSHA256(t *testing.T) {
	one := mustLoad(t, "testdata/minimal.yml")
	again := mustLoad(t, "testdata/minimal.yml")
	two := mustLoad(t, "testdata/merge-base.yml", "testdata/merge-override.yml")
	swapped := mustLoad(t, "testdata/merge-override.yml", "testdata/merge-base.yml")

	if len(one.SHA256()) != 64 {
		t.Fatalf("SHA256() = %q, want 64 hex digits", one.SHA256())
	}
	if one.SHA256() != again.SHA256() {
		t.Error("same file gave different digests")
	}
	if two.SHA256() == swapped.SHA256() {
		t.Error("file order does not change the digest")
	}
	if one.SHA256() == two.SHA256() {
		t.Error("different files gave the same digest")
	}

	// Moving bytes from one file to the next must change the digest.
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a1, b1 := write("a1.yml", "vars:\n  x: 1\n"), write("b1.yml", "# c\n")
	a2, b2 := write("a2.yml", "vars:\n  x: 1\n# c\n"), write("b2.yml", "")
	if mustLoad(t, a1, b1).SHA256() == mustLoad(t, a2, b2).SHA256() {
		t.Error("moving text between files kept the digest")
	}
}

func names(hosts []*Host) []string {
	var out []string
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	return out
}

func TestLoadDeepMergeKeys(t *testing.T) {
	inv := mustLoad(t, "testdata/merge-keys-deep.yml")

	if h := inv.Host("h63"); h == nil || h.Port != 2222 {
		t.Errorf("h63 = %+v, want port 2222 merged through 63 levels", h)
	}
}

func TestLoadSelfMerge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inv.yml")
	if err := os.WriteFile(path, []byte("hosts:\n  a: &x {<<: *x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), ":2:6: this mapping merges itself through an alias") {
		t.Errorf("error = %v, want the self-merge reported at 2:6", err)
	}
}
