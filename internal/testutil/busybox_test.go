package testutil

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"testing"
)

func TestBusyboxRootfsTar(t *testing.T) {
	if _, err := BusyboxBinary(); err != nil {
		t.Skip(err)
	}
	f, err := os.Open(BusyboxRootfsTar(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]*tar.Header{}
	contents := map[string]string{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h
		if h.Name == "etc/passwd" || h.Name == "etc/group" {
			b, _ := io.ReadAll(tr)
			contents[h.Name] = string(b)
		}
	}
	tests := []struct {
		name     string
		typeflag byte
		link     string
		mode     int64
	}{
		{"bin/busybox", tar.TypeReg, "", 0o755},
		{"bin/sh", tar.TypeSymlink, "busybox", 0o777},
		{"bin/echo", tar.TypeSymlink, "busybox", 0o777},
		{"bin/id", tar.TypeSymlink, "busybox", 0o777},
		{"etc/passwd", tar.TypeReg, "", 0o644},
		{"etc/group", tar.TypeReg, "", 0o644},
		{"tmp/", tar.TypeDir, "", 0o1777},
		{"root/", tar.TypeDir, "", 0o700},
		{"home/", tar.TypeDir, "", 0o755},
	}
	for _, tt := range tests {
		h, ok := got[tt.name]
		if !ok {
			t.Errorf("%s missing from the tar", tt.name)
			continue
		}
		if h.Typeflag != tt.typeflag || h.Linkname != tt.link || h.Mode != tt.mode {
			t.Errorf("%s: type %c link %q mode %o, want type %c link %q mode %o", tt.name, h.Typeflag, h.Linkname, h.Mode, tt.typeflag, tt.link, tt.mode)
		}
	}
	if _, ok := got["bin/busybox"]; ok && got["bin/busybox"].Size < 100000 {
		t.Errorf("bin/busybox is %d bytes: not the static binary", got["bin/busybox"].Size)
	}
	if contents["etc/passwd"] != Passwd {
		t.Errorf("etc/passwd = %q, want %q", contents["etc/passwd"], Passwd)
	}
	if contents["etc/group"] != Group {
		t.Errorf("etc/group = %q, want %q", contents["etc/group"], Group)
	}
}

func TestBusyboxRootfsDeterministic(t *testing.T) {
	if _, err := BusyboxBinary(); err != nil {
		t.Skip(err)
	}
	a, err := os.ReadFile(BusyboxRootfsTar(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(BusyboxRootfsTar(t))
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("two builds of the busybox rootfs differ; the image id would not be stable")
	}
}
