package checks

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

const iisCheck = "check.iis"

func iisSpec() *module.Spec {
	return &module.Spec{
		Name:  iisCheck,
		Title: i18n.T("IIS sites and application pools", "IIS 网站与应用程序池"),
		Doc:   i18n.T("Windows: each IIS site and application pool (all of them, or the ones listed) must be Started. A host without IIS passes when nothing was listed and fails otherwise.", "Windows：每个 IIS 网站和应用程序池（全部，或列出的那些）必须处于 Started 状态。主机没有 IIS 时，未列出任何名称则通过，否则判为不合格。"),
		Check: true,
		Args: []module.Arg{
			{Name: "sites", Type: module.Strings, Doc: i18n.T("site names that must be Started; empty checks every site", "必须处于 Started 的网站名称；为空时检查所有网站")},
			{Name: "app_pools", Type: module.Strings, Doc: i18n.T("application pool names that must be Started; empty checks every pool", "必须处于 Started 的应用程序池名称；为空时检查所有应用程序池")},
		},
		Run: runIIS,
	}
}

// IISObject is one site or application pool.
type IISObject struct {
	Name string
	// State is Started, Starting, Stopped, Stopping or Unknown
	// (Microsoft.Web.Administration.ObjectState).
	State string
}

// IISInventory is the IIS service, sites and application pools of one host.
type IISInventory struct {
	// Installed is false when the W3SVC service does not exist.
	Installed bool
	// Service is the W3SVC service status, such as Running or Stopped.
	Service string
	// Source is WebAdministration or appcmd.
	Source   string
	Sites    []IISObject
	AppPools []IISObject
}

type iisProbe func(ctx context.Context, env *module.Env) (IISInventory, *module.Finding)

var iisProbes = perOS[iisProbe]{}

func runIIS(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	probe := iisProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(iisCheck)}), nil
	}
	inv, failed := probe(ctx, env)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	return result(EvaluateIIS(inv, stringList(args, "sites"), stringList(args, "app_pools"))), nil
}

// ParseIISProbe reads the IIS probe: W3SVC= and Source= lines, then a
// "--- sites" and a "--- apppools" section. Each section is CSV with Name
// and State columns (WebAdministration), the text lines of `appcmd list site`
// or `appcmd list apppool`, or the `/xml` form of those commands.
func ParseIISProbe(out []byte) (IISInventory, error) {
	var inv IISInventory
	sections := map[string]*strings.Builder{}
	var current *strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(string(bytes.TrimPrefix(out, []byte("\xef\xbb\xbf"))), "\r", ""), "\n") {
		if name, ok := strings.CutPrefix(line, "--- "); ok {
			current = &strings.Builder{}
			sections[strings.TrimSpace(name)] = current
			continue
		}
		if current != nil {
			current.WriteString(line + "\n")
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "W3SVC":
			inv.Service = strings.TrimSpace(value)
		case "Source":
			inv.Source = strings.TrimSpace(value)
		}
	}
	if inv.Service == "" {
		return inv, fmt.Errorf("the probe printed no W3SVC line")
	}
	inv.Installed = inv.Service != "Missing"
	if !inv.Installed {
		return inv, nil
	}

	for _, s := range []struct {
		name string
		tag  string
		dst  *[]IISObject
	}{{"sites", "SITE", &inv.Sites}, {"apppools", "APPPOOL", &inv.AppPools}} {
		b, ok := sections[s.name]
		if !ok {
			return inv, fmt.Errorf("the probe printed no %s section", s.name)
		}
		objs, err := parseIISSection(b.String(), s.tag, inv.Source)
		if err != nil {
			return inv, fmt.Errorf("%s: %w", s.name, err)
		}
		*s.dst = objs
	}
	return inv, nil
}

// parseIISSection reads one section. appcmd output that is not XML is read
// as the text listing, so an ERROR block that appcmd prints instead of a
// listing is an error rather than an empty list.
func parseIISSection(text, tag, source string) ([]IISObject, error) {
	if strings.HasPrefix(strings.TrimSpace(text), "<") {
		return ParseAppcmdXML([]byte(text), tag)
	}
	if source == "appcmd" {
		return ParseAppcmdList([]byte(text), tag)
	}
	records, err := parseCSVRecords([]byte(text))
	if err != nil {
		return nil, err
	}
	var objs []IISObject
	for _, rec := range records {
		if rec["Name"] != "" {
			objs = append(objs, IISObject{Name: rec["Name"], State: rec["State"]})
		}
	}
	return objs, nil
}

// ParseAppcmdList reads the text form of `appcmd list site` (tag SITE) or
// `appcmd list apppool` (tag APPPOOL), one object a line:
//
//	SITE "Default Web Site" (id:1,bindings:http/*:80:,state:Started)
//	APPPOOL "DefaultAppPool" (MgdVersion:v4.0,MgdMode:Integrated,state:Started)
//
// The state is the last "state:" attribute in the parentheses, because a
// site's bindings list is comma-separated too. A line of another form is an
// error naming the line, since it means appcmd printed a message instead of
// a listing.
func ParseAppcmdList(out []byte, tag string) ([]IISObject, error) {
	text := strings.ReplaceAll(string(bytes.TrimPrefix(out, []byte("\xef\xbb\xbf"))), "\r", "")
	var objs []IISObject
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		obj, ok := parseAppcmdLine(line, tag)
		if !ok {
			return nil, fmt.Errorf("appcmd list line %d is not of the form %s \"name\" (…,state:…): %q; run appcmd list %s on the host to see its whole message",
				n+1, tag, line, strings.ToLower(tag))
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

func parseAppcmdLine(line, tag string) (IISObject, bool) {
	rest, ok := strings.CutPrefix(line, tag+" \"")
	if !ok || !strings.HasSuffix(rest, ")") {
		return IISObject{}, false
	}
	end := strings.LastIndex(rest, "\" (")
	if end < 0 {
		return IISObject{}, false
	}
	attrs := strings.TrimSuffix(rest[end+len("\" ("):], ")")
	i := strings.LastIndex(attrs, "state:")
	if i < 0 || i > 0 && attrs[i-1] != ',' {
		return IISObject{}, false
	}
	return IISObject{Name: rest[:end], State: attrs[i+len("state:"):]}, true
}

// ParseAppcmdXML reads `appcmd list site /xml` (tag SITE, name in SITE.NAME)
// or `appcmd list apppool /xml` (tag APPPOOL, name in APPPOOL.NAME); the
// state attribute holds the object's state. The probe now prints the text
// form, but output captured through PowerShell arrives as UTF-8 whatever the
// XML declaration names, so that encoding is ignored.
func ParseAppcmdXML(out []byte, tag string) ([]IISObject, error) {
	dec := xml.NewDecoder(bytes.NewReader(out))
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var objs []IISObject
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read appcmd XML: %w", err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok || !strings.EqualFold(el.Name.Local, tag) {
			continue
		}
		var obj IISObject
		for _, a := range el.Attr {
			switch {
			case strings.EqualFold(a.Name.Local, tag+".NAME"):
				obj.Name = a.Value
			case strings.EqualFold(a.Name.Local, "state"):
				obj.State = a.Value
			}
		}
		if obj.Name != "" {
			objs = append(objs, obj)
		}
	}
}

// EvaluateIIS returns one finding per requested site and pool, or per
// existing one when none were requested. IIS names are case-insensitive.
func EvaluateIIS(inv IISInventory, sites, pools []string) []module.Finding {
	requested := len(sites) > 0 || len(pools) > 0
	if !inv.Installed {
		f := module.Finding{
			Check: iisCheck, Item: "IIS", Status: module.StatusOK,
			Value:     i18n.T("not installed", "未安装"),
			Threshold: i18n.T("installed when sites or pools are listed", "列出网站或应用程序池时须已安装"),
			Message:   i18n.T("IIS is not installed (no W3SVC service), and no site or pool was requested", "未安装 IIS（无 W3SVC 服务），且未要求检查网站或应用程序池"),
		}
		if requested {
			f.Status = module.StatusFail
			f.Message = i18n.T(
				"IIS is not installed (no W3SVC service), but sites or pools were requested: "+strings.Join(append(append([]string{}, sites...), pools...), ", ")+"; check the host in the inventory",
				"未安装 IIS（无 W3SVC 服务），但要求检查网站或应用程序池："+strings.Join(append(append([]string{}, sites...), pools...), "，")+"；请核对清单中的主机",
			)
		}
		return []module.Finding{f}
	}

	var findings []module.Finding
	if inv.Service != "Running" {
		findings = append(findings, module.Finding{
			Check: iisCheck, Item: "W3SVC", Status: module.StatusFail,
			Value:     i18n.T(inv.Service, windowsValueZH(winServiceStatesZH, inv.Service)),
			Threshold: i18n.T("Running", "正在运行"),
			Message:   i18n.T("the World Wide Web Publishing Service (W3SVC) is "+inv.Service+", so no site serves requests; start it", "万维网发布服务（W3SVC）状态为"+windowsWordZH(winServiceStatesZH, inv.Service)+"，所有网站都无法响应；请启动该服务"),
		})
	}
	findings = append(findings, evaluateIISObjects(inv.Sites, sites, iisSiteKind)...)
	findings = append(findings, evaluateIISObjects(inv.AppPools, pools, iisPoolKind)...)
	if len(findings) == 0 {
		findings = append(findings, module.Finding{
			Check: iisCheck, Item: "IIS", Status: module.StatusOK,
			Value:   i18n.T("no sites or pools", "无网站或应用程序池"),
			Message: i18n.T("IIS is running with no site and no application pool configured", "IIS 正在运行，但未配置网站或应用程序池"),
		})
	}
	return findings
}

type iisKind struct {
	item string
	name i18n.Text
}

var (
	iisSiteKind = iisKind{"site", i18n.T("site", "网站")}
	iisPoolKind = iisKind{"app pool", i18n.T("application pool", "应用程序池")}
)

func evaluateIISObjects(have []IISObject, want []string, kind iisKind) []module.Finding {
	if len(want) == 0 {
		for _, o := range have {
			want = append(want, o.Name)
		}
	}
	var findings []module.Finding
	for _, name := range want {
		f := module.Finding{
			Check: iisCheck, Item: kind.item + " " + name, ItemTitle: i18n.T(kind.item+" "+name, kind.name.ZH+" "+name), Status: module.StatusOK,
			Threshold: i18n.T("Started", "已启动"),
		}
		obj, found := findIISObject(have, name)
		switch {
		case !found:
			f.Status, f.Value = module.StatusFail, i18n.T("not found", "不存在")
			f.Message = i18n.T("no IIS "+kind.name.EN+" named "+name+" exists; check the name in IIS Manager", "IIS "+kind.name.ZH+" "+name+" 不存在；请在 IIS 管理器中核对名称")
		case obj.State == "Started":
			f.Value = i18n.T(obj.State, windowsValueZH(iisStatesZH, obj.State))
			f.Message = i18n.T("the IIS "+kind.name.EN+" "+obj.Name+" is started", "IIS "+kind.name.ZH+" "+obj.Name+" 已启动")
		default:
			state := obj.State
			if state == "" {
				state = "Unknown"
			}
			f.Status, f.Value = module.StatusFail, i18n.T(state, windowsValueZH(iisStatesZH, state))
			f.Message = i18n.T("the IIS "+kind.name.EN+" "+obj.Name+" is "+state+"; start it and check the event log for why it stopped", "IIS "+kind.name.ZH+" "+obj.Name+" 状态为"+windowsWordZH(iisStatesZH, state)+"；请启动它，并在事件日志中查找停止原因")
		}
		findings = append(findings, f)
	}
	return findings
}

func findIISObject(have []IISObject, name string) (IISObject, bool) {
	for _, o := range have {
		if strings.EqualFold(o.Name, name) {
			return o, true
		}
	}
	return IISObject{}, false
}
