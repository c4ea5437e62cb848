package inventory

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"patrol/i18n"
)

// Business systems a host may belong to.
const (
	SystemHotel         = "hotel"
	SystemEntertainment = "entertainment"
	SystemSeal          = "seal"
)

// Systems lists the valid values of a host's system setting.
var Systems = []string{SystemEntertainment, SystemHotel, SystemSeal}

// Connections lists the valid values of a host's connection setting.
var Connections = []string{ConnLocal, ConnSSH, ConnWinRM}

// AuthMethods lists the valid WinRM authentication methods.
var AuthMethods = []string{"basic", "cert", "ntlm"}

// OSNames lists the operating system names an inventory may give in os. Modules and
// checks choose their per-OS commands by these names, so a name outside the list
// would silently match nothing.
var OSNames = []string{
	"almalinux8", "almalinux9",
	"centos6", "centos7", "centos8",
	"debian",
	"huawei-vrp",
	"kylin",
	"openeuler",
	"oracle-linux6", "oracle-linux7", "oracle-linux8", "oracle-linux9",
	"rhel6", "rhel7", "rhel8", "rhel9",
	"rocky8", "rocky9",
	"ubuntu",
	"uos",
	"win10", "win11", "win7",
	"win2008r2", "win2012", "win2012r2", "win2016", "win2019", "win2022",
}

// osAliases maps common spellings to the OS names patrol uses. They only drive the
// "did you mean" hint, because the inventory must still give the real name.
var osAliases = map[string]string{
	"ol6": "oracle-linux6", "ol7": "oracle-linux7", "ol8": "oracle-linux8", "ol9": "oracle-linux9",
	"oel6": "oracle-linux6", "oel7": "oracle-linux7", "oel8": "oracle-linux8",
	"oracle6": "oracle-linux6", "oracle7": "oracle-linux7", "oracle8": "oracle-linux8",
	"oraclelinux6": "oracle-linux6", "oraclelinux7": "oracle-linux7", "oraclelinux8": "oracle-linux8",
	"redhat7": "rhel7", "redhat8": "rhel8", "redhat6": "rhel6",
	"windows2008r2": "win2008r2", "windows2012": "win2012", "windows2012r2": "win2012r2",
	"windows2016": "win2016", "windows2019": "win2019", "windows2022": "win2022",
	"ws2012r2": "win2012r2", "ws2016": "win2016", "ws2019": "win2019",
}

// setting is one connection setting: a key a host may carry directly, or that a
// variable of the same name sets at all, group or host level.
type setting struct {
	key   string
	parse func(n *yaml.Node) (any, *i18n.Text)
	apply func(h *Host, v any)
}

// settings lists every connection setting, in the order the schema shows them.
var settings = []setting{
	{"address", parseAddress, func(h *Host, v any) { h.Address = v.(string) }},
	{"port", parsePort, func(h *Host, v any) { h.Port = v.(int) }},
	{"connection", parseEnum("connection", Connections), func(h *Host, v any) { h.Connection = v.(string) }},
	{"user", parseString("user"), func(h *Host, v any) { h.User = v.(string) }},
	{"key_file", parseString("key_file"), func(h *Host, v any) { h.KeyFile = v.(string) }},
	{"key_passphrase_env", parseEnvName("key_passphrase_env"), func(h *Host, v any) { h.KeyPassphraseEnv = v.(string) }},
	{"agent", parseBool("agent"), func(h *Host, v any) { b := v.(bool); h.Agent = &b }},
	{"password_env", parseEnvName("password_env"), func(h *Host, v any) { h.PasswordEnv = v.(string) }},
	{"jump", parseJump, func(h *Host, v any) { h.Jump = slices.Clone(v.([]string)) }},
	{"ssh_legacy", parseBool("ssh_legacy"), func(h *Host, v any) { h.SSHLegacy = v.(bool) }},
	{"known_hosts_file", parseString("known_hosts_file"), func(h *Host, v any) { h.KnownHostsFile = v.(string) }},
	{"become", parseBool("become"), func(h *Host, v any) { h.Become = v.(bool) }},
	{"become_user", parseString("become_user"), func(h *Host, v any) { h.BecomeUser = v.(string) }},
	{"become_password_env", parseEnvName("become_password_env"), func(h *Host, v any) { h.BecomePasswordEnv = v.(string) }},
	{"os", parseOS, func(h *Host, v any) { h.OS = v.(string) }},
	{"system", parseEnum("system", Systems), func(h *Host, v any) { h.System = v.(string) }},
	{"staging", parseBool("staging"), func(h *Host, v any) { h.Staging = v.(bool) }},
	{"pair", parseString("pair"), func(h *Host, v any) { h.Pair = v.(string) }},
	{"auth", parseEnum("auth", AuthMethods), func(h *Host, v any) { h.Auth = v.(string) }},
	{"tls", parseBool("tls"), func(h *Host, v any) { h.TLS = v.(bool) }},
	{"insecure_http", parseBool("insecure_http"), func(h *Host, v any) { h.InsecureHTTP = v.(bool) }},
	{"ca_file", parseString("ca_file"), func(h *Host, v any) { h.CAFile = v.(string) }},
	{"cert_file", parseString("cert_file"), func(h *Host, v any) { h.CertFile = v.(string) }},
	{"cert_key_file", parseString("cert_key_file"), func(h *Host, v any) { h.CertKeyFile = v.(string) }},
}

// SettingKeys returns the names of the connection settings, which are valid both
// as host keys and as variables at any level.
func SettingKeys() []string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	return keys
}

func findSetting(key string) *setting {
	for i := range settings {
		if settings[i].key == key {
			return &settings[i]
		}
	}
	return nil
}

// secretVarNames are variable names that would put a secret into the inventory
// file. Ansible users write them out of habit, so they get a pointed message.
var secretVarNames = map[string]string{
	"password":                "password_env",
	"become_password":         "become_password_env",
	"key_passphrase":          "key_passphrase_env",
	"ansible_password":        "password_env",
	"ansible_ssh_pass":        "password_env",
	"ansible_ssh_password":    "password_env",
	"ansible_become_pass":     "become_password_env",
	"ansible_become_password": "become_password_env",
}

// ansibleKeys maps Ansible's connection variables to patrol's names, for hints.
var ansibleKeys = map[string]string{
	"ansible_host":                 "address",
	"ansible_port":                 "port",
	"ansible_user":                 "user",
	"ansible_ssh_user":             "user",
	"ansible_connection":           "connection",
	"ansible_ssh_private_key_file": "key_file",
	"ansible_become":               "become",
	"ansible_become_user":          "become_user",
	"ansible_winrm_transport":      "auth",
	"ansible_winrm_scheme":         "tls",
	"ansible_winrm_ca_trust_path":  "ca_file",
	"ansible_winrm_cert_pem":       "cert_file",
	"ansible_winrm_cert_key_pem":   "cert_key_file",
}

func scalar(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.Tag == "!!null" {
		return "an empty value"
	}
	return strconv.Quote(n.Value)
}

func parseString(key string) func(n *yaml.Node) (any, *i18n.Text) {
	return func(n *yaml.Node) (any, *i18n.Text) {
		s, ok := scalar(n)
		if !ok || strings.TrimSpace(s) == "" {
			t := msg("%s must be a non-empty string, got %s; write a value or remove the key",
				"%s 必须是非空字符串，实际为 %s；请填写值或删除该键", key, describe(n))
			return nil, &t
		}
		return s, nil
	}
}

// addressPattern accepts DNS names, IPv4 and IPv6 addresses without brackets or
// ports: the port has its own setting.
var addressPattern = regexp.MustCompile(`^[A-Za-z0-9._:%-]+$`)

func parseAddress(n *yaml.Node) (any, *i18n.Text) {
	s, ok := scalar(n)
	if !ok || !addressPattern.MatchString(s) {
		t := msg("address must be a DNS name or IP address, got %s; give the port with port:, not in the address",
			"address 必须是域名或 IP 地址，实际为 %s；端口请写在 port: 中，不要写在地址里", describe(n))
		return nil, &t
	}
	if strings.Count(s, ":") == 1 {
		t := msg("address %q contains a port; write the address alone and the port as port: %s",
			"address %q 中包含端口；请只写地址，端口写成 port: %s", s, s[strings.Index(s, ":")+1:])
		return nil, &t
	}
	return s, nil
}

func parsePort(n *yaml.Node) (any, *i18n.Text) {
	s, ok := scalar(n)
	p, err := strconv.Atoi(s)
	if !ok || err != nil || p < 1 || p > 65535 {
		t := msg("port must be a whole number from 1 to 65535, got %s",
			"port 必须是 1 到 65535 之间的整数，实际为 %s", describe(n))
		return nil, &t
	}
	return p, nil
}

func parseBool(key string) func(n *yaml.Node) (any, *i18n.Text) {
	return func(n *yaml.Node) (any, *i18n.Text) {
		s, _ := scalar(n)
		switch strings.ToLower(s) {
		case "true", "yes", "on":
			return true, nil
		case "false", "no", "off":
			return false, nil
		}
		t := msg("%s must be true or false, got %s", "%s 必须是 true 或 false，实际为 %s", key, describe(n))
		return nil, &t
	}
}

func parseEnum(key string, valid []string) func(n *yaml.Node) (any, *i18n.Text) {
	return func(n *yaml.Node) (any, *i18n.Text) {
		s, ok := scalar(n)
		if ok && slices.Contains(valid, s) {
			return s, nil
		}
		hintEN, hintZH := didYouMean(s, valid)
		list := strings.Join(valid, ", ")
		t := i18n.T(
			fmt.Sprintf("invalid %s %s%s; valid values: %s", key, describe(n), hintEN, list),
			fmt.Sprintf("%s 的值 %s 无效%s；可用的值：%s", key, describe(n), hintZH, list))
		return nil, &t
	}
}

func parseOS(n *yaml.Node) (any, *i18n.Text) {
	s, ok := scalar(n)
	if ok && slices.Contains(OSNames, s) {
		return s, nil
	}

	hintEN, hintZH := didYouMean(s, OSNames)
	if alias := osAliases[strings.ToLower(strings.ReplaceAll(s, " ", ""))]; alias != "" {
		hintEN, hintZH = fmt.Sprintf(" (did you mean %q?)", alias), fmt.Sprintf("（是否想写 %q？）", alias)
	}
	list := strings.Join(OSNames, ", ")
	t := i18n.T(
		fmt.Sprintf("invalid os %s%s; valid values: %s", describe(n), hintEN, list),
		fmt.Sprintf("os 的值 %s 无效%s；可用的值：%s", describe(n), hintZH, list))
	return nil, &t
}

// envNamePattern matches the variable names a POSIX shell accepts. A value that
// does not match is most likely the secret itself pasted into the file.
var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func parseEnvName(key string) func(n *yaml.Node) (any, *i18n.Text) {
	return func(n *yaml.Node) (any, *i18n.Text) {
		s, ok := scalar(n)
		if ok && envNamePattern.MatchString(strings.TrimPrefix(s, "$")) {
			return strings.TrimPrefix(s, "$"), nil
		}
		// The value is not echoed: it may be the secret itself.
		t := msg("%s must name an environment variable (letters, digits and _, such as SEAL_DB_PASSWORD), "+
			"not hold the secret; the value is not shown because it may be one. Put the secret in an "+
			"environment variable and write its name here",
			"%s 必须是环境变量名（字母、数字和下划线，例如 SEAL_DB_PASSWORD），不能直接写密码；"+
				"该值可能就是密码，因此不予显示。请把密码放进环境变量，在此处填写变量名", key)
		return nil, &t
	}
}

func parseJump(n *yaml.Node) (any, *i18n.Text) {
	var items []*yaml.Node
	switch n.Kind {
	case yaml.SequenceNode:
		items = n.Content
	case yaml.ScalarNode:
		items = []*yaml.Node{n}
	}
	if len(items) == 0 {
		t := msg("jump must be a bastion host or a list of them, outermost first, got %s",
			"jump 必须是一个跳板机或跳板机列表（最外层在前），实际为 %s", describe(n))
		return nil, &t
	}

	var hops []string
	for _, item := range items {
		s, ok := scalar(resolveAlias(item))
		if !ok || !validJump(s) {
			t := msg("invalid jump host %s; write an inventory host name or user@address:port",
				"跳板机 %s 无效；请写清单中的主机名或 user@address:port", describe(item))
			return nil, &t
		}
		hops = append(hops, s)
	}
	return hops, nil
}

// validJump accepts "name", "address", "user@address", "address:port" and
// "user@[ipv6]:port".
func validJump(s string) bool {
	rest := s
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if at == 0 {
			return false
		}
		rest = rest[at+1:]
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return false
		}
		host, port = rest[1:end], strings.TrimPrefix(rest[end+1:], ":")
	} else if strings.Count(rest, ":") == 1 {
		i := strings.Index(rest, ":")
		host, port = rest[:i], rest[i+1:]
	}
	if host == "" || !addressPattern.MatchString(host) {
		return false
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		return err == nil && p >= 1 && p <= 65535
	}
	return true
}
