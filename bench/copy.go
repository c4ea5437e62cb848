package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// Copy tool names, as printed.
const (
	CopyToolPatrol    = "patrol, copy task"
	CopyToolSFTP      = "sftp, put"
	CopyToolSCP       = "scp (SFTP protocol)"
	CopyToolSCPLegacy = "scp -O (SCP protocol)"
)

// copyCipher is the cipher x/crypto/ssh negotiates with OpenSSH 9.2, given
// to the OpenSSH tools too, so that all of them pay for the same encryption.
const copyCipher = "aes128-gcm@openssh.com"

// CopyResult is the median figures of copying one file to one sshd with each
// tool, in the order measured.
type CopyResult struct {
	// Bytes is the size of the copied file.
	Bytes int64
	Tools []CopySample
}

// CopySample is one tool's median figures.
type CopySample struct {
	Tool string
	Sample
}

// RunCopy copies a file of cfg.CopyMB MiB of random bytes to one sshd on
// 127.0.0.1 with patrol's copy module, OpenSSH's sftp and scp (with the SFTP
// and the SCP protocol), cfg.Reps times each, taking turns. Every run starts
// with no destination file, and its result is checked by size and SHA-256.
// It stops the sshd before it returns, also when ctx is cancelled.
func RunCopy(ctx context.Context, cfg Config) (*CopyResult, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Reps < 1 {
		return nil, fmt.Errorf("reps is %d: it must be at least 1", cfg.Reps)
	}
	if cfg.CopyMB < 1 {
		return nil, fmt.Errorf("copy size is %d MiB: it must be at least 1", cfg.CopyMB)
	}
	if _, err := os.Stat(cfg.Patrol); err != nil {
		return nil, fmt.Errorf("patrol binary: %w (build it with make build)", err)
	}
	base, cleanup, err := workDir(&cfg)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	dir := filepath.Join(base, "copy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}

	fmt.Fprintf(cfg.Log, "copy: starting one sshd on 127.0.0.1\n")
	cluster, err := StartCluster(ctx, dir, 1)
	if err != nil {
		return nil, err
	}
	defer cluster.Stop()
	server := cluster.Servers[0]

	src := filepath.Join(dir, "patch.bin")
	fmt.Fprintf(cfg.Log, "copy: writing %d MiB of random bytes to %s\n", cfg.CopyMB, src)
	size := int64(cfg.CopyMB) << 20
	sum, err := writeRandomFile(src, size)
	if err != nil {
		return nil, err
	}
	dstDir := filepath.Join(dir, "received")
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		return nil, err
	}
	dst := filepath.Join(dstDir, "patch.bin")

	w := &Workload{DataDir: filepath.Join(dir, "data"), PatrolInventory: filepath.Join(dir, "patrol-inventory.yml")}
	playbook := filepath.Join(dir, "patrol-copy.yml")
	batch := filepath.Join(dir, "sftp-batch.txt")
	files := map[string]string{
		w.PatrolInventory: patrolInventory(cluster),
		playbook:          copyPlaybook(src, dst),
		batch:             fmt.Sprintf("put %s %s\n", sftpQuote(src), sftpQuote(dst)),
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
	}

	tools := []struct {
		name string
		run  func(rep string) (run, error)
	}{
		{CopyToolPatrol, func(rep string) (run, error) {
			r, err := runPatrol(ctx, &cfg, cluster, w, playbook, 1, "copy-"+rep)
			if err == nil {
				err = verifyPatrolCopy(r)
			}
			return r, err
		}},
		{CopyToolSFTP, func(string) (run, error) {
			argv := append([]string{"sftp"}, openSSHOptions(cluster)...)
			argv = append(argv, "-P", strconv.Itoa(server.Port), "-b", batch, "root@127.0.0.1")
			return measure(ctx, argv, toolEnv(), cluster, nil)
		}},
		{CopyToolSCP, func(string) (run, error) {
			argv := append([]string{"scp"}, openSSHOptions(cluster)...)
			argv = append(argv, "-P", strconv.Itoa(server.Port), src, "root@127.0.0.1:"+dst)
			return measure(ctx, argv, toolEnv(), cluster, nil)
		}},
		{CopyToolSCPLegacy, func(string) (run, error) {
			argv := append([]string{"scp", "-O"}, openSSHOptions(cluster)...)
			argv = append(argv, "-P", strconv.Itoa(server.Port), src, "root@127.0.0.1:"+dst)
			return measure(ctx, argv, toolEnv(), cluster, nil)
		}},
	}

	// One unmeasured copy by patrol loads its binary and lets sshd finish
	// its first fork.
	fmt.Fprintf(cfg.Log, "copy: warm-up run of patrol\n")
	if err := os.RemoveAll(dst); err != nil {
		return nil, err
	}
	if _, err := tools[0].run("warmup"); err != nil {
		return nil, err
	}

	samples := make([][]Sample, len(tools))
	for rep := 1; rep <= cfg.Reps; rep++ {
		tag := fmt.Sprintf("copy %d MiB, run %d/%d", cfg.CopyMB, rep, cfg.Reps)
		for i, tool := range tools {
			if err := os.RemoveAll(dst); err != nil {
				return nil, err
			}
			r, err := tool.run(strconv.Itoa(rep))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", tool.name, err)
			}
			if r.ExitCode != 0 {
				return nil, fmt.Errorf("%s exited with status %d; stderr:\n%s", tool.name, r.ExitCode, tail(r.Stderr))
			}
			if err := verifyCopy(dst, size, sum); err != nil {
				return nil, fmt.Errorf("%s: %w", tool.name, err)
			}
			logSample(cfg.Log, tag, tool.name, r.Sample)
			samples[i] = append(samples[i], r.Sample)
		}
	}
	os.RemoveAll(dst)

	result := &CopyResult{Bytes: size}
	for i, tool := range tools {
		result.Tools = append(result.Tools, CopySample{Tool: tool.name, Sample: median(samples[i])})
	}
	return result, nil
}

// openSSHOptions are the options the OpenSSH copy tools share with the
// floor: no configuration file, the key exchange and cipher x/crypto/ssh
// negotiates, the cluster's key and known_hosts file.
func openSSHOptions(c *Cluster) []string {
	return []string{
		"-F", "none",
		"-o", "KexAlgorithms=curve25519-sha256",
		"-o", "Ciphers=" + copyCipher,
		"-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile=" + c.KnownHostsPath,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "IdentitiesOnly=yes",
		"-o", "LogLevel=ERROR",
		"-i", c.ClientKeyPath,
	}
}

// copyPlaybook copies src to dest with patrol's copy module.
func copyPlaybook(src, dest string) string {
	return fmt.Sprintf(`# Written by patrol-bench: copy one file.
- name: benchmark copy
  hosts: all
  tasks:
    - name: copy the patch
      copy: {src: %s, dest: %s}
`, yamlQuote(src), yamlQuote(dest))
}

// verifyPatrolCopy requires exit status 0 and a result with status changed.
func verifyPatrolCopy(r run) error {
	if r.ExitCode != 0 {
		return fmt.Errorf("patrol exited with status %d; stderr:\n%s", r.ExitCode, tail(r.Stderr))
	}
	scanner := bufio.NewScanner(bytes.NewReader(r.Stdout))
	for scanner.Scan() {
		var res patrolResult
		if err := json.Unmarshal(scanner.Bytes(), &res); err == nil && res.Status == "changed" {
			return nil
		}
	}
	return fmt.Errorf("patrol printed no changed result; stdout:\n%s", tail(r.Stdout))
}

// verifyCopy checks that path has size bytes and the SHA-256 sum.
func verifyCopy(path string, size int64, sum string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("copied file: %w", err)
	}
	defer f.Close()
	hash := sha256.New()
	n, err := io.Copy(hash, f)
	if err != nil {
		return fmt.Errorf("read copied file %s: %w", path, err)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); n != size || got != sum {
		return fmt.Errorf("copied file %s has %d bytes with sha256 %s, expected %d bytes with sha256 %s", path, n, got, size, sum)
	}
	return nil
}

// writeRandomFile writes size random bytes to path and returns their
// SHA-256. Random bytes keep any compression from helping a tool.
func writeRandomFile(path string, size int64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	hash := sha256.New()
	_, err = io.CopyN(io.MultiWriter(f, hash), rand.Reader, size)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return hex.EncodeToString(hash.Sum(nil)), nil
}

// sftpQuote quotes a path for an sftp batch file.
func sftpQuote(path string) string {
	return strconv.Quote(path)
}

// WriteCopyReport prints the copy figures as a Markdown table.
func WriteCopyReport(w io.Writer, r *CopyResult, reps int) {
	fmt.Fprintf(w, "### Copy of one %.0f MiB file over loopback (median of %d runs)\n\n", mb(r.Bytes), reps)
	fmt.Fprintln(w, "| tool | wall | throughput | CPU (user+sys) | peak memory | sshd + remote CPU |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, t := range r.Tools {
		fmt.Fprintf(w, "| %s | %.2f s | %.0f MiB/s | %.2f s | %s | %.2f s |\n",
			t.Tool, t.Wall.Seconds(), mb(r.Bytes)/t.Wall.Seconds(), t.CPU().Seconds(), memory(t.MaxRSS), t.ServerCPU.Seconds())
	}
	fmt.Fprintln(w)
	walls := map[string]float64{}
	for _, t := range r.Tools {
		walls[t.Tool] = t.Wall.Seconds()
	}
	for _, other := range []string{CopyToolSFTP, CopyToolSCP, CopyToolSCPLegacy} {
		if walls[CopyToolPatrol] > 0 && walls[other] > 0 {
			fmt.Fprintf(w, "- patrol / %s wall: %.2f×\n", other, walls[CopyToolPatrol]/walls[other])
		}
	}
	fmt.Fprintln(w)
}
