package buildcmd

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/cli"
	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/util/progress/progressui"
)

// parse runs the build command's flag parsing on args (without running a
// build) and returns the options.
func parse(t *testing.T, args ...string) *options {
	t.Helper()
	cmd, o := newCommand(&cli.Cli{})
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	o.contextPath = cmd.Flags().Arg(0)
	return o
}

func noEnv(string) (string, bool) { return "", false }

func plan1(t *testing.T, o *options) *plan {
	t.Helper()
	p, err := o.toPlan(strings.NewReader(""), noEnv, false)
	if err != nil {
		t.Fatalf("toPlan: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestDefaultsExportToTheDaemonWithDockerfileFrontend(t *testing.T) {
	dir := t.TempDir()
	o := parse(t, "-t", "app", "-t", "reg.local:5000/x:v1", dir)
	p := plan1(t, o)
	if p.solve.Frontend != "dockerfile.v0" {
		t.Errorf("frontend %q", p.solve.Frontend)
	}
	if len(p.solve.Exports) != 1 || p.solve.Exports[0].Type != "moby" {
		t.Fatalf("exports %+v, want one moby", p.solve.Exports)
	}
	if got := p.solve.Exports[0].Attrs["name"]; got != "docker.io/library/app:latest,reg.local:5000/x:v1" {
		t.Errorf("name %q", got)
	}
	attrs := p.solve.FrontendAttrs
	if attrs["filename"] != "Dockerfile" || attrs["image-resolve-mode"] != "local" {
		t.Errorf("attrs %v", attrs)
	}
	if _, ok := p.solve.LocalMounts["context"]; !ok {
		t.Error("no context mount")
	}
	if _, ok := p.solve.LocalMounts["dockerfile"]; !ok {
		t.Error("no dockerfile mount")
	}
	if len(p.pushNames) != 0 {
		t.Errorf("push %v", p.pushNames)
	}
}

func TestBuildArgsLabelsTargetCacheFlags(t *testing.T) {
	dir := t.TempDir()
	o := parse(t, "--build-arg", "A=1", "--build-arg", "FROMENV", "--build-arg", "UNSET",
		"--label", "l=v", "--label", "bare", "--target", "stage", "--no-cache", "--pull",
		"--network", "host", "--add-host", "db:10.0.0.2", "--add-host", "v6=[::1]",
		"--cache-from", "reg/app:cache", "--cache-to", "type=local,dest=/tmp/c", dir)
	lookup := func(k string) (string, bool) {
		if k == "FROMENV" {
			return "env-value", true
		}
		return "", false
	}
	p, err := o.toPlan(strings.NewReader(""), lookup, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	attrs := p.solve.FrontendAttrs
	want := map[string]string{
		"build-arg:A":        "1",
		"build-arg:FROMENV":  "env-value",
		"label:l":            "v",
		"label:bare":         "",
		"target":             "stage",
		"no-cache":           "",
		"image-resolve-mode": "pull",
		"force-network-mode": "host",
		"add-hosts":          "db=10.0.0.2,v6=::1",
	}
	for k, v := range want {
		if got, ok := attrs[k]; !ok || got != v {
			t.Errorf("attr %s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	if _, ok := attrs["build-arg:UNSET"]; ok {
		t.Error("a bare --build-arg missing from the environment was sent")
	}
	if len(p.solve.AllowedEntitlements) != 1 || p.solve.AllowedEntitlements[0] != "network.host" {
		t.Errorf("entitlements %v", p.solve.AllowedEntitlements)
	}
	if len(p.solve.CacheImports) != 1 || p.solve.CacheImports[0].Type != "registry" || p.solve.CacheImports[0].Attrs["ref"] != "reg/app:cache" {
		t.Errorf("cache imports %+v", p.solve.CacheImports)
	}
	if len(p.solve.CacheExports) != 1 || p.solve.CacheExports[0].Type != "local" || p.solve.CacheExports[0].Attrs["dest"] != "/tmp/c" {
		t.Errorf("cache exports %+v", p.solve.CacheExports)
	}
}

func TestOutputs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args    []string
		tty     bool
		typ     string
		dir     bool // OutputDir set
		output  bool // Output set
		push    []string
		wantErr string
	}{
		{args: []string{"-o", "type=local,dest=" + dir + "/out"}, typ: "local", dir: true},
		{args: []string{"-o", dir + "/out"}, typ: "local", dir: true},
		{args: []string{"-o", "-"}, typ: "tar", output: true},
		{args: []string{"-o", "-"}, tty: true, wantErr: "refusing to write to console"},
		{args: []string{"-o", "type=tar,dest=" + dir + "/o.tar"}, typ: "tar", output: true},
		{args: []string{"-o", "type=oci,dest=" + dir + "/o.tar"}, typ: "oci", output: true},
		{args: []string{"-o", "type=docker,dest=" + dir + "/o.tar"}, typ: "docker", output: true},
		{args: []string{"-o", "type=docker"}, typ: "moby"},
		{args: []string{"--load"}, typ: "moby"},
		{args: []string{"-o", "type=image"}, typ: "moby"},
		{args: []string{"-t", "reg:5000/a", "--push"}, typ: "moby", push: []string{"reg:5000/a:latest"}},
		{args: []string{"-t", "reg:5000/a", "-o", "type=registry"}, typ: "moby", push: []string{"reg:5000/a:latest"}},
		{args: []string{"--push"}, wantErr: "tag is needed when pushing to registry"},
		{args: []string{"-o", "type=local"}, wantErr: "dest is required for local exporter"},
		{args: []string{"-o", "type=local,dest=" + file}, wantErr: "is a file"},
		{args: []string{"-o", "type=tar,dest=" + dir}, wantErr: "is a directory"},
		{args: []string{"-o", "type=local,dest=" + dir, "--iidfile", file}, wantErr: "incompatible with image ID file"},
		{args: []string{"-o", "type=nope"}, wantErr: "unknown output type"},
		{args: []string{"-o", "dest=x,foo=bar"}, wantErr: "type is required"},
		{args: []string{"-t", "UPPER"}, wantErr: "invalid tag"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			o := parse(t, append(tc.args, dir)...)
			p, err := o.toPlan(strings.NewReader(""), noEnv, tc.tty)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Errorf("err %v is not invalid-argument", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if len(p.solve.Exports) != 1 {
				t.Fatalf("exports %+v", p.solve.Exports)
			}
			e := p.solve.Exports[0]
			if e.Type != tc.typ || (e.OutputDir != "") != tc.dir || (e.Output != nil) != tc.output {
				t.Errorf("export %+v, want type %s dir %v output %v", e, tc.typ, tc.dir, tc.output)
			}
			if _, ok := e.Attrs["push"]; ok {
				t.Error("push attr sent to the exporter (the daemon pushes)")
			}
			if strings.Join(p.pushNames, ",") != strings.Join(tc.push, ",") {
				t.Errorf("push %v, want %v", p.pushNames, tc.push)
			}
		})
	}
}

func TestPlatformIsTheHostsOnly(t *testing.T) {
	dir := t.TempDir()
	p := plan1(t, parse(t, "--platform", hostPlatform(), dir))
	if p.solve.FrontendAttrs["platform"] != hostPlatform() {
		t.Errorf("platform attr %q", p.solve.FrontendAttrs["platform"])
	}
	other := "linux/arm64"
	if hostPlatform() == other {
		other = "linux/amd64"
	}
	for _, args := range [][]string{{"--platform", other}, {"--platform", hostPlatform() + "," + hostPlatform()}} {
		_, err := parse(t, append(args, dir)...).toPlan(strings.NewReader(""), noEnv, false)
		if !errors.Is(err, errdefs.ErrNotImplemented) || !strings.Contains(err.Error(), "host's platform only") {
			t.Errorf("%v: err %v", args, err)
		}
	}
}

func TestDockerfileOutsideContextAndLowercase(t *testing.T) {
	ctxDir, dfDir := t.TempDir(), t.TempDir()
	df := filepath.Join(dfDir, "build.Dockerfile")
	if err := os.WriteFile(df, []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := plan1(t, parse(t, "-f", df, ctxDir))
	if p.solve.FrontendAttrs["filename"] != "build.Dockerfile" {
		t.Errorf("filename %q", p.solve.FrontendAttrs["filename"])
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = plan1(t, parse(t, ctxDir))
	if p.solve.FrontendAttrs["filename"] != "dockerfile" {
		t.Errorf("lower-case filename %q", p.solve.FrontendAttrs["filename"])
	}
}

func TestStdinContexts(t *testing.T) {
	// a bare Dockerfile: an empty context and the Dockerfile in its own dir
	o := parse(t, "-")
	p, err := o.toPlan(strings.NewReader("FROM busybox\nRUN true\n"), noEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.solve.LocalMounts["context"]; !ok {
		t.Error("no empty context")
	}
	if p.solve.FrontendAttrs["dockerfilekey"] != "dockerfile" || len(p.cleanup) != 2 {
		t.Errorf("attrs %v cleanup %v", p.solve.FrontendAttrs, p.cleanup)
	}
	dt, err := os.ReadFile(filepath.Join(p.cleanup[1], "Dockerfile"))
	if err != nil || string(dt) != "FROM busybox\nRUN true\n" {
		t.Errorf("Dockerfile %q %v", dt, err)
	}
	p.Close()
	for _, d := range p.cleanup {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left behind", d)
		}
	}

	// a tar: uploaded through the session
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: 13})
	_, _ = tw.Write([]byte("FROM scratch\n"))
	_ = tw.Close()
	p, err = parse(t, "-").toPlan(&buf, noEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, ok := p.solve.LocalMounts["context"]; !ok || len(p.cleanup) != 1 {
		t.Errorf("tar context: mounts %v cleanup %v", p.solve.LocalMounts, p.cleanup)
	}
	if dt, err := os.ReadFile(filepath.Join(p.cleanup[0], "Dockerfile")); err != nil || string(dt) != "FROM scratch\n" {
		t.Errorf("unpacked Dockerfile %q %v", dt, err)
	}

	// -f - with a directory context
	dir := t.TempDir()
	p, err = parse(t, "-f", "-", dir).toPlan(strings.NewReader("FROM scratch\n"), noEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.solve.FrontendAttrs["filename"] != "Dockerfile" || len(p.cleanup) != 1 {
		t.Errorf("-f -: attrs %v", p.solve.FrontendAttrs)
	}

	if _, err := parse(t, "-f", "-", "-").toPlan(strings.NewReader(""), noEnv, false); err == nil ||
		!strings.Contains(err.Error(), "can't use stdin for both") {
		t.Errorf("both on stdin: %v", err)
	}
	if _, err := parse(t, filepath.Join(dir, "nope")).toPlan(strings.NewReader(""), noEnv, false); err == nil ||
		!strings.Contains(err.Error(), "unable to prepare context: path") {
		t.Errorf("missing context: %v", err)
	}
}

func TestURLContext(t *testing.T) {
	for _, u := range []string{"https://example.invalid/ctx.tar.gz", "https://github.com/moby/buildkit.git#main"} {
		p := plan1(t, parse(t, u))
		if p.solve.FrontendAttrs["context"] != u {
			t.Errorf("%s: context attr %q", u, p.solve.FrontendAttrs["context"])
		}
		if len(p.solve.LocalMounts) != 0 {
			t.Errorf("%s: local mounts %v", u, p.solve.LocalMounts)
		}
	}
}

func TestSecretsAndSSH(t *testing.T) {
	srcs, err := parseSecrets([]string{"id=a,src=/f", "id=b,env=VAR", "type=env,id=c,src=VAR2", "id=d"})
	if err != nil {
		t.Fatal(err)
	}
	if srcs[0].FilePath != "/f" || srcs[1].Env != "VAR" || srcs[2].Env != "VAR2" || srcs[2].FilePath != "" || srcs[3].ID != "d" {
		t.Errorf("secrets %+v", srcs)
	}
	for _, bad := range []string{"src=/f", "id=a,bogus=1", "type=x,id=a", "id"} {
		if _, err := parseSecrets([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	confs, err := parseSSH([]string{"default", "key=/a,/b"})
	if err != nil {
		t.Fatal(err)
	}
	if confs[0].ID != "default" || len(confs[0].Paths) != 0 || confs[1].ID != "key" || len(confs[1].Paths) != 2 {
		t.Errorf("ssh %+v", confs)
	}
}

func TestProgressModes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want progressui.DisplayMode
		err  bool
	}{
		{nil, progressui.AutoMode, false},
		{[]string{"--progress", "plain"}, progressui.PlainMode, false},
		{[]string{"--progress", "rawjson"}, progressui.RawJSONMode, false},
		{[]string{"-q"}, progressui.QuietMode, false},
		{[]string{"--progress", "quiet"}, progressui.QuietMode, false},
		{[]string{"-q", "--progress", "plain"}, "", true},
		{[]string{"--progress", "fancy"}, "", true},
	} {
		t.Setenv("BUILDKIT_PROGRESS", "")
		o := parse(t, append(tc.args, ".")...)
		got, err := o.displayMode()
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%v: %q %v, want %q (error %v)", tc.args, got, err, tc.want, tc.err)
		}
	}
}

func TestExtraHostsErrors(t *testing.T) {
	if _, _, err := extraHosts([]string{"nohost"}); err == nil {
		t.Error("host without ip accepted")
	}
	if _, _, err := extraHosts([]string{"a:notanip"}); err == nil {
		t.Error("bad ip accepted")
	}
	hosts, gw, err := extraHosts([]string{"gw:host-gateway"})
	if err != nil || !gw || hosts != "gw=host-gateway" {
		t.Errorf("%q %v %v", hosts, gw, err)
	}
}

func TestIsArchive(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "a", Mode: 0o644})
	_ = tw.Close()
	if !isArchive(buf.Bytes()) {
		t.Error("tar not detected")
	}
	if isArchive([]byte("FROM busybox\n")) {
		t.Error("Dockerfile taken for a tar")
	}
	if !isArchive([]byte{0x1f, 0x8b, 0x08, 0}) {
		t.Error("gzip not detected")
	}
}

func TestAttestations(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want map[string]string
	}{
		{[]string{"--provenance=false", "--sbom=false"}, map[string]string{}},
		{[]string{"--provenance"}, map[string]string{"attest:provenance": "type=provenance"}},
		{[]string{"--provenance=mode=max"}, map[string]string{"attest:provenance": "type=provenance,mode=max"}},
		{[]string{"--attest", "type=sbom,generator=img", "--sbom=false"}, map[string]string{"attest:sbom": "type=sbom,generator=img"}},
		{[]string{"--attest", "type=provenance,disabled=true"}, map[string]string{}},
	} {
		p := plan1(t, parse(t, append(tc.args, dir)...))
		got := map[string]string{}
		for k, v := range p.solve.FrontendAttrs {
			if strings.HasPrefix(k, "attest:") {
				got[k] = v
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%v: %v, want %v", tc.args, got, tc.want)
		}
	}
	if _, err := parse(t, "--attest", "mode=max", dir).toPlan(strings.NewReader(""), noEnv, false); err == nil {
		t.Error("an attestation without a type was accepted")
	}
}

func TestPushByExporter(t *testing.T) {
	p := plan1(t, parse(t, "-t", "reg:5000/a", "-t", "b", "--push", t.TempDir()))
	if len(p.pushNames) != 2 {
		t.Fatalf("push names %v", p.pushNames)
	}
	p.pushByExporter()
	if p.pushNames != nil || p.solve.Exports[0].Attrs["push"] != "true" {
		t.Errorf("after pushByExporter: names %v exports %+v", p.pushNames, p.solve.Exports)
	}
}
