package checks

import (
	"os"
	"path/filepath"
	"testing"

	"patrol/i18n"
	"patrol/module"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read test data: %v", err)
	}
	return b
}

const (
	kib = int64(1024)
	mib = 1024 * kib
	gib = 1024 * mib
)

func TestParseDF(t *testing.T) {
	tests := []struct {
		file   string
		format DFFormat
		want   []DFRow
	}{
		{
			// Case 01: the LVM name wraps onto its own line in default df -h output.
			file:   "case01-df-h-wrapped-device.txt",
			format: DFFormat{},
			want: []DFRow{
				{Filesystem: "/dev/mapper/vg_host-lv_root", Total: 17 * gib, Used: 1825361101, Avail: 15 * gib, UsePercent: 11, Mount: "/"},
				{Filesystem: "tmpfs", Total: 2040109466, Used: 0, Avail: 2040109466, UsePercent: 0, Mount: "/dev/shm"},
				{Filesystem: "/dev/vda1", Total: 477 * mib, Used: 69 * mib, Avail: 384 * mib, UsePercent: 16, Mount: "/boot"},
			},
		},
		{
			// Case 01: the same host with -P gives the same rows.
			file:   "case01-df-hP.txt",
			format: DFFormat{},
			want: []DFRow{
				{Filesystem: "/dev/mapper/vg_host-lv_root", Total: 17 * gib, Used: 1825361101, Avail: 15 * gib, UsePercent: 11, Mount: "/"},
				{Filesystem: "tmpfs", Total: 2040109466, Used: 0, Avail: 2040109466, UsePercent: 0, Mount: "/dev/shm"},
				{Filesystem: "/dev/vda1", Total: 477 * mib, Used: 69 * mib, Avail: 384 * mib, UsePercent: 16, Mount: "/boot"},
			},
		},
		{
			// Case 01: the mount point wraps onto the next line.
			file:   "case01-df-wrapped-mount.txt",
			format: DFFormat{Unit: 1024},
			want: []DFRow{
				{Filesystem: "/dev/sdb", Total: 412814512 * kib, Used: 1436340 * kib, Avail: 390408396 * kib, UsePercent: 1, Mount: "/really/long/mount/point/name"},
			},
		},
		{
			// Case 02: Chinese headers are skipped by position.
			file:   "case02-df-h-zh.txt",
			format: DFFormat{},
			want: []DFRow{
				{Filesystem: "/dev/mapper/cl-root", Total: 50 * gib, Used: 20 * gib, Avail: 31 * gib, UsePercent: 40, Mount: "/"},
				{Filesystem: "devtmpfs", Total: 4080218931, Used: 0, Avail: 4080218931, UsePercent: 0, Mount: "/dev"},
				{Filesystem: "tmpfs", Total: 4080218931, Used: 0, Avail: 4080218931, UsePercent: 0, Mount: "/dev/shm"},
				{Filesystem: "/dev/sda1", Total: 1014 * mib, Used: 140 * mib, Avail: 875 * mib, UsePercent: 14, Mount: "/boot"},
				{Filesystem: "/dev/mapper/cl-home", Total: 873 * gib, Used: 166 * mib, Avail: 873 * gib, UsePercent: 1, Mount: "/home"},
			},
		},
		{
			file:   "debian12-df-Pk-T.txt",
			format: DFFormat{Unit: 1024, WithType: true},
			want: []DFRow{
				{Filesystem: "devtmpfs", Type: "devtmpfs", Total: 12334824 * kib, Used: 0, Avail: 12334824 * kib, UsePercent: 0, Mount: "/dev"},
				{Filesystem: "tmpfs", Type: "tmpfs", Total: 24683784 * kib, Used: 0, Avail: 24683784 * kib, UsePercent: 0, Mount: "/dev/shm"},
				{Filesystem: "/dev/vda", Type: "ext4", Total: 264212084 * kib, Used: 12775160 * kib, Avail: 82726104 * kib, UsePercent: 14, Mount: "/"},
				{Filesystem: "tmpfs", Type: "tmpfs", Total: 12341892 * kib, Used: 0, Avail: 12341892 * kib, UsePercent: 0, Mount: "/sys/fs/cgroup"},
			},
		},
		{
			file:   "debian12-df-Pi-T.txt",
			format: DFFormat{Unit: 1, WithType: true},
			want: []DFRow{
				{Filesystem: "devtmpfs", Type: "devtmpfs", Total: 3083706, Used: 113, Avail: 3083593, UsePercent: 1, Mount: "/dev"},
				{Filesystem: "tmpfs", Type: "tmpfs", Total: 3085473, Used: 1, Avail: 3085472, UsePercent: 1, Mount: "/dev/shm"},
				{Filesystem: "/dev/vda", Type: "ext4", Total: 16777216, Used: 415492, Avail: 16361724, UsePercent: 3, Mount: "/"},
				{Filesystem: "tmpfs", Type: "tmpfs", Total: 3085473, Used: 11, Avail: 3085462, UsePercent: 1, Mount: "/sys/fs/cgroup"},
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rows, skipped := ParseDF(readTestdata(t, tt.file), tt.format)
			if len(skipped) != 0 {
				t.Errorf("skipped lines %q, want none", skipped)
			}
			if len(rows) != len(tt.want) {
				t.Fatalf("got %d rows %+v, want %d", len(rows), rows, len(tt.want))
			}
			for i := range tt.want {
				if rows[i] != tt.want[i] {
					t.Errorf("row %d = %+v, want %+v", i, rows[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseDFRecordedPlainAndHuman(t *testing.T) {
	plain, _ := ParseDF(readTestdata(t, "debian12-df-Pk.txt"), DFFormat{Unit: 1024})
	human, _ := ParseDF(readTestdata(t, "debian12-df-h.txt"), DFFormat{})
	if len(plain) != 4 || len(human) != 4 {
		t.Fatalf("got %d plain and %d human rows, want 4 each", len(plain), len(human))
	}
	for i := range plain {
		if plain[i].Mount != human[i].Mount {
			t.Errorf("row %d: mount %q in -k output, %q in -h output", i, plain[i].Mount, human[i].Mount)
		}
		// -h rounds to two significant digits, so sizes agree within 5 %.
		diff := float64(plain[i].Total-human[i].Total) / float64(plain[i].Total)
		if diff > 0.05 || diff < -0.05 {
			t.Errorf("%s: size %d from -k, %d from -h", plain[i].Mount, plain[i].Total, human[i].Total)
		}
	}
}

func TestParseDFJoinsAndSkips(t *testing.T) {
	out := []byte(`Filesystem     1024-blocks      Used Available Capacity Mounted on
/dev/mapper/very-long-volume-group-name-lv_data
                 104806400  94325760  10480640      91% /data
df: /mnt/nfs: Stale file handle
/dev/sdc1         1000     500     500    50% /mnt/with space
`)
	rows, skipped := ParseDF(out, DFFormat{Unit: 1024})
	if len(rows) != 2 {
		t.Fatalf("got %d rows %+v, want 2", len(rows), rows)
	}
	if rows[0].Mount != "/data" || rows[0].UsePercent != 91 {
		t.Errorf("joined row = %+v, want /data at 91%%", rows[0])
	}
	if rows[1].Mount != "/mnt/with space" {
		t.Errorf("mount with a space = %q", rows[1].Mount)
	}
	if len(skipped) != 1 || skipped[0] != "df: /mnt/nfs: Stale file handle" {
		t.Errorf("skipped = %q, want the df error line", skipped)
	}
}

func TestParseDFInodeDash(t *testing.T) {
	out := []byte("Filesystem Type Inodes IUsed IFree IUse% Mounted on\n/dev/sdb1 btrfs 0 0 0 - /srv\n")
	rows, _ := ParseDF(out, DFFormat{Unit: 1, WithType: true})
	if len(rows) != 1 || rows[0].UsePercent != -1 {
		t.Fatalf("rows = %+v, want one row with UsePercent -1", rows)
	}
	usage := diskUsage{Blocks: []DFRow{{Filesystem: "/dev/sdb1", Type: "btrfs", Total: 10, Used: 1, Avail: 9, UsePercent: 10, Mount: "/srv"}}, Inodes: rows}
	findings := evaluateDisk(usage, diskOptions{Threshold: HigherIsWorse(80, 90, "%"), Inodes: true})
	if len(findings) != 1 {
		t.Errorf("got %d findings, want 1 (no inode finding for btrfs)", len(findings))
	}
}

func TestParseDFColumnsChineseAvail(t *testing.T) {
	// Case 02: /tmp has 41442220 KiB available.
	rows := ParseDFColumns(readTestdata(t, "case02-df-output-avail-zh.txt"), []string{"avail"})
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	if rows[0]["avail"] != "41442220" {
		t.Errorf("avail = %q, want 41442220", rows[0]["avail"])
	}
}

func TestEvaluateDiskCase02(t *testing.T) {
	rows, _ := ParseDF(readTestdata(t, "case02-df-h-zh.txt"), DFFormat{})
	opts := diskOptions{
		Threshold: HigherIsWorse(80, 90, "%"),
		Exclude:   []string{"tmpfs", "devtmpfs", "overlay", "squashfs"},
	}
	findings := evaluateDisk(diskUsage{Blocks: rows}, opts)

	want := map[string]i18n.Text{
		"/":     i18n.T("40% used, 31.0 GiB free", "已用 40%，剩余 31.0 GiB"),
		"/boot": i18n.T("14% used, 875.0 MiB free", "已用 14%，剩余 875.0 MiB"),
		"/home": i18n.T("1% used, 873.0 GiB free", "已用 1%，剩余 873.0 GiB"),
	}
	if len(findings) != len(want) {
		t.Fatalf("got %d findings, want %d: %+v", len(findings), len(want), findings)
	}
	for _, f := range findings {
		if f.Value != want[f.Item] {
			t.Errorf("%s value = %q, want %q", f.Item, f.Value, want[f.Item])
		}
		if f.Status != module.StatusOK {
			t.Errorf("%s status = %s, want ok", f.Item, f.Status)
		}
		if f.Threshold != i18n.T("warn ≥80%, fail ≥90%", "警告 ≥80%，不合格 ≥90%") {
			t.Errorf("%s threshold = %q", f.Item, f.Threshold)
		}
		if f.Message.ZH == "" || f.Message.EN == "" {
			t.Errorf("%s message is not bilingual: %+v", f.Item, f.Message)
		}
	}
	if findings[0].Metrics["used_percent"] != 40 {
		t.Errorf("/ used_percent = %v, want 40", findings[0].Metrics["used_percent"])
	}
}

func TestEvaluateDiskLevels(t *testing.T) {
	rows := []DFRow{
		{Filesystem: "/dev/a", Type: "xfs", Total: 100 * gib, Used: 79 * gib, Avail: 21 * gib, UsePercent: 79, Mount: "/a"},
		{Filesystem: "/dev/b", Type: "xfs", Total: 100 * gib, Used: 80 * gib, Avail: 20 * gib, UsePercent: 80, Mount: "/b"},
		{Filesystem: "/dev/c", Type: "xfs", Total: 100 * gib, Used: 90 * gib, Avail: 10 * gib, UsePercent: 90, Mount: "/c"},
		{Filesystem: "/dev/d", Type: "xfs", Total: 1000 * gib, Used: 500 * gib, Avail: 5 * gib, UsePercent: 50, Mount: "/d"},
	}
	inodes := []DFRow{{Filesystem: "/dev/a", Type: "xfs", Total: 1000, Used: 950, Avail: 50, UsePercent: 95, Mount: "/a"}}
	opts := diskOptions{Threshold: HigherIsWorse(80, 90, "%"), MinFree: 8 * gib, HasMinFree: true, Inodes: true, Mounts: []string{"/a", "/b", "/c", "/d", "/missing"}}
	findings := evaluateDisk(diskUsage{Blocks: rows, Inodes: inodes}, opts)

	want := map[string]module.Status{
		"/missing": module.StatusFail, "/a": module.StatusOK, "/a inodes": module.StatusFail,
		"/b": module.StatusWarn, "/c": module.StatusFail, "/d": module.StatusFail,
	}
	if len(findings) != len(want) {
		t.Fatalf("got %d findings, want %d: %+v", len(findings), len(want), findings)
	}
	for _, f := range findings {
		if f.Status != want[f.Item] {
			t.Errorf("%s status = %s, want %s (%s)", f.Item, f.Status, want[f.Item], f.Message.EN)
		}
	}
	if th := findings[1].Threshold; th != i18n.T("warn ≥80%, fail ≥90%, fail ≤8.0 GiB free", "警告 ≥80%，不合格 ≥90%，剩余 ≤8.0 GiB 不合格") {
		t.Errorf("threshold with min_free = %q", th)
	}
}
