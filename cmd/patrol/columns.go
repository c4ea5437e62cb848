package main

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/width"
)

// printTable prints rows in columns aligned by display width, so that
// Chinese text, two columns wide per character, lines up.
func printTable(w io.Writer, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], displayWidth(cell))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			line.WriteString(cell)
			if i < len(row)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-displayWidth(cell)+2))
			}
		}
		fmt.Fprintln(w, line.String())
	}
}

// padRight pads s with spaces to n display columns. Console columns are
// padded with it rather than with fmt's %-Ns, which counts runes.
func padRight(s string, n int) string {
	return s + strings.Repeat(" ", max(0, n-displayWidth(s)))
}

// displayWidth returns the number of terminal columns s takes: two for each
// East Asian wide or fullwidth character, such as a Chinese character or
// a fullwidth colon, and one for every other character.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
