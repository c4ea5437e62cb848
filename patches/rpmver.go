package patches

import (
	"strconv"
	"strings"
)

// compareEVR orders two NEVRAs split by nevraPattern of the same package by epoch, then
// version, then release, the way rpm decides which one is newer: -1, 0 or 1.
func compareEVR(a, b []string) int {
	if c := compareEpoch(a[2], b[2]); c != 0 {
		return c
	}
	if c := rpmVersionCompare(a[3], b[3]); c != 0 {
		return c
	}
	return rpmVersionCompare(a[4], b[4])
}

func compareEpoch(a, b string) int {
	x, _ := strconv.ParseUint(a, 10, 64)
	y, _ := strconv.ParseUint(b, 10, 64)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// rpmVersionCompare compares two version or release strings as rpm does; a
// test checks it against the real rpm. Both are split into runs of digits and
// runs of letters, and other characters only separate runs. Digit runs compare
// as numbers and beat letter runs. A tilde sorts before anything, even the end
// of the string, so 1.0~rc1 is older than 1.0. The caret of rpm 4.15 and later
// is not handled, because CentOS 7's rpm 4.11 does not know it either.
func rpmVersionCompare(a, b string) int {
	if a == b {
		return 0
	}
	for a != "" || b != "" {
		a = strings.TrimLeftFunc(a, isVersionSeparator)
		b = strings.TrimLeftFunc(b, isVersionSeparator)

		aTilde, bTilde := strings.HasPrefix(a, "~"), strings.HasPrefix(b, "~")
		if aTilde || bTilde {
			if !bTilde {
				return -1
			}
			if !aTilde {
				return 1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if a == "" || b == "" {
			break
		}

		numeric := isDigit(a[0])
		var segA, segB string
		segA, a = leadingRun(a, numeric)
		segB, b = leadingRun(b, numeric)
		if segB == "" {
			// The runs are of different kinds: digits are newer than letters.
			if numeric {
				return 1
			}
			return -1
		}
		if c := compareRun(segA, segB, numeric); c != 0 {
			return c
		}
	}

	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// leadingRun splits s after its leading run of digits (numeric) or letters.
func leadingRun(s string, numeric bool) (run, rest string) {
	i := 0
	for i < len(s) && (numeric && isDigit(s[i]) || !numeric && isLetter(s[i])) {
		i++
	}
	return s[:i], s[i:]
}

func compareRun(a, b string, numeric bool) int {
	if numeric {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isVersionSeparator(r rune) bool {
	return r != '~' && !(r < 128 && (isDigit(byte(r)) || isLetter(byte(r))))
}
