package checks

import (
	"regexp"
	"strconv"
	"strings"
)

// PendingPackage is one package with an update available.
type PendingPackage struct {
	Name    string
	Arch    string
	Version string // the version available
	Repo    string // yum repository, or apt origins joined by ", "
	// Security marks an update from a security origin (apt) or errata (yum).
	Security bool
}

// ParseYumCheckUpdate parses the package list of `yum check-update` (or dnf),
// which yum prints with exit status 100. Lines are "name.arch version repo";
// a long name may sit alone with the rest on the next line, and a long
// name+version may push the repository to the next line. Plugin chatter
// ("Loaded plugins", mirror lines, "Security: …") is skipped, and the
// "Obsoleting Packages" section ends the list because its lines repeat
// packages already listed.
func ParseYumCheckUpdate(out []byte) []PendingPackage {
	var pkgs []PendingPackage
	var pending []string
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "Obsoleting Packages") {
			break
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			pending = nil
			continue
		}

		if len(pending) > 0 && len(pending)+len(fields) == 3 {
			fields = append(pending, fields...)
		}
		pending = nil

		switch {
		case len(fields) == 3 && strings.HasPrefix(fields[2], "@"):
			// An installed package ("@updates") is only listed under the
			// obsoleting header, whose wording depends on the locale: the line
			// before it was the obsoleting package, so both are dropped.
			if len(pkgs) > 0 {
				pkgs = pkgs[:len(pkgs)-1]
			}
			return pkgs
		case len(fields) == 3 && isYumPackage(fields[0]) && hasDigit(fields[1]):
			name, arch := splitNameArch(fields[0])
			pkgs = append(pkgs, PendingPackage{Name: name, Arch: arch, Version: fields[1], Repo: fields[2]})
		case len(fields) == 1 && isYumPackage(fields[0]):
			pending = fields
		case len(fields) == 2 && isYumPackage(fields[0]) && hasDigit(fields[1]):
			pending = fields
		}
	}
	return pkgs
}

// isYumPackage accepts "name.arch" tokens and rejects chatter such as
// "Loaded" or "*".
func isYumPackage(tok string) bool {
	i := strings.LastIndexByte(tok, '.')
	return i > 0 && i < len(tok)-1 && !strings.HasSuffix(tok, ":") && !strings.HasPrefix(tok, ":")
}

func splitNameArch(tok string) (string, string) {
	i := strings.LastIndexByte(tok, '.')
	return tok[:i], tok[i+1:]
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

// yumSecuritySummary matches the line yum's security filter prints, such as
// "No packages needed for security; 28 packages available" or
// "5 package(s) needed for security, out of 28 available".
var (
	yumNoSecurity = regexp.MustCompile(`No packages needed for security; (\d+) packages available`)
	yumSomeSec    = regexp.MustCompile(`(\d+) package\(s\) needed for security, out of (\d+) available`)
)

// ParseYumSecuritySummary reads the summary line of `yum --security
// check-update`. The package lines that follow "No packages needed for
// security" (yum 3.2.29 on CentOS 6.7 and later) are ordinary updates and are
// not counted. ok is false when no summary line is present.
func ParseYumSecuritySummary(out []byte) (security, available int, ok bool) {
	s := string(out)
	if m := yumNoSecurity.FindStringSubmatch(s); m != nil {
		available, _ = strconv.Atoi(m[1])
		return 0, available, true
	}
	if m := yumSomeSec.FindStringSubmatch(s); m != nil {
		security, _ = strconv.Atoi(m[1])
		available, _ = strconv.Atoi(m[2])
		return security, available, true
	}
	return 0, 0, false
}

// aptInst matches a simulated install line of apt-get -s:
// "Inst apt [2.6.1] (2.6.2 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])".
// The old version in brackets is absent for new packages.
var aptInst = regexp.MustCompile(`^Inst (\S+)(?: \[([^\]]*)\])? \((\S+) (.*?)(?: \[([^\]]+)\])?\)`)

// ParseAptSimulate parses `apt-get -s upgrade` or `dist-upgrade` output. Only
// "Inst" lines count; "Conf" lines repeat them. An update is a security update
// when one of its origins is a security suite (Debian-Security:…,
// …-security), so a fix published in both the security and the regular suite
// still counts.
func ParseAptSimulate(out []byte) []PendingPackage {
	var pkgs []PendingPackage
	for _, line := range strings.Split(string(out), "\n") {
		m := aptInst.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		origins := m[4]
		pkgs = append(pkgs, PendingPackage{
			Name:     m[1],
			Arch:     m[5],
			Version:  m[3],
			Repo:     origins,
			Security: strings.Contains(strings.ToLower(origins), "security"),
		})
	}
	return pkgs
}

// ParseAptListUpgradable parses `apt list --upgradable`:
// "apt/oldstable-security 2.6.2 amd64 [upgradable from: 2.6.1]". The suite part
// may list several suites separated by commas.
func ParseAptListUpgradable(out []byte) []PendingPackage {
	var pkgs []PendingPackage
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || !strings.Contains(line, "upgradable from") {
			continue
		}
		name, suites, ok := strings.Cut(fields[0], "/")
		if !ok {
			continue
		}
		pkgs = append(pkgs, PendingPackage{
			Name:     name,
			Arch:     fields[2],
			Version:  fields[1],
			Repo:     suites,
			Security: strings.Contains(suites, "-security"),
		})
	}
	return pkgs
}
