package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// BreakKind names how a journal's chain is broken.
type BreakKind string

// Kinds of break Verify reports.
const (
	// BreakEdited: a line was changed after it was written, or is not a record.
	BreakEdited BreakKind = "edited"
	// BreakDeleted: one or more lines are missing.
	BreakDeleted BreakKind = "deleted"
	// BreakReordered: lines stand in another order than they were written, or
	// lines were inserted.
	BreakReordered BreakKind = "reordered"
	// BreakAfterEnd: records follow the end record.
	BreakAfterEnd BreakKind = "after-end"
	// BreakTruncated: the last line is incomplete, which is what a run that died
	// while writing leaves behind; every line before it may still be intact.
	BreakTruncated BreakKind = "truncated"
)

// BreakError reports the first place where a journal does not verify.
type BreakError struct {
	Path string
	// Line is the 1-based number of the broken line. That is the edited line for
	// an edit, the first line out of place for a deletion or reordering, and the
	// incomplete last line for a truncation.
	Line int
	Kind BreakKind
	// IntactThrough is the last line up to which the chain verifies.
	IntactThrough int
	// Reason explains the break in English.
	Reason string
}

func (e *BreakError) Error() string {
	if e.Kind == BreakTruncated {
		return fmt.Sprintf("journal %s: truncated, chain intact up to line %d (line %d is incomplete: the run stopped while writing it)",
			e.Path, e.IntactThrough, e.Line)
	}
	return fmt.Sprintf("journal %s: line %d %s: %s; chain intact up to line %d",
		e.Path, e.Line, e.Kind, e.Reason, e.IntactThrough)
}

// Summary describes a journal that Verify read.
type Summary struct {
	Path  string
	RunID string
	// Lines counts the complete lines in the file.
	Lines int
	// Results counts the result records up to IntactThrough.
	Results int
	// IntactThrough is the last line up to which the chain verifies; it equals
	// Lines when the journal verifies.
	IntactThrough int
	// Ended reports an end record; a journal without one belongs to a run that is
	// still going or that died.
	Ended     bool
	EndStatus RunStatus
	// Truncated reports an incomplete last line.
	Truncated bool
	// LastHash is the hex SHA-256 of line IntactThrough. Keeping it outside the
	// journal (in a ticket or a report) lets a later Verify show that lines were
	// not rewritten from there on, which the chain alone cannot show.
	LastHash string
}

// envelope holds the fields Verify needs from any record type.
type envelope struct {
	Type   string  `json:"type"`
	RunID  string  `json:"run_id"`
	Seq    *int    `json:"seq"`
	Prev   *string `json:"prev"`
	Status string  `json:"status"`
	Counts *Counts `json:"counts"`
}

type verifyLine struct {
	num    int
	hash   string
	rec    envelope
	parsed bool
}

// Verify checks a journal's hash chain line by line and returns the first break
// as a *BreakError. A run that died mid-write is reported distinctly, as
// BreakTruncated with the lines before it intact. The chain shows edits,
// deletions, insertions and reordering of any line except the last: a changed
// or removed last line, or a chain rewritten from some line on, can only be
// seen by comparing Summary.LastHash with a copy kept elsewhere.
func Verify(path string) (Summary, error) {
	sum := Summary{Path: path}
	data, err := os.ReadFile(path)
	if err != nil {
		return sum, fmt.Errorf("verify journal: %w", err)
	}

	lines, partial := splitLines(data)
	sum.Lines = len(lines)
	if len(lines) == 0 && len(partial) == 0 {
		return sum, &BreakError{Path: path, Line: 1, Kind: BreakDeleted, Reason: "the file is empty"}
	}

	parsed := make([]verifyLine, len(lines))
	byHash := make(map[string]int, len(lines))
	for i, line := range lines {
		v := verifyLine{num: i + 1, hash: lineHash(line)}
		v.parsed = json.Unmarshal(line, &v.rec) == nil
		parsed[i] = v
		if _, seen := byHash[v.hash]; !seen {
			byHash[v.hash] = v.num
		}
	}

	brk := checkChain(parsed, byHash, &sum)
	if brk == nil && len(partial) > 0 {
		sum.Truncated = true
		brk = &BreakError{Line: len(lines) + 1, Kind: BreakTruncated, IntactThrough: len(lines),
			Reason: "the last line has no newline"}
	}
	for _, v := range parsed[:sum.IntactThrough] {
		if v.rec.Type == TypeResult {
			sum.Results++
		}
	}
	if sum.IntactThrough > 0 {
		sum.LastHash = parsed[sum.IntactThrough-1].hash
	}
	if brk != nil {
		brk.Path = path
		return sum, brk
	}
	return sum, nil
}

// checkChain walks the complete lines, filling sum as far as the chain holds.
func checkChain(lines []verifyLine, byHash map[string]int, sum *Summary) *BreakError {
	if len(lines) == 0 {
		return nil
	}
	if brk := checkHeader(lines); brk != nil {
		return brk
	}
	sum.RunID = lines[0].rec.RunID
	sum.IntactThrough = 1

	nextSeq := 1
	for i := 1; i < len(lines); i++ {
		cur, prev := lines[i], lines[i-1]
		brk := func(line int, kind BreakKind, format string, args ...any) *BreakError {
			return &BreakError{Line: line, Kind: kind, IntactThrough: sum.IntactThrough, Reason: fmt.Sprintf(format, args...)}
		}

		if !cur.parsed || cur.rec.Prev == nil {
			return brk(cur.num, BreakEdited, "not a valid journal record")
		}
		if sum.Ended {
			return brk(cur.num, BreakAfterEnd, "a record follows the end record on line %d", prev.num)
		}
		if *cur.rec.Prev != prev.hash {
			b := diagnoseLink(lines, i, nextSeq, byHash)
			b.IntactThrough = min(sum.IntactThrough, b.Line-1)
			return b
		}

		switch cur.rec.Type {
		case TypeResult:
			if cur.rec.Seq == nil || *cur.rec.Seq != nextSeq {
				return brk(cur.num, BreakEdited, "seq is %s, expected %d, although the line chains to the one before it", seqString(cur.rec.Seq), nextSeq)
			}
			nextSeq++
		case TypeEnd:
			if cur.rec.Counts == nil || cur.rec.Counts.Total() != nextSeq-1 {
				return brk(cur.num, BreakEdited, "the end record's counts do not add up to the %d results before it", nextSeq-1)
			}
			sum.Ended = true
			sum.EndStatus = RunStatus(cur.rec.Status)
		default:
			return brk(cur.num, BreakEdited, "unexpected record type %q", cur.rec.Type)
		}
		sum.IntactThrough = cur.num
	}
	return nil
}

func checkHeader(lines []verifyLine) *BreakError {
	first := lines[0]
	if first.parsed && first.rec.Type == TypeHeader && first.rec.Prev == nil {
		return nil
	}
	if first.parsed && first.rec.Type != TypeHeader && first.rec.Prev != nil {
		return &BreakError{Line: 1, Kind: BreakDeleted, Reason: fmt.Sprintf("the header is missing: line 1 is a %q record", first.rec.Type)}
	}
	return &BreakError{Line: 1, Kind: BreakEdited, Reason: "line 1 is not a valid journal header"}
}

// diagnoseLink explains why line i's prev does not match line i-1's hash.
func diagnoseLink(lines []verifyLine, i, nextSeq int, byHash map[string]int) *BreakError {
	cur := lines[i]

	// The prev names another line of the file: lines were moved or inserted.
	if j, ok := byHash[*cur.rec.Prev]; ok {
		if j > cur.num {
			return &BreakError{Line: cur.num, Kind: BreakReordered,
				Reason: fmt.Sprintf("it was written after line %d but stands before it", j)}
		}
		return &BreakError{Line: j + 1, Kind: BreakReordered,
			Reason: fmt.Sprintf("line %d was written right after line %d, so lines %d to %d were inserted or moved there", cur.num, j, j+1, cur.num-1)}
	}

	// The prev names no line: a line is missing, or the previous line changed.
	switch cur.rec.Type {
	case TypeResult:
		if cur.rec.Seq != nil && *cur.rec.Seq > nextSeq {
			return &BreakError{Line: cur.num, Kind: BreakDeleted,
				Reason: fmt.Sprintf("results %d to %d are missing before it", nextSeq, *cur.rec.Seq-1)}
		}
		if cur.rec.Seq != nil && *cur.rec.Seq < nextSeq {
			return &BreakError{Line: cur.num, Kind: BreakReordered,
				Reason: fmt.Sprintf("result %d stands after result %d", *cur.rec.Seq, nextSeq-1)}
		}
	case TypeEnd:
		if cur.rec.Counts != nil && cur.rec.Counts.Total() > nextSeq-1 {
			return &BreakError{Line: cur.num, Kind: BreakDeleted,
				Reason: fmt.Sprintf("the end record counts %d results but only %d precede it", cur.rec.Counts.Total(), nextSeq-1)}
		}
	}
	return &BreakError{Line: cur.num - 1, Kind: BreakEdited,
		Reason: fmt.Sprintf("its hash does not match the prev of line %d, so it was changed after it was written", cur.num)}
}

// splitLines returns the newline-terminated lines of data without their
// newlines, and any bytes after the last newline.
func splitLines(data []byte) (lines [][]byte, partial []byte) {
	for len(data) > 0 {
		n := bytes.IndexByte(data, '\n')
		if n < 0 {
			return lines, data
		}
		lines = append(lines, data[:n])
		data = data[n+1:]
	}
	return lines, nil
}

func seqString(seq *int) string {
	if seq == nil {
		return "missing"
	}
	return fmt.Sprint(*seq)
}
