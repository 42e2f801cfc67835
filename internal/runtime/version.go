package runtime

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Version is what an OCI runtime's --version says of itself.
type Version struct {
	Name    string // "runc", "crun"...
	Version string // as printed: "1.1.5+ds1", "1.2.0-rc.1"
	Commit  string // runc's "commit:" line, which names a distribution's package
	Spec    string // the "spec:" line: the runtime-spec version it implements ("1.0.2-dev", "1.0.0")
}

// ParseVersion reads `runc --version` (or crun's): the first line is
// "<name> version <version>", runc adds "commit: <commit>", both say
// "spec: <runtime-spec version>".
func ParseVersion(out []byte) Version {
	var v Version
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v.Name == "" {
			if name, ver, ok := strings.Cut(line, " version "); ok {
				v.Name, v.Version = strings.TrimSpace(name), strings.TrimSpace(ver)
			}
			continue
		}
		if c, ok := strings.CutPrefix(line, "commit:"); ok {
			v.Commit = strings.TrimSpace(c)
		}
		if spec, ok := strings.CutPrefix(line, "spec:"); ok {
			v.Spec = strings.TrimSpace(spec)
		}
	}
	return v
}

// Version runs the runtime's --version.
func (r *Runtime) Version(ctx context.Context) (Version, error) {
	path := r.Path
	if path == "" {
		path = "runc"
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return Version{}, fmt.Errorf("%s --version: %w", path, err)
	}
	return ParseVersion(out), nil
}

// crunMaxPidsFix is the first crun that writes "max" for a negative pids
// limit on cgroup v1 (its commit 94a5950c); older ones write "-1", which
// the kernel refuses ("writing file `pids.max`: Invalid argument").
const crunMaxPidsFix = "1.13"

// WritesNegativePids reports whether runtime v writes a negative pids
// limit into a v1 pids.max as is (crun before 1.13).
func WritesNegativePids(v Version) bool {
	if v.Name != "crun" {
		return false
	}
	older, ok := versionLess(v.Version, crunMaxPidsFix)
	return ok && older
}

// leakedFdsFix is the first runc release fixed for CVE-2024-21626 (a
// container breakout through a file descriptor of the host that runc
// leaked into the container: `WORKDIR /proc/self/fd/7`).
const leakedFdsFix = "1.1.12"

// LeakedFdsMarker is a message the fix for CVE-2024-21626 added to runc
// (libcontainer's verifyCwd): a runc binary that holds it carries the fix
// whatever its version says, as distributions' backports do (Debian 12's
// 1.1.5+ds1-1+deb12u1).
const LeakedFdsMarker = "possible container breakout detected"

// LeakedFdsWarning is docker info's warning for a runc open to
// CVE-2024-21626: v is runc older than 1.1.12 and its binary does not
// carry the fix (patched). Other runtimes (crun was never affected) and
// versions that do not parse get none.
func LeakedFdsWarning(v Version, patched bool) string {
	if v.Name != "runc" || patched {
		return ""
	}
	older, ok := versionLess(v.Version, leakedFdsFix)
	if !ok || !older {
		return ""
	}
	return fmt.Sprintf("WARNING: runc %s is older than %s and open to CVE-2024-21626 (a container can escape to the host through a leaked file descriptor); upgrade runc", v.Version, leakedFdsFix)
}

// versionLess compares the numeric major.minor.patch of a and b, ignoring
// any "-rc"/"+build" suffix, except that a pre-release of b's own numbers
// is older than b ("1.1.12-rc1" < "1.1.12").
func versionLess(a, b string) (less, ok bool) {
	an, apre, ok := semverCore(a)
	if !ok {
		return false, false
	}
	bn, _, ok := semverCore(b)
	if !ok {
		return false, false
	}
	for i := range an {
		if an[i] != bn[i] {
			return an[i] < bn[i], true
		}
	}
	return apre, true
}

// semverCore parses "X.Y.Z[-pre][+build]" (Z optional); pre reports a
// pre-release.
func semverCore(s string) (nums [3]int, pre, ok bool) {
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		s, pre = s[:i], true
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return nums, false, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nums, false, false
		}
		nums[i] = n
	}
	return nums, pre, true
}

// HasMarker reports whether the file at path holds marker, read in chunks
// that overlap by the marker's length.
func HasMarker(path, marker string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	return readerHas(f, []byte(marker))
}

func readerHas(r io.Reader, marker []byte) (bool, error) {
	buf := make([]byte, 64<<10+len(marker))
	keep := 0
	for {
		n, err := r.Read(buf[keep:])
		if bytes.Contains(buf[:keep+n], marker) {
			return true, nil
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		// carry the tail that could start a marker split by the read
		end := keep + n
		tail := min(len(marker)-1, end)
		copy(buf, buf[end-tail:end])
		keep = tail
	}
}
