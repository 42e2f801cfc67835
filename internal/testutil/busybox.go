package testutil

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BusyboxPaths are where Debian's busybox-static installs its binary.
var BusyboxPaths = []string{"/bin/busybox", "/usr/bin/busybox"}

// BusyboxBinary returns the path of the host's static busybox, or an error
// that says which package to install.
func BusyboxBinary() (string, error) {
	for _, p := range BusyboxPaths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("busybox not found in %v: install Debian's busybox-static (apt-get install -y busybox-static)", BusyboxPaths)
}

// Passwd and Group are the test image's /etc/passwd and /etc/group.
const (
	Passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
	Group  = "root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n"
)

// WriteBusyboxRootfs writes to w an uncompressed tar of a minimal root
// filesystem: /bin/busybox, a symlink in /bin for every applet that
// `busybox --list` reports, /etc/passwd and /etc/group, /tmp (1777), /root
// and /home. The content is deterministic, so two builds give one image id.
func WriteBusyboxRootfs(w io.Writer, busybox string) error {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return fmt.Errorf("read busybox: %w", err)
	}
	applets, err := busyboxApplets(busybox)
	if err != nil {
		return err
	}
	epoch := time.Unix(0, 0).UTC()
	tw := tar.NewWriter(w)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: epoch, Format: tar.FormatPAX})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, d := range []struct {
		name string
		mode int64
	}{{"bin", 0o755}, {"dev", 0o755}, {"etc", 0o755}, {"home", 0o755}, {"proc", 0o555}, {"root", 0o700}, {"sys", 0o555}, {"tmp", 0o1777}, {"usr", 0o755}, {"usr/bin", 0o755}, {"var", 0o755}} {
		if err := dir(d.name, d.mode); err != nil {
			return fmt.Errorf("write rootfs tar: %w", err)
		}
	}
	if err := file("bin/busybox", 0o755, bin); err != nil {
		return fmt.Errorf("write rootfs tar: %w", err)
	}
	for _, a := range applets {
		h := &tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777, ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("write rootfs tar: %w", err)
		}
	}
	if err := file("etc/passwd", 0o644, []byte(Passwd)); err != nil {
		return fmt.Errorf("write rootfs tar: %w", err)
	}
	if err := file("etc/group", 0o644, []byte(Group)); err != nil {
		return fmt.Errorf("write rootfs tar: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write rootfs tar: %w", err)
	}
	return nil
}

// busyboxApplets lists the applets of the busybox binary, without busybox
// itself and without names that are not plain file names.
func busyboxApplets(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busybox, err)
	}
	var applets []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		a := strings.TrimSpace(sc.Text())
		if a == "" || a == "busybox" || strings.ContainsAny(a, "/ ") {
			continue
		}
		applets = append(applets, a)
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("%s --list printed no applets", busybox)
	}
	return applets, nil
}

// BusyboxRootfsTar builds the busybox rootfs tar in a temporary directory of
// t and returns its path. It skips t when busybox-static is not installed.
func BusyboxRootfsTar(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "busybox-rootfs.tar")
	if err := buildBusyboxTar(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// buildBusyboxTar writes the busybox rootfs tar to path.
func buildBusyboxTar(path string) error {
	busybox, err := BusyboxBinary()
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteBusyboxRootfs(f, busybox); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
