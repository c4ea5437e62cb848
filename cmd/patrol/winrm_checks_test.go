package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	winrmlab "patrol/lab/winrm"
)

// TestWinRMOperationsChecks runs check.schedtask, check.antivirus and
// check.iis on a Windows host played by the WinRM lab over HTTPS, replaying
// the constructed probe outputs the checks' table tests read, and expects
// the findings those outputs describe.
func TestWinRMOperationsChecks(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	// The IIS entry comes first: first match wins, and only its script
	// calls Get-Website.
	replay := replayOfTestdata(t, filepath.Join(dir, "seal-web.yml"), []recorded{
		{"Get-Website", "constructed-win2012r2-iis-webadministration-probe.txt"},
		{"Get-ScheduledTask", "constructed-win2012r2-schedtasks.txt"},
		{"LastWriteTime", "constructed-win2012r2-antivirus-file-probe.txt"},
	})
	port, caFile := startLab(t, replay, winrmlab.Config{})
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), "hosts:\n"+windowsHost("seal-web-1", port, caFile, "SEAL_WEB_PASSWORD"))
	book := writeFile(t, filepath.Join(dir, "ops.yml"), `- hosts: all
  tasks:
    - check.schedtask: {tasks: [OracleFullBackup, '\Backup\CopyToNAS', '\Backup\Weekly', ArchiveLogs, NoSuchTask]}
    - check.antivirus: {path: 'C:\Program Files (x86)\Rising\RAV\Data\virlib.dat'}
    - check.iis: {sites: [ReportServer], app_pools: [OAAppPool]}
`)

	res := runPatrolEnv(t, []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=en", "SEAL_WEB_PASSWORD=" + labPassword},
		dir, "run", book, "-i", inv, "-o", "json")

	if res.code != exitFailed {
		t.Fatalf("exit code = %d, want 1 (a failed backup task and a stopped pool)\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var r jsonResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		var items []string
		for _, f := range r.Findings {
			items = append(items, f.Item+" "+string(f.Status))
		}
		got[r.Module] = strings.Join(items, "; ")
	}
	// The same statuses as the checks' own tests give these recordings,
	// except that no max_age is set, so the age of a run does not count.
	want := map[string]string{
		"check.schedtask": `OracleFullBackup ok; \Backup\CopyToNAS fail; \Backup\Weekly warn; ArchiveLogs fail; NoSuchTask fail`,
		"check.antivirus": `C:\Program Files (x86)\Rising\RAV\Data\virlib.dat warn`,
		"check.iis":       "site ReportServer ok; app pool OAAppPool fail",
	}
	for module, findings := range want {
		if got[module] != findings {
			t.Errorf("%s findings = %q, want %q", module, got[module], findings)
		}
	}
}
