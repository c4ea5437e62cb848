package playbooks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"patrol/i18n"
	"patrol/inventory"
)

func TestCheckHostsPointsAtHostsValue(t *testing.T) {
	invPath := filepath.Join(t.TempDir(), "inventory.yml")
	if err := os.WriteFile(invPath, []byte("hosts:\n  seal-app-1: {connection: local}\ngroups:\n  seal:\n    hosts: [seal-app-1]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(invPath)
	if err != nil {
		t.Fatal(err)
	}
	book, err := Parse("book.yml", []byte(`- name: good
  hosts: seal
  tasks:
    - ping:
- name: typo
  tasks:
    - ping:
  hosts:   seall
`), testRegistry())
	if err != nil {
		t.Fatal(err)
	}

	err = book.CheckHosts(inv)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("CheckHosts = %v, want a *ValidationError", err)
	}
	if len(ve.Problems) != 1 {
		t.Fatalf("%d problems, want 1:\n%s", len(ve.Problems), ve)
	}
	if got := ve.Problems[0].Pos; got != (Pos{File: "book.yml", Line: 8, Col: 12}) {
		t.Errorf("problem at %s, want book.yml:8:12, the hosts value", got)
	}
	if want := `play "typo"：主机模式 "seall"："seall" 没有匹配任何主机或组（是否想写 "seal"？）`; !strings.Contains(ve.In(i18n.ZH), want) {
		t.Errorf("Chinese problem %q lacks %q", ve.In(i18n.ZH), want)
	}
	if want := `play "typo": host pattern "seall": "seall" matches no host or group (did you mean "seal"?)`; !strings.Contains(ve.Error(), want) {
		t.Errorf("English problem %q lacks %q", ve.Error(), want)
	}
}

func TestOpenErrorsChinese(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct{ name, want string }{
		{"weekly", "打开剧本 weekly 失败：没有该文件，也没有同名的内置剧本；内置剧本有 daily-inspection、monthly-inspection"},
		{"sub/daily.yml", "读取剧本失败：文件 sub/daily.yml 不存在"},
	} {
		_, err := Open(tc.name, testRegistry())
		var oe *OpenError
		if !errors.As(err, &oe) {
			t.Errorf("Open(%q) = %v, want an *OpenError", tc.name, err)
			continue
		}
		if got := oe.Message().In(i18n.ZH); got != tc.want {
			t.Errorf("Open(%q) in Chinese = %q, want %q", tc.name, got, tc.want)
		}
	}
	_, err := LoadShipped("weekly", testRegistry())
	var oe *OpenError
	if !errors.As(err, &oe) || !strings.HasPrefix(oe.Message().ZH, `没有名为 "weekly" 的内置剧本`) {
		t.Errorf("LoadShipped(weekly) = %v, want an *OpenError with a Chinese message", err)
	}
}
