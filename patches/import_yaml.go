package patches

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// newCatalogHeader starts a catalog that patrol patch import creates.
const newCatalogHeader = `Patch catalog: the patches that arrived in the police network, with their
files in the repository folder. Edit it by hand or with patrol patch import.`

// appendPatch returns the catalog file's text with p appended to its
// patches list. It edits the YAML node tree, so comments and the layout of
// the existing entries stay as they were.
func appendPatch(catalogPath string, p *Patch) ([]byte, error) {
	data, err := os.ReadFile(catalogPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read catalog: %w", err)
	}

	var doc yaml.Node
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("read catalog %s: %w", catalogPath, err)
		}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, HeadComment: newCatalogHeader}}}
		root := doc.Content[0]
		root.Content = append(root.Content, scalar("repository"), scalar("repo"))
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("catalog %s: the top level is not a mapping", catalogPath)
	}

	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "patches" {
			list = root.Content[i+1]
		}
	}
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode}
		root.Content = append(root.Content, scalar("patches"), list)
	}
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		*list = yaml.Node{Kind: yaml.SequenceNode}
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("catalog %s: patches is not a list", catalogPath)
	}
	// An empty list written as [] stays in flow style unless switched.
	list.Style &^= yaml.FlowStyle
	list.Content = append(list.Content, patchNode(p))

	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("write catalog: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write catalog: %w", err)
	}
	return out.Bytes(), nil
}

// patchNode writes a patch as a mapping in the catalog's key order.
func patchNode(p *Patch) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, value *yaml.Node) { m.Content = append(m.Content, scalar(key), value) }

	add("id", str(p.ID))
	if p.Title != "" {
		add("title", str(p.Title))
	}
	add("severity", scalar(string(p.Severity)))
	add("arrived", scalar(p.Arrived.Format(time.RFC3339)))
	if a := p.AppliesTo; len(a.OS) > 0 || len(a.Systems) > 0 || a.Product != "" || a.Version != "" {
		applies := &yaml.Node{Kind: yaml.MappingNode}
		if len(a.OS) > 0 {
			applies.Content = append(applies.Content, scalar("os"), flowList(a.OS))
		}
		if len(a.Systems) > 0 {
			applies.Content = append(applies.Content, scalar("systems"), flowList(a.Systems))
		}
		if a.Product != "" {
			applies.Content = append(applies.Content, scalar("product"), str(a.Product))
		}
		if a.Version != "" {
			applies.Content = append(applies.Content, scalar("version"), str(a.Version))
		}
		add("applies_to", applies)
	}
	add("method", scalar(string(p.Method)))
	if p.Reboot {
		add("reboot", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	if len(p.StopServices) > 0 {
		add("stop_services", flowList(p.StopServices))
	}
	add("files", filesNode(p.Files))

	verify := &yaml.Node{Kind: yaml.MappingNode}
	switch {
	case len(p.Verify.Packages) > 0:
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, pkg := range p.Verify.Packages {
			list.Content = append(list.Content, str(pkg))
		}
		verify.Content = append(verify.Content, scalar("packages"), list)
	case p.Verify.KB != "":
		verify.Content = append(verify.Content, scalar("kb"), str(p.Verify.KB))
	case p.Verify.OPatch != "":
		verify.Content = append(verify.Content, scalar("opatch"), str(p.Verify.OPatch))
	}
	if p.Verify.Command != "" {
		verify.Content = append(verify.Content, scalar("command"), str(p.Verify.Command))
	}
	add("verify", verify)

	switch {
	case p.Rollback.None:
		add("rollback", scalar("none"))
	case len(p.Rollback.Files) > 0:
		add("rollback", &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("files"), filesNode(p.Rollback.Files)}})
	}
	return m
}

func filesNode(files []File) *yaml.Node {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, f := range files {
		list.Content = append(list.Content, &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			scalar("path"), str(f.Path),
			scalar("sha256"), str(f.SHA256),
			scalar("size"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(f.Size, 10)},
		}})
	}
	return list
}

// scalar is a plain scalar for keys and values that are never mistaken for
// another type.
func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// str is a string value. The encoder quotes it where it would otherwise
// read as a number, a boolean or null, as a numeric Oracle patch id would.
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func flowList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}
