package credentials

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/registry"
)

func TestFileStoreGetErase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "config.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	// Keys berth does not know survive a save.
	if err := os.WriteFile(path, []byte(`{"psFormat":"table {{.ID}}","auths":{"https://old.example:5000/v1/":{"auth":"`+base64.StdEncoding.EncodeToString([]byte("a:b"))+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, err := f.Get("old.example:5000"); err != nil || !ok || got.Username != "a" || got.Password != "b" {
		t.Errorf("hostname match: %+v %v %v", got, ok, err)
	}
	if err := f.Store(registry.AuthConfig{Username: "u", Password: "p:w", ServerAddress: "127.0.0.1:5000"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"psFormat"`) || !strings.Contains(string(data), base64.StdEncoding.EncodeToString([]byte("u:p:w"))) {
		t.Errorf("saved file:\n%s", data)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	got, err := Lookup(path, "", "127.0.0.1:5000")
	if err != nil || got.Username != "u" || got.Password != "p:w" || got.ServerAddress != "127.0.0.1:5000" {
		t.Errorf("lookup: %+v %v", got, err)
	}
	f, _ = Load(path)
	if found, err := f.Erase("127.0.0.1:5000"); err != nil || !found {
		t.Errorf("erase: %v %v", found, err)
	}
	if found, _ := f.Erase("127.0.0.1:5000"); found {
		t.Errorf("erased twice")
	}
}

func TestLookupFallsBackToDocker(t *testing.T) {
	dir := t.TempDir()
	berth, docker := filepath.Join(dir, "berth.json"), filepath.Join(dir, "docker.json")
	df, _ := Load(docker)
	if err := df.Store(registry.AuthConfig{Username: "d", Password: "x", ServerAddress: IndexServer}); err != nil {
		t.Fatal(err)
	}
	got, err := Lookup(berth, docker, IndexServer)
	if err != nil || got.Username != "d" {
		t.Errorf("fallback: %+v %v", got, err)
	}
	bf, _ := Load(berth)
	_ = bf.Store(registry.AuthConfig{Username: "b", Password: "y", ServerAddress: IndexServer})
	if got, _ := Lookup(berth, docker, IndexServer); got.Username != "b" {
		t.Errorf("berth's own first: %+v", got)
	}
	if got, _ := Lookup(berth, docker, "other:1"); got.Username != "" || got.ServerAddress != "other:1" {
		t.Errorf("unknown: %+v", got)
	}
}

// A fake docker-credential-test helper keeping one credential in a file.
const fakeHelper = `#!/bin/sh
store="$(dirname "$0")/store"
case "$1" in
store) cat > "$store" ;;
get) read server; if [ -f "$store" ] && grep -q "\"ServerURL\":\"$server\"" "$store"; then sed 's/"ServerURL":"[^"]*",//' "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase) read server; if [ -f "$store" ]; then rm "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
esac
`

func TestCredentialHelper(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-test"), []byte(fakeHelper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"credsStore":"test"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := f.Get("r:5000"); ok || err != nil {
		t.Errorf("empty helper: %v %v", ok, err)
	}
	if err := f.Store(registry.AuthConfig{Username: "u", Password: "secret", ServerAddress: "r:5000"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "secret") || !f.UsesHelper("r:5000") {
		t.Errorf("the secret went to the file:\n%s", data)
	}
	got, ok, err := f.Get("r:5000")
	if err != nil || !ok || got.Username != "u" || got.Password != "secret" {
		t.Errorf("helper get: %+v %v %v", got, ok, err)
	}
	if found, err := f.Erase("r:5000"); err != nil || !found {
		t.Errorf("helper erase: %v %v", found, err)
	}
	// credHelpers names a helper per registry.
	_ = os.WriteFile(path, []byte(`{"credHelpers":{"s:1":"test"}}`), 0o600)
	f, _ = Load(path)
	if !f.UsesHelper("s:1") || f.UsesHelper("r:5000") {
		t.Errorf("credHelpers not honoured")
	}
}

func TestHostname(t *testing.T) {
	for in, want := range map[string]string{"https://index.docker.io/v1/": "index.docker.io", "http://Reg:5000": "reg:5000", "reg:5000/path": "reg:5000", "reg": "reg"} {
		if got := Hostname(in); got != want {
			t.Errorf("Hostname(%q) = %q, want %q", in, got, want)
		}
	}
}
