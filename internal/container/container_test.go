package container

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func sample() *Container {
	return &Container{
		ID:      idA,
		Name:    "/web",
		Created: t0,
		Path:    "sh",
		Args:    []string{"-c", "echo hi there"},
		Config: &containertypes.Config{
			Hostname:     "abc100000000",
			Image:        "busybox",
			Cmd:          []string{"sh", "-c", "echo hi there"},
			Env:          []string{"A=1"},
			Labels:       map[string]string{"l": "v"},
			ExposedPorts: network.PortSet{network.MustParsePort("80/tcp"): {}},
		},
		HostConfig: &containertypes.HostConfig{
			NetworkMode: "none",
			DNS:         []netip.Addr{netip.MustParseAddr("1.1.1.1")},
			PortBindings: network.PortMap{
				network.MustParsePort("80/tcp"): {{HostPort: "8080"}},
			},
		},
		ImageID:        "sha256:" + idB,
		State:          State{Status: containertypes.StateExited, ExitCode: 2, StartedAt: t0, FinishedAt: t0.Add(time.Minute)},
		RestartCount:   1,
		LogPath:        "/var/lib/berth/containers/x/x-json.log",
		HostnamePath:   "/h",
		HostsPath:      "/hs",
		ResolvConfPath: "/r",
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	c := sample()
	c.Lock()
	if err := c.Save(dir); err != nil {
		t.Fatal(err)
	}
	c.Unlock()
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(c)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Fatalf("round trip differs:\n%s\n%s", a, b)
	}
	if !got.Created.Equal(c.Created) || !reflect.DeepEqual(got.HostConfig.DNS, c.HostConfig.DNS) {
		t.Fatal("fields lost")
	}
	if fi, err := os.Stat(filepath.Join(dir, "config.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("record mode: %v %v", fi, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if !errdefs.IsNotFound(err) {
		t.Fatalf("missing record: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); !errdefs.IsDataLoss(err) {
		t.Fatalf("corrupt record: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"ID":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); !errdefs.IsDataLoss(err) {
		t.Fatalf("incomplete record: %v", err)
	}
}

func TestInspect(t *testing.T) {
	c := sample()
	got := c.Inspect()
	if got.ID != idA || got.Name != "/web" || got.Created != "2024-05-01T12:00:00Z" || got.Image != "sha256:"+idB {
		t.Errorf("identity: %+v", got)
	}
	if got.Driver != "overlay2" || got.Platform != "linux" || got.Mounts == nil || got.NetworkSettings == nil || got.NetworkSettings.Networks == nil {
		t.Errorf("defaults: %+v", got)
	}
	if got.State.Status != containertypes.StateExited || got.State.ExitCode != 2 || got.State.Running {
		t.Errorf("state: %+v", got.State)
	}
	got.Config.Hostname = "changed"
	if c.Config.Hostname == "changed" {
		t.Error("Inspect shares the config struct")
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"Id", "Created", "Path", "Args", "State", "Image", "ResolvConfPath", "HostnamePath", "HostsPath", "LogPath", "Name", "RestartCount", "Driver", "Platform", "Config", "HostConfig", "Mounts", "NetworkSettings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("inspect JSON lacks %s", k)
		}
	}
	c.Args = nil
	if c.Inspect().Args == nil {
		t.Error("Args must be [] not null")
	}
}

func TestSummary(t *testing.T) {
	c := sample()
	s := c.Summary("busybox")
	if s.ID != idA || !reflect.DeepEqual(s.Names, []string{"/web"}) || s.Image != "busybox" || s.ImageID != "sha256:"+idB {
		t.Errorf("identity: %+v", s)
	}
	if s.Command != "sh -c 'echo hi there'" || s.Created != t0.Unix() || s.State != containertypes.StateExited {
		t.Errorf("row: %+v", s)
	}
	if s.Status == "" || s.Ports == nil || s.Mounts == nil || s.NetworkSettings == nil || s.HostConfig.NetworkMode != "none" || s.Labels["l"] != "v" {
		t.Errorf("row: %+v", s)
	}
}

func TestSavedIsTheLastSave(t *testing.T) {
	dir := t.TempDir()
	c := &Container{ID: "abc", Config: &containertypes.Config{}, HostConfig: &containertypes.HostConfig{}}
	if c.Saved() != nil {
		t.Fatal("Saved before any Save")
	}
	c.State.Status = containertypes.StateCreated
	if err := c.Save(dir); err != nil {
		t.Fatal(err)
	}
	c.State.Status = containertypes.StateRunning // not saved yet
	if s := c.Saved(); s == nil || s.ID != "abc" || s.State.Status != containertypes.StateCreated {
		t.Fatalf("Saved = %+v, want the created record", s)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s := loaded.Saved(); s == nil || s.State.Status != containertypes.StateCreated {
		t.Fatalf("Saved after Load = %+v", s)
	}
}
