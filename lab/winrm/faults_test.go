package winrmlab

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestInjectedFaultConfigErrors(t *testing.T) {
	entries := []Entry{{Match: regexp.MustCompile("hostname")}}
	_, err := New(Config{User: testUser, Entries: entries, Faults: []InjectedFault{
		{Action: "Enumerate", Message: "x"},
		{Action: "Delete", Match: regexp.MustCompile("x"), Message: "x"},
		{Action: "Send", Message: " "},
	}})
	if err == nil {
		t.Fatal("New accepted invalid faults")
	}
	for _, want := range []string{
		`fault 1: action "Enumerate" is not one of Create, Command, Receive, Send, Signal or Delete`,
		"fault 2: a Delete request has no command text to match: remove Match",
		"fault 3: message is empty",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

func TestInjectedFaultOnMatchingCommand(t *testing.T) {
	const message = "拒绝访问。"
	_, port := startServer(t, Config{Faults: []InjectedFault{{
		Action: "Command", Match: regexp.MustCompile("^quser"),
		Subcode: "w:AccessDenied", Code: 5, Message: message, Lang: "zh-CN",
	}}})
	client := newClient(t, port, clientOptions{})
	shell, err := client.CreateShell()
	if err != nil {
		t.Fatalf("CreateShell: %v", err)
	}
	defer shell.Close()

	_, err = shell.Execute("quser")
	body := faultBody(t, err)
	for _, want := range []string{`<s:Text xml:lang="zh-CN">` + message + `</s:Text>`, `Code="5"`, "w:AccessDenied"} {
		if !strings.Contains(body, want) {
			t.Errorf("fault does not contain %q:\n%s", want, body)
		}
	}

	stdout, _, code, err := client.RunCmdWithContext(context.Background(), "hostname")
	if err != nil || stdout != "SEAL-DB-1\r\n" || code != 0 {
		t.Errorf("hostname = %q, code %d, err %v; want the replayed output, as the fault matches quser only", stdout, code, err)
	}
}

func TestCreateWithoutShellID(t *testing.T) {
	srv, port := startServer(t, Config{CreateWithoutShellID: true, RecordRequests: true})
	client := newClient(t, port, clientOptions{})

	shell, err := client.CreateShell()
	if err != nil {
		t.Fatalf("CreateShell: %v", err)
	}
	// The library takes the empty ShellId as it is; the next request
	// addresses no shell.
	_, err = shell.Execute("hostname")
	if body := faultBody(t, err); !strings.Contains(body, "shell was not found") {
		t.Errorf("command after an empty ShellId: fault = %q, want shell not found", body)
	}
	if records := srv.Requests(); len(records) < 1 || records[0].Action != "Create" || records[0].Fault != "" {
		t.Errorf("first request record = %+v, want a Create answered without a fault", records)
	}
}

func TestRequestLogOff(t *testing.T) {
	srv, port := startServer(t, Config{})
	client := newClient(t, port, clientOptions{})
	if _, _, _, err := client.RunCmdWithContext(context.Background(), "hostname"); err != nil {
		t.Fatalf("run: %v", err)
	}
	if records := srv.Requests(); len(records) != 0 {
		t.Errorf("Requests() has %d records without RecordRequests, want none", len(records))
	}
}

func TestRequestLogActions(t *testing.T) {
	srv, port := startServer(t, Config{RecordRequests: true})
	client := newClient(t, port, clientOptions{})
	if _, _, _, err := client.RunCmdWithContext(context.Background(), "hostname"); err != nil {
		t.Fatalf("run: %v", err)
	}

	var actions []string
	for _, r := range srv.Requests() {
		actions = append(actions, r.Action)
		if r.Remote == "" {
			t.Errorf("record %+v has no client address", r)
		}
		if r.Action != "Create" && r.ShellID == "" {
			t.Errorf("record %+v has no ShellId", r)
		}
		if (r.Action == "Receive" || r.Action == "Send" || r.Action == "Signal") && r.CommandID == "" {
			t.Errorf("record %+v has no CommandId", r)
		}
	}
	got := strings.Join(actions, " ")
	if !strings.HasPrefix(got, "Create Command ") || !strings.Contains(got, "Receive") || !strings.HasSuffix(got, "Delete") {
		t.Errorf("recorded actions = %q, want Create, Command, Receive ... and Delete last", got)
	}
}

// TestRequestLogSendBesideReceive sends stdin to a command whose output is
// held back, while the library's Receive for it waits on the server.
func TestRequestLogSendBesideReceive(t *testing.T) {
	srv, port := startServer(t, Config{RecordRequests: true})
	client := newClient(t, port, clientOptions{timeout: "PT60S"})
	shell, err := client.CreateShell()
	if err != nil {
		t.Fatalf("CreateShell: %v", err)
	}
	defer shell.Close()
	cmd, err := shell.Execute("ping -n 3600 127.0.0.1")
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	defer cmd.Close()

	// The library sends its first Receive right after the Command; the
	// server holds it for the hour of the entry's delay. Send until a Send
	// finds it in progress, which this loop waits for rather than times.
	var last RequestRecord
	for range 1000 {
		if _, err := cmd.Stdin.Write([]byte("y\r\n")); err != nil {
			t.Fatalf("write stdin: %v", err)
		}
		records := srv.Requests()
		last = records[len(records)-1]
		if last.ReceivesInProgress > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if last.Action != "Send" || last.ReceivesInProgress != 1 {
		t.Errorf("last record = %+v, want a Send with 1 Receive in progress", last)
	}
}
