package patches

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds the pure parsers of the output of opatch, sqlplus and
// lsnrctl. testdata/oracle/README.md names the real recordings they are
// tested on.

var (
	// lsinvHeader is the line before the list of interim patches, such as
	// "Interim patches (1) :".
	lsinvHeader = regexp.MustCompile(`(?m)^\s*Interim patches \((\d+)\)\s*:`)
	// lsinvPatch is one interim patch, such as
	// "Patch  19692824     : applied on Sun Jul 17 21:45:16 CST 2022".
	lsinvPatch = regexp.MustCompile(`(?m)^\s*Patch\s+(\d+)\s*:\s*applied on\s+(.*?)\s*$`)
	// lsinvSubPatch is a patch that a composite PSU contains, such as
	// `Sub-patch  13343438; "Database Patch Set Update : 11.2.0.3.1 (13343438)"`.
	lsinvSubPatch = regexp.MustCompile(`(?m)^\s*Sub-patch\s+(\d+)\s*;`)
	// opatchFailed is OPatch's last line when a command failed.
	opatchFailed = regexp.MustCompile(`(?m)^\s*OPatch failed with error code (\d+)`)
)

// lsinvNone are the lines OPatch prints for a home without interim patches:
// in English, and in the two Chinese translations OPatch 11.2.0.3.x used.
var lsinvNone = []string{
	"There are no Interim patches installed in this Oracle Home",
	"此 Oracle 主目录中未安装任何中间补丁程序",
	"此 Oracle 主目录中未安装任何临时补丁程序",
}

// ParseLsinventory reads the output of `opatch lsinventory` and returns the
// installed interim patches by number, with the time opatch applied them. The
// patches a composite PSU contains ("Sub-patch" lines) are listed too, with the
// time of the PSU that brought them, because a later PSU installs every earlier
// one.
//
// A time is the zero time when the date does not have the form of Java's
// Date.toString ("Thu Mar 16 09:17:26 GMT 2017") or names a time zone outside
// lsinvZones. The patch still counts as installed.
//
// Output that neither lists patches nor states that there are none, or that lists
// fewer patch lines than its "Interim patches (N)" header counts, is an error.
// A silently short list would report installed patches as missing.
func ParseLsinventory(out []byte) (map[string]time.Time, error) {
	text := strings.ReplaceAll(string(out), "\r\n", "\n")
	if m := opatchFailed.FindStringSubmatch(text); m != nil {
		return nil, fmt.Errorf("opatch lsinventory failed with error code %s: %s", m[1], opatchErrorSummary(text))
	}

	header := lsinvHeader.FindStringSubmatch(text)
	if header == nil {
		for _, none := range lsinvNone {
			if strings.Contains(text, none) {
				return map[string]time.Time{}, nil
			}
		}
		return nil, fmt.Errorf("opatch lsinventory output has neither an \"Interim patches (N) :\" list nor a line saying there are none; first line: %q", firstLine(out))
	}
	want, _ := strconv.Atoi(header[1])

	patches := map[string]time.Time{}
	top := 0
	current := time.Time{}
	for _, line := range strings.Split(text, "\n") {
		if m := lsinvPatch.FindStringSubmatch(line); m != nil {
			top++
			current = parseOPatchTime(m[2])
			patches[m[1]] = current
			continue
		}
		if m := lsinvSubPatch.FindStringSubmatch(line); m != nil && top > 0 {
			if _, listed := patches[m[1]]; !listed {
				patches[m[1]] = current
			}
		}
	}
	if top != want {
		return nil, fmt.Errorf("opatch lsinventory counts %d interim patches but %d \"Patch N : applied on\" lines were read; the output may be cut or in a language this parser does not know", want, top)
	}
	return patches, nil
}

// lsinvZones maps the zone abbreviations that Java prints in "applied on"
// dates to their offsets in minutes. CST is China Standard Time, not US
// Central Time, because the hosts patrol manages are in China.
var lsinvZones = map[string]int{
	"UTC": 0, "GMT": 0, "WET": 0,
	"BST": 60, "CET": 60, "WEST": 60,
	"CEST": 120, "EET": 120,
	"MSK": 180,
	"IST": 330,
	"CST": 480, "HKT": 480, "SGT": 480, "AWST": 480,
	"JST": 540, "KST": 540,
	"EST": -300, "EDT": -240, "PST": -480, "PDT": -420,
}

// parseOPatchTime reads a date such as "Sun Jul 17 21:45:16 CST 2022". It
// returns the zero time for any other form or an unknown zone.
func parseOPatchTime(s string) time.Time {
	f := strings.Fields(s)
	if len(f) != 6 {
		return time.Time{}
	}
	minutes, ok := lsinvZones[f[4]]
	if !ok {
		return time.Time{}
	}
	loc := time.FixedZone(f[4], minutes*60)
	t, err := time.ParseInLocation("Mon Jan 2 15:04:05 2006", strings.Join([]string{f[0], f[1], f[2], f[3], f[5]}, " "), loc)
	if err != nil {
		return time.Time{}
	}
	return t
}

// opatchResult is the outcome of one opatch apply, napply or rollback run.
type opatchResult int

const (
	opatchOK opatchResult = iota
	// opatchAlready means opatch found every part of the patch in place and
	// changed nothing.
	opatchAlready
	opatchFailedRun
)

// opatchAlreadyInstalled are opatch messages for a patch whose every part is
// in the home already.
var opatchAlreadyInstalled = []string{
	"All of the sub-patch(es) of the composite patch are already installed in the Oracle Home",
}

// classifyOPatch reads the exit code and output of opatch apply, napply or
// rollback. Success needs exit code 0 and OPatch's "OPatch succeeded." (or
// "OPatch completed with warnings."); the second result is a one-line reason
// for a failure.
func classifyOPatch(exitCode int, out string) (opatchResult, string) {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	if exitCode != 0 || opatchFailed.MatchString(out) {
		return opatchFailedRun, opatchErrorSummary(out)
	}
	if !strings.Contains(out, "OPatch succeeded.") && !strings.Contains(out, "OPatch completed with warnings.") {
		return opatchFailedRun, "opatch exited with 0 but did not print \"OPatch succeeded.\""
	}
	for _, msg := range opatchAlreadyInstalled {
		if strings.Contains(out, msg) {
			return opatchAlready, msg
		}
	}
	return opatchOK, ""
}

// opatchErrorLine matches the lines OPatch prints about a failure.
var opatchErrorLine = regexp.MustCompile(`(?m)^\s*((?:\S*Session failed|Prerequisite check|OPatch failed with error code|ZOP-\d+|Syntax Error|Erreur de syntaxe|Following patches have conflicts|Conflict with)\b.*?)\s*$`)

// opatchErrorSummary joins the distinct failure lines of opatch output, or
// returns its last line when there are none.
func opatchErrorSummary(out string) string {
	var lines []string
	seen := map[string]bool{}
	for _, m := range opatchErrorLine.FindAllStringSubmatch(out, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			lines = append(lines, m[1])
		}
	}
	if len(lines) == 0 {
		return lastLine(out)
	}
	return strings.Join(lines, "; ")
}

var (
	prereqPassed = regexp.MustCompile(`(?m)^\s*Prereq "checkConflictAgainstOHWithDetail" passed\.`)
	prereqFailed = regexp.MustCompile(`(?m)^\s*Prereq "checkConflictAgainstOHWithDetail" failed\.`)
	// prereqConflicts is the line after "Following patches have conflicts...".
	prereqConflicts = regexp.MustCompile(`(?m)^\s*Following patches have conflicts\.[^\n]*\n\s*([0-9, ]+?)\s*$`)
)

// classifyPrereq reads `opatch prereq CheckConflictAgainstOHWithDetail`. OPatch
// prints "OPatch succeeded." and exits 0 even when it finds a conflict, so the
// verdict is the "Prereq ... passed." or "failed." line. The string lists the
// conflicting patches, or states why the output could not be read.
func classifyPrereq(exitCode int, out string) (ok bool, detail string) {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	switch {
	case prereqFailed.MatchString(out):
		if m := prereqConflicts.FindStringSubmatch(out); m != nil {
			return false, "conflicting patches " + strings.Join(strings.Fields(strings.ReplaceAll(m[1], ",", " ")), ", ")
		}
		return false, opatchErrorSummary(out)
	case exitCode != 0 || opatchFailed.MatchString(out):
		return false, opatchErrorSummary(out)
	case prereqPassed.MatchString(out):
		return true, ""
	}
	return false, "no \"Prereq checkConflictAgainstOHWithDetail passed.\" line in the output"
}

// sqlplusErrorLine matches the error lines of SQL*Plus and the database:
// ORA- (database), SP2- (SQL*Plus itself) and PLS- (PL/SQL). The code is kept
// in every language, only the text after it is translated.
var sqlplusErrorLine = regexp.MustCompile(`(?m)^\s*((?:ORA|SP2|PLS)-\d{4,5}\b.*?)\s*$`)

// SqlplusErrors returns the error lines of sqlplus output. SQL*Plus exits with
// 0 after an error unless the script sets WHENEVER SQLERROR EXIT, and
// WHENEVER SQLERROR does not cover SP2- errors of SQL*Plus's own commands, so
// callers check both the exit code and these lines.
func SqlplusErrors(out string) []string {
	var lines []string
	for _, m := range sqlplusErrorLine.FindAllStringSubmatch(strings.ReplaceAll(out, "\r\n", "\n"), -1) {
		lines = append(lines, m[1])
	}
	return lines
}

// errorCode matches the code at the start of an error line.
var errorCode = regexp.MustCompile(`^(?:ORA|SP2|PLS|TNS)-\d+`)

// errorCodes returns the codes (such as ORA-01034) of the error lines.
func errorCodes(lines []string) []string {
	codes := make([]string, 0, len(lines))
	for _, l := range lines {
		codes = append(codes, errorCode.FindString(l))
	}
	return codes
}

// onlyCodes reports whether every error line has one of the codes, and there
// is at least one line.
func onlyCodes(lines []string, codes ...string) bool {
	if len(lines) == 0 {
		return false
	}
	for _, c := range errorCodes(lines) {
		if !slices.Contains(codes, c) {
			return false
		}
	}
	return true
}

// tnsErrorLine matches the TNS- error lines of lsnrctl.
var tnsErrorLine = regexp.MustCompile(`(?m)^\s*(TNS-\d{5}\b.*?)\s*$`)

// lsnrctlErrors returns the TNS- error lines of lsnrctl output.
func lsnrctlErrors(out string) []string {
	var lines []string
	for _, m := range tnsErrorLine.FindAllStringSubmatch(strings.ReplaceAll(out, "\r\n", "\n"), -1) {
		lines = append(lines, m[1])
	}
	return lines
}

var (
	// catbundleNotInstalled matches the DBMS_OUTPUT lines catbundle.sql writes
	// to its generate log when it cannot build the apply script. The lines are
	// anchored at the start because the log also echoes catbundle.sql's own
	// source, which contains the same words inside PUT_LINE calls.
	catbundleNotInstalled = regexp.MustCompile(`(?m)^(?:Exception|Error reading \S+|Invalid mode \S+) - patch NOT installed\s*$`)
	// catbundleLog is a log file catbundle.sql names after "Check the
	// following file for errors:" (generate phase) or "Check the following
	// log file for errors:" (apply or rollback phase).
	catbundleLog = regexp.MustCompile(`(?m)^\s*Check the following (?:log )?file for errors:\s*\n\s*(\S[^\n]*?)\s*$`)
)

// catbundleLogs returns the log files that catbundle.sql output names.
func catbundleLogs(out string) []string {
	var files []string
	for _, m := range catbundleLog.FindAllStringSubmatch(strings.ReplaceAll(out, "\r\n", "\n"), -1) {
		files = append(files, m[1])
	}
	return files
}
