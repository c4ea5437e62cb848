package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ChecksPerHost is the number of tasks each tool runs on every host.
const ChecksPerHost = 10

// Workload is the set of files the three tools run from, for one cluster.
type Workload struct {
	// DataDir holds the files the checks read on the hosts: an application
	// log and two backup files. Every host is this machine, so one copy serves
	// all of them.
	DataDir string

	PatrolInventory string
	PatrolPlaybook  string

	// FloorScript is the shell text one ssh session runs on each host.
	FloorScript string
	// FloorPorts lists one port per line, for xargs.
	FloorPorts string

	AnsibleInventory string
	AnsiblePlaybook  string
	AnsibleConfig    string
}

// floorDoneMarker ends the floor script's output, so a host whose session was
// cut short is noticed.
const floorDoneMarker = "patrol-bench-floor-done"

// WriteWorkload writes the inventories, playbooks and data files for c under dir.
func WriteWorkload(dir string, c *Cluster) (*Workload, error) {
	w := &Workload{
		DataDir:          filepath.Join(dir, "data"),
		PatrolInventory:  filepath.Join(dir, "patrol-inventory.yml"),
		PatrolPlaybook:   filepath.Join(dir, "patrol-playbook.yml"),
		FloorPorts:       filepath.Join(dir, "floor-ports.txt"),
		AnsibleInventory: filepath.Join(dir, "ansible-inventory.ini"),
		AnsiblePlaybook:  filepath.Join(dir, "ansible-playbook.yml"),
		AnsibleConfig:    filepath.Join(dir, "ansible.cfg"),
	}
	if err := writeData(w.DataDir); err != nil {
		return nil, err
	}

	cmds := probeCommands(w.DataDir)
	w.FloorScript = floorScript(cmds)
	files := map[string]string{
		w.PatrolInventory:  patrolInventory(c),
		w.PatrolPlaybook:   patrolPlaybook(w.DataDir),
		w.FloorPorts:       floorPorts(c),
		w.AnsibleInventory: ansibleInventory(c),
		w.AnsiblePlaybook:  ansiblePlaybook(cmds),
		w.AnsibleConfig:    ansibleConfig(dir, c),
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
	}
	return w, nil
}

// writeData creates the application log that check.log scans (2000 lines,
// about 150 KB, 40 of them errors) and the two backup files check.file_age
// looks for.
func writeData(dir string) error {
	backups := filepath.Join(dir, "backup")
	if err := os.MkdirAll(backups, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", backups, err)
	}

	var log strings.Builder
	for i := range 2000 {
		level := "INFO"
		if i%50 == 49 {
			level = "ERROR"
		}
		fmt.Fprintf(&log, "2026-01-15T08:%02d:%02d+08:00 %s upload.worker[%d] guest registration batch %d stored, 24 photos, 1.8 MB\n",
			i/60%60, i%60, level, 4000+i%7, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.log"), []byte(log.String()), 0o644); err != nil {
		return fmt.Errorf("write app.log: %w", err)
	}

	for _, name := range []string{"hotel-1.dmp", "hotel-2.dmp"} {
		path := filepath.Join(backups, name)
		if err := os.WriteFile(path, make([]byte, 64<<10), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

func patrolInventory(c *Cluster) string {
	var b strings.Builder
	b.WriteString("# Written by patrol-bench: one sshd per host on 127.0.0.1.\n")
	b.WriteString("hosts:\n")
	for _, s := range c.Servers {
		fmt.Fprintf(&b, "  %s:\n    address: 127.0.0.1\n    port: %d\n    connection: ssh\n    user: root\n    key_file: %s\n    os: debian\n    vars: {bench_port: %d}\n",
			s.Name, s.Port, c.ClientKeyPath, s.Port)
	}
	return b.String()
}

// patrolPlaybook has the ten tasks of the benchmark. check.load and check.log
// each run two commands, so patrol opens twelve sessions per host.
func patrolPlaybook(dataDir string) string {
	return fmt.Sprintf(`# Written by patrol-bench: ten checks per host.
- name: benchmark inspection
  hosts: all
  tasks:
    - name: disk capacity
      check.disk: {warn: 80, fail: 90}
    - name: memory
      check.memory: {warn: 85, fail: 95}
    - name: CPU load
      check.load: {warn: 1.5, fail: 3}
    - name: failed services
      check.service: {failed: true}
    - name: sshd port listening
      check.port: {ports: ["{{ .bench_port }}"]}
    - name: firewall running
      check.firewall: {}
    - name: clock synchronized
      check.time: {}
    - name: database backup ran
      check.file_age: {path: %[1]s/backup/*.dmp, max_age: 26h, count: 2}
    - name: application log anomalies
      check.log: {path: %[1]s/app.log, patterns: [ERROR, panic]}
    - name: uptime
      command: uptime
`, dataDir)
}

// probeCommand is one of the ten tasks as plain shell text, for the floor and
// for Ansible.
type probeCommand struct {
	Name   string
	Script string
}

// probeCommands returns the shell commands patrol's checks run on a Linux
// host (their probe scripts in package checks), in playbook order. Two are
// close equivalents rather than copies. check.log reads the log in a second
// command with a byte count from the first, which here is one script. And
// check.service's probe exits with status 3 without systemd, where this one
// only prints a message.
func probeCommands(dataDir string) []probeCommand {
	log := shellQuote(dataDir + "/app.log")
	backups := shellQuote(dataDir + "/backup")
	glob := shellQuote(dataDir + "/backup/*.dmp")
	return []probeCommand{
		{"disk capacity", "if df -P -k -T / >/dev/null 2>&1; then echo patrol-df-type; df -P -k -T; else echo plain; df -P -k; fi"},
		{"memory", "cat /proc/meminfo"},
		{"CPU load", "cat /proc/loadavg; nproc 2>/dev/null || grep -c '^processor' /proc/cpuinfo"},
		{"failed services", `if [ ! -d /run/systemd/system ]; then echo "systemd is not running on this host (no /run/systemd/system)" >&2; ` +
			`else systemctl list-units --state=failed --plain --no-legend --no-pager; fi`},
		{"sshd port listening", "if command -v ss >/dev/null 2>&1; then ss -ltnu; elif command -v netstat >/dev/null 2>&1; then netstat -ltnu; fi"},
		{"firewall running", "(firewall-cmd --state) </dev/null 2>&1; echo rc=$?; (systemctl is-active iptables) </dev/null 2>&1; echo rc=$?; " +
			"(iptables -S) </dev/null 2>&1; echo rc=$?; (nft list ruleset) </dev/null 2>&1; echo rc=$?; (ufw status) </dev/null 2>&1; echo rc=$?"},
		{"clock synchronized", "(chronyc tracking) </dev/null 2>&1; echo rc=$?; (timedatectl show) </dev/null 2>&1; echo rc=$?"},
		{"database backup ran", fmt.Sprintf("date +%%s; find %s -mindepth 1 -maxdepth 1 -path %s -type f -exec stat -L -c '%%Y %%s %%n' {} +", backups, glob)},
		{"application log anomalies", fmt.Sprintf("stat -L -c '%%i %%s' -- %[1]s && date +%%z; size=$(stat -L -c %%s -- %[1]s); tail -c +1 -- %[1]s | head -c \"$size\"", log)},
		{"uptime", "uptime"},
	}
}

// floorScript runs every probe command in one session, each in a subshell as
// patrol's sectioned probes do, with LC_ALL=C as patrol sets it.
func floorScript(cmds []probeCommand) string {
	var b strings.Builder
	b.WriteString("export LC_ALL=C\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "echo '@@ %s'; ( %s ) </dev/null 2>&1; echo \"@@ rc=$?\"\n", c.Name, c.Script)
	}
	fmt.Fprintf(&b, "echo %s\n", floorDoneMarker)
	return b.String()
}

func floorPorts(c *Cluster) string {
	var b strings.Builder
	for _, s := range c.Servers {
		fmt.Fprintf(&b, "%d\n", s.Port)
	}
	return b.String()
}

// FloorArgs returns the xargs command line of the floor: one ssh session per
// host, 50 (forks) at a time, with the key exchange x/crypto/ssh negotiates
// with OpenSSH 9.2 (curve25519-sha256) and no configuration file.
func FloorArgs(w *Workload, c *Cluster, forks int) []string {
	return []string{
		"xargs", "-a", w.FloorPorts, "-P", fmt.Sprint(forks), "-I", "@PORT@",
		"ssh", "-F", "none", "-T",
		"-o", "KexAlgorithms=curve25519-sha256",
		"-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile=" + c.KnownHostsPath,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "IdentitiesOnly=yes",
		"-o", "LogLevel=ERROR",
		"-i", c.ClientKeyPath,
		"-p", "@PORT@",
		"root@127.0.0.1",
		w.FloorScript,
	}
}

func ansibleInventory(c *Cluster) string {
	var b strings.Builder
	b.WriteString("# Written by patrol-bench: one sshd per host on 127.0.0.1.\n[bench]\n")
	for _, s := range c.Servers {
		fmt.Fprintf(&b, "%s ansible_host=127.0.0.1 ansible_port=%d\n", s.Name, s.Port)
	}
	fmt.Fprintf(&b, "\n[bench:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\nansible_python_interpreter=/usr/bin/python3\n", c.ClientKeyPath)
	return b.String()
}

// ansibleConfig sets forks 50 and pipelining. ssh_args keep Ansible's own
// defaults (compression, ControlMaster with ControlPersist) and add the
// floor's key exchange and known_hosts file. Control sockets go to a
// directory of their own, so the benchmark can close every master afterwards.
func ansibleConfig(dir string, c *Cluster) string {
	return fmt.Sprintf(`# Written by patrol-bench.
[defaults]
forks = 50
host_key_checking = True
retry_files_enabled = False
interpreter_python = /usr/bin/python3
local_tmp = %[1]s/ansible-local
nocolor = True

[ssh_connection]
pipelining = True
control_path_dir = %[1]s/ansible-cp
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o KexAlgorithms=curve25519-sha256 -o UserKnownHostsFile=%[2]s -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes
`, dir, c.KnownHostsPath)
}

// ansiblePlaybook runs the floor's commands as ten shell tasks. A probe's
// exit status is data, as it is for patrol's checks, so no task fails on it.
func ansiblePlaybook(cmds []probeCommand) string {
	var b strings.Builder
	b.WriteString("# Written by patrol-bench: the ten probe commands as tasks.\n")
	b.WriteString("- name: benchmark inspection\n  hosts: all\n  gather_facts: false\n  tasks:\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "    - name: %s\n      ansible.builtin.shell: %s\n      changed_when: false\n      failed_when: false\n",
			c.Name, yamlQuote(c.Script))
	}
	return b.String()
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// yamlQuote writes s as a single-quoted YAML scalar.
func yamlQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
