package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that no input makes Load panic or return an inventory together
// with an error. Run it with: go test -fuzz FuzzLoad ./inventory
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yml")
	invalid, _ := filepath.Glob("testdata/invalid/*.yml")
	for _, path := range append(seeds, invalid...) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("hosts: {a: &x {<<: *x}}"))
	f.Add([]byte("groups: {g: {hosts: 5, children: {c: {children: [g]}}}}"))

	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.yml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		inv, err := Load(path)
		if err != nil {
			var verr *ValidationError
			if inv != nil || !errors.As(err, &verr) || len(verr.Problems) == 0 {
				t.Fatalf("Load = %v, %v; want nil and a *ValidationError with problems", inv, err)
			}
			return
		}
		for _, h := range inv.Hosts() {
			if _, err := inv.Select(h.Name); err != nil {
				t.Errorf("host %q cannot be selected by name: %v", h.Name, err)
			}
		}
	})
}
