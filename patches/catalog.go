package patches

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"patrol/workday"
)

// Method is the tool that installs a patch.
type Method string

// Install methods. RPM and Yum are for CentOS hosts, WUSA (.msu) and DISM (.cab)
// for Windows, OPatch for Oracle homes.
const (
	MethodRPM    Method = "rpm"
	MethodYum    Method = "yum"
	MethodWUSA   Method = "wusa"
	MethodDISM   Method = "dism"
	MethodOPatch Method = "opatch"
)

// Methods lists the valid install methods.
var Methods = []Method{MethodRPM, MethodYum, MethodWUSA, MethodDISM, MethodOPatch}

// Catalog is the list of patches that arrived in the police network, with the
// offline repository that holds their files.
type Catalog struct {
	// Path is the catalog file.
	Path string
	// Repository is the folder of patch files, absolute. File paths in patches
	// are relative to it.
	Repository string
	// DeadlineDays overrides the default deadlines (workday.DefaultPolicy)
	// for some severities.
	DeadlineDays map[Severity]int
	Patches      []*Patch
}

// Patch is one catalog entry.
type Patch struct {
	// ID identifies the patch: a KB number, an RPM NEVRA or advisory, or an
	// Oracle PSU patch number.
	ID       string
	Title    string
	Severity Severity
	// Arrived is when the patch arrived in the police network; the deadline
	// counts from the calendar day of this time.
	Arrived   time.Time
	AppliesTo Applies
	Files     []File
	Method    Method
	// Reboot means the host must restart after the install.
	Reboot bool
	// StopServices are stopped before the install and started after it.
	StopServices []string
	Verify       Verify
	Rollback     Rollback
	// Source is "file:line" of the entry, for messages.
	Source string
}

// Applies is the set of hosts that need a patch. Empty lists match every host.
type Applies struct {
	// OS lists inventory os names, such as centos7 or win2012r2.
	OS []string
	// Systems lists business systems (hotel, entertainment, seal).
	Systems []string
	// Product is "oracle" for database patches; empty means the operating system.
	Product string
	// Version, for Oracle, is the database version the PSU is for, such as
	// 11.2.0.4; it is compared with the host variable oracle_version.
	Version string
}

// File is one patch file in the offline repository.
type File struct {
	// Path is relative to the catalog's repository.
	Path   string
	SHA256 string
	Size   int64
}

// Verify is the test that shows whether a patch is installed.
type Verify struct {
	// Packages are the RPM NEVRAs (name-[epoch:]version-release.arch) the patch
	// installs; it is installed when the host has all of them.
	Packages []string
	// KB is the Windows update's knowledge base number, such as KB4012213.
	KB string
	// OPatch is the Oracle patch number opatch lsinventory lists.
	OPatch string
	// Command, when set, runs after the install and must exit 0.
	Command string
}

// Rollback is the way to undo a patch when its install or post-check fails.
type Rollback struct {
	// None means the patch cannot be rolled back; a failure stops the batch and
	// leaves the host for a person to look at.
	None bool
	// Files, for rpm and yum, are the older packages to put back for packages
	// the patch upgraded. Packages it added are erased.
	Files []File
}

// LoadCatalog reads and validates a catalog file. A missing file is an empty
// catalog whose repository is "repo" next to it, so that `patrol patch import`
// can start one. Problems come back together as a *ValidationError.
func LoadCatalog(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return &Catalog{Path: path, Repository: filepath.Join(filepath.Dir(absPath(path)), "repo")}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	return ParseCatalog(path, data)
}

// ParseCatalog parses catalog text read from path. It does no I/O: path only
// names the file in messages and anchors the repository folder.
func ParseCatalog(path string, data []byte) (*Catalog, error) {
	p := &catalogParser{file: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ValidationError{Problems: []Problem{{File: path, Line: yamlErrorLine(err),
			Text: msg("invalid YAML: %v", "YAML 格式错误：%v", trimYAMLError(err))}}}
	}
	cat := &Catalog{Path: path}
	if len(doc.Content) == 0 {
		cat.Repository = filepath.Join(filepath.Dir(absPath(path)), "repo")
		return cat, nil
	}
	p.catalog(doc.Content[0], cat)
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, &ValidationError{Problems: p.problems}
	}
	return cat, nil
}

func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// Patch returns the patch with the given id, or nil.
func (c *Catalog) Patch(id string) *Patch {
	for _, p := range c.Patches {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// FilePath returns the local path of a repository file.
func (c *Catalog) FilePath(f File) string {
	return filepath.Join(c.Repository, filepath.FromSlash(f.Path))
}

// Days returns the working days a patch of severity s may wait.
func (c *Catalog) Days(s Severity) int {
	if n, ok := c.DeadlineDays[s]; ok {
		return n
	}
	days, _ := workday.DefaultPolicy().Workdays(s)
	return days
}
