package builtin

import (
	"os/exec"
	"testing"
)

func TestShellQuote(t *testing.T) {
	for _, s := range []string{"plain", "", "a b", "it's", `$HOME "x"`, "a\nb", "*"} {
		out, err := exec.Command("/bin/sh", "-c", `printf '%s' `+shellQuote(s)).Output()
		if err != nil {
			t.Fatalf("sh: %v", err)
		}
		if string(out) != s {
			t.Errorf("shellQuote(%q) = %s reaches the shell as %q", s, shellQuote(s), out)
		}
	}
}
