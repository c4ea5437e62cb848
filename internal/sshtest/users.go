package sshtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"sync"
	"testing"
)

// TestUser is the local account PasswordUser creates for password logins.
const TestUser = "patrol-test"

// TestPassword is TestUser's password. The account only exists on test
// machines, and the harness's sshd listens on 127.0.0.1 only.
const TestPassword = "patrol-test-Pw-7c1e"

// sudoersPath lets TestUser become "nobody" after giving its password, so
// that become tests can exercise a sudo password without granting root.
const sudoersPath = "/etc/sudoers.d/patrol-test"

const sudoersRule = TestUser + " ALL=(nobody) ALL\n"

var passwordUserOnce sync.Once
var passwordUserErr error

// PasswordUser returns the name and password of a local account for password
// and keyboard-interactive tests. It creates the account (useradd, chpasswd)
// and its sudoers rule only when they do not exist yet. Under CI a failure
// fails the test; elsewhere it skips it.
func PasswordUser(t testing.TB) (name, password string) {
	t.Helper()
	requireSSHD(t)

	passwordUserOnce.Do(func() { passwordUserErr = ensurePasswordUser() })
	if passwordUserErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("sshtest: %v", passwordUserErr)
		}
		t.Skipf("sshtest: %v", passwordUserErr)
	}
	return TestUser, TestPassword
}

func ensurePasswordUser() error {
	if _, err := user.Lookup(TestUser); err != nil {
		if err := run("useradd", "--create-home", "--shell", "/bin/sh", TestUser); err != nil {
			return err
		}
		if err := runStdin(TestUser+":"+TestPassword+"\n", "chpasswd"); err != nil {
			return err
		}
	}

	if _, err := os.Stat(sudoersPath); err == nil {
		return nil
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		// Become tests check for sudo themselves.
		return nil
	}
	tmp := sudoersPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(sudoersRule), 0o440); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := run("visudo", "-c", "-f", tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, sudoersPath)
}

func run(name string, args ...string) error {
	return runStdin("", name, args...)
}

func runStdin(stdin, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
