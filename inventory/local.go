package inventory

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

// Sources of an inventory, as Resolve reports them.
const (
	SourceFlag  = "-i"
	SourceEnv   = "PATROL_INVENTORY"
	SourceLocal = "local"
)

// LocalGroup is the group Local puts this machine in.
const LocalGroup = "local"

// Resolve picks the inventory the way the CLI documents it: the files given with
// -i (flags), else the paths in $PATROL_INVENTORY separated by the OS list
// separator (":" on Unix, ";" on Windows), else Local. It also returns which of
// SourceFlag, SourceEnv or SourceLocal was used, for messages and the journal.
func Resolve(flags []string) (*Inventory, string, error) {
	if files := nonEmpty(flags); len(files) > 0 {
		inv, err := Load(files...)
		return inv, SourceFlag, err
	}
	if files := nonEmpty(filepath.SplitList(os.Getenv("PATROL_INVENTORY"))); len(files) > 0 {
		inv, err := Load(files...)
		return inv, SourceEnv, err
	}
	return Local(), SourceLocal, nil
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Local returns an inventory of this machine alone, so patrol works without an
// inventory file: one host named after os.Hostname() with connection local, in
// the group "local", with its OS detected from /etc/os-release (or
// /etc/redhat-release on CentOS 6 and older).
func Local() *Inventory {
	name, err := os.Hostname()
	if err != nil || !namePattern.MatchString(name) {
		name = "localhost"
	}

	agent := true
	h := &Host{
		Name:       name,
		Connection: ConnLocal,
		OS:         detectLocalOS(),
		Agent:      &agent,
		Groups:     []string{LocalGroup},
		Vars:       map[string]any{},
		Source:     SourceLocal,
	}
	return &Inventory{
		hosts:  []*Host{h},
		byName: map[string]*Host{name: h},
		groups: map[string]*Group{LocalGroup: {
			Name: LocalGroup, Hosts: []string{name}, Depth: 1, Vars: map[string]any{}, Source: SourceLocal,
		}},
		vars: map[string]any{},
	}
}

// detectLocalOS returns this machine's OS name, or "" when it is not in OSNames.
func detectLocalOS() string {
	if runtime.GOOS == "windows" {
		// TODO: read the Windows version (CurrentBuild in the registry) to tell
		// win2012r2 from win2019; until then Windows machines get no OS name.
		return ""
	}
	for _, path := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if data, err := os.ReadFile(path); err == nil {
			if name := ParseOSRelease(data); name != "" {
				return name
			}
		}
	}
	if data, err := os.ReadFile("/etc/redhat-release"); err == nil {
		return ParseRedHatRelease(data)
	}
	return ""
}

// ParseOSRelease maps the contents of an os-release file to patrol's OS name
// (centos7, debian, oracle-linux7, …), or "" when the distribution is not one of
// OSNames.
func ParseOSRelease(data []byte) string {
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if unq, err := strconv.Unquote(value); err == nil {
			value = unq
		} else {
			value = strings.Trim(value, `"'`)
		}
		fields[key] = value
	}

	id := strings.ToLower(fields["ID"])
	major, _, _ := strings.Cut(fields["VERSION_ID"], ".")
	var name string
	switch id {
	case "centos", "rhel", "rocky", "almalinux":
		name = id + major
	case "ol":
		name = "oracle-linux" + major
	case "debian", "ubuntu", "kylin", "uos", "openeuler":
		name = id
	}
	if !isKnownOS(name) {
		return ""
	}
	return name
}

var redHatRelease = regexp.MustCompile(`^(CentOS|Red Hat Enterprise Linux|Oracle Linux)\b.*? release (\d+)`)

// ParseRedHatRelease maps the one line of /etc/redhat-release, which CentOS 6 and
// RHEL 6 have in place of os-release, to patrol's OS name, or "".
func ParseRedHatRelease(data []byte) string {
	m := redHatRelease.FindStringSubmatch(strings.TrimSpace(string(data)))
	if m == nil {
		return ""
	}
	prefix := map[string]string{"CentOS": "centos", "Red Hat Enterprise Linux": "rhel", "Oracle Linux": "oracle-linux"}[m[1]]
	if name := prefix + m[2]; isKnownOS(name) {
		return name
	}
	return ""
}

func isKnownOS(name string) bool {
	for _, known := range OSNames {
		if name == known {
			return true
		}
	}
	return false
}
