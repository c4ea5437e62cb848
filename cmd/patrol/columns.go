package main

import (
	"fmt"
	"io"
	"strings"

	"patrol/internal/textwidth"
)

// printTable prints rows in columns aligned by display width, so that
// Chinese text, two columns wide per character, lines up.
func printTable(w io.Writer, rows [][]string) {
	if len(rows) == 0 {
		return
	}
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

// displayWidth returns the number of terminal columns s takes.
func displayWidth(s string) int { return textwidth.String(s) }
