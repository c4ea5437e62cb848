package checks

import (
	"fmt"
	"strconv"
	"strings"
)

// A sectioned probe runs several commands in one round trip, which matters on
// 10 Mbit/s links with slow logins. Each command's output (stderr merged into
// stdout) is framed by marker lines that carry its name and exit status.
const (
	sectionStart = "@@patrol-section "
	sectionEnd   = "@@patrol-rc "
)

// probeCommand is one command of a sectioned probe.
type probeCommand struct {
	Name   string
	Script string
}

// sectionScript builds the shell script that runs cmds one after another. A
// command is run in a subshell so that its exit or a failure does not stop the
// commands after it.
func sectionScript(cmds []probeCommand) string {
	var b strings.Builder
	for _, c := range cmds {
		// The newline before the end marker keeps it on its own line when the
		// output does not end in one.
		fmt.Fprintf(&b, "echo '%s%s'; ( %s ) </dev/null 2>&1; rc=$?; printf '\\n%s%%s\\n' \"$rc\"\n", sectionStart, c.Name, c.Script, sectionEnd)
	}
	return b.String()
}

// section is the output and exit status of one command of a sectioned probe.
type section struct {
	Output   string
	ExitCode int
}

// ParseSections splits sectioned probe output by name. A section whose end
// marker is missing (the script was cut short) is left out.
func ParseSections(out []byte) map[string]section {
	sections := map[string]section{}
	name := ""
	var body []string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, sectionStart):
			name = strings.TrimSpace(strings.TrimPrefix(line, sectionStart))
			body = nil
		case strings.HasPrefix(line, sectionEnd) && name != "":
			rc, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, sectionEnd)))
			if err == nil {
				sections[name] = section{Output: strings.TrimRight(strings.Join(body, "\n"), "\n"), ExitCode: rc}
			}
			name = ""
		case name != "":
			body = append(body, line)
		}
	}
	return sections
}
