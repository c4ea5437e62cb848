package inventory

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type schemaNode struct {
	Properties    map[string]*schemaNode `json:"properties"`
	Defs          map[string]*schemaNode `json:"$defs"`
	Enum          []string               `json:"enum"`
	PropertyNames *struct {
		Not *struct {
			Enum []string `json:"enum"`
		} `json:"not"`
	} `json:"propertyNames"`
}

func loadSchema(t *testing.T) *schemaNode {
	t.Helper()
	data, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s schemaNode
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	return &s
}

func sameSet(t *testing.T, what string, schema, loader []string) {
	t.Helper()
	s, l := slices.Sorted(slices.Values(schema)), slices.Sorted(slices.Values(loader))
	if !slices.Equal(s, l) {
		t.Errorf("%s: schema.json has %v, the loader accepts %v", what, s, l)
	}
}

// TestSchemaInSync checks that schema.json lists exactly the keys and values the
// loader accepts, so editors neither miss a key nor suggest one patrol rejects.
func TestSchemaInSync(t *testing.T) {
	s := loadSchema(t)
	defs := s.Defs

	sameSet(t, "top-level keys", slices.Collect(maps.Keys(s.Properties)), topKeys)
	sameSet(t, "host keys", slices.Collect(maps.Keys(defs["host"].Properties)), hostKeys())
	sameSet(t, "group keys", slices.Collect(maps.Keys(defs["group"].Properties)), groupKeys)
	sameSet(t, "settings", slices.Collect(maps.Keys(defs["settings"].Properties)), SettingKeys())
	sameSet(t, "settings as vars", slices.Collect(maps.Keys(defs["vars"].Properties)), SettingKeys())

	settingsDef := defs["settings"].Properties
	sameSet(t, "connection values", settingsDef["connection"].Enum, Connections)
	sameSet(t, "system values", settingsDef["system"].Enum, Systems)
	sameSet(t, "auth values", settingsDef["auth"].Enum, AuthMethods)
	sameSet(t, "os values", settingsDef["os"].Enum, OSNames)
	sameSet(t, "secret variable names", defs["vars"].PropertyNames.Not.Enum, slices.Collect(maps.Keys(secretVarNames)))
}

// TestSchemaKeysLoad writes an inventory that uses every key in schema.json, as a
// host key and as a variable, and checks the loader accepts it.
func TestSchemaKeysLoad(t *testing.T) {
	samples := map[string]string{
		"address": "127.0.0.1", "port": "2222", "connection": "winrm", "user": "ops",
		"key_file": "/tmp/id_ed25519", "key_passphrase_env": "KEY_PASS", "agent": "false",
		"password_env": "WIN_PASS", "jump": "[bastion]", "ssh_legacy": "true",
		"known_hosts_file": "/tmp/known_hosts", "become": "true", "become_user": "oracle",
		"become_password_env": "SUDO_PASS", "os": "win2012r2", "system": "seal", "auth": "ntlm",
		"tls": "true", "insecure_http": "false", "ca_file": "/tmp/ca.pem",
		"cert_file": "/tmp/client.pem", "cert_key_file": "/tmp/client-key.pem",
		"staging": "false", "pair": "seal-db",
	}
	s := loadSchema(t)

	var host, vars strings.Builder
	for _, key := range slices.Sorted(maps.Keys(s.Defs["settings"].Properties)) {
		value, ok := samples[key]
		if !ok {
			t.Fatalf("no sample value for schema key %q; add one to this test", key)
		}
		fmt.Fprintf(&host, "    %s: %s\n", key, value)
		fmt.Fprintf(&vars, "      %s: %s\n", key, value)
	}
	data := "vars:\n  team: ops\nhosts:\n  bastion:\n  win1:\n" + host.String() + "    vars: {x: 1}\n" +
		"groups:\n  windows:\n    hosts: [win2]\n    children: [seal]\n    vars:\n" + vars.String() +
		"  seal:\n    hosts: {win3: {os: win2019}}\n"
	path := filepath.Join(t.TempDir(), "all-keys.yml")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}

	inv, err := Load(path)
	if err != nil {
		t.Fatalf("Load:\n%v\ninventory:\n%s", err, data)
	}
	win2 := inv.Host("win2")
	if win2.Port != 2222 || win2.User != "ops" || win2.OS != "win2012r2" || win2.Agent == nil || *win2.Agent ||
		!win2.TLS || win2.CAFile != "/tmp/ca.pem" ||
		win2.CertFile != "/tmp/client.pem" || win2.CertKeyFile != "/tmp/client-key.pem" || !slices.Equal(win2.Jump, []string{"bastion"}) {
		t.Errorf("win2 = %+v, want every setting from the windows group vars", win2)
	}
}
