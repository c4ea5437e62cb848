package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"patrol/inventory"
	"patrol/module"
	"patrol/playbooks"
	"patrol/transport"
)

func TestForksBoundConcurrency(t *testing.T) {
	const hosts = 5
	for _, forks := range []int{1, 2, 3} {
		t.Run("forks "+strconv.Itoa(forks), func(t *testing.T) {
			p := newProbe()
			// Each command waits until as many commands as forks allow run at
			// once, or every host has started, so that a runner that works
			// hosts one by one shows a maximum of 1.
			p.runHook = func(p *probe, host string) {
				p.waitUntil(func() bool { return p.running >= forks || p.started == hosts })
			}
			book := parse(t, `
- hosts: all
  tasks:
    - command: "true"
`)
			sum, _ := runBook(t, context.Background(), Options{
				Inventory: loadInventory(t, hosts, ""), Playbook: book, Forks: forks, Dial: p.dial,
			})

			_, _, maxRunning := p.snapshot()
			if maxRunning != forks {
				t.Errorf("at most %d hosts ran at once, want %d", maxRunning, forks)
			}
			if sum.ExitCode() != 0 || sum.Counts[StatusChanged] != hosts {
				t.Errorf("exit code %d, counts %v; want 0 and %d changed", sum.ExitCode(), sum.Counts, hosts)
			}
		})
	}
}

func TestTasksRunInOrderPerHost(t *testing.T) {
	dir := t.TempDir()
	book := parse(t, `
- hosts: all
  tasks:
    - {name: t1, shell: "echo 1 >> {{ .dir }}/{{ .host.name }}"}
    - {name: t2, shell: "echo 2 >> {{ .dir }}/{{ .host.name }}"}
    - {name: t3, shell: "echo 3 >> {{ .dir }}/{{ .host.name }}"}
    - {name: t4, shell: "echo 4 >> {{ .dir }}/{{ .host.name }}"}
`)
	sum, rec := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 3, ""), Playbook: book, Forks: 3,
		ExtraVars: map[string]any{"dir": dir},
	})

	for _, h := range []string{"h1", "h2", "h3"} {
		if got := readFile(t, filepath.Join(dir, h)); got != "1\n2\n3\n4\n" {
			t.Errorf("%s wrote %q, want the tasks in order", h, got)
		}
		want := []string{"t1=changed", "t2=changed", "t3=changed", "t4=changed"}
		if got := statuses(rec.of(h)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s results = %v, want %v", h, got, want)
		}
	}
	if !reflect.DeepEqual(sum.Hosts, []string{"h1", "h2", "h3"}) {
		t.Errorf("Summary.Hosts = %v", sum.Hosts)
	}
}

func TestFailedTaskStopsOnlyThatHost(t *testing.T) {
	dir := t.TempDir()
	book := parse(t, `
- hosts: all
  tasks:
    - name: fail on h2
      shell: test {{ .host.name }} != h2
    - name: mark
      shell: touch {{ .dir }}/{{ .host.name }}
- hosts: all
  tasks:
    - name: mark again
      shell: touch {{ .dir }}/{{ .host.name }}-2
`)
	sum, rec := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 3, ""), Playbook: book,
		ExtraVars: map[string]any{"dir": dir},
	})

	for _, h := range []string{"h1", "h3"} {
		if !exists(filepath.Join(dir, h)) || !exists(filepath.Join(dir, h+"-2")) {
			t.Errorf("%s did not run all its tasks", h)
		}
	}
	if exists(filepath.Join(dir, "h2")) || exists(filepath.Join(dir, "h2-2")) {
		t.Error("h2 ran tasks after its failed task")
	}
	if got, want := statuses(rec.of("h2")), []string{"fail on h2=failed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("h2 results = %v, want %v", got, want)
	}
	if got := sortedKeys(sum.Failed); !reflect.DeepEqual(got, []string{"h2"}) {
		t.Errorf("Summary.Failed = %v, want [h2]", got)
	}
	if !rec.done["h2"] || rec.done["h1"] {
		t.Errorf("OnHostDone failed flags = %v, want only h2 failed", rec.done)
	}
	if code := sum.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
}

func TestIgnoreErrors(t *testing.T) {
	dir := t.TempDir()
	book := parse(t, `
- hosts: h1
  tasks:
    - name: may fail
      shell: exit 5
      ignore_errors: true
      register: r
    - name: goes on
      shell: echo {{ .r.rc }} {{ .r.failed }} > {{ .dir }}/after
`)
	sum, rec := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 1, ""), Playbook: book,
		ExtraVars: map[string]any{"dir": dir},
	})

	if got := readFile(t, filepath.Join(dir, "after")); got != "5 true\n" {
		t.Errorf("task after the ignored failure wrote %q, want %q", got, "5 true\n")
	}
	ignored := rec.task("h1", "may fail")
	if len(ignored) != 1 || ignored[0].Status != StatusFailed || !ignored[0].Ignored {
		t.Errorf("ignored result = %+v, want one failed result marked Ignored", ignored)
	}
	if len(sum.Failed) != 0 {
		t.Errorf("Summary.Failed = %v, want none: the failure was ignored", sum.Failed)
	}
	if rec.done["h1"] {
		t.Error("OnHostDone reported h1 failed")
	}
	if code := sum.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestFailedCheckDoesNotStopHost(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	if err := os.WriteFile(logPath, []byte("2024-05-01 10:00:00 ERROR disk full\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	book := parse(t, `
- hosts: h1
  tasks:
    - name: errors in log
      check.log: {path: "{{ .log }}", patterns: [ERROR], fail: 1}
    - name: mark
      shell: touch {{ .dir }}/after
`)
	sum, rec := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 1, ""), Playbook: book,
		ExtraVars: map[string]any{"dir": dir, "log": logPath},
	})

	check := rec.task("h1", "errors in log")
	if len(check) != 1 || check[0].Status != StatusFailed || !check[0].Check {
		t.Fatalf("check result = %+v, want one failed check", check)
	}
	if !exists(filepath.Join(dir, "after")) {
		t.Error("the task after a failed check did not run")
	}
	if !sum.Failed["h1"] {
		t.Error("Summary.Failed lacks h1 although its check failed")
	}
	if code := sum.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
}

func TestUnreachableHost(t *testing.T) {
	dir := t.TempDir()
	p := newProbe()
	p.unreachable["h2"] = true
	book := parse(t, `
- hosts: all
  tasks:
    - shell: touch {{ .dir }}/{{ .host.name }}
- hosts: all
  tasks:
    - shell: touch {{ .dir }}/{{ .host.name }}-2
`)
	sum, rec := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 2, ""), Playbook: book, Dial: p.dial,
		ExtraVars: map[string]any{"dir": dir},
	})

	h2 := rec.of("h2")
	if len(h2) != 1 || h2[0].Status != StatusUnreachable || !strings.Contains(h2[0].Err, "connection refused") {
		t.Fatalf("h2 results = %+v, want one unreachable result with the dial error", h2)
	}
	if _, ok := sum.Unreachable["h2"]; !ok || len(sum.Unreachable) != 1 {
		t.Errorf("Summary.Unreachable = %v, want h2", sum.Unreachable)
	}
	if !exists(filepath.Join(dir, "h1")) || !exists(filepath.Join(dir, "h1-2")) {
		t.Error("h1 did not run both plays")
	}
	dials, _, _ := p.snapshot()
	if dials["h2"] != 1 {
		t.Errorf("h2 dialled %d times, want once: a later play must skip an unreachable host", dials["h2"])
	}
	if code := sum.ExitCode(); code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
}

func TestSerialStopsAfterFailedBatch(t *testing.T) {
	dir := t.TempDir()
	p := newProbe()
	book := parse(t, `
- hosts: all
  serial: 1
  tasks:
    - shell: test {{ .host.name }} != h1
    - shell: touch {{ .dir }}/{{ .host.name }}
`)
	sum, rec := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 3, ""), Playbook: book, Dial: p.dial,
		ExtraVars: map[string]any{"dir": dir},
	})

	for _, h := range []string{"h2", "h3"} {
		if got := rec.of(h); len(got) != 0 {
			t.Errorf("%s ran after the first batch failed: %v", h, statuses(got))
		}
	}
	dials, _, _ := p.snapshot()
	if !reflect.DeepEqual(dials, map[string]int{"h1": 1}) {
		t.Errorf("dials = %v, want only h1", dials)
	}
	if code := sum.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
}

// TestSerialStopEndsRun checks that a play stopped by a failed batch ends the
// run: the next play must not reach the pair's other half either.
func TestSerialStopEndsRun(t *testing.T) {
	dir := t.TempDir()
	book := parse(t, `
- name: patch
  hosts: all
  serial: 1
  tasks:
    - shell: test {{ .host.name }} != h1
- name: after
  hosts: all
  tasks:
    - shell: touch {{ .dir }}/{{ .host.name }}
`)
	sum, _ := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 2, ""), Playbook: book,
		ExtraVars: map[string]any{"dir": dir},
	})

	for _, h := range []string{"h1", "h2"} {
		if exists(filepath.Join(dir, h)) {
			t.Errorf("the play after the stopped one ran on %s", h)
		}
	}
	if !sum.Stopped {
		t.Error("summary does not report the stopped run")
	}
}

func TestSerialMaxFailPercentage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		failing string // shell test that fails on the chosen hosts
		ran     []string
	}{
		{"one of two tolerated", `case {{ .host.name }} in h1) exit 1;; esac`, []string{"h2", "h3", "h4"}},
		{"two of two stop the play", `case {{ .host.name }} in h1|h2) exit 1;; esac`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			book := parse(t, fmt.Sprintf(`
- hosts: all
  serial: 2
  max_fail_percentage: 50
  tasks:
    - shell: %q
    - shell: touch {{ .dir }}/{{ .host.name }}
`, tc.failing))
			runBook(t, context.Background(), Options{
				Inventory: loadInventory(t, 4, ""), Playbook: book,
				ExtraVars: map[string]any{"dir": dir},
			})

			var ran []string
			for _, h := range []string{"h1", "h2", "h3", "h4"} {
				if exists(filepath.Join(dir, h)) {
					ran = append(ran, h)
				}
			}
			if !reflect.DeepEqual(ran, tc.ran) {
				t.Errorf("hosts that finished = %v, want %v", ran, tc.ran)
			}
		})
	}
}

func TestSerialPercentBatches(t *testing.T) {
	p := newProbe()
	doneBefore := map[string][]string{} // host → hosts finished when it started
	var finished []string
	p.runHook = func(p *probe, host string) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if _, seen := doneBefore[host]; !seen {
			doneBefore[host] = append([]string{}, finished...)
		}
	}
	book := parse(t, `
- hosts: all
  serial: "50%"
  tasks:
    - command: "true"
`)
	runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 4, ""), Playbook: book, Dial: p.dial,
		OnHostDone: func(host string, failed bool) {
			p.mu.Lock()
			finished = append(finished, host)
			p.mu.Unlock()
		},
	})

	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range []string{"h1", "h2"} {
		for _, d := range doneBefore[h] {
			if d != "h1" && d != "h2" {
				t.Errorf("%s started after %s finished, want it in the first batch", h, d)
			}
		}
	}
	// The second batch starts after the whole first batch; within it, h3 may
	// well finish before h4 starts.
	for _, h := range []string{"h3", "h4"} {
		got := doneBefore[h]
		if !slices.Contains(got, "h1") || !slices.Contains(got, "h2") {
			t.Errorf("%s started after %v finished, want after the whole first batch [h1 h2]", h, got)
		}
	}
}

func TestBatches(t *testing.T) {
	hosts := func(n int) []*inventory.Host {
		out := make([]*inventory.Host, n)
		for i := range out {
			out[i] = &inventory.Host{Name: "h" + strconv.Itoa(i+1)}
		}
		return out
	}
	for _, tc := range []struct {
		serial  int
		percent bool
		hosts   int
		want    []int
	}{
		{0, false, 5, []int{5}},
		{1, false, 3, []int{1, 1, 1}},
		{2, false, 5, []int{2, 2, 1}},
		{10, false, 3, []int{3}},
		{50, true, 4, []int{2, 2}},
		{30, true, 10, []int{3, 3, 3, 1}},
		{50, true, 3, []int{1, 1, 1}},
		{10, true, 3, []int{1, 1, 1}},
		{100, true, 3, []int{3}},
	} {
		play := &playbooks.Play{Serial: tc.serial, SerialPercent: tc.percent}
		var sizes []int
		for _, b := range batches(play, hosts(tc.hosts)) {
			sizes = append(sizes, len(b))
		}
		if !reflect.DeepEqual(sizes, tc.want) {
			t.Errorf("serial %d (percent %v) over %d hosts: batches %v, want %v", tc.serial, tc.percent, tc.hosts, sizes, tc.want)
		}
	}
}

func TestExceedsFailLimit(t *testing.T) {
	pct := func(f float64) *float64 { return &f }
	for _, tc := range []struct {
		serial       int
		limit        *float64
		failed, size int
		want         bool
	}{
		{0, nil, 3, 5, false},
		{1, nil, 1, 1, true},
		{2, nil, 0, 2, false},
		{2, pct(50), 1, 2, false},
		{2, pct(50), 2, 2, true},
		{0, pct(20), 1, 5, false},
		{0, pct(20), 2, 5, true},
		{4, pct(0), 1, 4, true},
	} {
		play := &playbooks.Play{Serial: tc.serial, MaxFailPercent: tc.limit}
		if got := exceedsFailLimit(play, tc.failed, tc.size); got != tc.want {
			t.Errorf("serial %d, limit %v, %d of %d failed: %v, want %v", tc.serial, tc.limit, tc.failed, tc.size, got, tc.want)
		}
	}
}

func TestRetriesWithDelay(t *testing.T) {
	const counter = `n=$(cat {{ .dir }}/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > {{ .dir }}/count; test $n -ge {{ .needed }}`
	for _, tc := range []struct {
		name     string
		needed   int
		attempts string
		status   string
	}{
		{"succeeds on third attempt", 3, "3\n", StatusChanged},
		{"gives up after retries", 100, "3\n", StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			book := parse(t, fmt.Sprintf(`
- hosts: h1
  tasks:
    - name: flaky
      shell: %q
      retries: 2
      delay: 100ms
`, counter))
			sum, rec := runBook(t, context.Background(), Options{
				Inventory: loadInventory(t, 1, ""), Playbook: book,
				ExtraVars: map[string]any{"dir": dir, "needed": tc.needed},
			})

			if got := readFile(t, filepath.Join(dir, "count")); got != tc.attempts {
				t.Errorf("attempts = %q, want %q (one run and 2 retries)", got, tc.attempts)
			}
			results := rec.task("h1", "flaky")
			if len(results) != 1 {
				t.Fatalf("%d results, want one for all attempts", len(results))
			}
			if results[0].Status != tc.status {
				t.Errorf("status %s, want %s", results[0].Status, tc.status)
			}
			// Two delays of 100ms sit between three attempts.
			if results[0].Duration < 200*time.Millisecond {
				t.Errorf("duration %s, want at least the two 100ms delays", results[0].Duration)
			}
			if tc.status == StatusFailed && sum.ExitCode() != 1 {
				t.Errorf("exit code %d, want 1", sum.ExitCode())
			}
		})
	}
}

func TestTaskTimeoutKillsCommand(t *testing.T) {
	dir := t.TempDir()
	book := parse(t, `
- hosts: h1
  tasks:
    - name: hangs
      shell: sleep 30 & echo $! > {{ .dir }}/pid; wait
      timeout: 1s
    - name: after
      shell: touch {{ .dir }}/after
`)
	start := time.Now()
	sum, rec := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 1, ""), Playbook: book,
		ExtraVars: map[string]any{"dir": dir},
	})
	elapsed := time.Since(start)

	results := rec.task("h1", "hangs")
	if len(results) != 1 || results[0].Status != StatusFailed {
		t.Fatalf("results = %+v, want one failed result", results)
	}
	if err := results[0].Err; !strings.Contains(err, "timed out after 1s") {
		t.Errorf("Err = %q, want it to say the task timed out after 1s", err)
	}
	var moduleErr *module.Error
	if !errors.As(results[0].Error, &moduleErr) {
		t.Errorf("Error = %#v, want a *module.Error with a bilingual message", results[0].Error)
	} else if got := moduleErr.Message().ZH; got != "任务超过时限 1s，已终止；如确需更长时间，请调大该任务的 timeout" {
		t.Errorf("Chinese message = %q", got)
	}
	if elapsed > 20*time.Second {
		t.Errorf("run took %s: the 30s sleep was waited for", elapsed)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(dir, "pid"))))
	if err != nil {
		t.Fatal(err)
	}
	if !pidGone(pid) {
		t.Errorf("sleep (pid %d) still runs after the task timed out", pid)
	}
	if exists(filepath.Join(dir, "after")) {
		t.Error("the host went on after a timed-out task")
	}
	if sum.ExitCode() != 1 {
		t.Errorf("exit code %d, want 1", sum.ExitCode())
	}
}

func TestTaskTimeoutOfWaitFor(t *testing.T) {
	book := parse(t, `
- hosts: h1
  tasks:
    - name: port
      wait_for: {host: 127.0.0.1, port: 1, timeout: 60s, sleep: 100ms}
      timeout: 300ms
`)
	_, rec := runBook(t, context.Background(), Options{Inventory: loadInventory(t, 1, ""), Playbook: book})

	results := rec.task("h1", "port")
	if len(results) != 1 || !strings.Contains(results[0].Err, "timed out after 300ms") {
		t.Errorf("results = %+v, want an error saying the task timed out after 300ms", results)
	}
}

func TestCheckModeChangesNothing(t *testing.T) {
	dir := t.TempDir()
	book := parse(t, `
- hosts: h1
  tasks:
    - {name: command, command: "touch {{ .dir }}/command"}
    - {name: shell, shell: "echo x > {{ .dir }}/shell"}
    - {name: copy, copy: {content: x, dest: "{{ .dir }}/copy"}}
`)
	sum, rec := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 1, ""), Playbook: book, CheckMode: true,
		ExtraVars: map[string]any{"dir": dir},
	})

	for _, name := range []string{"command", "shell", "copy"} {
		if exists(filepath.Join(dir, name)) {
			t.Errorf("%s created its file in check mode", name)
		}
		results := rec.task("h1", name)
		if len(results) != 1 {
			t.Errorf("%s: %d results", name, len(results))
			continue
		}
		if results[0].Status != StatusChanged || !strings.Contains(results[0].Result.Msg, "would") {
			t.Errorf("%s: status %s, msg %q; want changed and a message saying what it would do", name, results[0].Status, results[0].Result.Msg)
		}
	}
	if sum.ExitCode() != 0 {
		t.Errorf("exit code %d", sum.ExitCode())
	}
}

func TestWhen(t *testing.T) {
	book := parse(t, `
- hosts: h1
  vars: {x: 1}
  tasks:
    - {name: literal false, command: "true", when: false}
    - {name: literal true, command: "true", when: true}
    - {name: expression holds, command: "true", when: eq .x 1}
    - {name: expression fails, command: "true", when: eq .x 2}
    - {name: list all hold, command: "true", when: [eq .x 1, ne .x 2]}
    - {name: list one fails, command: "true", when: [eq .x 1, eq .x 2]}
    - {name: not a bool, command: "true", when: "{{ .x }}", ignore_errors: true}
    - {name: registered, command: "echo yes", register: r}
    - {name: on registered, command: "true", when: 'eq .r.stdout "yes"'}
`)
	_, rec := runBook(t, context.Background(), Options{Inventory: loadInventory(t, 1, ""), Playbook: book})

	want := []string{
		"literal false=skipped", "literal true=changed", "expression holds=changed",
		"expression fails=skipped", "list all hold=changed", "list one fails=skipped",
		"not a bool=failed", "registered=changed", "on registered=changed",
	}
	if got := statuses(rec.of("h1")); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses =\n%v\nwant\n%v", got, want)
	}
	if bad := rec.task("h1", "not a bool"); len(bad) == 1 && !strings.Contains(bad[0].Err, "true or false") {
		t.Errorf("Err = %q, want it to ask for true or false", bad[0].Err)
	}
}

func TestLoopRegistersResults(t *testing.T) {
	book := parse(t, `
- hosts: h1
  tasks:
    - name: each
      shell: echo {{ .item }}
      loop: [a, b, c]
      register: r
    - name: summary
      command: echo {{ len .r.results }} {{ (index .r.results 1).stdout }} {{ (index .r.results 2).item }} {{ .r.changed }}
`)
	_, rec := runBook(t, context.Background(), Options{Inventory: loadInventory(t, 1, ""), Playbook: book})

	each := rec.task("h1", "each")
	if len(each) != 3 {
		t.Fatalf("loop gave %d results, want one per item", len(each))
	}
	for i, item := range []string{"a", "b", "c"} {
		if each[i].Result.Stdout != item+"\n" {
			t.Errorf("item %d stdout %q, want %q", i, each[i].Result.Stdout, item+"\n")
		}
	}
	summary := rec.task("h1", "summary")
	if len(summary) != 1 || summary[0].Result.Stdout != "3 b c true\n" {
		t.Errorf("summary = %+v, want stdout %q", summary, "3 b c true\n")
	}
}

func TestLoopNamesResultsByItem(t *testing.T) {
	book := parse(t, `
- hosts: h1
  tasks:
    - name: install {{ .item }} on {{ .host.name }}
      command: echo {{ .item }}
      loop: [nginx, chrony]
`)
	_, rec := runBook(t, context.Background(), Options{Inventory: loadInventory(t, 1, ""), Playbook: book})

	want := []string{"install nginx on h1=changed", "install chrony on h1=changed"}
	if got := statuses(rec.of("h1")); !reflect.DeepEqual(got, want) {
		t.Errorf("results = %v, want %v", got, want)
	}
}

func TestLoopOverVariableWithWhen(t *testing.T) {
	book := parse(t, `
- hosts: h1
  vars: {packages: [curl, vim, htop]}
  tasks:
    - name: each
      command: echo {{ .item }}
      loop: .packages
      when: ne .item "vim"
`)
	_, rec := runBook(t, context.Background(), Options{Inventory: loadInventory(t, 1, ""), Playbook: book})

	want := []string{"each=changed", "each=skipped", "each=changed"}
	if got := statuses(rec.of("h1")); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
}

func TestRegisterStdout(t *testing.T) {
	inv := inventory.Local()
	book := parse(t, `
- hosts: local
  tasks:
    - name: first
      command: echo hello
      register: r
    - name: second
      command: echo got {{ .r.stdout }} rc={{ .r.rc }}
`)
	sum, rec := runBook(t, context.Background(), Options{Inventory: inv, Playbook: book})

	host := inv.Hosts()[0].Name
	second := rec.task(host, "second")
	if len(second) != 1 || second[0].Result.Stdout != "got hello rc=0\n" {
		t.Errorf("second = %+v, want stdout %q", second, "got hello rc=0\n")
	}
	if sum.ExitCode() != 0 {
		t.Errorf("exit code %d", sum.ExitCode())
	}
}

func TestTags(t *testing.T) {
	book := parse(t, `
- hosts: h1
  tasks:
    - {name: a, command: "true", tags: [a]}
    - {name: b, command: "true", tags: [b]}
    - {name: none, command: "true"}
    - {name: ab, command: "true", tags: [a, b]}
- hosts: h1
  tags: [p]
  tasks:
    - {name: in play p, command: "true"}
`)
	for _, tc := range []struct {
		tags, skip []string
		want       []string
	}{
		{nil, nil, []string{"a", "b", "none", "ab", "in play p"}},
		{[]string{"all"}, nil, []string{"a", "b", "none", "ab", "in play p"}},
		{[]string{"a"}, nil, []string{"a", "ab"}},
		{nil, []string{"b"}, []string{"a", "none", "in play p"}},
		{[]string{"a"}, []string{"b"}, []string{"a"}},
		{[]string{"p"}, nil, []string{"in play p"}},
		{nil, []string{"p"}, []string{"a", "b", "none", "ab"}},
	} {
		_, rec := runBook(t, context.Background(), Options{
			Inventory: loadInventory(t, 1, ""), Playbook: book, Tags: tc.tags, SkipTags: tc.skip,
		})
		var ran []string
		for _, tr := range rec.of("h1") {
			ran = append(ran, tr.Task)
		}
		if !reflect.DeepEqual(ran, tc.want) {
			t.Errorf("tags %v, skip-tags %v: ran %v, want %v", tc.tags, tc.skip, ran, tc.want)
		}
	}
}

func TestExtraVarsOverrideEverything(t *testing.T) {
	inv := loadInventory(t, 0, "  h1: {connection: local, vars: {y: inventory, z: inventory}}\n")
	book := parse(t, `
- hosts: h1
  defaults: {x: default, y: default, z: default}
  vars: {x: play, y: play}
  tasks:
    - name: show
      command: echo {{ .x }} {{ .y }} {{ .z }}
`)
	_, rec := runBook(t, context.Background(), Options{
		Inventory: inv, Playbook: book, ExtraVars: map[string]any{"x": "extra"},
	})

	show := rec.task("h1", "show")
	if len(show) != 1 || show[0].Result.Stdout != "extra play inventory\n" {
		t.Errorf("show = %+v, want stdout %q", show, "extra play inventory\n")
	}
}

func TestLimit(t *testing.T) {
	book := parse(t, "- hosts: all\n  tasks:\n    - command: \"true\"\n")
	sum, rec := runBook(t, context.Background(), Options{Inventory: loadInventory(t, 3, ""), Playbook: book, Limit: "h2"})
	if !reflect.DeepEqual(sum.Hosts, []string{"h2"}) || len(rec.of("h1")) != 0 || len(rec.of("h2")) != 1 {
		t.Errorf("--limit h2: hosts %v, results %v", sum.Hosts, rec.results)
	}

	_, err := Run(context.Background(), Options{Inventory: loadInventory(t, 3, ""), Playbook: book, Limit: "nosuch"})
	if err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("Run with an unknown --limit: err = %v", err)
	}
}

func TestCancelStopsFurtherTasks(t *testing.T) {
	dir := t.TempDir()
	book := parse(t, `
- hosts: all
  tasks:
    - shell: echo {{ .host.name }}-1 >> {{ .dir }}/log
    - shell: echo {{ .host.name }}-2 >> {{ .dir }}/log
- hosts: all
  tasks:
    - shell: echo {{ .host.name }}-3 >> {{ .dir }}/log
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{}
	sum, _ := runBook(t, ctx, Options{
		Inventory: loadInventory(t, 2, ""), Playbook: book, Forks: 1,
		ExtraVars: map[string]any{"dir": dir},
		OnResult: func(tr TaskResult) {
			rec.result(tr)
			cancel()
		},
	})

	if !sum.Interrupted {
		t.Error("Summary.Interrupted = false")
	}
	if code := sum.ExitCode(); code != 130 {
		t.Errorf("exit code %d, want 130", code)
	}
	if got := readFile(t, filepath.Join(dir, "log")); got != "h1-1\n" {
		t.Errorf("tasks that ran: %q, want only h1-1", got)
	}
	if len(rec.results) != 1 {
		t.Errorf("%d results after the cancel, want 1: %v", len(rec.results), statuses(rec.results))
	}
}

func TestCancelKillsRunningTask(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	book := parse(t, `
- hosts: h1
  tasks:
    - shell: sleep 30 & echo $! > {{ .dir }}/pid.tmp && mv {{ .dir }}/pid.tmp {{ .dir }}/pid; wait
    - shell: touch {{ .dir }}/after
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for range 200 {
			if exists(pidFile) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	sum, _ := runBook(t, ctx, Options{
		Inventory: loadInventory(t, 1, ""), Playbook: book,
		ExtraVars: map[string]any{"dir": dir},
	})

	if !sum.Interrupted || sum.ExitCode() != 130 {
		t.Errorf("Interrupted %v, exit code %d; want true and 130", sum.Interrupted, sum.ExitCode())
	}
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("run took %s after the cancel", elapsed)
	}
	if exists(filepath.Join(dir, "after")) {
		t.Error("a task started after the cancel")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	if err != nil {
		t.Fatal(err)
	}
	if !pidGone(pid) {
		t.Errorf("sleep (pid %d) still runs after the cancel", pid)
	}
}

func TestCancelWhileConnectingIsNotUnreachable(t *testing.T) {
	p := newProbe()
	// h2's dial hangs until the run is cancelled and then fails, as an SSH dial
	// whose context ends does.
	p.dialHook = func(ctx context.Context, host string) error {
		if host != "h2" {
			return nil
		}
		<-ctx.Done()
		return &transport.UnreachableError{Host: host, Reason: "network", Err: ctx.Err()}
	}
	book := parse(t, "- hosts: all\n  tasks:\n    - command: \"true\"\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sum, rec := runBook(t, ctx, Options{
		Inventory: loadInventory(t, 2, ""), Playbook: book, Forks: 2, Dial: p.dial,
		OnResult: func(TaskResult) { cancel() },
	})

	if len(sum.Unreachable) != 0 {
		t.Errorf("Summary.Unreachable = %v, want none: the run was interrupted, the host not unreachable", sum.Unreachable)
	}
	if got := rec.of("h2"); len(got) != 0 {
		t.Errorf("h2 results = %v, want none", statuses(got))
	}
	if sum.ExitCode() != 130 {
		t.Errorf("exit code %d, want 130", sum.ExitCode())
	}
}

func TestOnResultOncePerResult(t *testing.T) {
	dir := t.TempDir()
	book := parse(t, `
- hosts: all
  tasks:
    - name: retried
      shell: n=$(cat {{ .dir }}/{{ .host.name }} 2>/dev/null || echo 0); echo $((n+1)) > {{ .dir }}/{{ .host.name }}; test $n -ge 1
      retries: 3
    - {name: loop, command: "echo {{ .item }}", loop: [1, 2]}
    - {name: skipped, command: "true", when: false}
    - {name: ignored, shell: exit 1, ignore_errors: true}
    - {name: check, check.log: {path: /nonexistent/patrol.log}}
`)
	sum, rec := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 2, ""), Playbook: book,
		ExtraVars: map[string]any{"dir": dir},
	})

	want := map[string]int{"retried": 1, "loop": 2, "skipped": 1, "ignored": 1, "check": 1}
	for _, h := range []string{"h1", "h2"} {
		got := map[string]int{}
		for _, tr := range rec.of(h) {
			got[tr.Task]++
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: results per task %v, want %v", h, got, want)
		}
	}
	total := 0
	for _, n := range sum.Counts {
		total += n
	}
	if total != len(rec.results) {
		t.Errorf("Summary.Counts %v adds up to %d, but OnResult saw %d results", sum.Counts, total, len(rec.results))
	}
}

func TestConnectionsClosed(t *testing.T) {
	p := newProbe()
	p.unreachable["h3"] = true
	book := parse(t, `
- hosts: all
  tasks:
    - command: "true"
- hosts: all
  tasks:
    - command: "true"
`)
	runBook(t, context.Background(), Options{Inventory: loadInventory(t, 3, ""), Playbook: book, Dial: p.dial})

	dials, closes, _ := p.snapshot()
	if !reflect.DeepEqual(dials, map[string]int{"h1": 1, "h2": 1, "h3": 1}) {
		t.Errorf("dials = %v, want one per host for the whole run", dials)
	}
	if !reflect.DeepEqual(closes, map[string]int{"h1": 1, "h2": 1}) {
		t.Errorf("closes = %v, want one per opened connection", closes)
	}
}

func TestStatePersistsAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	logPath := filepath.Join(dir, "app.log")
	appendLog := func(line string) {
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	book := parse(t, `
- hosts: h1
  tasks:
    - name: log
      check.log: {path: "{{ .log }}", patterns: [ERROR], fail: 1}
`)
	runOnce := func() TaskResult {
		t.Helper()
		_, rec := runBook(t, context.Background(), Options{
			Inventory: loadInventory(t, 1, ""), Playbook: book, StateDir: stateDir,
			ExtraVars: map[string]any{"log": logPath},
		})
		results := rec.task("h1", "log")
		if len(results) != 1 {
			t.Fatalf("%d results", len(results))
		}
		return results[0]
	}

	appendLog("2024-05-01 10:00:00 ERROR first")
	if tr := runOnce(); tr.Status != StatusFailed {
		t.Errorf("first run: status %s, want failed on the ERROR line", tr.Status)
	}
	if tr := runOnce(); tr.Status != StatusOK {
		t.Errorf("second run with no new lines: status %s, want ok because the offset was kept", tr.Status)
	}
	appendLog("2024-05-01 11:00:00 ERROR second")
	tr := runOnce()
	if tr.Status != StatusFailed {
		t.Errorf("third run: status %s, want failed on the new line", tr.Status)
	}
	if len(tr.Result.Findings) > 0 && tr.Result.Findings[0].Metrics["matches"] != 1 {
		t.Errorf("third run matched %v lines, want only the new one", tr.Result.Findings[0].Metrics["matches"])
	}
	if !strings.Contains(readFile(t, filepath.Join(stateDir, "h1.json")), "check.log:"+logPath) {
		t.Error("state file lacks the log offset")
	}
}

func TestSummaryExitCode(t *testing.T) {
	for _, tc := range []struct {
		sum  Summary
		want int
	}{
		{Summary{}, 0},
		{Summary{Failed: map[string]bool{"h1": true}}, 1},
		{Summary{Failed: map[string]bool{"h1": true}, Unreachable: map[string]string{"h2": "x"}}, 3},
		{Summary{Failed: map[string]bool{"h1": true}, Unreachable: map[string]string{"h2": "x"}, Interrupted: true}, 130},
	} {
		if got := tc.sum.ExitCode(); got != tc.want {
			t.Errorf("%+v: exit code %d, want %d", tc.sum, got, tc.want)
		}
	}
}
