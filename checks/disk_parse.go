package checks

import (
	"fmt"
	"strconv"
	"strings"
)

// DFRow is one filesystem line of df output.
type DFRow struct {
	Filesystem string
	// Type is the filesystem type; empty when df ran without -T.
	Type string
	// Total, Used and Avail are bytes for block output and counts for -i output.
	Total, Used, Avail int64
	// UsePercent is the Use%/Capacity/IUse% column as df printed it, or -1 when
	// df printed "-" (btrfs and other filesystems without an inode limit).
	UsePercent float64
	Mount      string
}

// DFFormat describes the df command whose output is parsed.
type DFFormat struct {
	// Unit is the size of one number in bytes: 1024 for -k, 1 for -i (counts).
	// Zero means human-readable sizes with suffixes, as -h prints them.
	Unit int64
	// WithType is set when df ran with -T, which adds a type column.
	WithType bool
}

// ParseDF parses the output of `df -P` (with -k, -i or -h, optionally -T) and of
// plain `df` whose long names wrap. The first line is the header and is skipped
// by position, so translated headers (文件系统 1024-块 已用 …) parse the same as
// English ones. Two kinds of wrapped records are joined: a filesystem name alone
// on its line followed by an indented line with the numbers, and a complete row
// whose mount point moved to the next line. Lines that fit neither shape are
// returned as skipped so the caller can show them.
func ParseDF(out []byte, format DFFormat) (rows []DFRow, skipped []string) {
	width := 6
	if format.WithType {
		width = 7
	}

	lines := strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n")
	header := true
	var pending []string
	for _, line := range lines {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if header {
			header = false
			continue
		}

		indented := line[0] == ' ' || line[0] == '\t'
		switch {
		case len(pending) == 1 && indented:
			// The numbers of a filesystem whose name was too long for its column.
			fields = append(pending, fields...)
			pending = nil
		case len(pending) == width-1 && len(fields) == 1:
			// The mount point of a row that wrapped after the percent column.
			fields = append(pending, fields...)
			pending = nil
		case len(pending) > 0:
			skipped = append(skipped, strings.Join(pending, " "))
			pending = nil
		}

		if len(fields) == 1 && !indented {
			pending = fields
			continue
		}
		if len(fields) == width-1 && isPercentField(fields[width-2]) {
			pending = fields
			continue
		}

		row, err := parseDFFields(fields, format, width)
		if err != nil {
			skipped = append(skipped, line)
			continue
		}
		rows = append(rows, row)
	}
	if len(pending) > 0 {
		skipped = append(skipped, strings.Join(pending, " "))
	}
	return rows, skipped
}

// parseDFFields reads one joined record. Fields past the percent column are the
// mount point, which may contain spaces.
func parseDFFields(fields []string, format DFFormat, width int) (DFRow, error) {
	if len(fields) < width {
		return DFRow{}, fmt.Errorf("df row has %d fields, expected at least %d", len(fields), width)
	}

	row := DFRow{Filesystem: fields[0], Mount: strings.Join(fields[width-1:], " ")}
	nums := fields[1 : width-2]
	if format.WithType {
		row.Type = fields[1]
		nums = fields[2 : width-2]
	}

	values := make([]int64, 3)
	for i, f := range nums {
		v, err := parseDFNumber(f, format.Unit)
		if err != nil {
			return DFRow{}, err
		}
		values[i] = v
	}
	row.Total, row.Used, row.Avail = values[0], values[1], values[2]

	pct := fields[width-2]
	if pct == "-" {
		row.UsePercent = -1
		return row, nil
	}
	if !strings.HasSuffix(pct, "%") {
		return DFRow{}, fmt.Errorf("df use column %q does not end in %%", pct)
	}
	p, err := strconv.ParseFloat(strings.TrimSuffix(pct, "%"), 64)
	if err != nil {
		return DFRow{}, fmt.Errorf("df use column %q: %w", pct, err)
	}
	row.UsePercent = p
	return row, nil
}

// parseDFNumber reads a size or count column; "-" (no inode data) reads as 0.
func parseDFNumber(f string, unit int64) (int64, error) {
	if f == "-" {
		return 0, nil
	}
	if unit == 0 {
		return ParseSize(f)
	}
	n, err := strconv.ParseInt(f, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("df number %q: %w", f, err)
	}
	return n * unit, nil
}

func isPercentField(f string) bool {
	return f == "-" || strings.HasSuffix(f, "%")
}

// ParseDFColumns parses `df --output=LIST` output, whose columns are exactly the
// ones requested, in order. It returns one map per row from column name (as
// given in columns, such as "avail") to the raw field. The header, translated or
// not, is skipped by position. The last column takes the rest of the line, so a
// target with spaces stays whole when it is requested last.
func ParseDFColumns(out []byte, columns []string) []map[string]string {
	var rows []map[string]string
	lines := strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n")
	header := true
	for _, line := range lines {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if header {
			header = false
			continue
		}
		if len(fields) < len(columns) {
			continue
		}
		row := map[string]string{}
		for i, c := range columns {
			if i == len(columns)-1 {
				row[c] = strings.Join(fields[i:], " ")
				break
			}
			row[c] = fields[i]
		}
		rows = append(rows, row)
	}
	return rows
}
