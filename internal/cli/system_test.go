package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// checkGolden compares got with testdata/<name>.golden (-update rewrites it).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

const versionJSON = `{"Platform":{"Name":"Berth Engine"},"Components":[{"Name":"Engine","Version":"0.1.0",` +
	`"Details":{"ApiVersion":"1.50","Arch":"amd64","BuildTime":"2024-06-01T12:00:00.000000000+00:00","Experimental":"false",` +
	`"GitCommit":"abc1234","GoVersion":"go1.26","KernelVersion":"6.1.0","MinAPIVersion":"1.24","Os":"linux"}},` +
	`{"Name":"runc","Version":"1.1.5","Details":{"GitCommit":"v1.1.5-0-gf19387a"}}],` +
	`"Version":"0.1.0","ApiVersion":"1.50","MinAPIVersion":"1.24","GitCommit":"abc1234","GoVersion":"go1.26","Os":"linux","Arch":"amd64","KernelVersion":"6.1.0"}`

func TestVersionCommand(t *testing.T) {
	stub := newAPIStub(t, map[string]http.HandlerFunc{"GET /version": replyJSON(200, versionJSON)})
	out, errOut, code := stub.run(t, "", "version")
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	// The client half depends on the build; the layout is fixed.
	client, server, ok := strings.Cut(out, "\n\n")
	if !ok {
		t.Fatalf("no blank line between client and server:\n%s", out)
	}
	for _, want := range []string{
		"Client:\n Version:           " + Version + "\n",
		" API version:       1.50 (downgraded from ",
		" Go version:        " + runtime.Version() + "\n",
		" OS/Arch:           " + runtime.GOOS + "/" + runtime.GOARCH + "\n",
		" Context:           default",
	} {
		if !strings.Contains(client, want) {
			t.Errorf("client part lacks %q:\n%s", want, client)
		}
	}
	checkGolden(t, "version-server", server)

	out, _, code = stub.run(t, "", "version", "-f", "{{.Server.Version}} {{.Client.Version}} {{.Server.KernelVersion}}")
	if code != 0 || out != "0.1.0 "+Version+" 6.1.0\n" {
		t.Errorf("version -f: code %d, %q", code, out)
	}
	_, errOut, code = stub.run(t, "", "version", "-f", "{{.Foo")
	if code != 64 || !strings.HasPrefix(errOut, "template parsing error: ") {
		t.Errorf("version bad -f: code %d, %q", code, errOut)
	}
}

func TestVersionNoDaemon(t *testing.T) {
	var out, errb bytes.Buffer
	code := Execute(t.Context(), []string{"-H", "unix://" + filepath.Join(t.TempDir(), "none.sock"), "version"}, nil, &out, &errb)
	if code != 1 || !strings.HasPrefix(out.String(), "Client:\n") || strings.Contains(out.String(), "Server:") ||
		!strings.Contains(errb.String(), "none.sock") {
		t.Errorf("code %d\nstdout %q\nstderr %q", code, out.String(), errb.String())
	}
}

func testInfo() system.Info {
	return system.Info{
		ID: "BERT:H000", Containers: 3, ContainersRunning: 1, ContainersPaused: 0, ContainersStopped: 2, Images: 4,
		Driver: "overlay2", DriverStatus: [][2]string{{"Backing Filesystem", "extfs"}, {"Supports d_type", "true"}},
		Plugins:       system.PluginsInfo{Volume: []string{"local"}, Network: []string{"host", "none"}, Log: []string{"json-file"}},
		LoggingDriver: "json-file", CgroupDriver: "cgroupfs", CgroupVersion: "1",
		KernelVersion: "6.1.0-18-amd64", OperatingSystem: "Debian GNU/Linux 12 (bookworm)", OSType: "linux", Architecture: "x86_64",
		NCPU: 2, MemTotal: 4102574080, DockerRootDir: "/var/lib/berth", Name: "host1", ServerVersion: "0.1.0",
		Runtimes: map[string]system.RuntimeWithStatus{"runc": {}, "crun": {}}, DefaultRuntime: "runc",
		RuncCommit: system.Commit{ID: "v1.1.5"}, SecurityOptions: []string{"name=seccomp,profile=builtin", "name=cgroupns"},
		Swarm:    swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive},
		Warnings: []string{"WARNING: bridge networking is not available yet"},
	}
}

func TestInfoCommand(t *testing.T) {
	body, err := json.Marshal(testInfo())
	if err != nil {
		t.Fatal(err)
	}
	stub := newAPIStub(t, map[string]http.HandlerFunc{"GET /info": replyJSON(200, string(body))})
	out, errOut, code := stub.run(t, "", "info")
	if code != 0 || errOut != "WARNING: bridge networking is not available yet\n" {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	client, server, _ := strings.Cut(out, "\nServer:\n")
	if want := "Client:\n Version:    " + Version + "\n Context:    default\n Debug Mode: false\n"; client != want {
		t.Errorf("client part %q, want %q", client, want)
	}
	checkGolden(t, "info-server", server)

	out, _, code = stub.run(t, "", "info", "-f", "{{.ServerVersion}} {{.Containers}} {{json .Plugins.Log}} {{.ClientInfo.Context}}")
	if code != 0 || out != "0.1.0 3 [\"json-file\"] default\n" {
		t.Errorf("info -f: code %d, %q", code, out)
	}
	out, _, code = stub.run(t, "", "info", "--format", "json")
	var decoded map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &decoded) != nil || decoded["Images"] != float64(4) || decoded["ClientInfo"] == nil {
		t.Errorf("info --format json: code %d, %q", code, out)
	}
}
