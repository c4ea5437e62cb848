package playbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
)

func TestParseSmoke(t *testing.T) {
	pb, err := Load("testdata/smoke.yml", testRegistry())
	if err != nil {
		t.Fatalf("load: %v", err)
	}

	data, _ := os.ReadFile("testdata/smoke.yml")
	sum := sha256.Sum256(data)
	if pb.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 = %s, want the digest of the file", pb.SHA256)
	}
	if pb.File != "testdata/smoke.yml" {
		t.Errorf("File = %q", pb.File)
	}
	if len(pb.Plays) != 1 {
		t.Fatalf("plays = %d, want 1", len(pb.Plays))
	}

	play := pb.Plays[0]
	if play.Name != i18n.T("smoke", "") || play.Hosts != "linux" {
		t.Errorf("play = %q on %q", play.Name, play.Hosts)
	}
	if play.Pos != (Pos{"testdata/smoke.yml", 1, 3}) {
		t.Errorf("play pos = %v", play.Pos)
	}
	if len(play.Tasks) != 2 {
		t.Fatalf("tasks = %d, want 2", len(play.Tasks))
	}

	hello := play.Tasks[0]
	if hello.Module != "command" || hello.Spec == nil || hello.Spec.Name != "command" {
		t.Errorf("task 1 module = %q", hello.Module)
	}
	if !reflect.DeepEqual(hello.Args, map[string]any{"cmd": "echo hello"}) {
		t.Errorf("task 1 args = %#v", hello.Args)
	}
	if hello.Pos.String() != "testdata/smoke.yml:4:7" {
		t.Errorf("task 1 pos = %v", hello.Pos)
	}

	disk := play.Tasks[1]
	if disk.Module != "check.disk" {
		t.Errorf("task 2 module = %q", disk.Module)
	}
	if !reflect.DeepEqual(disk.Args, map[string]any{"warn": 80, "fail": 90}) {
		t.Errorf("task 2 args = %#v", disk.Args)
	}
}

func TestParseEveryKey(t *testing.T) {
	pb, err := Load("testdata/full.yml", testRegistry())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(pb.Plays) != 2 {
		t.Fatalf("plays = %d, want 2", len(pb.Plays))
	}

	p := pb.Plays[0]
	if p.Hosts != "web:&hotel" {
		t.Errorf("hosts = %q", p.Hosts)
	}
	if !reflect.DeepEqual(p.Vars, map[string]any{"packages": []any{"nginx", "openssl"}, "port": 8080}) {
		t.Errorf("vars = %#v", p.Vars)
	}
	if !reflect.DeepEqual(p.Defaults, map[string]any{"app_log": ""}) {
		t.Errorf("defaults = %#v", p.Defaults)
	}
	if p.Serial != 30 || !p.SerialPercent {
		t.Errorf("serial = %d percent %v, want 30%%", p.Serial, p.SerialPercent)
	}
	if p.MaxFailPercent == nil || *p.MaxFailPercent != 25 {
		t.Errorf("max_fail_percentage = %v", p.MaxFailPercent)
	}
	if p.Become == nil || !*p.Become {
		t.Errorf("become = %v", p.Become)
	}
	if !reflect.DeepEqual(p.Tags, []string{"patch", "weekly"}) {
		t.Errorf("tags = %v", p.Tags)
	}

	show := p.Tasks[0]
	if show.Register != "release" {
		t.Errorf("register = %q", show.Register)
	}
	if !reflect.DeepEqual(show.Tags, []string{"always"}) {
		t.Errorf("task tags = %v", show.Tags)
	}
	if show.Timeout != 30*time.Second {
		t.Errorf("timeout = %v", show.Timeout)
	}
	if show.Retries != 3 || show.Delay != 5*time.Second {
		t.Errorf("retries = %d delay = %v", show.Retries, show.Delay)
	}
	if !show.IgnoreErrors {
		t.Error("ignore_errors: yes read as false")
	}
	if show.Become == nil || *show.Become {
		t.Errorf("task become = %v, want false", show.Become)
	}

	install := p.Tasks[1]
	if install.Loop != "{{ .packages }}" {
		t.Errorf("loop = %#v", install.Loop)
	}
	if install.When != `{{ if contains "CentOS" .release.stdout }}true{{ else }}false{{ end }}` {
		t.Errorf("when = %q", install.When)
	}
	if install.Args["cmd"] != "yum -y install {{ .item }}" || install.Args["chdir"] != "/tmp" {
		t.Errorf("args = %#v", install.Args)
	}

	cp := p.Tasks[2]
	if cp.Args["mode"] != "0644" {
		t.Errorf("mode = %#v, want the text 0644", cp.Args["mode"])
	}
	if cp.When != "{{ if and (eq .release.rc 0) (not .host.windows) }}true{{ else }}false{{ end }}" {
		t.Errorf("when list = %q", cp.When)
	}

	db := pb.Plays[1]
	if !db.Name.IsZero() || db.Serial != 2 || db.SerialPercent {
		t.Errorf("second play = %q serial %d percent %v", db.Name, db.Serial, db.SerialPercent)
	}
	if db.Tasks[0].Module != "ping" || len(db.Tasks[0].Args) != 0 {
		t.Errorf("ping task = %q %v", db.Tasks[0].Module, db.Tasks[0].Args)
	}
	if db.Tasks[0].DisplayName() != i18n.T("ping", "") {
		t.Errorf("DisplayName = %q", db.Tasks[0].DisplayName())
	}
	wait := db.Tasks[1]
	if wait.Args["timeout"] != 10*time.Minute || wait.Args["delay"] != "{{ .boot_delay }}" {
		t.Errorf("wait args = %#v", wait.Args)
	}
	if !reflect.DeepEqual(wait.Loop, []any{"a", "{{ .port }}"}) {
		t.Errorf("loop list = %#v", wait.Loop)
	}
}

func TestParseDigestChangesWithBytes(t *testing.T) {
	data, err := os.ReadFile("testdata/smoke.yml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Parse("a.yml", data, testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse("a.yml", append(data, []byte("# changed\n")...), testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if a.SHA256 == b.SHA256 {
		t.Error("a comment added to the file left the digest unchanged")
	}
	if len(a.SHA256) != 64 {
		t.Errorf("digest %q is not 64 hex digits", a.SHA256)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yml"), testRegistry())
	if err == nil {
		t.Fatal("loading a missing file succeeded")
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v does not wrap os.ErrNotExist", err)
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		t.Error("a read error was reported as a validation error")
	}
	if !strings.Contains(err.Error(), "absent.yml") {
		t.Errorf("error %q does not name the file", err)
	}
}
