package winrmconn

import (
	"os"
	"testing"
	"unicode/utf16"
)

func utf16LE(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// TestDecodeOutputQuserGBK decodes the quser output of a Chinese Windows
// Server 2008 R2 host that another tool showed as code page 437 mojibake
// (impacket issue 1079). The bytes were recovered from the printed text by
// encoding it back to code page 437.
func TestDecodeOutputQuserGBK(t *testing.T) {
	raw, err := os.ReadFile("testdata/quser-gbk.bin")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/quser-gbk.expected.txt")
	if err != nil {
		t.Fatal(err)
	}

	for _, forced := range []bool{false, true} {
		if got := DecodeOutput(raw, forced); got != string(want) {
			t.Errorf("DecodeOutput(quser, forced=%v) =\n%q\nwant\n%q", forced, got, want)
		}
	}
}

func TestDecodeOutput(t *testing.T) {
	gbkHeader := []byte{0x20, 0xd3, 0xc3, 0xbb, 0xa7, 0xc3, 0xfb, 0x20, 0x49, 0x44, 0x20, 0xd7, 0xb4, 0xcc, 0xac}
	cases := []struct {
		name   string
		in     []byte
		forced bool
		want   string
	}{
		{"ascii", []byte("C:\\Windows\r\n"), false, "C:\\Windows\r\n"},
		{"utf8", []byte("服务正在运行\r\n"), true, "服务正在运行\r\n"},
		{"utf8 not forced", []byte("服务正在运行\r\n"), false, "服务正在运行\r\n"},
		{"utf8 bom", append([]byte{0xEF, 0xBB, 0xBF}, "磁盘 C:"...), false, "磁盘 C:"},
		{"gbk header", gbkHeader, false, " 用户名 ID 状态"},
		{"utf16le bom", utf16LE("主机名: SEAL-DB-1\r\n", true), false, "主机名: SEAL-DB-1\r\n"},
		{"utf16le no bom", utf16LE("Node,Caption\r\n", false), false, "Node,Caption\r\n"},
		{"utf16le bom forced", utf16LE("已安装", true), true, "已安装"},
		{"mixed lines forced", append([]byte("状态: ok\r\n"), gbkHeader...), true, "状态: ok\r\n 用户名 ID 状态"},
		{"empty", nil, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := DecodeOutput(c.in, c.forced); got != c.want {
				t.Errorf("DecodeOutput(% x, %v) = %q, want %q", c.in, c.forced, got, c.want)
			}
		})
	}
}
