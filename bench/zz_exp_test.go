package bench

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestZZExperiment(t *testing.T) {
	if os.Getenv("BENCH_EXP") == "" {
		t.Skip()
	}
	dir := "/tmp/bench-hold"
	pidText, _ := os.ReadFile(dir + "/pids")
	var pids []int
	for _, f := range strings.Fields(strings.Trim(string(pidText), "[]")) {
		p, _ := strconv.Atoi(f)
		pids = append(pids, p)
	}
	portsText, _ := os.ReadFile(dir + "/floor-ports.txt")
	ports := strings.Fields(string(portsText))
	keyPEM, _ := os.ReadFile(dir + "/client_key")
	signer, _ := ssh.ParsePrivateKey(keyPEM)
	hk, err := knownhosts.New(dir + "/known_hosts")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hk}
	n := 12
	script := "true"
	variants := map[string]func() string{
		"patrol-now": func() string {
			return `exec env LC_ALL=C /bin/sh -c 'read -r s </proc/$$/stat 2>/dev/null; echo "m:$$ $s" >&2; exec "$@"' sh /bin/sh -c ` + script
		},
		"one-sh": func() string {
			return `exec /bin/sh -c 'read -r s </proc/$$/stat 2>/dev/null; echo "m:$$ $s" >&2; LC_ALL=C; export LC_ALL; eval "$1"' sh ` + script
		},
		"plain": func() string { return script },
	}
	order := strings.Split(os.Getenv("BENCH_EXP"), ",")
	for _, name := range order {
		before := serverCPU(pids)
		start := time.Now()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 50)
		for _, port := range ports {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				client, err := ssh.Dial("tcp", "127.0.0.1:"+port, cfg)
				if err != nil {
					t.Error(err)
					return
				}
				defer client.Close()
				if name == "persistent" {
					s, _ := client.NewSession()
					in, _ := s.StdinPipe()
					out, _ := s.StdoutPipe()
					s.Start("exec /bin/sh")
					buf := make([]byte, 4096)
					for i := 0; i < n; i++ {
						fmt.Fprintf(in, "( %s ) </dev/null; echo \"@@done $?\"\n", script)
						acc := ""
						for !strings.Contains(acc, "@@done") {
							k, err := out.Read(buf)
							if err != nil {
								t.Error(err)
								return
							}
							acc += string(buf[:k])
						}
					}
					in.Close()
					io.Copy(io.Discard, out)
					s.Wait()
					return
				}
				for i := 0; i < n; i++ {
					s, err := client.NewSession()
					if err != nil {
						t.Error(err)
						return
					}
					if _, err := s.CombinedOutput(variants[name]()); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		wall := time.Since(start)
		waitServersIdle(t.Context(), pids, 10*time.Second)
		fmt.Printf("%-12s wall %.2fs server CPU %.2fs\n", name, wall.Seconds(), (serverCPU(pids) - before).Seconds())
	}
}
