//go:build linux

package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testutil"
)

// These tests drive `berth build` (berth-build, the BuildKit client) against
// berthd's BuildKit; the docker CLI's and buildx's side of the same builds
// is in the other build_*_test.go files.

// buildCLIDaemon is the daemon these tests build with.
var buildCLIDaemon = sharedDaemon

var bcliImageID = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// bcliBuild runs `berth build args...` in dir with stdin (nil: none) and
// returns what it did.
func bcliBuild(t *testing.T, d *testutil.Daemon, dir string, stdin io.Reader, args ...string) *testutil.Result {
	t.Helper()
	cmd := d.BerthCmd(append([]string{"build"}, args...)...)
	cmd.Dir = dir
	return testutil.Run(t, cmd, stdin)
}

// bcliRmi removes the images when t ends.
func bcliRmi(t *testing.T, d *testutil.Daemon, refs ...string) {
	t.Helper()
	t.Cleanup(func() {
		for _, r := range refs {
			d.Berth(t, "rmi", "-f", r)
		}
	})
}

// TestBuildCLIBuildThenRun: `berth build -t x .` stores an image that
// `berth run x` runs; .dockerignore keeps a file out of the context;
// progress goes to stderr and nothing to stdout.
func TestBuildCLIBuildThenRun(t *testing.T) {
	d := buildCLIDaemon(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile":    "FROM busybox\nCOPY . /ctx/\nRUN echo built > /built\nCMD [\"sh\", \"-c\", \"cat /built; ls /ctx\"]\n",
		"kept.txt":      "kept\n",
		"secret.key":    "must not be sent\n",
		"sub/inner.txt": "inner\n",
		".dockerignore": "secret.key\n",
	})
	name := unique("bcli-run")
	bcliRmi(t, d, name)
	r := bcliBuild(t, d, dir, nil, "--progress", "plain", "-t", name, ".").Success(t)
	if r.Stdout != "" {
		t.Errorf("stdout without -q: %q", r.Stdout)
	}
	for _, want := range []string{"[internal] load build definition from Dockerfile", "RUN echo built > /built", "naming to docker.io/library/" + name} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, r.Stderr)
		}
	}
	out := d.Berth(t, "run", "--rm", name).Success(t).Out()
	got := lines(out)
	if len(got) == 0 || got[0] != "built" {
		t.Fatalf("run output %q", out)
	}
	if contains(got, "secret.key") {
		t.Errorf(".dockerignore'd file is in the image: %q", got)
	}
	for _, want := range []string{"Dockerfile", "kept.txt", "sub"} {
		if !contains(got, want) {
			t.Errorf("%s missing from the image: %q", want, got)
		}
	}
}

// TestBuildCLIQuietAndIIDFile: -q prints the image ID alone on stdout, the
// same as --iidfile writes and image inspect shows.
func TestBuildCLIQuietAndIIDFile(t *testing.T) {
	d := buildCLIDaemon(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM busybox\nRUN echo q > /q\n"})
	name := unique("bcli-q")
	bcliRmi(t, d, name)
	iid := filepath.Join(t.TempDir(), "iid")
	if err := os.WriteFile(iid, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := bcliBuild(t, d, dir, nil, "-q", "--iidfile", iid, "-t", name, ".").Success(t)
	if !bcliImageID.MatchString(r.Stdout[:len(r.Stdout)-1]) || !strings.HasSuffix(r.Stdout, "\n") {
		t.Fatalf("-q stdout %q, want the image ID alone", r.Stdout)
	}
	if r.Stderr != "" {
		t.Errorf("-q stderr %q", r.Stderr)
	}
	dt, err := os.ReadFile(iid)
	if err != nil || string(dt) != r.Out() {
		t.Errorf("iidfile %q (%v), want %q", dt, err, r.Out())
	}
	if id := inspect(t, d, name, "{{.Id}}"); id != r.Out() {
		t.Errorf("image ID %s, -q printed %s", id, r.Out())
	}
}

// TestBuildCLIArgsTargetLabels: --build-arg (NAME=value and a bare NAME
// from the environment), --target (a later failing stage is skipped),
// --label, -f naming a Dockerfile outside the context.
func TestBuildCLIArgsTargetLabels(t *testing.T) {
	d := buildCLIDaemon(t)
	ctxDir, dfDir := t.TempDir(), t.TempDir()
	writeFiles(t, ctxDir, map[string]string{"f.txt": "from-context\n"})
	df := filepath.Join(dfDir, "app.Dockerfile")
	writeFiles(t, dfDir, map[string]string{"app.Dockerfile": `FROM busybox AS base
ARG A=default-a
ARG B=default-b
RUN echo "$A $B" > /args
COPY f.txt /f.txt
FROM base AS final
CMD ["sh", "-c", "cat /args /f.txt"]
FROM busybox AS broken
RUN exit 7
`})
	name := unique("bcli-args")
	bcliRmi(t, d, name)
	cmd := d.BerthCmd("build", "-q", "-f", df, "--target", "final", "--build-arg", "A=one", "--build-arg", "B",
		"--label", "com.example.k=v", "--label", "bare", "-t", name, ctxDir)
	cmd.Env = append(cmd.Env, "B=from-env")
	testutil.Run(t, cmd, nil).Success(t)
	if out := d.Berth(t, "run", "--rm", name).Success(t).Out(); out != "one from-env\nfrom-context" {
		t.Errorf("run output %q", out)
	}
	if got := inspect(t, d, name, `{{index .Config.Labels "com.example.k"}}|{{index .Config.Labels "bare"}}|{{len .Config.Labels}}`); got != "v||2" {
		t.Errorf("labels %q", got)
	}
}

// TestBuildCLIStdinContexts: `-` is a bare Dockerfile (no context) or a tar
// context (its .dockerignore applies); `-f -` reads the Dockerfile alone.
func TestBuildCLIStdinContexts(t *testing.T) {
	d := buildCLIDaemon(t)
	t.Run("dockerfile", func(t *testing.T) {
		name := unique("bcli-stdin")
		bcliRmi(t, d, name)
		bcliBuild(t, d, t.TempDir(), strings.NewReader("FROM busybox\nRUN echo from-stdin > /s\nCMD [\"cat\", \"/s\"]\n"),
			"-q", "-t", name, "-").Success(t)
		if out := d.Berth(t, "run", "--rm", name).Success(t).Out(); out != "from-stdin" {
			t.Errorf("run output %q", out)
		}
	})
	t.Run("tar", func(t *testing.T) {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for name, content := range map[string]string{
			"Dockerfile":    "FROM busybox\nCOPY . /ctx/\nCMD [\"ls\", \"/ctx\"]\n",
			"in.txt":        "in\n",
			"out.txt":       "out\n",
			".dockerignore": "out.txt\n",
		} {
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content))}); err != nil {
				t.Fatal(err)
			}
			_, _ = tw.Write([]byte(content))
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		name := unique("bcli-tar")
		bcliRmi(t, d, name)
		bcliBuild(t, d, t.TempDir(), &buf, "-q", "-t", name, "-").Success(t)
		got := lines(d.Berth(t, "run", "--rm", name).Success(t).Out())
		if !contains(got, "in.txt") || contains(got, "out.txt") {
			t.Errorf("context files in the image %q: want in.txt and not the ignored out.txt", got)
		}
	})
	t.Run("dash-f", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"Dockerfile": "FROM busybox\nRUN exit 1\n", "c.txt": "ctx\n"})
		name := unique("bcli-dashf")
		bcliRmi(t, d, name)
		bcliBuild(t, d, dir, strings.NewReader("FROM busybox\nCOPY c.txt /\nCMD [\"cat\", \"/c.txt\"]\n"),
			"-q", "-f", "-", "-t", name, ".").Success(t)
		if out := d.Berth(t, "run", "--rm", name).Success(t).Out(); out != "ctx" {
			t.Errorf("run output %q", out)
		}
	})
	t.Run("both", func(t *testing.T) {
		bcliBuild(t, d, t.TempDir(), strings.NewReader("FROM busybox\n"), "-f", "-", "-").
			Fails(t, 1, "ERROR: failed to build: invalid argument: can't use stdin for both build context and dockerfile")
	})
}

// TestBuildCLIOutputs: -o type=local writes the result's files, -o
// type=tar (and -o -) a tar of them; neither tags an image.
func TestBuildCLIOutputs(t *testing.T) {
	d := buildCLIDaemon(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM scratch AS out\nCOPY a.txt /a.txt\nCOPY sub /sub\n", "a.txt": "A\n", "sub/b.txt": "B\n"})
	local := filepath.Join(t.TempDir(), "out")
	bcliBuild(t, d, dir, nil, "-o", "type=local,dest="+local, ".").Success(t)
	for name, want := range map[string]string{"a.txt": "A\n", "sub/b.txt": "B\n"} {
		if dt, err := os.ReadFile(filepath.Join(local, name)); err != nil || string(dt) != want {
			t.Errorf("%s: %q %v", name, dt, err)
		}
	}
	tarPath := filepath.Join(t.TempDir(), "out.tar")
	bcliBuild(t, d, dir, nil, "-o", "type=tar,dest="+tarPath, ".").Success(t)
	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if names := bcliTarNames(t, f); !contains(names, "a.txt") || !contains(names, "sub/b.txt") {
		t.Errorf("tar holds %q", names)
	}
	r := bcliBuild(t, d, dir, nil, "-o", "-", ".").Success(t)
	if names := bcliTarNames(t, strings.NewReader(r.Stdout)); !contains(names, "a.txt") {
		t.Errorf("-o - wrote %q", names)
	}
}

func bcliTarNames(t *testing.T, r io.Reader) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("reading the tar: %v", err)
		}
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/"))
	}
}

// TestBuildCLISecrets: --secret from a file and from a variable reaches a
// RUN's secret mount, and stays out of the image.
func TestBuildCLISecrets(t *testing.T) {
	d := buildCLIDaemon(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM busybox AS b\n" +
		"RUN --mount=type=secret,id=f --mount=type=secret,id=e,required=true cat /run/secrets/f /run/secrets/e > /seen\n" +
		"FROM scratch\nCOPY --from=b /seen /seen\n"})
	secretFile := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(secretFile, []byte("file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	cmd := d.BerthCmd("build", "--secret", "id=f,src="+secretFile, "--secret", "id=e,env=BCLI_SECRET", "-o", "type=local,dest="+out, dir)
	cmd.Env = append(cmd.Env, "BCLI_SECRET=env-secret")
	testutil.Run(t, cmd, nil).Success(t)
	if dt, err := os.ReadFile(filepath.Join(out, "seen")); err != nil || string(dt) != "file-secret\nenv-secret" {
		t.Errorf("the RUN saw %q (%v)", dt, err)
	}
	// a required secret that is not given fails the build
	bcliBuild(t, d, dir, nil, "--no-cache", "--secret", "id=f,src="+secretFile, "-o", "type=local,dest="+out, ".").
		Fails(t, 1, "ERROR: failed to build: failed to solve:")
}

// TestBuildCLIFailingRun: a failing RUN exits 1 with docker's message
// (the command and its exit code), the failed step's lines, and no usage
// text; no image is tagged.
func TestBuildCLIFailingRun(t *testing.T) {
	d := buildCLIDaemon(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM busybox\nRUN echo before-failing && exit 3\n"})
	name := unique("bcli-fail")
	bcliRmi(t, d, name)
	r := bcliBuild(t, d, dir, nil, "--progress", "plain", "-t", name, ".").Fails(t, 1,
		`ERROR: failed to build: failed to solve: process "/bin/sh -c echo before-failing && exit 3" did not complete successfully: exit code: 3`,
		"before-failing", "Dockerfile:2")
	if strings.Contains(r.Combined(), "Usage:") {
		t.Errorf("a failed build printed usage: %s", r)
	}
	if r.Stdout != "" {
		t.Errorf("stdout %q", r.Stdout)
	}
	d.Berth(t, "image", "inspect", name).Fails(t, 1, "No such image")
}

// TestBuildCLIBadFlags: an unknown platform, network mode or missing
// context fail before building, with exit 1 and no usage text.
func TestBuildCLIBadFlags(t *testing.T) {
	d := buildCLIDaemon(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM busybox\n"})
	other := "linux/arm64"
	if runtime.GOARCH == "arm64" {
		other = "linux/amd64"
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--platform", other, "."}, `failed to build: platform "` + other + `" is not supported: berth builds for the host's platform only`},
		{[]string{"--network", "bogus", "."}, `failed to build: network mode "bogus" not supported`},
		{[]string{filepath.Join(dir, "missing")}, "failed to build: unable to prepare context: path"},
		{[]string{"--progress", "fancy", "."}, `invalid progress mode fancy`},
	} {
		r := bcliBuild(t, d, dir, nil, tc.args...).Fails(t, 1, "ERROR: "+tc.msg)
		if strings.Contains(r.Stderr, "Usage:") {
			t.Errorf("%v printed usage: %s", tc.args, r)
		}
	}
}

// TestBuildCLIPush: --push stores the image and pushes its tag to the
// registry.
func TestBuildCLIPush(t *testing.T) {
	d := buildCLIDaemon(t)
	reg := testutil.StartRegistry(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM busybox\nRUN echo pushed > /p\n"})
	repo := unique("bcli-push")
	ref := reg.Host + "/" + repo + ":v1"
	bcliRmi(t, d, ref)
	r := bcliBuild(t, d, dir, nil, "--progress", "plain", "--push", "-t", ref, ".").Success(t)
	// berthd's exporter pushes itself; a daemon without a snapshotter
	// worker pushes through its API after the build
	if !strings.Contains(r.Stderr, "pushing manifest for "+ref) && !strings.Contains(r.Stderr, "pushing "+ref+" with docker") {
		t.Errorf("no push step in the progress:\n%s", r.Stderr)
	}
	req, err := http.NewRequest(http.MethodHead, "http://"+reg.Host+"/v2/"+repo+"/manifests/v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the registry answers %s for %s", resp.Status, ref)
	}
	// without a tag there is nothing to push
	bcliBuild(t, d, dir, nil, "--push", ".").Fails(t, 1, "ERROR: failed to build: tag is needed when pushing to registry")
}

// TestBuildCLIURLContext: a URL context (a tar.gz served on 127.0.0.1) is
// fetched by the daemon; --build-context adds a second local context.
func TestBuildCLIURLContext(t *testing.T) {
	d := buildCLIDaemon(t)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range map[string]string{
		"Dockerfile": "FROM busybox\nCOPY u.txt /u.txt\nCOPY --from=extra e.txt /e.txt\nCMD [\"cat\", \"/u.txt\", \"/e.txt\"]\n",
		"u.txt":      "from-url\n",
	} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content))}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(content))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(buf.Bytes())
	}))
	defer srv.Close()
	extra := t.TempDir()
	writeFiles(t, extra, map[string]string{"e.txt": "from-extra\n"})
	name := unique("bcli-url")
	bcliRmi(t, d, name)
	bcliBuild(t, d, t.TempDir(), nil, "-q", "-t", name, "--build-context", "extra="+extra, srv.URL+"/ctx.tar.gz").Success(t)
	if out := d.Berth(t, "run", "--rm", name).Success(t).Out(); out != "from-url\nfrom-extra" {
		t.Errorf("run output %q", out)
	}
}

// TestBuildCLINetworkAndHosts: --add-host (an address and host-gateway)
// lands in a RUN's /etc/hosts; --network none leaves a RUN only loopback.
func TestBuildCLINetworkAndHosts(t *testing.T) {
	d := buildCLIDaemon(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM busybox AS b\n" +
		"RUN cat /etc/hosts > /hosts; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /ifaces\n" +
		"FROM scratch\nCOPY --from=b /hosts /ifaces /\n"})
	out := filepath.Join(t.TempDir(), "out")
	bcliBuild(t, d, dir, nil, "--no-cache", "--add-host", "db.example:10.1.2.3", "--add-host", "gw.example:host-gateway",
		"--network", "none", "-o", "type=local,dest="+out, ".").Success(t)
	hosts, err := os.ReadFile(filepath.Join(out, "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^10\.1\.2\.3\s+db\.example$`).Match(hosts) {
		t.Errorf("/etc/hosts lacks db.example:\n%s", hosts)
	}
	if !regexp.MustCompile(`(?m)^\d+\.\d+\.\d+\.\d+\s+gw\.example$`).Match(hosts) {
		t.Errorf("/etc/hosts lacks gw.example (host-gateway):\n%s", hosts)
	}
	if ifaces, _ := os.ReadFile(filepath.Join(out, "ifaces")); strings.TrimSpace(string(ifaces)) != "lo" {
		t.Errorf("--network none: interfaces %q, want lo alone", ifaces)
	}
}

// TestBuildCLICacheExportImport: --cache-to type=local writes an OCI
// layout of the cache that --cache-from type=local reads back; inline
// cache is accepted with the image export.
func TestBuildCLICacheExportImport(t *testing.T) {
	d := buildCLIDaemon(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM busybox\nRUN echo " + unique("cache") + " > /c\n"})
	cache := filepath.Join(t.TempDir(), "cache")
	bcliBuild(t, d, dir, nil, "-q", "--cache-to", "type=local,dest="+cache+",mode=max", ".").Success(t)
	if _, err := os.Stat(filepath.Join(cache, "index.json")); err != nil {
		t.Fatalf("no cache written: %v", err)
	}
	r := bcliBuild(t, d, dir, nil, "--progress", "plain", "--cache-from", "type=local,src="+cache, ".").Success(t)
	if !strings.Contains(r.Stderr, "importing cache manifest from local:") {
		t.Errorf("the cache was not imported:\n%s", r.Stderr)
	}
	name := unique("bcli-inline")
	bcliRmi(t, d, name)
	bcliBuild(t, d, dir, nil, "-q", "--cache-to", "type=inline", "-t", name, ".").Success(t)
}
