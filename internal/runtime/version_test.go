package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want Version
	}{
		{"runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\nlibseccomp: 2.5.4\n", Version{"runc", "1.1.5+ds1", "1.1.5+ds1-1+deb12u1", "1.0.2-dev"}},
		{"runc version 1.2.0-rc.1\ncommit: v1.2.0-rc.1-0-g275e6d85\n", Version{"runc", "1.2.0-rc.1", "v1.2.0-rc.1-0-g275e6d85", ""}},
		{"crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX +APPARMOR +CAP +SECCOMP +EBPF +YAJL\n", Version{"crun", "1.8.1", "f8a096be060b22ccd3d5f3ebe44108517fbf6c30", "1.0.0"}},
		{"garbage", Version{}},
	} {
		if got := ParseVersion([]byte(tc.out)); got != tc.want {
			t.Errorf("ParseVersion(%q) = %+v, want %+v", tc.out, got, tc.want)
		}
	}
}

// TestLeakedFdsWarning is the CVE-2024-21626 decision: runc before 1.1.12
// warns unless its binary carries the fix.
func TestLeakedFdsWarning(t *testing.T) {
	for _, tc := range []struct {
		v       Version
		patched bool
		warn    bool
	}{
		{Version{Name: "runc", Version: "1.1.11"}, false, true},
		{Version{Name: "runc", Version: "1.1.12"}, false, false},
		{Version{Name: "runc", Version: "1.1.12-rc1"}, false, true},
		{Version{Name: "runc", Version: "1.1.13"}, false, false},
		{Version{Name: "runc", Version: "1.2.0-rc.1"}, false, false},
		{Version{Name: "runc", Version: "1.3.0"}, false, false},
		{Version{Name: "runc", Version: "1.0.0-rc93"}, false, true},
		{Version{Name: "runc", Version: "1.1.5+ds1"}, false, true},
		{Version{Name: "runc", Version: "1.1.5+ds1"}, true, false}, // Debian's backport
		{Version{Name: "runc", Version: "v1.1.4"}, false, true},
		{Version{Name: "crun", Version: "1.8.1"}, false, false},
		{Version{Name: "runc", Version: "unknown"}, false, false},
	} {
		w := LeakedFdsWarning(tc.v, tc.patched)
		if (w != "") != tc.warn {
			t.Errorf("%+v patched=%v: warning %q, want one: %v", tc.v, tc.patched, w, tc.warn)
		}
		if w != "" && (!strings.Contains(w, "CVE-2024-21626") || !strings.Contains(w, tc.v.Version) || !strings.HasPrefix(w, "WARNING: ")) {
			t.Errorf("warning %q lacks the CVE, the version or docker's prefix", w)
		}
	}
}

func TestHasMarker(t *testing.T) {
	dir := t.TempDir()
	marker := LeakedFdsMarker
	for name, content := range map[string]string{
		"start":  marker + strings.Repeat("x", 200<<10),
		"split":  strings.Repeat("x", 64<<10+len(marker)-5) + marker + "y", // across the first read's end
		"end":    strings.Repeat("x", 300<<10) + marker,
		"absent": strings.Repeat("x", 300<<10) + marker[:len(marker)-1],
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := HasMarker(p, marker)
		if err != nil || got != (name != "absent") {
			t.Errorf("%s: HasMarker = %v, %v", name, got, err)
		}
	}
	if _, err := HasMarker(filepath.Join(dir, "missing"), marker); err == nil {
		t.Error("a missing binary gave no error")
	}
}
