package patches

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"patrol/i18n"
	"patrol/internal/typo"
	"patrol/inventory"
)

// catalogParser walks the YAML node tree so that every problem names the line
// and column of the value at fault.
type catalogParser struct {
	file     string
	problems []Problem
}

func (p *catalogParser) problem(n *yaml.Node, t i18n.Text) {
	p.problems = append(p.problems, Problem{File: p.file, Line: n.Line, Column: n.Column, Text: t})
}

var (
	catalogKeys  = []string{"repository", "deadline_days", "patches"}
	patchKeys    = []string{"id", "title", "severity", "arrived", "applies_to", "files", "method", "reboot", "stop_services", "verify", "rollback"}
	appliesKeys  = []string{"os", "systems", "product", "version"}
	fileKeys     = []string{"path", "sha256", "size"}
	verifyKeys   = []string{"packages", "kb", "opatch", "command"}
	rollbackKeys = []string{"files"}
	products     = []string{"oracle"}
)

// mapping returns the key/value pairs of a mapping node, reporting unknown and
// duplicate keys. A null node is an empty mapping.
func (p *catalogParser) mapping(n *yaml.Node, what string, valid []string) [][2]*yaml.Node {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.problem(n, msg("%s must be a mapping of keys to values, got %s", "%s 必须是键值映射，实际为 %s", what, describe(n)))
		return nil
	}
	var pairs [][2]*yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if line, dup := seen[k.Value]; dup {
			p.problem(k, msg("duplicate key %q in %s, first written at line %d; remove one of them",
				"%[2]s 中的键 %[1]q 重复，第一次出现在第 %[3]d 行；请删除其中一个", k.Value, what, line))
			continue
		}
		seen[k.Value] = k.Line
		if !slices.Contains(valid, k.Value) {
			hint := ""
			if s := typo.Closest(k.Value, valid); s != "" {
				hint = s
			}
			p.problem(k, unknownKey(k.Value, what, hint, valid))
			continue
		}
		pairs = append(pairs, [2]*yaml.Node{k, v})
	}
	return pairs
}

func unknownKey(key, what, hint string, valid []string) i18n.Text {
	list := strings.Join(valid, ", ")
	if hint != "" {
		return msg("unknown key %q in %s (did you mean %q?); valid keys: %s",
			"%[2]s 中有未知的键 %[1]q（是否想写 %[3]q？）；可用的键：%[4]s", key, what, hint, list)
	}
	return msg("unknown key %q in %s; valid keys: %s", "%[2]s 中有未知的键 %[1]q；可用的键：%[3]s", key, what, list)
}

// describe shows a node's value for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

func (p *catalogParser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
		p.problem(n, msg("%s must be a non-empty string, got %s", "%s 必须是非空字符串，实际为 %s", what, describe(n)))
		return "", false
	}
	return n.Value, true
}

func (p *catalogParser) strs(n *yaml.Node, what string) []string {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		p.problem(n, msg("%s must be a list of strings, got %s", "%s 必须是字符串列表，实际为 %s", what, describe(n)))
		return nil
	}
	var out []string
	for _, item := range n.Content {
		if s, ok := p.str(item, what); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *catalogParser) boolean(n *yaml.Node, what string) bool {
	switch strings.ToLower(n.Value) {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
		return false
	}
	p.problem(n, msg("%s must be true or false, got %s", "%s 必须是 true 或 false，实际为 %s", what, describe(n)))
	return false
}

func (p *catalogParser) catalog(root *yaml.Node, cat *Catalog) {
	repo := "repo"
	var patches *yaml.Node
	for _, kv := range p.mapping(root, "the catalog", catalogKeys) {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "repository":
			if s, ok := p.str(v, "repository"); ok {
				repo = s
			}
		case "deadline_days":
			cat.DeadlineDays = p.deadlineDays(v)
		case "patches":
			patches = v
		}
	}
	if !filepath.IsAbs(repo) {
		repo = filepath.Join(filepath.Dir(absPath(p.file)), repo)
	}
	cat.Repository = repo

	if patches == nil || patches.Tag == "!!null" {
		return
	}
	if patches.Kind != yaml.SequenceNode {
		p.problem(patches, msg("patches must be a list of patch entries, got %s", "patches 必须是补丁条目列表，实际为 %s", describe(patches)))
		return
	}
	ids := map[string]int{}
	for _, n := range patches.Content {
		patch := p.patch(n)
		if patch == nil {
			continue
		}
		if line, dup := ids[patch.ID]; dup {
			p.problem(n, msg("patch id %q is listed twice, first at line %d; keep one entry per patch",
				"补丁编号 %q 重复出现，第一次在第 %d 行；每个补丁只保留一个条目", patch.ID, line))
			continue
		}
		ids[patch.ID] = n.Line
		cat.Patches = append(cat.Patches, patch)
	}
}

func (p *catalogParser) deadlineDays(n *yaml.Node) map[Severity]int {
	names := make([]string, len(Severities))
	for i, s := range Severities {
		names[i] = string(s)
	}
	days := map[Severity]int{}
	for _, kv := range p.mapping(n, "deadline_days", names) {
		d, err := strconv.Atoi(kv[1].Value)
		if err != nil || d < 1 || d > 30 {
			p.problem(kv[1], msg("deadline_days.%s must be a whole number of working days from 1 to 30, got %s",
				"deadline_days.%s 必须是 1 到 30 之间的工作日天数，实际为 %s", kv[0].Value, describe(kv[1])))
			continue
		}
		days[Severity(kv[0].Value)] = d
	}
	return days
}

// patch parses one entry, or returns nil when its id is missing.
func (p *catalogParser) patch(n *yaml.Node) *Patch {
	pt := &Patch{Source: fmt.Sprintf("%s:%d", p.file, n.Line)}
	if n.Kind != yaml.MappingNode {
		p.problem(n, msg("each patch must be a mapping with id, severity, arrived, files and method, got %s",
			"每个补丁必须是包含 id、severity、arrived、files、method 的映射，实际为 %s", describe(n)))
		return nil
	}
	seen := map[string]*yaml.Node{}
	for _, kv := range p.mapping(n, "a patch", patchKeys) {
		seen[kv[0].Value] = kv[1]
	}
	var missing []string
	for _, key := range []string{"id", "severity", "arrived", "files", "method"} {
		if seen[key] == nil {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		p.problem(n, msg("patch is missing %s; every patch needs id, severity, arrived, files and method",
			"补丁缺少 %s；每个补丁都需要 id、severity、arrived、files 和 method", strings.Join(missing, ", ")))
	}
	if v := seen["id"]; v != nil {
		pt.ID, _ = p.str(v, "id")
	}
	if pt.ID == "" {
		return nil
	}
	what := fmt.Sprintf("patch %s", pt.ID)

	if v := seen["title"]; v != nil {
		pt.Title, _ = p.str(v, what+": title")
	}
	if v := seen["severity"]; v != nil {
		sev, err := ParseSeverity(v.Value)
		if err != nil {
			p.problem(v, msg("%s: invalid severity %s; valid values: urgent (紧急), serious (严重), normal (普通)",
				"%s：severity 的值 %s 无效；可用的值：urgent（紧急）、serious（严重）、normal（普通）", what, describe(v)))
		}
		pt.Severity = sev
	}
	if v := seen["arrived"]; v != nil {
		pt.Arrived = p.arrived(v, what)
	}
	if v := seen["method"]; v != nil {
		pt.Method = p.method(v, what)
	}
	if v := seen["reboot"]; v != nil {
		pt.Reboot = p.boolean(v, what+": reboot")
	}
	if v := seen["stop_services"]; v != nil {
		pt.StopServices = p.strs(v, what+": stop_services")
	}
	if v := seen["applies_to"]; v != nil {
		pt.AppliesTo = p.applies(v, what)
	}
	if v := seen["files"]; v != nil {
		pt.Files = p.files(v, what+": files")
	}
	if v := seen["verify"]; v != nil {
		pt.Verify = p.verify(v, what)
	}
	if v := seen["rollback"]; v != nil {
		pt.Rollback = p.rollback(v, what)
	}
	p.checkMethod(n, seen, pt, what)
	return pt
}

func (p *catalogParser) arrived(n *yaml.Node, what string) time.Time {
	t, err := time.Parse(time.RFC3339, n.Value)
	if err != nil {
		p.problem(n, msg("%s: arrived %s is not a time with a zone; write it as RFC 3339, such as 2026-09-30T17:00:00+08:00",
			"%s：arrived 的值 %s 不是带时区的时间；请按 RFC 3339 书写，例如 2026-09-30T17:00:00+08:00", what, describe(n)))
	}
	return t
}

func (p *catalogParser) method(n *yaml.Node, what string) Method {
	for _, m := range Methods {
		if n.Value == string(m) {
			return m
		}
	}
	valid := make([]string, len(Methods))
	for i, m := range Methods {
		valid[i] = string(m)
	}
	p.problem(n, msg("%s: invalid method %s; valid values: %s", "%s：method 的值 %s 无效；可用的值：%s", what, describe(n), strings.Join(valid, ", ")))
	return ""
}

func (p *catalogParser) applies(n *yaml.Node, what string) Applies {
	var a Applies
	for _, kv := range p.mapping(n, what+": applies_to", appliesKeys) {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "os":
			a.OS = p.enumList(v, what+": applies_to.os", inventory.OSNames)
		case "systems":
			a.Systems = p.enumList(v, what+": applies_to.systems", inventory.Systems)
		case "product":
			if s, ok := p.str(v, what+": applies_to.product"); ok {
				if !slices.Contains(products, s) {
					p.problem(v, msg("%s: invalid product %q; valid values: %s (leave product out for operating system patches)",
						"%s：product 的值 %q 无效；可用的值：%s（操作系统补丁不写 product）", what, s, strings.Join(products, ", ")))
				}
				a.Product = s
			}
		case "version":
			a.Version, _ = p.str(v, what+": applies_to.version")
		}
	}
	return a
}

func (p *catalogParser) enumList(n *yaml.Node, what string, valid []string) []string {
	var out []string
	for _, s := range p.strs(n, what) {
		if !slices.Contains(valid, s) {
			hint := ""
			if c := typo.Closest(s, valid); c != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", c)
			}
			p.problem(n, msg("%s: unknown value %q%s; valid values: %s", "%s：未知的值 %q%s；可用的值：%s", what, s, hint, strings.Join(valid, ", ")))
			continue
		}
		out = append(out, s)
	}
	return out
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (p *catalogParser) files(n *yaml.Node, what string) []File {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.problem(n, msg("%s must list at least one file with path and sha256", "%s 必须至少列出一个带 path 和 sha256 的文件", what))
		return nil
	}
	var files []File
	for _, item := range n.Content {
		var f File
		var pathNode *yaml.Node
		for _, kv := range p.mapping(item, what, fileKeys) {
			k, v := kv[0], kv[1]
			switch k.Value {
			case "path":
				f.Path, _ = p.str(v, what+": path")
				pathNode = v
			case "sha256":
				f.SHA256 = strings.ToLower(v.Value)
				if !sha256Hex.MatchString(f.SHA256) {
					p.problem(v, msg("%s: sha256 %s is not 64 hexadecimal digits; copy it from `sha256sum FILE` or let `patrol patch import` fill it",
						"%s：sha256 的值 %s 不是 64 位十六进制数；请从 `sha256sum 文件` 复制，或用 `patrol patch import` 自动填写", what, describe(v)))
				}
			case "size":
				size, err := strconv.ParseInt(v.Value, 10, 64)
				if err != nil || size < 0 {
					p.problem(v, msg("%s: size must be a number of bytes, got %s", "%s：size 必须是字节数，实际为 %s", what, describe(v)))
				}
				f.Size = size
			}
		}
		if item.Kind == yaml.MappingNode && (f.Path == "" || f.SHA256 == "") {
			p.problem(item, msg("%s: each file needs path and sha256", "%s：每个文件都需要 path 和 sha256", what))
			continue
		}
		if pathNode != nil && !localRelative(f.Path) {
			p.problem(pathNode, msg("%s: path %q must be relative to the repository and stay inside it", "%s：path %q 必须是仓库内的相对路径", what, f.Path))
			continue
		}
		files = append(files, f)
	}
	return files
}

// localRelative reports whether a slash-separated path stays inside its base.
func localRelative(p string) bool {
	return p != "" && !strings.HasPrefix(p, "/") && !strings.Contains(p, `\`) && filepath.IsLocal(filepath.FromSlash(path.Clean(p)))
}

var kbNumber = regexp.MustCompile(`^KB[0-9]{6,8}$`)

func (p *catalogParser) verify(n *yaml.Node, what string) Verify {
	var v Verify
	for _, kv := range p.mapping(n, what+": verify", verifyKeys) {
		k, val := kv[0], kv[1]
		switch k.Value {
		case "packages":
			v.Packages = p.strs(val, what+": verify.packages")
		case "kb":
			v.KB = strings.ToUpper(val.Value)
			if !kbNumber.MatchString(v.KB) {
				p.problem(val, msg("%s: verify.kb %s is not a KB number such as KB4012213", "%s：verify.kb 的值 %s 不是 KB 编号（例如 KB4012213）", what, describe(val)))
			}
		case "opatch":
			v.OPatch = val.Value
			if _, err := strconv.ParseUint(v.OPatch, 10, 64); err != nil {
				p.problem(val, msg("%s: verify.opatch %s is not an Oracle patch number such as 31537677", "%s：verify.opatch 的值 %s 不是 Oracle 补丁号（例如 31537677）", what, describe(val)))
			}
		case "command":
			v.Command, _ = p.str(val, what+": verify.command")
		}
	}
	return v
}

func (p *catalogParser) rollback(n *yaml.Node, what string) Rollback {
	if n.Kind == yaml.ScalarNode && n.Value == "none" {
		return Rollback{None: true}
	}
	if n.Kind == yaml.ScalarNode {
		p.problem(n, msg("%s: rollback must be none or a mapping with files, got %s", "%s：rollback 必须是 none 或包含 files 的映射，实际为 %s", what, describe(n)))
		return Rollback{}
	}
	var r Rollback
	for _, kv := range p.mapping(n, what+": rollback", rollbackKeys) {
		r.Files = p.files(kv[1], what+": rollback.files")
	}
	return r
}

// methodNeeds lists, per method, the file extension its files must have and
// the verify key that shows whether the patch is installed.
var methodNeeds = map[Method]struct {
	ext, verify string
}{
	MethodRPM:    {".rpm", "packages"},
	MethodYum:    {".rpm", "packages"},
	MethodWUSA:   {".msu", "kb"},
	MethodDISM:   {".cab", "kb"},
	MethodOPatch: {".zip", "opatch"},
}

// checkMethod checks that the files and verify settings fit the install method.
func (p *catalogParser) checkMethod(n *yaml.Node, seen map[string]*yaml.Node, pt *Patch, what string) {
	need, ok := methodNeeds[pt.Method]
	if !ok {
		return
	}
	for i, f := range pt.Files {
		if !strings.EqualFold(path.Ext(f.Path), need.ext) {
			at := seen["files"].Content[i]
			p.problem(at, msg("%s: method %s installs %s files, but %q is not one", "%s：method %s 安装 %s 文件，但 %q 不是", what, pt.Method, need.ext, f.Path))
		}
	}
	set := map[string]bool{"packages": len(pt.Verify.Packages) > 0, "kb": pt.Verify.KB != "", "opatch": pt.Verify.OPatch != ""}
	if !set[need.verify] {
		at := n
		if seen["verify"] != nil {
			at = seen["verify"]
		}
		p.problem(at, msg("%s: method %s needs verify.%s, which tells patrol whether a host already has the patch",
			"%s：method %s 需要 verify.%s，patrol 用它判断主机是否已安装该补丁", what, pt.Method, need.verify))
	}
	if pt.Method == MethodOPatch && pt.AppliesTo.Product != "oracle" {
		p.problem(n, msg("%s: method opatch patches an Oracle home; set applies_to.product: oracle", "%s：method opatch 用于 Oracle 补丁；请设置 applies_to.product: oracle", what))
	}
	if len(pt.Rollback.Files) > 0 && pt.Method != MethodRPM && pt.Method != MethodYum {
		p.problem(seen["rollback"], msg("%s: rollback.files is only for rpm and yum; method %s rolls back by its own uninstall",
			"%s：rollback.files 只用于 rpm 和 yum；method %s 用自身的卸载命令回退", what, pt.Method))
	}
}

// yamlLinePattern finds the line in a yaml.v3 syntax error ("yaml: line 3: …").
var yamlLinePattern = regexp.MustCompile(`line (\d+)`)

// yamlErrorLine returns the line a yaml.v3 syntax error names, or 0.
func yamlErrorLine(err error) int {
	if sub := yamlLinePattern.FindStringSubmatch(err.Error()); sub != nil {
		n, _ := strconv.Atoi(sub[1])
		return n
	}
	return 0
}

var yamlLinePrefix = regexp.MustCompile(`^line \d+: `)

// trimYAMLError returns a yaml.v3 error without its "yaml: line N: " prefix.
func trimYAMLError(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	return yamlLinePrefix.ReplaceAllString(s, "")
}
