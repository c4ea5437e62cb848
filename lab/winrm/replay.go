package winrmlab

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Entry is one recorded command result in a replay file. The server replies to a
// command with the first entry whose Match matches the command text after decoding.
type Entry struct {
	// Match is the regular expression tried against the decoded command text.
	Match *regexp.Regexp
	// Stdout and Stderr are the raw bytes the command wrote, sent as recorded
	// (GBK output from cmd.exe tools stays GBK).
	Stdout []byte
	Stderr []byte
	// ExitCode is the process exit code reported in the CommandState element.
	// Windows exit codes are 32-bit, so recorded NTSTATUS values may be negative.
	ExitCode int64
	// Delay holds back all output for this long after the command starts, to
	// exercise operation timeouts and cancellation.
	Delay time.Duration
	// ChunkSize caps the bytes of each stream sent in one Receive response.
	// Zero means Config.ChunkSize.
	ChunkSize int
	// AfterReboots makes the entry reply only once the simulated host
	// (Config.SimulateReboot) has come back from at least this many
	// reboots, so that a replay can show an update installed by the reboot.
	// Put such entries before the ones they replace: the first entry that
	// matches and may reply wins.
	AfterReboots int
	// StdinMatch, when set, is tried against the standard input the command
	// received: the data of its WS-Management Send requests, read as UTF-8
	// text, once the client has sent the end of the input. The entry replies
	// only when it matches; otherwise the next entry whose Match matches is
	// tried.
	StdinMatch *regexp.Regexp
	// AfterCommand makes the entry reply only once the server has started
	// a command whose text matches it, so that a replay can show the state
	// a command changed. Put such entries before the ones they replace.
	AfterCommand *regexp.Regexp

	// Line is the line of the entry in the replay file, for log messages.
	Line int
}

// entryKeys lists the keys an entry may contain, in the order the help text names them.
var entryKeys = []string{"match", "stdout", "stdout_base64", "stderr", "stderr_base64", "exit_code", "delay", "chunk_size", "after_reboots", "after_command", "stdin_match"}

// LoadReplay reads and validates a replay file. Every problem is reported with the
// file:line:column where it sits, so a person editing recorded output can fix all of
// them in one pass.
func LoadReplay(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read replay file: %w", err)
	}
	return ParseReplay(path, data)
}

// ParseReplay validates replay YAML already in memory. The name is used in error
// messages only.
func ParseReplay(name string, data []byte) ([]Entry, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: invalid YAML: %w", name, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: replay file is empty: write a list of entries with match, stdout and exit_code", name)
	}

	root := doc.Content[0]
	if root.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d:%d: the replay file must be a list of entries (- match: ...), found a %s", name, root.Line, root.Column, kindName(root))
	}

	var entries []Entry
	var problems []error
	for _, item := range root.Content {
		entry, errs := parseEntry(name, item)
		problems = append(problems, errs...)
		if len(errs) == 0 {
			entries = append(entries, entry)
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s: replay file has no entries", name)
	}
	return entries, nil
}

func parseEntry(name string, node *yaml.Node) (Entry, []error) {
	entry := Entry{Line: node.Line}
	var problems []error
	report := func(n *yaml.Node, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s:%d:%d: %s", name, n.Line, n.Column, fmt.Sprintf(format, args...)))
	}

	if node.Kind != yaml.MappingNode {
		report(node, "an entry must be a mapping with match, stdout and exit_code, found a %s", kindName(node))
		return entry, problems
	}

	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		if !isEntryKey(key.Value) {
			report(key, "unknown key %q (valid keys: %v)", key.Value, entryKeys)
			continue
		}
		if _, dup := seen[key.Value]; dup {
			report(key, "duplicate key %q", key.Value)
			continue
		}
		seen[key.Value] = value
		if value.Kind != yaml.ScalarNode {
			report(value, "%s must be a single value, found a %s", key.Value, kindName(value))
			delete(seen, key.Value)
		}
	}

	if v, ok := seen["match"]; ok {
		re, err := regexp.Compile(v.Value)
		if err != nil {
			report(v, "match is not a valid regular expression: %v", err)
		}
		entry.Match = re
	} else {
		report(node, "entry has no match: add a regular expression for the command text")
	}

	entry.Stdout = streamValue(seen, "stdout", report)
	entry.Stderr = streamValue(seen, "stderr", report)

	if v, ok := seen["exit_code"]; ok {
		code, err := strconv.ParseInt(v.Value, 0, 64)
		switch {
		case err != nil:
			report(v, "exit_code %q is not an integer", v.Value)
		case code < math.MinInt32 || code > math.MaxUint32:
			report(v, "exit_code %d does not fit in 32 bits as Windows exit codes do", code)
		}
		entry.ExitCode = code
	}

	if v, ok := seen["delay"]; ok {
		d, err := time.ParseDuration(v.Value)
		if err != nil || d < 0 {
			report(v, "delay %q is not a duration such as 500ms or 2m", v.Value)
		}
		entry.Delay = d
	}

	if v, ok := seen["chunk_size"]; ok {
		n, err := strconv.Atoi(v.Value)
		if err != nil || n <= 0 {
			report(v, "chunk_size %q is not a positive number of bytes", v.Value)
		}
		entry.ChunkSize = n
	}

	if v, ok := seen["after_reboots"]; ok {
		n, err := strconv.Atoi(v.Value)
		if err != nil || n < 0 {
			report(v, "after_reboots %q is not a number of reboots (0 or more)", v.Value)
		}
		entry.AfterReboots = n
	}

	if v, ok := seen["after_command"]; ok {
		re, err := regexp.Compile(v.Value)
		if err != nil {
			report(v, "after_command is not a valid regular expression: %v", err)
		}
		entry.AfterCommand = re
	}

	if v, ok := seen["stdin_match"]; ok {
		re, err := regexp.Compile(v.Value)
		if err != nil {
			report(v, "stdin_match is not a valid regular expression: %v", err)
		}
		entry.StdinMatch = re
	}

	return entry, problems
}

// streamValue reads stdout/stderr, given as text or as base64 for raw bytes.
func streamValue(seen map[string]*yaml.Node, stream string, report func(*yaml.Node, string, ...any)) []byte {
	text, hasText := seen[stream]
	encoded, hasEncoded := seen[stream+"_base64"]
	if hasText && hasEncoded {
		report(encoded, "%s and %s_base64 are both set: keep one", stream, stream)
		return nil
	}
	if hasText {
		return []byte(text.Value)
	}
	if !hasEncoded {
		return nil
	}

	raw, err := base64.StdEncoding.DecodeString(encoded.Value)
	if err != nil {
		report(encoded, "%s_base64 is not valid base64: %v", stream, err)
	}
	return raw
}

func isEntryKey(key string) bool {
	for _, k := range entryKeys {
		if k == key {
			return true
		}
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	default:
		return "scalar"
	}
}
