package patches

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"patrol/i18n"
)

// ImportRequest describes patch files to add to a catalog.
type ImportRequest struct {
	CatalogPath string
	// Files are the patch files on this machine, in install order.
	Files    []string
	ID       string
	Title    string
	Severity Severity
	Arrived  time.Time
	Method   Method
	OS       []string
	Systems  []string
	Reboot   bool
	// SHA256 lists the checksums delivered with the files, one per file in
	// the order of Files. Every file needs one unless NoDeliveredChecksum is
	// set.
	SHA256 []string
	// RollbackFiles are older RPMs that a rollback puts back (rpm and yum).
	RollbackFiles []string
	// RollbackSHA256 lists the checksums delivered with the rollback files,
	// in the order of RollbackFiles, under the same rule as SHA256.
	RollbackSHA256 []string
	// NoDeliveredChecksum allows files without a delivered checksum; the
	// result lists them in Unchecked. Checksums that are given are still
	// compared.
	NoDeliveredChecksum bool
	// RollbackNone records that the patch cannot be rolled back.
	RollbackNone  bool
	StopServices  []string
	VerifyCommand string
	// Packages overrides the NEVRAs read from the RPM headers.
	Packages []string
	// KB overrides the KB number read from a Windows update's file name.
	KB string
	// OPatch overrides the patch number read from an Oracle patch file name.
	OPatch string
	// Version is applies_to.version for Oracle patches, such as 11.2.0.4.
	Version string
	// ReadRPM returns the NEVRA of each RPM file; nil means ReadRPMHeaders.
	ReadRPM func(ctx context.Context, files []string) ([]string, error)
}

// ImportResult is the outcome of an import.
type ImportResult struct {
	Patch *Patch
	// Unchanged means the catalog already had the patch with the same files,
	// so nothing was written.
	Unchanged bool
	// Copied are the repository paths written, relative to the repository.
	Copied []string
	// Unchecked are the files, patch and rollback files, imported without a
	// delivered checksum to compare with.
	Unchecked []string
}

// ImportError is invalid input to an import: nothing was written.
type ImportError struct{ Text i18n.Text }

func (e *ImportError) Error() string { return e.Text.EN }

// Message returns the error in both languages.
func (e *ImportError) Message() i18n.Text { return e.Text }

func importError(en, zh string, args ...any) error { return &ImportError{Text: msg(en, zh, args...)} }

// sourceFile is one file to import with its checksum.
type sourceFile struct {
	local  string
	rel    string
	sha256 string
	size   int64
}

// Import copies patch files into the catalog's repository and adds an entry
// for them to the catalog, keeping the catalog's comments. It checks every
// input and every checksum before it writes anything. Files are written
// under a temporary name, synced, checked and renamed, and a failure removes
// the files it added. Importing the same files under the same id again
// changes nothing, and the same id with other files is an error.
func Import(ctx context.Context, req ImportRequest) (*ImportResult, error) {
	cat, err := LoadCatalog(req.CatalogPath)
	if err != nil {
		return nil, err
	}
	if err := checkImportRequest(&req); err != nil {
		return nil, err
	}

	dir := importDir(req)
	files, err := hashSources(req.Files, req.SHA256, "--sha256", dir)
	if err != nil {
		return nil, err
	}
	rollback, err := hashSources(req.RollbackFiles, req.RollbackSHA256, "--rollback-sha256", dir+"/rollback")
	if err != nil {
		return nil, err
	}
	unchecked := slices.Concat(withoutChecksum(req.Files, req.SHA256), withoutChecksum(req.RollbackFiles, req.RollbackSHA256))

	if old := cat.Patch(req.ID); old != nil {
		res, err := reimport(cat, old, files, rollback)
		if res != nil {
			res.Unchecked = unchecked
		}
		return res, err
	}
	if err := checkRepositoryClash(cat, append(slices.Clone(files), rollback...)); err != nil {
		return nil, err
	}

	patch, err := newPatch(ctx, req, files, rollback)
	if err != nil {
		return nil, err
	}
	text, err := appendPatch(req.CatalogPath, patch)
	if err != nil {
		return nil, err
	}
	if _, err := ParseCatalog(req.CatalogPath, text); err != nil {
		return nil, importError("the new catalog entry would be invalid: %v", "新的补丁台账条目无效：%v", err)
	}

	copied, err := copyAll(cat, append(files, rollback...))
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(req.CatalogPath, text, 0o644); err != nil {
		removeCopied(cat, copied)
		return nil, fmt.Errorf("write catalog %s: %w", req.CatalogPath, err)
	}
	return &ImportResult{Patch: patch, Copied: copied, Unchecked: unchecked}, nil
}

// checkImportRequest rejects requests that would make an invalid entry.
func checkImportRequest(req *ImportRequest) error {
	if strings.TrimSpace(req.ID) == "" {
		return importError("--id is required: give the patch id, such as a KB number, an RPM advisory or an Oracle patch number",
			"必须提供 --id：补丁编号，例如 KB 编号、RPM 公告编号或 Oracle 补丁号")
	}
	if len(req.Files) == 0 {
		return importError("no patch files given: name the files to import", "未提供补丁文件：请列出要导入的文件")
	}
	need, ok := methodNeeds[req.Method]
	if !ok {
		return importError("--method: invalid method %q; valid values: rpm, yum, wusa, dism, opatch", "--method：安装方式 %q 无效；可用的值：rpm、yum、wusa、dism、opatch", req.Method)
	}
	for _, f := range append(slices.Clone(req.Files), req.RollbackFiles...) {
		if !strings.EqualFold(filepath.Ext(f), need.ext) {
			return importError("method %s installs %s files, but %s is not one", "method %s 安装 %s 文件，但 %s 不是", req.Method, need.ext, f)
		}
	}
	if len(req.RollbackFiles) > 0 && req.Method != MethodRPM && req.Method != MethodYum {
		return importError("rollback files are only for rpm and yum; method %s rolls back by its own uninstall",
			"回退文件只用于 rpm 和 yum；method %s 用自身的卸载命令回退", req.Method)
	}
	if err := checkDelivered(req.Files, req.SHA256, "--sha256", req.NoDeliveredChecksum); err != nil {
		return err
	}
	if err := checkDelivered(req.RollbackFiles, req.RollbackSHA256, "--rollback-sha256", req.NoDeliveredChecksum); err != nil {
		return err
	}
	if req.Arrived.IsZero() {
		req.Arrived = time.Now()
	}
	return nil
}

// checkDelivered normalizes the delivered checksums of files, given with
// flag, and rejects a checksum that is not SHA-256 hex, more checksums than
// files, and, unless optional, a file without a checksum.
func checkDelivered(files, sums []string, flag string, optional bool) error {
	if len(sums) > len(files) {
		return importError("%[3]d checksums given for %[4]d files: give one %[1]s per file, in the order of the files (%[2]s)",
			"给出了 %[3]d 个校验和，但只有 %[4]d 个文件：请按文件顺序为每个文件给一个 %[1]s（%[2]s）",
			flag, strings.Join(files, ", "), len(sums), len(files))
	}
	for i, sum := range sums {
		sums[i] = strings.ToLower(strings.TrimSpace(sum))
		if sums[i] != "" && !sha256Hex.MatchString(sums[i]) {
			return importError("%s %q for %s is not a SHA-256: write its 64 hexadecimal digits", "%s 的值 %q（对应 %s）不是 SHA-256：请写出其 64 位十六进制数",
				flag, sum, files[i])
		}
	}
	if missing := withoutChecksum(files, sums); len(missing) > 0 && !optional {
		return importError(
			"no delivered checksum for %[2]s: give the SHA-256 delivered with each file with %[1]s, one per file in the order of the files, "+
				"or import without it with --no-delivered-checksum",
			"%[2]s 没有随附的校验和：请用 %[1]s 给出每个文件随附的 SHA-256，按文件顺序每个文件一个；"+
				"或用 --no-delivered-checksum 在没有校验和的情况下导入",
			flag, strings.Join(missing, ", "))
	}
	return nil
}

// withoutChecksum returns the files that have no entry in sums.
func withoutChecksum(files, sums []string) []string {
	var out []string
	for i, f := range files {
		if i >= len(sums) || sums[i] == "" {
			out = append(out, f)
		}
	}
	return out
}

// importDir is the repository folder of the files: the first os, else the
// method.
func importDir(req ImportRequest) string {
	if len(req.OS) > 0 {
		return req.OS[0]
	}
	return string(req.Method)
}

// hashSources reads each file once, computes its SHA-256 and compares it
// with the delivered checksum, given with flag.
func hashSources(paths, delivered []string, flag, dir string) ([]sourceFile, error) {
	var out []sourceFile
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, importError("cannot read patch file %s: %v", "无法读取补丁文件 %s：%v", p, err)
		}
		info, err := f.Stat()
		if err != nil || !info.Mode().IsRegular() {
			f.Close()
			return nil, importError("%s is not a regular file", "%s 不是普通文件", p)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		sum := hex.EncodeToString(h.Sum(nil))
		if i < len(delivered) && delivered[i] != "" && delivered[i] != sum {
			return nil, importError(
				"checksum mismatch for %[1]s: its SHA-256 is %[2]s, but the checksum delivered with it (%[4]s) is %[3]s; the file is damaged or not the one that was delivered, so nothing was imported",
				"%[1]s 的校验和不符：其 SHA-256 为 %[2]s，而随文件提供的校验和（%[4]s）为 %[3]s；文件已损坏或不是交付的文件，未导入任何内容", p, sum, delivered[i], flag)
		}
		out = append(out, sourceFile{local: p, rel: dir + "/" + filepath.Base(p), sha256: sum, size: info.Size()})
	}
	return out, nil
}

// reimport handles an id already in the catalog: the same files are a
// no-op (a missing or damaged repository copy is written again), other files
// an error.
func reimport(cat *Catalog, old *Patch, files, rollback []sourceFile) (*ImportResult, error) {
	if !sameFiles(old.Files, files) {
		return nil, importError(
			"patch id %s is already in the catalog (%s) with other files; choose another id, or remove the old entry first",
			"补丁编号 %s 已在补丁台账中（%s），但文件不同；请换一个编号，或先删除旧条目", old.ID, old.Source)
	}
	if !sameFiles(old.Rollback.Files, rollback) {
		return nil, importError(
			"patch id %s is already in the catalog (%s) with the same files but other rollback files; give the rollback files imported before (--rollback-file), or remove the old entry first",
			"补丁编号 %s 已在补丁台账中（%s），补丁文件相同但回退文件不同；请给出之前导入的回退文件（--rollback-file），或先删除旧条目", old.ID, old.Source)
	}
	var repair []sourceFile
	for i, f := range slices.Concat(old.Files, old.Rollback.Files) {
		src := slices.Concat(files, rollback)[i]
		if sum, err := fileSHA256(cat.FilePath(f)); err != nil || sum != f.SHA256 {
			src.rel = f.Path
			repair = append(repair, src)
		}
	}
	copied, err := copyAll(cat, repair)
	if err != nil {
		return nil, err
	}
	return &ImportResult{Patch: old, Unchanged: true, Copied: copied}, nil
}

func sameFiles(have []File, files []sourceFile) bool {
	if len(have) != len(files) {
		return false
	}
	for i := range have {
		if !strings.EqualFold(have[i].SHA256, files[i].sha256) {
			return false
		}
	}
	return true
}

// checkRepositoryClash rejects a file whose repository path holds another
// file already, which another patch's entry may list.
func checkRepositoryClash(cat *Catalog, files []sourceFile) error {
	for _, f := range files {
		sum, err := fileSHA256(cat.FilePath(File{Path: f.rel}))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", cat.FilePath(File{Path: f.rel}), err)
		}
		if sum != f.sha256 {
			return importError("the repository already has a different file at %s; rename %s before importing it",
				"仓库中 %s 已有另一个不同的文件；请先重命名 %s 再导入", f.rel, f.local)
		}
	}
	return nil
}

var (
	kbInFileName     = regexp.MustCompile(`(?i)\bkb(\d{6,8})\b`)
	opatchInFileName = regexp.MustCompile(`^p(\d+)_`)
)

// newPatch builds the catalog entry, reading what the verify section needs
// from the files.
func newPatch(ctx context.Context, req ImportRequest, files, rollback []sourceFile) (*Patch, error) {
	p := &Patch{
		ID: req.ID, Title: req.Title, Severity: req.Severity, Arrived: req.Arrived, Method: req.Method,
		Reboot: req.Reboot, StopServices: req.StopServices,
		AppliesTo: Applies{OS: req.OS, Systems: req.Systems},
		Verify:    Verify{Command: req.VerifyCommand},
		Rollback:  Rollback{None: req.RollbackNone},
	}
	for _, f := range files {
		p.Files = append(p.Files, File{Path: f.rel, SHA256: f.sha256, Size: f.size})
	}
	for _, f := range rollback {
		p.Rollback.Files = append(p.Rollback.Files, File{Path: f.rel, SHA256: f.sha256, Size: f.size})
	}

	switch req.Method {
	case MethodRPM, MethodYum:
		p.Verify.Packages = req.Packages
		if len(p.Verify.Packages) == 0 {
			read := req.ReadRPM
			if read == nil {
				read = ReadRPMHeaders
			}
			local := make([]string, len(files))
			for i, f := range files {
				local[i] = f.local
			}
			nevras, err := read(ctx, local)
			if err != nil {
				return nil, err
			}
			p.Verify.Packages = nevras
		}
	case MethodWUSA, MethodDISM:
		p.Verify.KB = strings.ToUpper(req.KB)
		if p.Verify.KB == "" {
			m := kbInFileName.FindStringSubmatch(filepath.Base(files[0].local))
			if m == nil {
				return nil, importError("cannot read a KB number from the file name %s; give it with --kb KB4012213",
					"无法从文件名 %s 读出 KB 编号；请用 --kb KB4012213 指定", filepath.Base(files[0].local))
			}
			p.Verify.KB = "KB" + m[1]
		}
	case MethodOPatch:
		p.AppliesTo.Product, p.AppliesTo.Version = "oracle", req.Version
		p.Verify.OPatch = req.OPatch
		if p.Verify.OPatch == "" {
			m := opatchInFileName.FindStringSubmatch(filepath.Base(files[0].local))
			if m == nil {
				return nil, importError("cannot read an Oracle patch number from the file name %s; give it with --opatch 31537677",
					"无法从文件名 %s 读出 Oracle 补丁号；请用 --opatch 31537677 指定", filepath.Base(files[0].local))
			}
			p.Verify.OPatch = m[1]
		}
	}
	return p, nil
}

// rpmHeaderFormat prints what a NEVRA is made of, one package per line.
const rpmHeaderFormat = `%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n`

// ReadRPMHeaders reads the NEVRA of each RPM file with the rpm tool of this
// machine (`rpm -qp`), in the order of files.
func ReadRPMHeaders(ctx context.Context, files []string) ([]string, error) {
	if _, err := exec.LookPath("rpm"); err != nil {
		return nil, importError("rpm is not installed on this machine; it reads the package names for verify.packages. Install rpm, or give the NEVRAs with --package",
			"本机未安装 rpm，无法读取 verify.packages 所需的软件包名；请安装 rpm，或用 --package 指定 NEVRA")
	}
	cmd := exec.CommandContext(ctx, "rpm", append([]string{"-qp", "--nosignature", "--nodigest", "--qf", rpmHeaderFormat}, files...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, importError("rpm -qp could not read the package headers: %s", "rpm -qp 无法读取软件包头：%s", firstLine(stderr.Bytes()))
	}
	var nevras []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("unexpected rpm -qp output line %q", line)
		}
		nevras = append(nevras, nevra(f[0], f[1], f[2], f[3], f[4]))
	}
	if len(nevras) != len(files) {
		return nil, fmt.Errorf("rpm -qp printed %d packages for %d files", len(nevras), len(files))
	}
	return nevras, nil
}

// copyAll copies files into the repository and returns the relative paths
// written. On failure it removes what it wrote.
func copyAll(cat *Catalog, files []sourceFile) ([]string, error) {
	var copied []string
	for _, f := range files {
		dst := cat.FilePath(File{Path: f.rel})
		if sum, err := fileSHA256(dst); err == nil && sum == f.sha256 {
			continue
		}
		if err := copyVerified(f.local, dst, f.sha256); err != nil {
			removeCopied(cat, copied)
			return nil, err
		}
		copied = append(copied, f.rel)
	}
	return copied, nil
}

func removeCopied(cat *Catalog, rels []string) {
	for _, rel := range rels {
		os.Remove(cat.FilePath(File{Path: rel}))
	}
}

// copyVerified copies src to dst through a temporary file in dst's folder,
// which it syncs and reads back to check the SHA-256 before the rename, so
// dst is either absent or complete.
func copyVerified(src, dst, want string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("create repository folder: %w", err)
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	defer in.Close()

	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".import-*")
	if err != nil {
		return fmt.Errorf("create a temporary file next to %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, in)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}

	got, err := fileSHA256(tmp.Name())
	if err != nil {
		return err
	}
	if got != want {
		return importError("the copy of %s has SHA-256 %s instead of %s (the file changed while it was copied, or the disk failed); nothing was imported",
			"%s 的副本 SHA-256 为 %s 而不是 %s（文件在复制时被改动，或磁盘故障）；未导入任何内容", src, got, want)
	}

	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("rename into %s: %w", dst, err)
	}
	return syncDir(filepath.Dir(dst))
}

// writeFileAtomic writes data to path through a synced temporary file and a
// rename, so a reader sees the old or the new content, never a mix.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), mode)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
