package checks

// Parsers of the Windows probes' output. The probes print Format-List records
// (see pslist.go), ConvertTo-Csv or Key=Value text with invariant numbers, so
// no parser here depends on the host's display language. The one locale-formatted value Windows gives no
// choice about, Win32_QuickFixEngineering.InstalledOn, is read with the host
// culture's short date pattern, which the hotfix probe prints alongside.
//
// NOTE: this file must not be named parse_windows.go: Go treats a _windows
// suffix as a build constraint, and patrol runs on Linux.

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// parseCSVRecords reads `ConvertTo-Csv -NoTypeInformation` output into one map
// per row keyed by the header. A byte order mark, a "#TYPE" line (written when
// -NoTypeInformation is missing) and CRLF line ends are accepted.
func parseCSVRecords(out []byte) ([]map[string]string, error) {
	out = bytes.TrimPrefix(out, []byte("\xef\xbb\xbf"))
	var lines []string
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#TYPE") {
			continue
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return nil, nil
	}

	r := csv.NewReader(strings.NewReader(strings.Join(lines, "\n")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read CSV: %w", err)
	}
	header := rows[0]
	records := make([]map[string]string, 0, len(rows)-1)
	for _, row := range rows[1:] {
		rec := make(map[string]string, len(header))
		for i, name := range header {
			if i < len(row) {
				rec[name] = row[i]
			}
		}
		records = append(records, rec)
	}
	return records, nil
}

// ParseWinLogicalDisks parses Win32_LogicalDisk records as Format-List
// prints them (DeviceID, Size and FreeSpace; DriveType, FileSystem and
// VolumeName when present) into the rows check.disk judges. The drive letter
// is the mount point and sizes are bytes. The used percent is rounded up to a
// whole number, as df rounds its Use% column. Drives whose DriveType is not 3
// (local fixed disk) are left out, as the probe's filter leaves them out. A
// fixed drive without a size (no filesystem, or a volume Windows cannot read)
// is returned in skipped.
func ParseWinLogicalDisks(out []byte) (rows []DFRow, skipped []string, err error) {
	found := false
	for _, rec := range ParsePSList(out) {
		id := psListValue(rec, "DeviceID")
		if id == "" {
			continue
		}
		found = true
		if t, ok := rec.Value("DriveType"); ok && strings.TrimSpace(t) != "3" {
			continue
		}
		sizeRaw, freeRaw := psListValue(rec, "Size"), psListValue(rec, "FreeSpace")
		size, sizeErr := strconv.ParseInt(sizeRaw, 10, 64)
		free, freeErr := strconv.ParseInt(freeRaw, 10, 64)
		if sizeErr != nil || freeErr != nil || size <= 0 {
			skipped = append(skipped, fmt.Sprintf("%s: size %q, free space %q", id, sizeRaw, freeRaw))
			continue
		}
		used := size - free
		rows = append(rows, DFRow{
			Filesystem: psListValue(rec, "VolumeName"),
			Type:       psListValue(rec, "FileSystem"),
			Total:      size,
			Used:       used,
			Avail:      free,
			UsePercent: math.Ceil(float64(used) * 100 / float64(size)),
			Mount:      id,
		})
	}
	if !found {
		return nil, nil, fmt.Errorf("no Win32_LogicalDisk record with a DeviceID in the output")
	}
	return rows, skipped, nil
}

// WinService is one Win32_Service record.
type WinService struct {
	// Name is the service (key) name, such as OracleServiceORCL.
	Name string
	// DisplayName is the localized name, Chinese on Chinese hosts; empty when
	// the output did not include it.
	DisplayName string
	// State is Running, Stopped, Start Pending, Paused, … (never localized).
	State string
	// StartMode is Auto, Manual, Disabled, Boot or System.
	StartMode string
}

// ParseWinServices parses Win32_Service records as Format-List prints them
// (Name, State and StartMode; DisplayName when present).
func ParseWinServices(out []byte) ([]WinService, error) {
	var services []WinService
	for _, rec := range ParsePSList(out) {
		name := psListValue(rec, "Name")
		if name == "" || !rec.Has("State") {
			continue
		}
		services = append(services, WinService{
			Name:        name,
			DisplayName: psListValue(rec, "DisplayName"),
			State:       psListValue(rec, "State"),
			StartMode:   psListValue(rec, "StartMode"),
		})
	}
	if len(services) == 0 {
		return nil, fmt.Errorf("no Win32_Service record with Name and State in the output")
	}
	return services, nil
}

// FirewallProfile is one Windows Firewall profile and whether it filters.
type FirewallProfile struct {
	Name string // Domain, Private or Public
	// Enabled is True, False or NotConfigured as Get-NetFirewallProfile
	// prints its GpoBoolean value.
	Enabled string
}

// ParseFirewallProfiles parses the CSV of Get-NetFirewallProfile (Name, Enabled).
func ParseFirewallProfiles(out []byte) ([]FirewallProfile, error) {
	records, err := parseCSVRecords(out)
	if err != nil {
		return nil, err
	}
	var profiles []FirewallProfile
	for _, rec := range records {
		if rec["Name"] == "" {
			continue
		}
		profiles = append(profiles, FirewallProfile{Name: rec["Name"], Enabled: rec["Enabled"]})
	}
	return profiles, nil
}

// parseKeyValueBlocks reads Key=Value lines in blocks, the form of
// `wmic … /format:list` and of patrol's hotfix probe. A block ends where a key
// repeats, not at a blank line, because wmic puts a blank line after every line.
// Keys keep their case and values keep inner spaces.
func parseKeyValueBlocks(out []byte) []map[string]string {
	var blocks []map[string]string
	var cur map[string]string
	for _, line := range strings.Split(strings.ReplaceAll(string(bytes.TrimPrefix(out, []byte("\xef\xbb\xbf"))), "\r", ""), "\n") {
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(key) == "" {
			continue
		}
		key = strings.TrimSpace(key)
		if cur == nil || hasKey(cur, key) {
			cur = map[string]string{}
			blocks = append(blocks, cur)
		}
		cur[key] = strings.TrimSpace(value)
	}
	return blocks
}

func hasKey(m map[string]string, key string) bool {
	_, ok := m[key]
	return ok
}

// HostCulture is the culture the hotfix probe reports for the host.
type HostCulture struct {
	Name string // zh-CN, en-US, …
	// ShortDatePattern is the .NET pattern, such as yyyy/M/d or M/d/yyyy.
	ShortDatePattern string
}

// Hotfix is one installed update from Win32_QuickFixEngineering.
type Hotfix struct {
	ID          string // KB2999226
	Description string // Update, Security Update, Hotfix
	InstalledBy string
	// InstalledOnRaw is the InstalledOn string exactly as WMI returned it.
	InstalledOnRaw string
	// InstalledOn is the date read from InstalledOnRaw; zero when DateKnown is false.
	InstalledOn time.Time
	DateKnown   bool
	// DateAmbiguous is set when the host culture's pattern and the US month-first
	// pattern both read the value, as different dates. InstalledOn holds the
	// culture's reading.
	DateAmbiguous bool
}

// HotfixListing is the output of the hotfix probe.
type HotfixListing struct {
	Culture HostCulture
	// RebootPending is set when the probe saw a servicing reboot pending, so
	// an update installed with exit code 3010 is not listed yet.
	RebootPending bool
	Hotfixes      []Hotfix
}

// ParseHotfixListing parses Key=Value blocks with HotFixID and InstalledOn
// (and optionally Description and InstalledBy), as patrol's hotfix probe and
// `wmic qfe get HotFixID,InstalledOn /format:list` print them. A block with
// Culture and ShortDatePattern gives the host culture; without one the dates
// are read as month-first, the form WMI uses on en-US hosts. An entry whose
// date is blank or unreadable is kept with DateKnown false, because the
// update is installed whatever its date.
func ParseHotfixListing(out []byte) HotfixListing {
	var listing HotfixListing
	for _, block := range parseKeyValueBlocks(out) {
		if v, ok := block["Culture"]; ok {
			listing.Culture.Name = v
		}
		if v, ok := block["ShortDatePattern"]; ok {
			listing.Culture.ShortDatePattern = v
		}
		if v, ok := block["RebootPending"]; ok {
			listing.RebootPending = strings.EqualFold(v, "true")
		}
		id, ok := block["HotFixID"]
		if !ok {
			continue
		}
		listing.Hotfixes = append(listing.Hotfixes, Hotfix{
			ID:             id,
			Description:    block["Description"],
			InstalledBy:    block["InstalledBy"],
			InstalledOnRaw: block["InstalledOn"],
		})
	}

	for i := range listing.Hotfixes {
		h := &listing.Hotfixes[i]
		h.InstalledOn, h.DateKnown, h.DateAmbiguous = ParseInstalledOn(h.InstalledOnRaw, listing.Culture.ShortDatePattern)
	}
	return listing
}

// usShortDate is the pattern WMI writes InstalledOn in on Vista and later
// when the culture is en-US, and the one Get-HotFix assumes.
const usShortDate = "M/d/yyyy"

// ParseInstalledOn reads a Win32_QuickFixEngineering.InstalledOn string. It
// tries, in order: ISO 8601 (yyyy-MM-dd), a 16-digit hexadecimal FILETIME
// (Windows XP and 2003 wrote those), the host culture's short date pattern, and
// the US month-first pattern. ambiguous is set when the culture's pattern and
// the US pattern read the value as two different dates, such as 7/3/2017 on an
// en-GB host.
func ParseInstalledOn(raw, cultureShortDate string) (date time.Time, ok, ambiguous bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}, false, false
	}
	if t, err := time.Parse("2006-01-02", raw); err == nil {
		return t, true, false
	}
	if t, ok := parseFileTimeHex(raw); ok {
		return t, true, false
	}

	us, usOK := parseDotNetDate(raw, usShortDate)
	if cultureShortDate != "" {
		if t, ok := parseDotNetDate(raw, cultureShortDate); ok {
			return t, true, usOK && !us.Equal(t)
		}
	}
	if usOK {
		return us, true, false
	}
	return time.Time{}, false, false
}

// parseFileTimeHex reads 16 hexadecimal digits as a FILETIME: 100 ns ticks
// since 1601-01-01 UTC. The result is the UTC calendar date.
func parseFileTimeHex(raw string) (time.Time, bool) {
	if len(raw) != 16 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseUint(raw, 16, 64)
	if err != nil {
		return time.Time{}, false
	}
	const ticksTo1970 = 116444736000000000
	if ticks < ticksTo1970 {
		return time.Time{}, false
	}
	t := time.Unix(0, int64(ticks-ticksTo1970)*100).UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
}

// parseDotNetDate reads a date written with a .NET short date pattern made of
// d, M and y runs and literal separators (yyyy/M/d, dd.MM.yyyy, M/d/yyyy).
// Numbers may have one or two digits whatever the pattern says, because
// Windows writes both forms. Patterns with month names (MMM) are not read.
func parseDotNetDate(raw, pattern string) (time.Time, bool) {
	var order []byte
	var seps []string
	sep := ""
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == 'd' || c == 'M' || c == 'y' {
			j := i
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			if j-i > 2 && c != 'y' {
				return time.Time{}, false
			}
			if len(order) > 0 {
				seps = append(seps, sep)
			}
			order = append(order, c)
			sep = ""
			i = j
			continue
		}
		if c != '\'' {
			sep += string(c)
		}
		i++
	}
	if len(order) != 3 {
		return time.Time{}, false
	}

	// A time may follow the date ("6/30/2017 12:00:00 AM"); only the date is read.
	rest := strings.Fields(raw)[0]
	var nums [3]int
	for k := range 3 {
		end := len(rest)
		if k < 2 {
			end = strings.Index(rest, strings.TrimSpace(seps[k]))
			if seps[k] == "" || end < 0 {
				return time.Time{}, false
			}
		}
		n, err := strconv.Atoi(rest[:end])
		if err != nil {
			return time.Time{}, false
		}
		nums[k] = n
		if k < 2 {
			rest = rest[end+len(strings.TrimSpace(seps[k])):]
		}
	}

	var y, m, d int
	for k, c := range order {
		switch c {
		case 'y':
			y = nums[k]
		case 'M':
			m = nums[k]
		case 'd':
			d = nums[k]
		}
	}
	if y < 100 {
		y += 2000
	}
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false // 2/30 and the like
	}
	return t, true
}

// RebootSignals are the registry values that say Windows waits for a reboot.
type RebootSignals struct {
	// CBS is the Component Based Servicing RebootPending key: an update or
	// Windows feature finishes installing at the next boot.
	CBS bool
	// WindowsUpdate is the Windows Update Auto Update\RebootRequired key.
	WindowsUpdate bool
	// ComputerRename is set when the active computer name differs from the
	// configured one, or a domain join waits for the next boot.
	ComputerRename bool
	// ConfigManager is set when the Configuration Manager (SCCM) client
	// reports a pending reboot; false where no client is installed.
	ConfigManager bool
	// FileRenamesPending is the PendingFileRenameOperations flag: Session
	// Manager replaces or deletes files at the next boot.
	FileRenamesPending bool
	// FileRenames are the source paths of PendingFileRenameOperations, when
	// the output lists them.
	FileRenames []string
	// Missing lists signals the output did not contain, so they are unknown.
	Missing []string
}

// Properties of the reboot record. They are the names that `Test-PendingReboot
// -Detailed` of the PendingReboot module prints, so its published output reads
// as the probe's own.
const (
	rebootKeyCBS       = "ComponentBasedServicing"
	rebootKeyWU        = "WindowsUpdateAutoUpdate"
	rebootKeyRename    = "PendingComputerRenameDomainJoin"
	rebootKeyCCM       = "SystemCenterConfigManager"
	rebootKeyFileOps   = "PendingFileRenameOperations"
	rebootKeyFileValue = "PendingFileRenameOperationsValue"
)

// ParseRebootSignals parses the first Format-List record that carries
// reboot signals. A flag reads as set when its value is True.
// PendingFileRenameOperationsValue is the registry value's strings joined
// with ";" (source, target, source, target, …, an empty target meaning
// delete), or an array as Format-List shows one ("{a, , b...}").
func ParseRebootSignals(out []byte) RebootSignals {
	var s RebootSignals
	var rec PSListRecord
	for _, r := range ParsePSList(out) {
		if r.Has(rebootKeyCBS) || r.Has(rebootKeyWU) || r.Has(rebootKeyFileOps) {
			rec = r
			break
		}
	}

	isTrue := func(key string) bool { return strings.EqualFold(psListValue(rec, key), "true") }
	s.CBS = isTrue(rebootKeyCBS)
	s.WindowsUpdate = isTrue(rebootKeyWU)
	s.ComputerRename = isTrue(rebootKeyRename)
	s.ConfigManager = isTrue(rebootKeyCCM)
	s.FileRenames = pendingRenameSources(rec.Get(rebootKeyFileValue))
	s.FileRenamesPending = isTrue(rebootKeyFileOps) || len(s.FileRenames) > 0
	for _, key := range []string{rebootKeyCBS, rebootKeyWU, rebootKeyRename, rebootKeyFileOps} {
		if !rec.Has(key) {
			s.Missing = append(s.Missing, key)
		}
	}
	return s
}

// pendingRenameSources returns the source paths, the strings at even
// positions, of a PendingFileRenameOperations value. A line break left by a
// wrapped console line becomes a space, as it was in the path.
func pendingRenameSources(value string) []string {
	value = strings.TrimSpace(strings.ReplaceAll(value, "\n", " "))
	if value == "" {
		return nil
	}
	var parts []string
	if inner, ok := strings.CutPrefix(value, "{"); ok {
		inner = strings.TrimSuffix(inner, "}")
		inner = strings.TrimSuffix(inner, "...")
		parts = strings.Split(inner, ", ")
	} else {
		parts = strings.Split(value, ";")
	}
	var sources []string
	for i := 0; i < len(parts); i += 2 {
		if p := strings.TrimSpace(parts[i]); p != "" {
			sources = append(sources, p)
		}
	}
	return sources
}
