package playbooks

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

// shipped holds the playbooks built into the binary, so that the daily and
// monthly inspections run without any file beside it.
//
//go:embed *.yml
var shipped embed.FS

// Shipped returns the built-in playbooks as a file system of *.yml files.
func Shipped() fs.FS { return shipped }

// ShippedNames returns the names of the built-in playbooks without ".yml",
// such as "daily-inspection", sorted.
func ShippedNames() []string {
	entries, err := shipped.ReadDir(".")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yml"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// LoadShipped parses and validates a built-in playbook by name, with or
// without ".yml". Positions in messages name it "playbooks/NAME.yml".
func LoadShipped(name string, reg *module.Registry) (*Playbook, error) {
	file := strings.TrimSuffix(path.Base(name), ".yml") + ".yml"
	data, err := shipped.ReadFile(file)
	if err != nil {
		return nil, &OpenError{Name: name, Text: i18n.T(
			fmt.Sprintf("no built-in playbook %q; the built-in playbooks are %s", name, strings.Join(ShippedNames(), ", ")),
			fmt.Sprintf("没有名为 %q 的内置剧本；内置剧本有 %s", name, strings.Join(ShippedNames(), "、")))}
	}
	return Parse("playbooks/"+file, data, reg)
}

// Open loads the playbook file at name, or the built-in playbook of that name
// ("monthly-inspection", with or without ".yml") when no such file exists and
// name has no directory part. A file in the working directory therefore
// overrides a built-in playbook of the same name.
func Open(name string, reg *module.Registry) (*Playbook, error) {
	_, err := os.Stat(name)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || strings.ContainsRune(name, filepath.Separator) || strings.ContainsRune(name, '/') {
		return Load(name, reg)
	}

	if slices.Contains(ShippedNames(), strings.TrimSuffix(name, ".yml")) {
		return LoadShipped(name, reg)
	}
	return nil, &OpenError{Name: name, Err: err, Text: i18n.T(
		fmt.Sprintf("open playbook %s: no such file and no built-in playbook of that name; the built-in playbooks are %s",
			name, strings.Join(ShippedNames(), ", ")),
		fmt.Sprintf("打开剧本 %s 失败：没有该文件，也没有同名的内置剧本；内置剧本有 %s",
			name, strings.Join(ShippedNames(), "、")))}
}
