package inventory

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"patrol/i18n"
)

func TestSelect(t *testing.T) {
	inv := mustLoad(t, "testdata/groups.yml")
	// Inventory order: web1, web2, db1, seal-app1, seal-app2, seal-db-1.
	// linux = web1 + other-group (web2, db1); windows = seal-app1, seal-app2;
	// seal = web1, db1, seal-app1, seal-app2, seal-db-1 + seal-db (db1).

	tests := []struct {
		pattern string
		want    []string
	}{
		{"all", []string{"web1", "web2", "db1", "seal-app1", "seal-app2", "seal-db-1"}},
		{"*", []string{"web1", "web2", "db1", "seal-app1", "seal-app2", "seal-db-1"}},
		{"web1", []string{"web1"}},
		{"linux", []string{"web1", "web2", "db1"}},
		{"other-group", []string{"web2", "db1"}},
		{"seal-db", []string{"db1"}},
		{"web*", []string{"web1", "web2"}},
		{"seal-app?", []string{"seal-app1", "seal-app2"}},
		{"seal-db-?", []string{"seal-db-1"}},
		{"seal-db*", []string{"db1", "seal-db-1"}},
		{"db[12]", []string{"db1"}},
		{"~^seal-app[12]$", []string{"seal-app1", "seal-app2"}},
		{"web1,db1", []string{"web1", "db1"}},
		{"db1:web1", []string{"web1", "db1"}},
		{"windows,linux", []string{"web1", "web2", "db1", "seal-app1", "seal-app2"}},
		{" web1 , web2 ", []string{"web1", "web2"}},
		{"linux:&seal", []string{"web1", "db1"}},
		{"linux:&seal:!web1", []string{"db1"}},
		{"!web1:linux:&seal", []string{"db1"}},
		{"linux,&seal,!db1", []string{"web1"}},
		{"&seal:&linux", []string{"web1", "db1"}},
		{"&seal", []string{"web1", "db1", "seal-app1", "seal-app2", "seal-db-1"}},
		{"!windows", []string{"web1", "web2", "db1", "seal-db-1"}},
		{"!windows:!linux", []string{"seal-db-1"}},
		{"seal:!seal-db", []string{"web1", "seal-app1", "seal-app2", "seal-db-1"}},
		{"all:!web*", []string{"db1", "seal-app1", "seal-app2", "seal-db-1"}},
		{"seal:&web*", []string{"web1"}},
		{"seal:&~app", []string{"seal-app1", "seal-app2"}},
		{"linux:&windows", nil},
		{"all:!*", nil},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			hosts, err := inv.Select(tt.pattern)
			if err != nil {
				t.Fatalf("Select: %v", err)
			}
			if got := names(hosts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Select(%q) = %v, want %v", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	inv := mustLoad(t, "testdata/groups.yml")

	tests := []struct {
		pattern string
		want    string
	}{
		{"lnux", `host pattern "lnux": "lnux" matches no host or group (did you mean "linux"?)`},
		{"linux:&windwos", `"windwos" matches no host or group (did you mean "windows"?)`},
		{"all:!web9", `"web9" matches no host or group (did you mean "web1"?)`},
		{"zzz*", `"zzz*" matches no host or group; check the host and group names`},
		{"~^nothing$", `"~^nothing$" matches no host or group`},
		{"", `empty host pattern ""`},
		{" , ", `empty host pattern`},
		{"linux:&", `host pattern "linux:&" has an "&" or "!" without a name after it`},
		{"!", `has an "&" or "!" without a name after it`},
		{"db[", `invalid glob "db[" in host pattern`},
		{"~(", `invalid regular expression "(" in host pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			hosts, err := inv.Select(tt.pattern)
			if err == nil {
				t.Fatalf("Select(%q) = %v, want an error", tt.pattern, names(hosts))
			}
			var perr *PatternError
			if !errors.As(err, &perr) {
				t.Fatalf("error %T, want *PatternError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error =\n%s\nwant it to contain\n%s", err, tt.want)
			}
			if perr.Text.ZH == "" {
				t.Error("no Chinese text")
			}
		})
	}
}

func TestPatternErrorMessageChinese(t *testing.T) {
	inv := mustLoad(t, "testdata/groups.yml")
	_, err := inv.Select("lnux")

	var m interface{ Message() i18n.Text }
	if !errors.As(err, &m) {
		t.Fatalf("error %T has no Message method, so the CLI prints it in English only", err)
	}
	want := `主机模式 "lnux"："lnux" 没有匹配任何主机或组（是否想写 "linux"？）`
	if got := m.Message().In(i18n.ZH); !strings.HasPrefix(got, want) {
		t.Errorf("Chinese message = %q, want it to start with %q", got, want)
	}
}

// TestSelectEmptyGroup checks that a defined but empty group is a valid term.
func TestSelectEmptyGroup(t *testing.T) {
	inv := mustLoad(t, "testdata/minimal.yml", "testdata/empty-group.yml")

	hosts, err := inv.Select("staging:web1")
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	if got := names(hosts); !reflect.DeepEqual(got, []string{"web1"}) {
		t.Errorf("Select = %v, want [web1]", got)
	}
}
