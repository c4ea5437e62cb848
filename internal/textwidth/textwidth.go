// Package textwidth counts the terminal columns text takes, so that columns
// of Chinese text line up and console-width cuts are found.
package textwidth

import "golang.org/x/text/width"

// Rune returns the columns r takes: two for East Asian wide and fullwidth
// characters, such as a Chinese character or a fullwidth colon, and one for
// every other character. Ambiguous-width characters (…, —, ≥) count as one,
// as terminals set to a Western locale show them.
func Rune(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// String returns the columns s takes, the sum of Rune over its runes.
func String(s string) int {
	n := 0
	for _, r := range s {
		n += Rune(r)
	}
	return n
}
