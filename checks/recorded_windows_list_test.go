package checks

import (
	"strings"
	"testing"
	"time"

	"patrol/module"
)

// Tests on Format-List output that people captured on real Windows hosts and
// published: disks, services, pending reboot signals, event log errors,
// scheduled tasks and Windows Defender status. testdata/README.md names the
// source of each public-* file. Recordings with Chinese text also go through
// GBK and the WinRM transport's decoder (recordedInputs).

func TestParsePSListWrappedValues(t *testing.T) {
	tests := []struct {
		name, file string
		record     int
		field      string
		want       string
	}{
		{
			// A zh-CN console breaks at the width, inside a word.
			name: "hard break inside a word", file: "public-win10-zh-get-wmiobject-logicaldisk-fl-all.txt",
			record: 0, field: "__PATH", want: `\\DESKTOP-MA9I14O\root\cimv2:Win32_LogicalDisk.DeviceID="C:"`,
		},
		{
			name: "hard break after a comma", file: "public-win10-zh-get-wmiobject-logicaldisk-fl-all.txt",
			record: 1, field: "__DERIVATION", want: "{CIM_LogicalDisk, CIM_StorageExtent, CIM_LogicalDevice, CIM_LogicalElement...}",
		},
		{
			name: "Chinese value", file: "public-win10-zh-get-wmiobject-logicaldisk-fl-all.txt",
			record: 1, field: "Description", want: "本地固定磁盘",
		},
		{
			// Word wrap keeps the space at the end of the broken line.
			name: "word wrap", file: "public-zh-get-scheduledtask-fl-wrapped.txt",
			record: 0, field: "Description", want: "Every 30 minutes: if Codex is not ready, enable v2rayN system proxy, start Codex, then clear proxy after the UI opens.",
		},
		{
			// The first line of this message is the longest line of the
			// output, but the break after it is the message's own.
			name: "line breaks inside a value", file: "public-win10-get-winevent-errors-fl.txt",
			record: 1, field: "Message",
			want: "Faulting application name: backgroundTaskHost.exe, version: 10.0.19041.546, time stamp: 0x1d3a15e7\n" +
				"Faulting module name: ucrtbase.dll, version: 10.0.19041.789, time stamp: 0x2bd748bf\n" +
				"Exception code: 0xc0000409\nFault offset: 0x0000000000071208\nFaulting process id: 0x41fc\n" +
				"Faulting application start time: 0x01d83e292d84fde2\n" +
				`Faulting application path: C:\WINDOWS\system32\backgroundTaskHost.exe` + "\n" +
				`Faulting module path: C:\WINDOWS\System32\ucrtbase.dll` + "\n" +
				"Report Id: 256b6816-dde0-41af-8666-e1420af4e233\n" +
				"Faulting package full name: Microsoft.SurfaceHub_61.2037.139.0_x64__8wekyb3d8bbwe\n" +
				"Faulting package-relative application ID: App",
		},
		{
			name: "empty value", file: "public-win10-get-winevent-errors-fl.txt",
			record: 3, field: "LevelDisplayName", want: "",
		},
	}
	for _, tt := range tests {
		for _, input := range recordedInputs(t, tt.file) {
			t.Run(tt.name+" "+input.name, func(t *testing.T) {
				records := ParsePSList(input.out)
				if len(records) <= tt.record {
					t.Fatalf("got %d records, want more than %d", len(records), tt.record)
				}
				got, ok := records[tt.record].Value(tt.field)
				if !ok {
					t.Fatalf("record %d has no %s: %+v", tt.record, tt.field, records[tt.record].Fields)
				}
				if strings.TrimSpace(got) != tt.want {
					t.Errorf("%s =\n%q\nwant\n%q", tt.field, got, tt.want)
				}
			})
		}
	}
}

// Structure that the recordings show only in part: records pasted without a
// blank line between them, text around the records, a blank line inside a
// value (event messages have them) and the line ends wmic and redirected
// consoles write.
func TestParsePSListStructure(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// want lists each record as "Name=Value" pairs joined with "|".
		want []string
	}{
		{
			name: "records without blank lines",
			in:   "Name      : edgeupdate\r\nState     : Stopped\r\nName      : VMTools\r\nState     : Running\r\n",
			want: []string{"Name=edgeupdate|State=Stopped", "Name=VMTools|State=Running"},
		},
		{
			name: "prompt and snip lines",
			in:   "PS C:\\> Get-MpComputerStatus\r\n\r\nAMRunningMode : Normal\r\n<SNIP>\r\nPS C:\\> exit\r\n",
			want: []string{"AMRunningMode=Normal"},
		},
		{
			name: "blank line inside a value",
			in:   "Id      : 7045\nMessage : A service was installed in the system.\n\n          Service Name:  hgabms\n\nId      : 7036\nMessage : The Application Experience service entered the running state.\n",
			want: []string{
				"Id=7045|Message=A service was installed in the system.\n\nService Name:  hgabms",
				"Id=7036|Message=The Application Experience service entered the running state.",
			},
		},
		{
			name: "byte order mark and CR CR LF",
			in:   "\xef\xbb\xbf\r\r\nDeviceID : C:\r\r\nSize     : 100\r\r\n",
			want: []string{"DeviceID=C:|Size=100"},
		},
		{
			name: "colons inside values and continuation lines",
			in:   "Path : C:\\Program Files\\x\r\nMessage : Subject:\r\n          Security ID:  S-1-5-18\r\n",
			want: []string{"Path=C:\\Program Files\\x|Message=Subject:\nSecurity ID:  S-1-5-18"},
		},
		{
			name: "no records",
			in:   "\r\nThe term 'Get-MpComputerStatus' is not recognized\r\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, rec := range ParsePSList([]byte(tt.in)) {
				var pairs []string
				for _, f := range rec.Fields {
					pairs = append(pairs, f.Name+"="+f.Value)
				}
				got = append(got, strings.Join(pairs, "|"))
			}
			if strings.Join(got, "\n---\n") != strings.Join(tt.want, "\n---\n") {
				t.Errorf("records =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestParsePSDateTime(t *testing.T) {
	tests := []struct {
		raw, pattern string
		want         time.Time
		wall, ok     bool
	}{
		{"2020-06-01T01:02:11Z", "", time.Date(2020, 6, 1, 1, 2, 11, 0, time.UTC), false, true},
		{"2025/10/16 15:07:36", "yyyy/M/d", time.Date(2025, 10, 16, 15, 7, 36, 0, time.UTC), true, true},
		{"5/6/2024 1:09:46 AM", "M/d/yyyy", time.Date(2024, 5, 6, 1, 9, 46, 0, time.UTC), true, true},
		{"18-10-2022 09:18:29 AM", "dd-MM-yyyy", time.Date(2022, 10, 18, 9, 18, 29, 0, time.UTC), true, true},
		{"2022-03-22 3:08:58 PM", "yyyy-MM-dd", time.Date(2022, 3, 22, 15, 8, 58, 0, time.UTC), true, true},
		{"", "", time.Time{}, false, false},
		{"18-10-2022 09:18:29 AM", "M/d/yyyy", time.Time{}, true, false},
	}
	for _, tt := range tests {
		got, wall, ok := parsePSDateTime(tt.raw, tt.pattern)
		if !got.Equal(tt.want) || wall != tt.wall || ok != tt.ok {
			t.Errorf("parsePSDateTime(%q, %q) = %v, wall %t, ok %t; want %v, %t, %t", tt.raw, tt.pattern, got, wall, ok, tt.want, tt.wall, tt.ok)
		}
	}
}

func TestParseWinLogicalDisksRecordings(t *testing.T) {
	tests := []struct {
		file string
		want []DFRow
	}{
		{
			// Get-WmiObject's default list on a zh-CN desktop: no FileSystem.
			file: "public-win10-zh-get-wmiobject-logicaldisk.txt",
			want: []DFRow{
				{Total: 107381518336, Used: 107381518336 - 38417653760, Avail: 38417653760, UsePercent: 65, Mount: "C:"},
				{Total: 403661910016, Used: 403661910016 - 265053827072, Avail: 265053827072, UsePercent: 35, Mount: "D:"},
			},
		},
		{
			// The same host, every property, with lines broken at 80 columns.
			file: "public-win10-zh-get-wmiobject-logicaldisk-fl-all.txt",
			want: []DFRow{
				{Type: "NTFS", Total: 107381518336, Used: 107381518336 - 37714276352, Avail: 37714276352, UsePercent: 65, Mount: "C:"},
				{Type: "NTFS", Total: 403661910016, Used: 403661910016 - 266487422976, Avail: 266487422976, UsePercent: 34, Mount: "D:"},
			},
		},
		{
			file: "public-win-zh-get-wmiobject-logicaldisk-volumename.txt",
			want: []DFRow{
				{Filesystem: "系统", Total: 85218238464, Used: 85218238464 - 38964342784, Avail: 38964342784, UsePercent: 55, Mount: "C:"},
				{Filesystem: "软件", Total: 394200608768, Used: 394200608768 - 253565566976, Avail: 253565566976, UsePercent: 36, Mount: "D:"},
			},
		},
		{
			// Z: is a network drive (DriveType 4) and is left out.
			file: "public-win-get-ciminstance-logicaldisk-all.txt",
			want: []DFRow{
				{Filesystem: "OS", Type: "NTFS", Total: 1007210721280, Used: 1007210721280 - 227111596032, Avail: 227111596032, UsePercent: 78, Mount: "C:"},
			},
		},
	}
	for _, tt := range tests {
		for _, input := range recordedInputs(t, tt.file) {
			t.Run(tt.file+" "+input.name, func(t *testing.T) {
				rows, skipped, err := ParseWinLogicalDisks(input.out)
				if err != nil {
					t.Fatal(err)
				}
				if len(skipped) != 0 {
					t.Errorf("skipped = %q", skipped)
				}
				if len(rows) != len(tt.want) {
					t.Fatalf("got %d rows %+v, want %d", len(rows), rows, len(tt.want))
				}
				for i := range tt.want {
					if rows[i] != tt.want[i] {
						t.Errorf("row %d = %+v\nwant     %+v", i, rows[i], tt.want[i])
					}
				}
			})
		}
	}
}

func TestEvaluateDiskRecording(t *testing.T) {
	rows, _, err := ParseWinLogicalDisks(readTestdata(t, "public-win-zh-get-wmiobject-logicaldisk-volumename.txt"))
	if err != nil {
		t.Fatal(err)
	}
	findings := evaluateDisk(diskUsage{Blocks: rows}, diskOptions{Threshold: HigherIsWorse(50, 90, "%")})
	want := []string{"C: warn", "D: ok"}
	if len(findings) != len(want) {
		t.Fatalf("findings = %+v", findings)
	}
	for i, w := range want {
		if got := findings[i].Item + " " + string(findings[i].Status); got != w {
			t.Errorf("finding %d = %s, want %s", i, got, w)
		}
	}
	if _, _, err := ParseWinLogicalDisks([]byte("\r\nGet-WmiObject : Invalid class\r\n")); err == nil {
		t.Error("output without a disk record was accepted")
	}
}

func TestParseWinServicesRecordings(t *testing.T) {
	tests := []struct {
		file string
		want []WinService
	}{
		{
			// zh-CN desktop: a Chinese display name for a service whose key
			// name is English.
			file: "public-win10-zh-get-wmiobject-service-fl.txt",
			want: []WinService{
				{Name: "Apple Mobile Device Service", DisplayName: "Apple Mobile Device Service", State: "Running", StartMode: "Auto"},
				{Name: "iPod Service", DisplayName: "iPod 服务", State: "Running", StartMode: "Manual"},
			},
		},
		{
			file: "public-win-get-ciminstance-service-unifi-stopped.txt",
			want: []WinService{{Name: "UniFi", DisplayName: "UniFi Network Server", State: "Stopped", StartMode: "Auto"}},
		},
		{
			file: "public-win-get-ciminstance-service-diagtrack.txt",
			want: []WinService{{Name: "DiagTrack", DisplayName: "Connected User Experiences and Telemetry", State: "Running", StartMode: "Auto"}},
		},
	}
	for _, tt := range tests {
		for _, input := range recordedInputs(t, tt.file) {
			t.Run(tt.file+" "+input.name, func(t *testing.T) {
				services, err := ParseWinServices(input.out)
				if err != nil {
					t.Fatal(err)
				}
				if len(services) != len(tt.want) {
					t.Fatalf("got %+v, want %+v", services, tt.want)
				}
				for i := range tt.want {
					if services[i] != tt.want[i] {
						t.Errorf("service %d = %+v, want %+v", i, services[i], tt.want[i])
					}
				}
			})
		}
	}
}

func TestEvaluateWinServicesRecordings(t *testing.T) {
	zh, err := ParseWinServices(readTestdata(t, "public-win10-zh-get-wmiobject-service-fl.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// Found by its Chinese display name; running, but started by hand.
	got := EvaluateWinServices([]string{"iPod 服务"}, zh, true)
	if len(got) != 1 || got[0].Item != "iPod Service" || got[0].Status != "fail" {
		t.Fatalf("findings = %+v", got)
	}
	wantZH := "服务 iPod Service (iPod 服务) 正在运行，但启动类型为手动，应为自动；重启后不会自动启动"
	if got[0].Message.ZH != wantZH {
		t.Errorf("Chinese message = %q\nwant               %q", got[0].Message.ZH, wantZH)
	}
	if got := EvaluateStoppedAutoServices(zh, nil); len(got) != 1 || got[0].Status != "ok" {
		t.Errorf("stopped automatic services = %+v, want one ok finding", got)
	}

	unifi, err := ParseWinServices(readTestdata(t, "public-win-get-ciminstance-service-unifi-stopped.txt"))
	if err != nil {
		t.Fatal(err)
	}
	stopped := EvaluateStoppedAutoServices(unifi, defaultIgnoredWinServices)
	wantEN := "automatic service UniFi (UniFi Network Server) is Stopped; start it or read the System event log for why it stopped"
	if len(stopped) != 1 || stopped[0].Item != "UniFi" || stopped[0].Status != "fail" || stopped[0].Message.EN != wantEN {
		t.Errorf("stopped automatic services = %+v", stopped)
	}
	if got := EvaluateWinServices([]string{"UniFi Network Server"}, unifi, false); got[0].Status != "fail" {
		t.Errorf("stopped service found by display name = %s, want fail", got[0].Status)
	}

	diag, err := ParseWinServices(readTestdata(t, "public-win-get-ciminstance-service-diagtrack.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := EvaluateWinServices([]string{"diagtrack"}, diag, true); got[0].Status != "ok" || got[0].Item != "DiagTrack" {
		t.Errorf("DiagTrack = %+v, want ok", got[0])
	}
}

// Test-PendingReboot -Detailed run through a remote session: the record the
// reboot probe prints, with a PendingFileRenameOperationsValue that the
// console broke at a space inside "Mozilla Firefox".
func TestParseRebootSignalsRecording(t *testing.T) {
	s := ParseRebootSignals(readTestdata(t, "public-win-get-pendingreboot-detailed.txt"))
	if !s.CBS || !s.WindowsUpdate || s.ComputerRename || !s.ConfigManager || !s.FileRenamesPending || len(s.Missing) != 0 {
		t.Errorf("signals = %+v", s)
	}
	wantPaths := []string{
		`\??\C:\Program Files (x86)\Google\Update\1.3.36.32`,
		`\??\C:\Program Files\Mozilla Firefox\tobedeleted\rep22a3fd82-3be9-4e14-8a3b-5e0fec91a402`,
		`\??\C:\Program Files\Mozilla Firefox\tobedeleted\rep22a3fd82-3be9-4e14-8a3b-5e0fec91a402`,
		`\??\C:\Program Files\Mozilla Firefox\tobedeleted\`,
		`\??\C:\Program Files (x86)\Mozilla Maintenance Service\maintenanceservice_tmp.exe`,
		`\??\C:\Config.Msi\9012fecd.rbf`,
	}
	if strings.Join(s.FileRenames, "\n") != strings.Join(wantPaths, "\n") {
		t.Errorf("file renames =\n%s\nwant\n%s", strings.Join(s.FileRenames, "\n"), strings.Join(wantPaths, "\n"))
	}

	f := EvaluateRebootSignals(s, false, false)
	wantEN := "the host waits for a reboot: component servicing (CBS RebootPending), Windows Update (RebootRequired), Configuration Manager client; installed updates take effect only after it, so schedule a reboot"
	if f.Status != "warn" || f.Message.EN != wantEN {
		t.Errorf("finding = %s %q\nwant warn %q", f.Status, f.Message.EN, wantEN)
	}
	if len(f.Evidence) != 7 || f.Evidence[6] != `PendingFileRenameOperations: \??\C:\Config.Msi\9012fecd.rbf` {
		t.Errorf("evidence = %q", f.Evidence)
	}

	// Without the servicing, update and Configuration Manager flags the file
	// renames alone warn, and ignore_file_renames clears them.
	s.CBS, s.WindowsUpdate, s.ConfigManager = false, false, false
	if f := EvaluateRebootSignals(s, true, false); f.Status != "warn" || f.Value.EN != "6 pending file renames" {
		t.Errorf("file renames alone = %s %q", f.Status, f.Value.EN)
	}
	if f := EvaluateRebootSignals(s, true, true); f.Status != "ok" {
		t.Errorf("file renames ignored = %s", f.Status)
	}
}

func TestPendingRenameSourcesForms(t *testing.T) {
	tests := map[string][]string{
		`\??\C:\a.tmp;;\??\C:\b.dll;!\??\C:\c.dll`: {`\??\C:\a.tmp`, `\??\C:\b.dll`},
		// Format-List shows an array in braces and cuts it after four items.
		`{\??\C:\a.tmp, , \??\C:\b.dll, ...}`: {`\??\C:\a.tmp`, `\??\C:\b.dll`},
		"":                                    nil,
	}
	for in, want := range tests {
		if got := pendingRenameSources(in); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("pendingRenameSources(%q) = %q, want %q", in, got, want)
		}
	}
}

// Get-WinEvent errors of the Application and System logs, selected with the
// properties the event log probe prints, on a host whose culture writes
// yyyy-MM-dd h:mm:ss tt. The records carry no RecordId.
func TestParseEventLogRecording(t *testing.T) {
	reads, err := ParseEventLogProbe(readTestdata(t, "public-win10-get-winevent-errors-fl.txt"), "yyyy-MM-dd")
	if err != nil {
		t.Fatal(err)
	}
	if len(reads) != 2 || reads[0].Log != "System" || reads[1].Log != "Application" {
		t.Fatalf("reads = %+v, want System then Application", reads)
	}
	type want struct {
		time     time.Time
		level    int
		provider string
		id       int
		message  string
	}
	wantSystem := []want{
		{time.Date(2022, 3, 22, 15, 8, 58, 0, time.UTC), 2, "Schannel", 36871, "A fatal error occurred while creating a TLS client credential. The internal error state is 10013."},
		{time.Date(2022, 3, 22, 10, 28, 22, 0, time.UTC), 2, "SurfaceTconDriver", 12, "Surface Tcon Driver TP Write fails, Status = 0xc0000186"},
		{time.Date(2022, 3, 22, 10, 28, 22, 0, time.UTC), 2, "SurfaceTconDriver", 13, "Surface Tcon Driver TP Read fails, Status = 0xc0000186"},
	}
	wantApplication := []want{
		{time.Date(2022, 3, 22, 13, 12, 54, 0, time.UTC), 2, "Application Error", 1000,
			"Faulting application name: backgroundTaskHost.exe, version: 10.0.19041.546, time stamp: 0x1d3a15e7 Faulting module name: ucrtbase.dll, version: 10.0.19041.789, time stamp: 0x2bd748bf Exception code: 0xc0000409 Fault offset: 0x0000000000071208 Faulting process id: 0x41fc Faulting application start time: 0x01d83e292d84fde2 Faulting application path: C:\\WINDOWS\\system32\\backgroundTaskHost.exe Faulting module path: C:\\WINDOWS\\System32\\ucrtbase.dll Report Id: 256b6816-dde0-41af-8666-e1420af4e233 Faulting package full name: Microsoft.SurfaceHub_61.2037.139.0_x64__8wekyb3d8bbwe Faulting package-relative application ID: App"},
		// Level 2 with an empty LevelDisplayName and no message text: the
		// provider's message file is missing on the host.
		{time.Date(2022, 3, 22, 10, 28, 22, 0, time.UTC), 2, "SurfaceTconHAL", 65535, ""},
	}
	for i, r := range reads {
		wants := [][]want{wantSystem, wantApplication}[i]
		if len(r.Events) != len(wants) {
			t.Fatalf("%s: %d events, want %d", r.Log, len(r.Events), len(wants))
		}
		for j, w := range wants {
			e := r.Events[j]
			if !e.Time.Equal(w.time) || e.Level != w.level || e.Provider != w.provider || e.ID != w.id || e.Message != w.message || e.Log != r.Log {
				t.Errorf("%s event %d = %+v\nwant %+v", r.Log, j, e, w)
			}
		}
	}

	req := eventLogRequest{Window: 24 * time.Hour, FirstWindow: 24 * time.Hour, MaxLevel: 2, MaxExcerpts: 2, MaxEvents: 500, Threshold: HigherIsWorse(1, 3, "")}
	system := EvaluateEventLog(req, reads[0], 0, false)
	if system.Status != "fail" || system.Metrics["events"] != 3 {
		t.Errorf("System = %s with %v events, want fail with 3", system.Status, system.Metrics["events"])
	}
	wantEvidence := []string{
		"Schannel/36871 ×1",
		"SurfaceTconDriver/12 ×1",
		"SurfaceTconDriver/13 ×1",
		// The recording shows times in the host culture, without a zone, so
		// they are kept as the host printed them.
		"2022-03-22 15:08:58 #0 [error/错误] Schannel/36871: A fatal error occurred while creating a TLS client credential. The internal error state is 10013.",
		"2022-03-22 10:28:22 #0 [error/错误] SurfaceTconDriver/12: Surface Tcon Driver TP Write fails, Status = 0xc0000186",
	}
	if strings.Join(system.Evidence, "\n") != strings.Join(wantEvidence, "\n") {
		t.Errorf("System evidence =\n%s\nwant\n%s", strings.Join(system.Evidence, "\n"), strings.Join(wantEvidence, "\n"))
	}
	wantMessage := "3 critical or error events in the System log in the last 1d"
	if system.Message.EN != wantMessage {
		t.Errorf("System message = %q, want %q", system.Message.EN, wantMessage)
	}

	req.Ignore = []string{"SurfaceTconHAL"}
	application := EvaluateEventLog(req, reads[1], 0, false)
	if application.Status != "warn" || application.Metrics["events"] != 1 || application.Metrics["ignored"] != 1 {
		t.Errorf("Application = %s, %v events, %v ignored; want warn, 1, 1", application.Status, application.Metrics["events"], application.Metrics["ignored"])
	}
	wantMessage = "1 critical or error event in the Application log in the last 1d; 1 ignored"
	wantZH := "Application 事件日志最近 1 天内有 1 个严重或错误事件；已忽略 1 个"
	if application.Message.EN != wantMessage || application.Message.ZH != wantZH {
		t.Errorf("Application message = %q / %q, want %q / %q", application.Message.EN, application.Message.ZH, wantMessage, wantZH)
	}
}

// The same recording shows LevelDisplayName; without Level the English and
// Chinese level names are read.
func TestEventLevelFromDisplayName(t *testing.T) {
	records := ParsePSList(readTestdata(t, "public-win10-get-winevent-errors-fl.txt"))
	tests := []struct {
		level, display string
		want           int
	}{
		{"", "Error", 2},
		{"", "错误", 2},
		{"", "关键", 1},
		{"", "警告", 3},
		{"", "", 0},
		{"2", "", 2},
	}
	for _, tt := range tests {
		rec := PSListRecord{Fields: []psListField{{"Id", records[0].Get("Id")}, {"LevelDisplayName", tt.display}}}
		if tt.level != "" {
			rec.Fields = append(rec.Fields, psListField{"Level", tt.level})
		}
		if got := eventLevel(rec); got != tt.want {
			t.Errorf("Level %q, LevelDisplayName %q read as %d, want %d", tt.level, tt.display, got, tt.want)
		}
	}
}

func TestParseSchedTasksRecordings(t *testing.T) {
	tests := []struct {
		file, pattern string
		want          SchedTask
	}{
		{
			// zh-CN host: a task that has not run yet.
			file: "public-zh-get-scheduledtaskinfo-never-run.txt", pattern: "yyyy/M/d",
			want: SchedTask{Found: true, Enabled: true, LastResult: 267011, NextRun: time.Date(2026, 6, 29, 8, 0, 22, 0, time.UTC)},
		},
		{
			file: "public-get-scheduledtaskinfo-never-run.txt", pattern: "M/d/yyyy",
			want: SchedTask{Requested: `\Backup-Upload-Task`, Found: true, Path: `\Backup-Upload-Task`, Enabled: true,
				LastResult: 267011, NextRun: time.Date(2024, 1, 2, 19, 19, 19, 0, time.UTC)},
		},
		{
			// en-IN culture: day first, 24-hour clock.
			file: "public-en-in-get-scheduledtaskinfo.txt", pattern: "dd-MM-yyyy",
			want: SchedTask{Requested: `\S3DailySync`, Found: true, Path: `\S3DailySync`, Enabled: true,
				LastRun: time.Date(2025, 8, 21, 16, 24, 15, 0, time.UTC), NextRun: time.Date(2025, 8, 22, 16, 13, 0, 0, time.UTC)},
		},
	}
	for _, tt := range tests {
		for _, input := range recordedInputs(t, tt.file) {
			t.Run(tt.file+" "+input.name, func(t *testing.T) {
				tasks, err := ParseSchedTasks(input.out, tt.pattern)
				if err != nil {
					t.Fatal(err)
				}
				if len(tasks) != 1 {
					t.Fatalf("tasks = %+v", tasks)
				}
				got := tasks[0]
				w := tt.want
				if got.Requested != w.Requested || got.Found != w.Found || got.Path != w.Path || got.Enabled != w.Enabled ||
					got.LastResult != w.LastResult || !got.LastRun.Equal(w.LastRun) || !got.NextRun.Equal(w.NextRun) || got.MissedRuns != w.MissedRuns {
					t.Errorf("task = %+v\nwant   %+v", got, w)
				}
			})
		}
	}
}

func TestEvaluateSchedTaskRecordings(t *testing.T) {
	zh, err := ParseSchedTasks(readTestdata(t, "public-zh-get-scheduledtaskinfo-never-run.txt"), "yyyy/M/d")
	if err != nil {
		t.Fatal(err)
	}
	// The record has no TaskName; the transcript it comes from names the
	// task CodexProxyRecovery.
	zh[0].Requested, zh[0].Path = "CodexProxyRecovery", `\CodexProxyRecovery`
	f := EvaluateSchedTask(zh[0], 0, time.Date(2026, 6, 29, 7, 40, 0, 0, time.UTC))
	wantZH := `任务 \CodexProxyRecovery（上次运行 从未运行，下次运行 2026-06-29 08:00:22） 从未运行`
	if f.Status != "warn" || f.Message.ZH != wantZH || f.Value.EN != "has never run (0x41303), last run never" {
		t.Errorf("never-run task = %s %q %q\nwant warn %q", f.Status, f.Value.EN, f.Message.ZH, wantZH)
	}

	daily, err := ParseSchedTasks(readTestdata(t, "public-en-in-get-scheduledtaskinfo.txt"), "dd-MM-yyyy")
	if err != nil {
		t.Fatal(err)
	}
	if f := EvaluateSchedTask(daily[0], 26*time.Hour, time.Date(2025, 8, 22, 10, 0, 0, 0, time.UTC)); f.Status != "ok" {
		t.Errorf("daily task 17h after its run = %s %q, want ok", f.Status, f.Message.EN)
	}
	late := EvaluateSchedTask(daily[0], 26*time.Hour, time.Date(2025, 8, 23, 10, 0, 0, 0, time.UTC))
	wantEN := `the last run of \S3DailySync (last run 2025-08-21 16:24:15, next run 2025-08-22 16:13:00) succeeded, but it last ran 1d 17h ago; check its trigger and whether the host was off`
	if late.Status != "fail" || late.Message.EN != wantEN {
		t.Errorf("daily task 41h after its run = %s %q\nwant fail %q", late.Status, late.Message.EN, wantEN)
	}
}

func TestParseDefenderStatusRecordings(t *testing.T) {
	tests := []struct {
		file, pattern string
		date          time.Time
		version       string
		disabled      bool
		parseError    string
	}{
		{"public-zh-get-mpcomputerstatus-fl-all.txt", "yyyy/M/d", time.Date(2025, 10, 16, 15, 7, 36, 0, time.UTC), "1.439.218.0", false, ""},
		{"public-win-get-mpcomputerstatus-stale.txt", "M/d/yyyy", time.Date(2024, 5, 6, 1, 9, 46, 0, time.UTC), "1.409.717.0", false, ""},
		{"public-en-in-get-mpcomputerstatus.txt", "dd-MM-yyyy", time.Date(2022, 10, 18, 9, 18, 29, 0, time.UTC), "1.377.418.0", false, ""},
		{"public-win-get-mpcomputerstatus-not-running.txt", "M/d/yyyy", time.Time{}, "0.0.0.0", true,
			"Windows Defender reports no signature update (AntivirusSignatureAge 4294967295)"},
	}
	for _, tt := range tests {
		for _, input := range recordedInputs(t, tt.file) {
			t.Run(tt.file+" "+input.name, func(t *testing.T) {
				sig, err := ParseDefenderStatus(input.out, tt.pattern)
				if err != nil {
					t.Fatal(err)
				}
				if !sig.Found || !sig.Date.Equal(tt.date) || sig.Version != tt.version || sig.Disabled != tt.disabled || sig.ParseError != tt.parseError {
					t.Errorf("signature = %+v", sig)
				}
				if !sig.Now.IsZero() {
					t.Errorf("Now = %v from a recording without the probe's Now", sig.Now)
				}
			})
		}
	}
	if _, err := ParseDefenderStatus([]byte("\r\nGet-MpComputerStatus : 找不到命令\r\n"), ""); err == nil {
		t.Error("output without a status record was accepted")
	}
}

func TestEvaluateDefenderRecordings(t *testing.T) {
	src := SignatureSource{Defender: true}
	week, fortnight := 7*24*time.Hour, 14*24*time.Hour

	zh, err := ParseDefenderStatus(readTestdata(t, "public-zh-get-mpcomputerstatus-fl-all.txt"), "yyyy/M/d")
	if err != nil {
		t.Fatal(err)
	}
	zh.Now = time.Date(2025, 10, 20, 9, 0, 0, 0, time.UTC)
	f := EvaluateSignature(src, zh, week, fortnight)
	if f.Status != "ok" || f.Item != "Windows Defender" || f.Value.ZH != "2025-10-16 15:07:36（距今 3 天 17 小时）" {
		t.Errorf("zh-CN host = %s %q %q", f.Status, f.Item, f.Value.ZH)
	}
	wantEvidence := "Get-MpComputerStatus AntivirusSignatureLastUpdated=2025/10/16 15:07:36 AntivirusSignatureVersion=1.439.218.0 AntivirusEnabled=true"
	if len(f.Evidence) != 1 || f.Evidence[0] != wantEvidence {
		t.Errorf("evidence = %q", f.Evidence)
	}

	// AntivirusSignatureAge 278 on the day this status was taken.
	stale, err := ParseDefenderStatus(readTestdata(t, "public-win-get-mpcomputerstatus-stale.txt"), "M/d/yyyy")
	if err != nil {
		t.Fatal(err)
	}
	stale.Now = stale.Date.Add(278*24*time.Hour + 3*time.Hour)
	f = EvaluateSignature(src, stale, week, fortnight)
	wantEN := "the antivirus signatures are 278d 3h old (from 2024-05-06 01:09:46); update them and check the update schedule"
	if f.Status != "fail" || f.Message.EN != wantEN {
		t.Errorf("stale signatures = %s %q\nwant fail %q", f.Status, f.Message.EN, wantEN)
	}

	off, err := ParseDefenderStatus(readTestdata(t, "public-win-get-mpcomputerstatus-not-running.txt"), "M/d/yyyy")
	if err != nil {
		t.Fatal(err)
	}
	off.Now = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	if f := EvaluateSignature(src, off, week, 0); f.Status != "fail" || f.Value.EN != "antivirus disabled" {
		t.Errorf("Defender not running = %s %q", f.Status, f.Value.EN)
	}
	off.Disabled = false
	f = EvaluateSignature(src, off, week, 0)
	if f.Status != "fail" || !strings.Contains(f.Message.EN, "AntivirusSignatureAge 4294967295") || !strings.Contains(f.Message.ZH, "WinDefend") {
		t.Errorf("no signature date = %s %q", f.Status, f.Message.EN)
	}

	missing := Signature{Found: false, Now: off.Now}
	if f := EvaluateSignature(src, missing, week, 0); f.Status != "fail" || !strings.Contains(f.Message.EN, "Windows Server 2012 R2") {
		t.Errorf("no Get-MpComputerStatus = %s %q", f.Status, f.Message.EN)
	}
}

// The probes print Format-List records, and the checks read recordings of
// that form through the probe path, as they arrive from a host.
func TestWindowsListProbesReadRecordings(t *testing.T) {
	tests := []struct {
		check, marker, file string
		args                module.Args
		want                []string
	}{
		{diskCheck, "Win32_LogicalDisk", "public-win-zh-get-wmiobject-logicaldisk-volumename.txt",
			module.Args{"warn": 50, "fail": 90}, []string{"C: warn", "D: ok"}},
		{serviceCheck, "Win32_Service", "public-win10-zh-get-wmiobject-service-fl.txt",
			module.Args{"units": []any{"iPod 服务"}}, []string{"iPod Service ok"}},
		{rebootCheck, "WindowsUpdateAutoUpdate", "public-win-get-pendingreboot-detailed.txt", nil, []string{"reboot warn"}},
		{antivirusCheck, "Get-MpComputerStatus", "public-zh-get-mpcomputerstatus-fl-all.txt",
			module.Args{"defender": true}, []string{"Windows Defender ok"}},
		{schedTaskCheck, "Get-ScheduledTaskInfo", "public-get-scheduledtaskinfo-never-run.txt",
			module.Args{"tasks": []any{"Backup-Upload-Task"}}, []string{`\Backup-Upload-Task warn`}},
		{eventLogCheck, "ReadLog", "public-win10-get-winevent-errors-fl.txt",
			module.Args{"logs": []any{"System", "Application"}, "since": "24h"}, []string{"System warn", "Application warn"}},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			env, conn := windowsEnv(t)
			conn.replies = []replay{{tt.marker, readTestdata(t, tt.file)}}
			env.Now = func() time.Time { return time.Date(2025, 10, 20, 9, 0, 0, 0, time.UTC) }
			res := runCheck(t, env, tt.check, tt.args)
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.Item+" "+string(f.Status))
			}
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("findings = %q, want %q", got, tt.want)
			}
			if len(conn.scripts) != 1 || !strings.Contains(conn.scripts[0], "Out-String -Width 4096") {
				t.Errorf("the probe does not print Format-List through Out-String -Width 4096:\n%s", strings.Join(conn.scripts, "\n"))
			}
		})
	}
}

func TestDefenderArgument(t *testing.T) {
	env, conn := windowsEnv(t)
	res := runCheck(t, env, antivirusCheck, module.Args{"defender": true, "path": `C:\x`})
	if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusError || !strings.Contains(res.Findings[0].Message.EN, "defender") {
		t.Errorf("defender with path = %+v", res.Findings)
	}
	if len(conn.scripts) != 0 {
		t.Error("a probe ran for invalid arguments")
	}
}
