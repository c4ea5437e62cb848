package sshconn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/sftp"

	"patrol/transport"
)

// Put sends its data to a partial file whose name comes from dst and the
// source's SHA-256. When a transfer stops (the link drops, the context ends,
// patrol is killed), that file stays on the host. The next Put of the same
// source to the same dst finds it, checks the part it keeps against the local
// file and sends only the rest. The whole file is checked again before it is
// renamed, so a partial file can cost time but never correctness.

const (
	// sftpPacketSize is the data length of one SFTP write request: the
	// largest that pkg/sftp's MaxPacketChecked accepts as safe with every
	// server.
	sftpPacketSize = 32 << 10

	// maxConcurrentRequests is the number of SFTP write (or read) requests kept
	// in flight per file, so a copy over a link with a long round trip is not
	// limited to one packet per round trip.
	maxConcurrentRequests = 64

	// resumeBackoff is how much of a partial file's end is sent again on
	// resume. A server that completes concurrent writes out of order can leave
	// holes among the requests that were in flight when the transfer stopped,
	// so that part is not trusted.
	resumeBackoff = sftpPacketSize * maxConcurrentRequests

	// maxPartialBase is the most bytes of dst's name a partial file's name
	// repeats, which keeps it within the 255-byte limit of Linux file systems.
	maxPartialBase = 128
)

// partialPrefix is the start of the name of every partial file for dst:
// dst's name and a short hash of its full path.
func partialPrefix(dst string) string {
	base := path.Base(dst)
	if len(base) > maxPartialBase {
		base = base[:maxPartialBase]
	}
	pathSum := sha256.Sum256([]byte(dst))
	return "." + base + ".patrol-" + hex.EncodeToString(pathSum[:4]) + "-"
}

// partialName is the name of the partial file for sending a source whose
// SHA-256 is sum to dst. A different source gets a different name, so it
// never resumes another source's partial file.
func partialName(dst, sum string) string {
	return partialPrefix(dst) + sum[:16] + ".part"
}

// partialFile is a partial upload found on the host.
type partialFile struct {
	// dir is the directory that contains it, empty when none was found.
	dir string
	// keep is how many bytes from its start a resume keeps, and keepSHA256
	// the host's checksum of them.
	keep       int64
	keepSHA256 string
}

// findPartialScript looks for the partial file $1 (a name starting with $2)
// in the directory $6, or with $5 "private" in the private upload
// directories under /tmp that the login user owns. Only files the login user
// owns count, never symbolic links. Other partial files for the same dst,
// left by other sources, are removed. It prints "none", or "partial KEEP SHA256 DIR"
// with KEEP the partial size less the back-off $4, when that is no more than
// the source size $3. A partial file it keeps gets mode 0600, as new ones
// get from createPartial.
const findPartialScript = sha256Shell + `want=$1 prefix=$2 size=$3 backoff=$4 mode=$5 dir=$6
if [ "$mode" = private ]; then set -- /tmp/.upload.patrol-*; else set -- "$dir"; fi
found=
for d in "$@"; do
	[ -d "$d" ] && [ ! -h "$d" ] || continue
	[ "$mode" != private ] || [ -O "$d" ] || continue
	for f in "$d/$prefix"*.part; do
		[ -f "$f" ] && [ ! -h "$f" ] && [ -O "$f" ] || continue
		if [ -z "$found" ] && [ "${f##*/}" = "$want" ]; then
			found=$d
		else
			rm -f -- "$f"
			if [ "$mode" = private ]; then rmdir -- "$d" 2>/dev/null; fi
		fi
	done
done
[ -n "$found" ] || { echo none; exit 0; }
f=$found/$want
chmod 600 -- "$f"
have=$(stat -c %s -- "$f") || exit 1
if [ "$have" -gt "$size" ]; then rm -f -- "$f"; echo none; exit 0; fi
keep=$((have - backoff))
[ "$keep" -gt 0 ] || keep=0
s=$(sha256 "$f" "$keep") || exit 1
echo "partial $keep $s $found"`

// findPartial looks on the host for the partial file of an earlier Put of
// the source sum (size bytes) to dst, as the login user.
func (c *Conn) findPartial(ctx context.Context, dst, sum string, size int64, private bool) (partialFile, error) {
	mode := "dir"
	if private {
		mode = "private"
	}
	argv := []string{"/bin/sh", "-c", findPartialScript, "sh",
		partialName(dst, sum), partialPrefix(dst), strconv.FormatInt(size, 10),
		strconv.Itoa(resumeBackoff), mode, path.Dir(dst)}
	result, err := c.Run(ctx, transport.Command{Argv: argv})
	if err != nil {
		return partialFile{}, fmt.Errorf("look for a partial upload of %s: %w", dst, err)
	}
	out := strings.TrimSuffix(string(result.Stdout), "\n")
	if result.ExitCode != 0 {
		return partialFile{}, fmt.Errorf("look for a partial upload of %s: exit status %d: %s",
			dst, result.ExitCode, strings.TrimSpace(string(result.Stderr)))
	}
	if out == "none" {
		return partialFile{}, nil
	}
	fields := strings.SplitN(out, " ", 4)
	if len(fields) != 4 || fields[0] != "partial" || len(fields[2]) != sha256.Size*2 || fields[3] == "" {
		return partialFile{}, fmt.Errorf("look for a partial upload of %s: unexpected output %q", dst, out)
	}
	keep, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || keep < 0 || keep > size {
		return partialFile{}, fmt.Errorf("look for a partial upload of %s: unexpected size %q", dst, fields[1])
	}
	return partialFile{dir: fields[3], keep: keep, keepSHA256: fields[2]}, nil
}

// uploaded describes the partial file that upload wrote.
type uploaded struct {
	tmp     string
	sent    int64
	resumed int64
	sending time.Duration
}

// upload writes local to its partial file on the host, resuming an earlier
// transfer when one left a partial file whose kept part matches local. A
// transfer that stops leaves the partial file in place for the next Put.
// The caller verifies the whole file (finish) before it renames it.
func (c *Conn) upload(ctx context.Context, local *os.File, size int64, dst, sum string, private bool) (uploaded, error) {
	// The SFTP subsystem starts while the host looks for a partial file.
	sftpStarted := make(chan error, 1)
	go func() {
		_, err := c.sftp()
		sftpStarted <- err
	}()
	found, findErr := c.findPartial(ctx, dst, sum, size, private)
	if err := <-sftpStarted; err != nil {
		return uploaded{}, err
	}
	if findErr != nil {
		return uploaded{}, findErr
	}
	client, err := c.sftp()
	if err != nil {
		return uploaded{}, err
	}

	var (
		tmp     string
		remote  *sftp.File
		resumed int64
	)
	if found.dir != "" {
		tmp = path.Join(found.dir, partialName(dst, sum))
		remote, resumed, err = c.reopenPartial(local, client, tmp, found)
	} else {
		tmp, remote, err = c.createPartial(client, dst, sum, private)
	}
	if err != nil {
		return uploaded{}, err
	}

	if _, err := local.Seek(resumed, io.SeekStart); err != nil {
		remote.Close()
		return uploaded{}, err
	}
	if _, err := remote.Seek(resumed, io.SeekStart); err != nil {
		remote.Close()
		return uploaded{}, err
	}
	// Close waits for the host to acknowledge every write.
	start := time.Now()
	sent, err := remote.ReadFrom(&contextReader{ctx: ctx, r: local, size: size - resumed})
	if closeErr := remote.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		err = fmt.Errorf("write %s: %w; the part that arrived stays there, and copying the same file again resumes from it", tmp, err)
		return uploaded{}, c.lostIfDead(err)
	}
	return uploaded{tmp: tmp, sent: sent, resumed: resumed, sending: time.Since(start)}, nil
}

// reopenPartial opens the partial file at tmp for writing. It returns the
// offset to continue from: found.keep when the host's checksum of that many
// bytes matches local's, otherwise 0.
func (c *Conn) reopenPartial(local *os.File, client *sftp.Client, tmp string, found partialFile) (*sftp.File, int64, error) {
	hash := sha256.New()
	if _, err := io.Copy(hash, io.NewSectionReader(local, 0, found.keep)); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", local.Name(), err)
	}
	offset := found.keep
	if hex.EncodeToString(hash.Sum(nil)) != found.keepSHA256 {
		c.cfg.Logger.Info("partial upload differs from the source; sending the whole file",
			"host", c.cfg.Name, "file", tmp, "bytes", found.keep)
		offset = 0
	}

	// The file is no longer than the source (findPartial checked), so the
	// transfer overwrites every byte after offset and needs no truncation.
	remote, err := client.OpenFile(tmp, os.O_WRONLY)
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", tmp, err)
	}
	return remote, offset, nil
}

// createPartial creates the partial file for sending sum to dst: next to
// dst, or with private in a new private directory under /tmp.
func (c *Conn) createPartial(client *sftp.Client, dst, sum string, private bool) (string, *sftp.File, error) {
	dir := path.Dir(dst)
	if private {
		// With become the login user may not write next to dst, so sudo
		// copies the file there later. The upload sits in a directory with a
		// random name that others may pass through but not list.
		dir = tempName("/tmp", "upload")
		if err := client.Mkdir(dir); err != nil {
			return "", nil, fmt.Errorf("create %s: %w", dir, err)
		}
		if err := client.Chmod(dir, 0o711); err != nil {
			client.RemoveDirectory(dir)
			return "", nil, fmt.Errorf("chmod %s: %w", dir, err)
		}
	}

	tmp := path.Join(dir, partialName(dst, sum))
	remote, err := client.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		// Whatever is at tmp is not a partial file of this login user, so it
		// stays, and so does dst's directory.
		if private {
			client.RemoveDirectory(dir)
		}
		return "", nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	if err := remote.Chmod(0o600); err != nil {
		remote.Close()
		c.removeRemote(tmp)
		return "", nil, fmt.Errorf("chmod %s: %w", tmp, err)
	}
	return tmp, remote, nil
}

// lostIfDead turns err into the error for a lost connection when the
// connection is gone, so the runner counts the host as unreachable.
func (c *Conn) lostIfDead(err error) error {
	select {
	case <-c.dead:
		return c.lostError(err)
	default:
		return err
	}
}
