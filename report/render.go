package report

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"

	"patrol/i18n"
	"patrol/patches"
)

//go:embed templates/report.html.tmpl
var templateFS embed.FS

// File names Write creates in its output directory.
const (
	HTMLFile     = "report.html"
	MarkdownFile = "report.md"
	JSONFile     = "report.json"
)

// Write renders in as report.html, report.md and report.json in dir, creating
// dir when needed, and returns the paths written. All three are rendered before
// any is written, and each replaces its old version atomically (a temporary
// file renamed over it), so a reader never sees a half-written report.
func Write(dir string, in Inspection, lang i18n.Lang) ([]string, error) {
	htmlData, err := RenderHTML(in, lang)
	if err != nil {
		return nil, err
	}
	mdData, err := RenderMarkdown(in, lang)
	if err != nil {
		return nil, err
	}
	jsonData, err := RenderJSON(in, lang)
	if err != nil {
		return nil, err
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create report directory %s: %w", dir, err)
	}
	files := []struct {
		name string
		data []byte
	}{{HTMLFile, htmlData}, {MarkdownFile, mdData}, {JSONFile, jsonData}}

	var paths []string
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := writeAtomic(path, f.data); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// RenderHTML returns the report as one self-contained HTML page in lang.
func RenderHTML(in Inspection, lang i18n.Lang) ([]byte, error) {
	in = normalize(in, lang)
	p, err := buildPage(in, lang)
	if err != nil {
		return nil, err
	}

	tmpl, err := template.New("report.html.tmpl").Funcs(template.FuncMap{
		"t":       func(key string) (string, error) { return label(lang, key) },
		"inc":     func(i int) int { return i + 1 },
		"verdict": func(v string) string { return patchVerdictLabel(lang, patches.Verdict(v)) },
	}).ParseFS(templateFS, "templates/report.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse report template: %w", err)
	}

	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, p); err != nil {
		return nil, fmt.Errorf("render HTML report: %w", err)
	}
	return buf.Bytes(), nil
}

// RenderJSON returns in as indented JSON with its schema version, language and
// summary filled in.
func RenderJSON(in Inspection, lang i18n.Lang) ([]byte, error) {
	in = normalize(in, lang)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(in); err != nil {
		return nil, fmt.Errorf("encode JSON report: %w", err)
	}
	return buf.Bytes(), nil
}

// writeAtomic writes data to a temporary file in path's directory, syncs it and
// renames it over path.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed

	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// mdEscaper makes text safe inside a GitHub Markdown table cell: it keeps HTML
// from being interpreted, keeps | from splitting the cell and keeps Markdown
// punctuation literal.
var mdEscaper = strings.NewReplacer(
	`&`, `&amp;`,
	`<`, `&lt;`,
	`>`, `&gt;`,
	`|`, `\|`,
	`\`, `\\`,
	"`", "\\`",
	`*`, `\*`,
	`_`, `\_`,
	`[`, `\[`,
	`]`, `\]`,
	`#`, `\#`,
	`~`, `\~`,
	"\r\n", "<br>",
	"\n", "<br>",
	"\r", "<br>",
)

func mdEscape(s string) string { return mdEscaper.Replace(s) }
