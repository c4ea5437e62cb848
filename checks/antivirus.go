package checks

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
)

const antivirusCheck = "check.antivirus"

func antivirusSpec() *module.Spec {
	return &module.Spec{
		Name:  antivirusCheck,
		Title: i18n.T("Antivirus signature age", "杀毒软件病毒库时效"),
		Doc: i18n.T(
			"Windows: age of the antivirus signatures, read from the LastWriteTime of a signature file (or the newest file under a directory), "+
				"from a registry value, or from Windows Defender's Get-MpComputerStatus. A registry value may be a date string (year first, such as 2020-06-01 or 2020/6/1 08:00:00, read in the host's time zone unless it has an offset), "+
				"an 8-digit yyyyMMdd number, Unix seconds or milliseconds, a FILETIME number, or an 8-byte REG_BINARY FILETIME.",
			"Windows：杀毒软件病毒库的时效，取自病毒库文件（或目录下最新文件）的 LastWriteTime、注册表值，或 Windows Defender 的 Get-MpComputerStatus。注册表值可以是日期字符串（年份在前，如 2020-06-01 或 2020/6/1 08:00:00，不带时区偏移时按主机时区解读）、8 位 yyyyMMdd 数字、Unix 秒数或毫秒数、FILETIME 数字，或 8 字节的 REG_BINARY FILETIME。"),
		Check: true,
		Args: []module.Arg{
			// NOTE: Rising's install folder is taken from a published report on
			// Rising 25 under 64-bit Windows 10, but the name of its signature
			// file in that folder is not known.
			{Name: "path", Type: module.String, Doc: i18n.T(`signature file, or a directory whose newest file is read, such as a file under C:\Program Files (x86)\Rising\Rav; not Rising's whole install folder, whose logfiles folder is written continuously; give this or registry_key`, `病毒库文件，或取其中最新文件的目录，如 C:\Program Files (x86)\Rising\Rav 下的某个文件；不要给瑞星的整个安装目录，其中的 logfiles 目录一直在写入；此项与 registry_key 二选一`)},
			{Name: "registry_key", Type: module.String, Doc: i18n.T(`registry key such as HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates (HKLM:, HKEY_LOCAL_MACHINE and the other hives accepted)`, `注册表键，如 HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates（也接受 HKLM:、HKEY_LOCAL_MACHINE 及其他根键）`)},
			{Name: "registry_value", Type: module.String, Doc: i18n.T("name of the value under registry_key that holds the signature date, such as ASSignatureApplied", "registry_key 下保存病毒库日期的值名，如 ASSignatureApplied")},
			{Name: "defender", Type: module.Bool, Default: false, Doc: i18n.T("read AntivirusSignatureLastUpdated of Windows Defender with Get-MpComputerStatus (Windows Server 2016 and later; Windows Server 2012 R2 has no Defender) instead of path or registry_key", "用 Get-MpComputerStatus 读取 Windows Defender 的 AntivirusSignatureLastUpdated，代替 path 或 registry_key（Windows Server 2016 及以后；Windows Server 2012 R2 没有 Defender）")},
			{Name: "max_age", Type: module.String, Default: "7d", Doc: i18n.T("signature age at or above which the check warns, such as 7d", "病毒库时效达到该值时判为警告，如 7d")},
			{Name: "fail_age", Type: module.String, Doc: i18n.T("signature age at or above which the check fails, such as 14d (optional)", "病毒库时效达到该值时判为不合格，如 14d（可选）")},
		},
		Run: runAntivirus,
	}
}

// SignatureSource names where the signature date is read.
type SignatureSource struct {
	// Path is a file or directory; empty when the registry is read.
	Path string
	// Key is a provider path such as Registry::HKEY_LOCAL_MACHINE\SOFTWARE\x.
	Key   string
	Value string
	// Defender reads Get-MpComputerStatus instead of a file or the registry.
	Defender bool
}

// Item is the source as a report item.
func (s SignatureSource) Item() string {
	if s.Defender {
		return "Windows Defender"
	}
	if s.Path != "" {
		return s.Path
	}
	return strings.TrimPrefix(s.Key, "Registry::") + `\` + s.Value
}

// Signature is the result of the antivirus probe.
type Signature struct {
	Found bool
	// File is the file whose LastWriteTime was read, when the source is a
	// file or a directory.
	File string
	// Date is the signature date in UTC; zero when it could not be read.
	Date time.Time
	// Raw is the registry value as printed, with RawKind its registry type
	// (String, ExpandString, MultiString, DWord, QWord, Binary).
	Raw     string
	RawKind string
	// Now is the host's clock, so clock skew between patrol and the host
	// does not change the age.
	Now time.Time
	// ParseError is the reason Raw gave no date.
	ParseError string
	// Version is the signature version Windows Defender reports.
	Version string
	// Disabled is set when Windows Defender reports AntivirusEnabled False.
	Disabled bool
}

type antivirusProbe func(ctx context.Context, env *module.Env, src SignatureSource) (Signature, *module.Finding)

var antivirusProbes = perOS[antivirusProbe]{}

func runAntivirus(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	src, err := signatureSource(args)
	if err != nil {
		return result([]module.Finding{argError(antivirusCheck, err)}), nil
	}
	maxAge, ok, err := durationArg(args, "max_age")
	if err != nil {
		return result([]module.Finding{argError(antivirusCheck, err)}), nil
	}
	if !ok {
		maxAge = 7 * 24 * time.Hour
	}
	failAge, _, err := durationArg(args, "fail_age")
	if err != nil {
		return result([]module.Finding{argError(antivirusCheck, err)}), nil
	}

	probe := antivirusProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(antivirusCheck)}), nil
	}
	sig, failed := probe(ctx, env, src)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	if sig.Now.IsZero() {
		sig.Now = now(env)
	}
	return result([]module.Finding{EvaluateSignature(src, sig, maxAge, failAge)}), nil
}

// signatureSource reads path, or registry_key with registry_value.
func signatureSource(args module.Args) (SignatureSource, error) {
	path := strings.TrimSpace(args.String("path"))
	key := strings.TrimSpace(args.String("registry_key"))
	value := args.String("registry_value")
	defender := boolArg(args, "defender", false)
	switch {
	case defender && (path != "" || key != ""):
		return SignatureSource{}, fmt.Errorf("defender: %w: defender reads Get-MpComputerStatus, so leave path and registry_key out", errArg)
	case defender:
		return SignatureSource{Defender: true}, nil
	case path != "" && key != "":
		return SignatureSource{}, fmt.Errorf("path, registry_key: %w: give either a file path or a registry key, not both", errArg)
	case path != "":
		return SignatureSource{Path: path}, nil
	case key == "":
		return SignatureSource{}, fmt.Errorf("path: %w: give the signature file path, registry_key and registry_value, or defender: true", errArg)
	case value == "":
		return SignatureSource{}, fmt.Errorf("registry_value: %w: name the value under %s that contains the signature date", errArg, key)
	}
	full, err := RegistryProviderPath(key)
	if err != nil {
		return SignatureSource{}, err
	}
	return SignatureSource{Key: full, Value: value}, nil
}

// registryHives maps the hive spellings people write to the full names that
// PowerShell's Registry:: provider path takes.
var registryHives = map[string]string{
	"HKLM": "HKEY_LOCAL_MACHINE", "HKEY_LOCAL_MACHINE": "HKEY_LOCAL_MACHINE",
	"HKCU": "HKEY_CURRENT_USER", "HKEY_CURRENT_USER": "HKEY_CURRENT_USER",
	"HKCR": "HKEY_CLASSES_ROOT", "HKEY_CLASSES_ROOT": "HKEY_CLASSES_ROOT",
	"HKU": "HKEY_USERS", "HKEY_USERS": "HKEY_USERS",
	"HKCC": "HKEY_CURRENT_CONFIG", "HKEY_CURRENT_CONFIG": "HKEY_CURRENT_CONFIG",
}

// RegistryProviderPath turns HKLM\x, HKLM:\x, HKEY_LOCAL_MACHINE\x or
// Registry::HKLM\x into Registry::HKEY_LOCAL_MACHINE\x, a path that works
// for every hive, not only the two that PowerShell maps as drives.
func RegistryProviderPath(key string) (string, error) {
	k := strings.TrimPrefix(strings.TrimSpace(key), "Registry::")
	k = strings.ReplaceAll(k, "/", `\`)
	hive, rest, _ := strings.Cut(k, `\`)
	full, ok := registryHives[strings.ToUpper(strings.TrimSuffix(hive, ":"))]
	if !ok {
		return "", fmt.Errorf("registry_key: %w: %q does not start with a hive such as HKLM or HKEY_LOCAL_MACHINE", errArg, key)
	}
	return `Registry::` + full + `\` + strings.Trim(rest, `\`), nil
}

// ParseSignatureProbe reads the antivirus probe's Key=Value lines: Now,
// UtcOffset, Found, File, LastWriteTime, ValueKind and Value.
func ParseSignatureProbe(out []byte) (Signature, error) {
	var sig Signature
	var offset time.Duration
	var lastWrite string
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n") {
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "Now":
			sig.Now, _ = time.Parse(time.RFC3339, strings.TrimSpace(value))
		case "UtcOffset":
			offset, _ = parseUTCOffset(strings.TrimSpace(value))
		case "Found":
			sig.Found = strings.EqualFold(strings.TrimSpace(value), "true")
		case "File":
			sig.File = strings.TrimSpace(value)
		case "LastWriteTime":
			lastWrite = strings.TrimSpace(value)
		case "ValueKind":
			sig.RawKind = strings.TrimSpace(value)
		case "Value":
			sig.Raw = strings.TrimSpace(value)
		}
	}
	if sig.Now.IsZero() {
		return sig, fmt.Errorf("the probe printed no Now line")
	}
	if !sig.Found {
		return sig, nil
	}

	if sig.RawKind == "" {
		t, err := time.Parse(time.RFC3339, lastWrite)
		if err != nil {
			return sig, fmt.Errorf("LastWriteTime %q is not an ISO date", lastWrite)
		}
		sig.Date = t
		return sig, nil
	}
	t, err := ParseSignatureDate(sig.RawKind, sig.Raw, time.FixedZone("host", int(offset.Seconds())))
	if err != nil {
		sig.ParseError = err.Error()
		return sig, nil
	}
	sig.Date = t
	return sig, nil
}

// defenderNeverUpdated is the AntivirusSignatureAge Windows Defender
// reports when it has no signatures (uint32 -1).
const defenderNeverUpdated = "4294967295"

// ParseDefenderStatus reads a Get-MpComputerStatus record as Format-List
// prints it. The probe adds Now (the host clock) and Found, and prints
// AntivirusSignatureLastUpdated in UTC ISO 8601; published output shows it in
// the host culture, read with shortDatePattern as the host's wall clock. An
// empty or unreadable AntivirusSignatureLastUpdated leaves Date zero with the
// reason in ParseError.
func ParseDefenderStatus(out []byte, shortDatePattern string) (Signature, error) {
	var rec PSListRecord
	for _, r := range ParsePSList(out) {
		if r.Has("AntivirusSignatureLastUpdated") || r.Has("Found") {
			rec = r
			break
		}
	}
	if rec.Fields == nil {
		return Signature{}, fmt.Errorf("no Get-MpComputerStatus record with AntivirusSignatureLastUpdated in the output")
	}

	sig := Signature{
		Found:    !strings.EqualFold(psListValue(rec, "Found"), "false"),
		RawKind:  "AntivirusSignatureLastUpdated",
		Raw:      psListValue(rec, "AntivirusSignatureLastUpdated"),
		Version:  psListValue(rec, "AntivirusSignatureVersion"),
		Disabled: strings.EqualFold(psListValue(rec, "AntivirusEnabled"), "false"),
	}
	if now, err := time.Parse(time.RFC3339, psListValue(rec, "Now")); err == nil {
		sig.Now = now
	}
	if !sig.Found {
		return sig, nil
	}

	age := psListValue(rec, "AntivirusSignatureAge")
	t, _, ok := parsePSDateTime(sig.Raw, shortDatePattern)
	switch {
	case ok:
		sig.Date = t
	case sig.Raw == "" && age == defenderNeverUpdated:
		sig.ParseError = "Windows Defender reports no signature update (AntivirusSignatureAge " + age + ")"
	case sig.Raw == "":
		sig.ParseError = "AntivirusSignatureLastUpdated is empty"
	default:
		sig.ParseError = fmt.Sprintf("AntivirusSignatureLastUpdated %q is not a date", sig.Raw)
	}
	return sig, nil
}

// parseUTCOffset reads a .NET TimeSpan such as 08:00:00 or -05:00:00.
func parseUTCOffset(s string) (time.Duration, error) {
	neg := strings.HasPrefix(s, "-")
	parts := strings.Split(strings.TrimLeft(s, "+-"), ":")
	if len(parts) < 2 {
		return 0, fmt.Errorf("offset %q is not hh:mm:ss", s)
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("offset %q is not hh:mm:ss", s)
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if neg {
		d = -d
	}
	return d, nil
}

// Bounds that tell number forms apart. A FILETIME after 1980 is above
// 1.19e17; Unix milliseconds from 2001 to 2286 have 13 digits; Unix seconds
// from 2001 to 2286 have 10 digits.
const (
	minFiletime  = 119_600_064_000_000_000 // 1980-01-01 as a FILETIME
	minUnixMilli = 1_000_000_000_000
	maxUnixMilli = 9_999_999_999_999
	minUnixSec   = 1_000_000_000
	maxUnixSec   = 9_999_999_999
	// filetimeUnixDiff is 1601-01-01 to 1970-01-01 in 100 ns intervals.
	filetimeUnixDiff = 116_444_736_000_000_000
)

// signatureLayouts are the date strings read from a registry value, year
// first so that no day/month order has to be guessed.
var signatureLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/1/2 15:04:05",
	"2006/1/2 15:04",
	"2006/1/2",
	"2006.1.2 15:04:05",
	"2006.1.2",
	"20060102150405",
	"20060102",
}

// ParseSignatureDate reads a registry value as a date. kind is the value's
// registry type as .NET names it. Binary values must be an 8-byte
// little-endian FILETIME. Numbers (DWord, QWord or a string of digits) are
// a yyyyMMdd date when they have 8 digits, Unix seconds with 10 digits, Unix
// milliseconds with 13, and a FILETIME from 1980 on. Strings use the year-first
// layouts in signatureLayouts, in zone unless they carry an offset.
func ParseSignatureDate(kind, raw string, zone *time.Location) (time.Time, error) {
	raw = strings.TrimSpace(raw)
	if strings.EqualFold(kind, "Binary") {
		b, err := hex.DecodeString(strings.NewReplacer(" ", "", "-", "", ",", "").Replace(raw))
		if err != nil || len(b) != 8 {
			return time.Time{}, fmt.Errorf("binary value %q is not an 8-byte FILETIME", raw)
		}
		return filetime(binary.LittleEndian.Uint64(b))
	}

	if n, err := strconv.ParseUint(raw, 10, 64); err == nil {
		return numberDate(n, raw, zone)
	}
	for _, layout := range signatureLayouts {
		if t, err := time.ParseInLocation(layout, raw, zone); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a year-first date (2020-06-01 15:04:05), yyyyMMdd, Unix time or FILETIME", raw)
}

func numberDate(n uint64, raw string, zone *time.Location) (time.Time, error) {
	switch {
	case len(raw) == 8 || len(raw) == 14:
		layout := "20060102"
		if len(raw) == 14 {
			layout = "20060102150405"
		}
		t, err := time.ParseInLocation(layout, raw, zone)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a yyyyMMdd date", raw)
		}
		return t.UTC(), nil
	case n >= minFiletime:
		return filetime(n)
	case n >= minUnixMilli && n <= maxUnixMilli:
		return time.UnixMilli(int64(n)).UTC(), nil
	case n >= minUnixSec && n <= maxUnixSec:
		return time.Unix(int64(n), 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("number %s is neither yyyyMMdd, Unix seconds or milliseconds after 2001, nor a FILETIME", raw)
}

func filetime(n uint64) (time.Time, error) {
	if n < minFiletime {
		return time.Time{}, fmt.Errorf("FILETIME %d is before 1980", n)
	}
	intervals := int64(n - filetimeUnixDiff)
	return time.Unix(intervals/10_000_000, intervals%10_000_000*100).UTC(), nil
}

// EvaluateSignature warns when the signatures are maxAge old or older and
// fails at failAge (0 disables). Missing signatures fail and an unreadable
// registry value is an error.
func EvaluateSignature(src SignatureSource, sig Signature, maxAge, failAge time.Duration) module.Finding {
	f := module.Finding{
		Check:  antivirusCheck,
		Item:   src.Item(),
		Status: module.StatusOK,
	}
	f.Threshold = ageThreshold(maxAge, failAge).Text()

	if !sig.Found && src.Defender {
		f.Status, f.Value = module.StatusFail, i18n.T("not found", "不存在")
		f.Message = i18n.T(
			"Get-MpComputerStatus is missing, so Windows Defender is not installed (Windows Server 2012 R2 has none); check the installed antivirus with path or registry_key",
			"主机没有 Get-MpComputerStatus，即未安装 Windows Defender（Windows Server 2012 R2 不带 Defender）；请用 path 或 registry_key 检查实际安装的杀毒软件",
		)
		return f
	}
	if !sig.Found {
		f.Status, f.Value = module.StatusFail, i18n.T("not found", "不存在")
		f.Message = i18n.T(
			"antivirus signatures not found at "+src.Item()+" — check the path, and whether the antivirus is installed",
			"未找到杀毒软件病毒库 "+src.Item()+" — 请检查路径，以及杀毒软件是否已安装",
		)
		return f
	}
	if src.Defender && sig.Disabled {
		f.Status, f.Value = module.StatusFail, i18n.T("antivirus disabled", "防病毒已关闭")
		f.Message = i18n.T(
			"Windows Defender reports AntivirusEnabled False, so files are not scanned; turn the antivirus on or check which product replaced it",
			"Windows Defender 报告 AntivirusEnabled 为 False，文件不会被扫描；请开启防病毒，或核实替代它的杀毒软件",
		)
		f.Evidence = []string{defenderEvidence(sig)}
		return f
	}
	if sig.Date.IsZero() && src.Defender {
		f.Status, f.Value = module.StatusFail, i18n.T("no signature date", "无病毒库日期")
		f.Message = i18n.T(
			"Windows Defender gives no signature date: "+sig.ParseError+"; check that the Windows Defender service (WinDefend) runs, then update the signatures",
			"Windows Defender 未给出病毒库日期（原因见证据）；请检查 Windows Defender 服务（WinDefend）是否运行，然后更新病毒库",
		)
		f.Evidence = []string{sig.ParseError, defenderEvidence(sig)}
		return f
	}
	if sig.Date.IsZero() {
		return errorFinding(antivirusCheck, src.Item(), i18n.T(
			fmt.Sprintf("the registry value %s (%s) contains no date patrol can read: %s; point registry_value at the value that contains the signature date", src.Item(), sig.RawKind, sig.ParseError),
			fmt.Sprintf("注册表值 %s（%s）不是可识别的日期（原因见证据）；请将 registry_value 指向保存病毒库日期的值", src.Item(), sig.RawKind),
		), []string{sig.ParseError, sig.RawKind + " " + sig.Raw})
	}

	date := formatTime(sig.Date)
	age := sig.Now.Sub(sig.Date)
	f.Value = i18n.T(date+" ("+FormatAge(max(age, 0))+" old)", date+"（距今 "+FormatAgeZH(max(age, 0))+"）")
	f.Metrics = map[string]float64{"signature_age_seconds": age.Seconds()}
	switch {
	case src.Defender:
		f.Evidence = []string{defenderEvidence(sig)}
	case sig.File != "":
		f.Evidence = []string{sig.File + " LastWriteTime " + date}
	default:
		f.Evidence = []string{src.Item() + " " + sig.RawKind + " " + sig.Raw}
	}

	switch {
	case age < -24*time.Hour:
		f.Status = module.StatusWarn
		f.Message = i18n.T("the signature date "+date+" lies in the future; check the host clock and the value read", "病毒库日期 "+date+" 晚于当前时间；请检查主机时钟和所读取的值")
	case failAge > 0 && age >= failAge:
		f.Status = module.StatusFail
		f.Message = i18n.T("the antivirus signatures are "+FormatAge(age)+" old (from "+date+"); update them and check the update schedule", "杀毒软件病毒库已有 "+FormatAgeZH(age)+"未更新（"+date+"）；请更新病毒库并检查自动更新")
	case age >= maxAge:
		f.Status = module.StatusWarn
		f.Message = i18n.T("the antivirus signatures are "+FormatAge(age)+" old (from "+date+"); update them and check the update schedule", "杀毒软件病毒库已有 "+FormatAgeZH(age)+"未更新（"+date+"）；请更新病毒库并检查自动更新")
	default:
		f.Message = i18n.T("the antivirus signatures are from "+date, "杀毒软件病毒库日期为 "+date)
	}
	return f
}

// defenderEvidence lists the Get-MpComputerStatus values a finding rests on.
func defenderEvidence(sig Signature) string {
	return fmt.Sprintf("Get-MpComputerStatus AntivirusSignatureLastUpdated=%s AntivirusSignatureVersion=%s AntivirusEnabled=%t",
		orDash(sig.Raw), orDash(sig.Version), !sig.Disabled)
}
