package winrmconn

import (
	"fmt"
	"strconv"
	"strings"

	"patrol/transport/winrmconn/copyscript"
)

// StatScript returns the script that writes the SHA-256 and length of path.
func StatScript(path string) string {
	return copyscript.Fill(copyscript.Stat, map[string]string{"path": QuotePowerShellArg(path)})
}

// UploadScript returns the script that receives a file of size bytes with
// checksum sha256 (hex) on stdin into part, then moves part over dst.
func UploadScript(part, dst string, size int64, sha256 string) string {
	return copyscript.Fill(copyscript.Upload, map[string]string{
		"part":   QuotePowerShellArg(part),
		"dst":    QuotePowerShellArg(dst),
		"size":   strconv.FormatInt(size, 10),
		"sha256": QuotePowerShellArg(strings.ToUpper(sha256)),
	})
}

// ReadScript returns the script that writes path from offset to stdout.
func ReadScript(path string, offset int64) string {
	return copyscript.Fill(copyscript.Read, map[string]string{
		"path":   QuotePowerShellArg(path),
		"offset": strconv.FormatInt(offset, 10),
	})
}

// uploadPartName returns the partial file of an upload next to dst. It
// contains the start of the checksum, so an upload resumes only a partial
// file of the same content.
func uploadPartName(dst, sha256 string) string {
	return fmt.Sprintf("%s.%s.patrol-part", dst, strings.ToUpper(sha256[:16]))
}
