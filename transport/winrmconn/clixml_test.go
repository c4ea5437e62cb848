package winrmconn

import (
	"os"
	"testing"
)

func TestParseCLIXMLRecorded(t *testing.T) {
	cases := []struct {
		file string
		want string
	}{
		{"clixml-command-not-found.txt",
			"Bogus : The term 'Bogus' is not recognized as the name of a cmdlet, function, \r\n" +
				"script file, or operable program. Check the spelling of the name, or if a path \r\n" +
				"was included, verify that the path is correct and try again.\r\n" +
				"At line:1 char:40\r\n" +
				"+ $ProgressPreference='SilentlyContinue';Bogus\r\n" +
				"+                                        ~~~~~\r\n" +
				"    + CategoryInfo          : ObjectNotFound: (Bogus:String) [], CommandNotFou \r\n" +
				"   ndException\r\n" +
				"    + FullyQualifiedErrorId : CommandNotFoundException\r\n" +
				" \r\n"},
		{"clixml-text-then-progress.txt", "The interface is unknown.(1717)\n"},
		{"clixml-progress-ad-module.txt", ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/" + c.file)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := ParseCLIXML(string(raw))
			if !ok {
				t.Fatalf("ParseCLIXML reported no CLIXML")
			}
			if got != c.want {
				t.Errorf("ParseCLIXML =\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

func TestParseCLIXML(t *testing.T) {
	const objs = `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">`
	cases := []struct {
		name   string
		in     string
		want   string
		wantOK bool
	}{
		{"plain stderr", "访问被拒绝。\r\n", "访问被拒绝。\r\n", false},
		{"empty document", "#< CLIXML\r\n" + objs + "</Objs>", "", true},
		{"warning", "#< CLIXML\r\n" + objs + `<S S="warning">disk almost full_x000D__x000A_</S></Objs>`, "WARNING: disk almost full\r\n", true},
		{"chinese error", "#< CLIXML\r\n" + objs + `<S S="Error">Get-Service : 找不到任何服务名称为“OracleServiceORCL”的服务。_x000D__x000A_</S></Objs>`,
			"Get-Service : 找不到任何服务名称为“OracleServiceORCL”的服务。\r\n", true},
		{"escaped underscore and entities", "#< CLIXML\r\n" + objs + `<S S="Error">a_x005F_x000D_b &lt;c&gt; &amp; _x0009_tab</S></Objs>`, "a_x000D_b <c> & \ttab", true},
		{"surrogate pair", "#< CLIXML\r\n" + objs + `<S S="Error">_xD83D__xDE00_</S></Objs>`, "😀", true},
		{"two documents", "#< CLIXML\r\n" + objs + `<S S="Error">one_x000A_</S></Objs>` + "\r\n#< CLIXML\r\n" + objs + `<S S="Error">two_x000A_</S></Objs>`, "one\n\r\ntwo\n", true},
		{"cut off", "#< CLIXML\r\n" + objs + `<S S="Error">one`, "#< CLIXML\r\n" + objs + `<S S="Error">one`, false},
		{"not objs", "#< CLIXML\r\n<html></html>", "#< CLIXML\r\n<html></html>", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := ParseCLIXML(c.in)
			if ok != c.wantOK {
				t.Errorf("ok = %v, want %v", ok, c.wantOK)
			}
			if got != c.want {
				t.Errorf("text = %q, want %q", got, c.want)
			}
		})
	}
}
