package patches

import (
	"patrol/i18n"
	"patrol/inventory"
)

// Schedule is the order of an apply run: the staging hosts first, then the
// production hosts in serial batches, and the work that may not be done.
type Schedule struct {
	// Staging holds the batches of staging hosts, which get every missing
	// patch before any production host of their system.
	Staging [][]*HostWork
	// Production holds the batches of production hosts.
	Production [][]*HostWork
	// Refused lists missing patches a production host may not get in this run.
	Refused []Refusal
}

// HostWork is the missing patches of one host, most urgent first.
type HostWork struct {
	Host  *inventory.Host
	Items []WorkItem
	// StagingHost names the staging host of the host's system, for
	// production hosts.
	StagingHost string
}

// WorkItem is one patch to install on one host.
type WorkItem struct {
	Patch *Patch
	Plan  PlanItem
	// AfterStaging means the staging host gets the patch earlier in this run,
	// and the production host only if that succeeds.
	AfterStaging bool
}

// Refusal is a missing patch that a host may not get, with the reason.
type Refusal struct {
	Host  string
	Patch string
	Text  i18n.Text
}

// ScheduleInput holds the inputs of BuildSchedule.
type ScheduleInput struct {
	Catalog *Catalog
	// Plans are the plans of the selected hosts and of the staging hosts of
	// their systems.
	Plans []HostPlan
	Hosts map[string]*inventory.Host
	// Selected names the hosts --limit selected; only they are changed.
	Selected map[string]bool
	// StagingBySystem maps each system to its staging host in the whole
	// inventory, selected or not.
	StagingBySystem map[string]*inventory.Host
	Serial          int
}

// BuildSchedule decides which missing patches each selected host gets and in
// what order. A production host gets a patch only when the staging host of its
// system already has it, or gets it earlier in the same run. It does no I/O.
func BuildSchedule(in ScheduleInput) Schedule {
	var s Schedule
	plans := map[string]HostPlan{}
	for _, hp := range in.Plans {
		plans[hp.Host] = hp
	}

	var staging, production []*HostWork
	for _, hp := range in.Plans {
		h := in.Hosts[hp.Host]
		if !in.Selected[hp.Host] || hp.Error != "" {
			continue
		}
		if h.Staging {
			if w := stagingWork(in.Catalog, h, hp); w != nil {
				staging = append(staging, w)
			}
			continue
		}
		w, refused := productionWork(in, h, hp, plans)
		s.Refused = append(s.Refused, refused...)
		if w != nil {
			production = append(production, w)
		}
	}

	orderWork(staging)
	orderWork(production)
	s.Staging = batchWork(staging, in.Serial)
	s.Production = batchWork(production, in.Serial)
	return s
}

func stagingWork(cat *Catalog, h *inventory.Host, hp HostPlan) *HostWork {
	w := &HostWork{Host: h}
	for _, it := range hp.Items {
		if it.State == StateMissing || it.State == StateUnchecked {
			w.Items = append(w.Items, WorkItem{Patch: cat.Patch(it.Patch), Plan: it})
		}
	}
	if len(w.Items) == 0 {
		return nil
	}
	return w
}

// productionWork gates each missing patch of a production host on the staging
// host of its system.
func productionWork(in ScheduleInput, h *inventory.Host, hp HostPlan, plans map[string]HostPlan) (*HostWork, []Refusal) {
	var refused []Refusal
	var missing, unchecked []PlanItem
	for _, it := range hp.Items {
		switch it.State {
		case StateMissing:
			missing = append(missing, it)
		case StateUnchecked:
			// The host has the patch already, so only its checks are left,
			// whatever the staging host's state.
			unchecked = append(unchecked, it)
		case StateUnknown:
			refused = append(refused, Refusal{Host: h.Name, Patch: it.Patch, Text: msg(
				"cannot tell whether %s has patch %s, because its installed list for that kind of patch could not be read",
				"无法判断 %s 是否已安装补丁 %s，因为读取不到该类补丁的安装列表", h.Name, it.Patch)})
		}
	}
	w := &HostWork{Host: h}
	for _, it := range unchecked {
		w.Items = append(w.Items, WorkItem{Patch: in.Catalog.Patch(it.Patch), Plan: it})
	}
	if len(missing) == 0 {
		return workOrNil(w), refused
	}

	staging := in.StagingBySystem[h.System]
	if staging == nil {
		for _, it := range missing {
			refused = append(refused, Refusal{Host: h.Name, Patch: it.Patch, Text: noStagingText(h)})
		}
		return workOrNil(w), refused
	}

	w.StagingHost = staging.Name
	stagingPlan, queried := plans[staging.Name]
	for _, it := range missing {
		state, ok := StateMissing, false
		if queried && stagingPlan.Error == "" {
			for _, sit := range stagingPlan.Items {
				if sit.Patch == it.Patch {
					state, ok = sit.State, true
				}
			}
		}
		item := WorkItem{Patch: in.Catalog.Patch(it.Patch), Plan: it}
		switch {
		case !queried || stagingPlan.Error != "":
			refused = append(refused, Refusal{Host: h.Name, Patch: it.Patch, Text: msg(
				"patch %s is not installed on %s: the staging host %s of system %s could not be queried, so patrol cannot tell whether the patch was tested there",
				"补丁 %s 未安装到 %s：无法查询系统 %[4]s 的测试主机 %[3]s，无法确认补丁是否已在其上测试", it.Patch, h.Name, staging.Name, h.System)})
		case !ok:
			refused = append(refused, Refusal{Host: h.Name, Patch: it.Patch, Text: msg(
				"patch %s is not installed on %s: it does not apply to the staging host %s of system %s, so it cannot be tested there first; make the staging host match production (os, packages, oracle_home)",
				"补丁 %s 未安装到 %s：它不适用于系统 %[4]s 的测试主机 %[3]s，无法先在其上测试；请使测试主机与生产主机一致（os、软件包、oracle_home）", it.Patch, h.Name, staging.Name, h.System)})
		case state == StateInstalled:
			w.Items = append(w.Items, item)
		case (state == StateMissing || state == StateUnchecked) && in.Selected[staging.Name]:
			item.AfterStaging = true
			w.Items = append(w.Items, item)
		case state == StateUnchecked:
			refused = append(refused, Refusal{Host: h.Name, Patch: it.Patch, Text: msg(
				"patch %s is not installed on %s: the staging host %s of system %s has it, but its checks there have not passed (the run that installed it was interrupted or they failed); add %[3]s to --limit so this run checks it there first",
				"补丁 %s 未安装到 %s：系统 %[4]s 的测试主机 %[3]s 已安装该补丁，但尚未在其上通过检查（安装它的运行中断或检查失败）；请把 %[3]s 加入 --limit，让本次运行先在其上完成检查", it.Patch, h.Name, staging.Name, h.System)})
		case state == StateMissing:
			refused = append(refused, Refusal{Host: h.Name, Patch: it.Patch, Text: msg(
				"patch %s is not installed on %s: it is not yet on the staging host %s of system %s, which --limit leaves out; add %[3]s to --limit so it gets the patch first",
				"补丁 %s 未安装到 %s：系统 %[4]s 的测试主机 %[3]s 尚未安装它，而 --limit 未包含该测试主机；请把 %[3]s 加入 --limit，让它先安装", it.Patch, h.Name, staging.Name, h.System)})
		default:
			refused = append(refused, Refusal{Host: h.Name, Patch: it.Patch, Text: msg(
				"patch %s is not installed on %s: patrol cannot tell whether the staging host %s has it",
				"补丁 %s 未安装到 %s：无法判断测试主机 %s 是否已安装", it.Patch, h.Name, staging.Name)})
		}
	}
	return workOrNil(w), refused
}

// workOrNil returns nil for work without items.
func workOrNil(w *HostWork) *HostWork {
	if len(w.Items) == 0 {
		return nil
	}
	return w
}

func noStagingText(h *inventory.Host) i18n.Text {
	if h.System == "" {
		return msg(
			"host %s has no system, so it has no staging host to test patches on first; set system and mark one host of that system with staging: true in the inventory",
			"主机 %s 未设置 system，因此没有可先行测试补丁的测试主机；请在清单中设置 system，并为该系统的一台主机设置 staging: true", h.Name)
	}
	return msg(
		"host %s is not patched: system %s has no staging host to test patches on first; mark one host of %s with staging: true in the inventory",
		"主机 %s 未安装补丁：系统 %s 没有可先行测试补丁的测试主机；请在清单中为 %s 的一台主机设置 staging: true", h.Name, h.System, h.System)
}

// StagingHosts maps each system to its staging host. The inventory loader
// already rejects a system with two staging hosts.
func StagingHosts(hosts []*inventory.Host) map[string]*inventory.Host {
	out := map[string]*inventory.Host{}
	for _, h := range hosts {
		if h.Staging && h.System != "" {
			out[h.System] = h
		}
	}
	return out
}
