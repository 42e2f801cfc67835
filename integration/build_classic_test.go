//go:build linux

package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/berth-project/berth/internal/testutil"
)

// The classic POST /build (version 1: the context in the body, docker's
// "Step n/m" stream) and version 2 (docker CLI 20.10 with BuildKit: the
// context through its session) run on berthd's embedded BuildKit. The
// clients are those that still send them: the docker CLI with
// DOCKER_BUILDKIT=0, the moby Go client's ImageBuild, Debian's
// docker-compose 1.29 and the Python SDK, and Debian's docker 20.10 CLI.

// contextTar is files as a tar, as ImageBuild sends them.
func contextTar(t *testing.T, files map[string]string) io.Reader {
	t.Helper()
	return contextTarAt(t, files, time.Now())
}

// contextTarAt is contextTar with every file's mtime set to mtime.
func contextTarAt(t *testing.T, files map[string]string, mtime time.Time) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg, ModTime: mtime}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// classicDocker runs the docker CLI's legacy builder (DOCKER_BUILDKIT=0).
func classicDocker(t *testing.T, d *testutil.Daemon, args ...string) *testutil.Result {
	t.Helper()
	testutil.RequiresDockerCLI(t)
	cmd := d.DockerCmd(args...)
	cmd.Env = append(cmd.Env, "DOCKER_BUILDKIT=0")
	return testutil.Run(t, cmd, nil)
}

// removeImageOnCleanup removes the image when t ends.
func removeImageOnCleanup(t *testing.T, d *testutil.Daemon, ref string) {
	t.Helper()
	t.Cleanup(func() { d.Berth(t, "rmi", "-f", ref) })
}

// buildMessage is a message of the build's JSON stream.
type buildMessage struct {
	Stream      string          `json:"stream"`
	ID          string          `json:"id"`
	Aux         json.RawMessage `json:"aux"`
	Error       string          `json:"error"`
	ErrorDetail *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// readBuild decodes a build's whole stream.
func readBuild(t *testing.T, body io.Reader) []buildMessage {
	t.Helper()
	var msgs []buildMessage
	dec := json.NewDecoder(body)
	for {
		var m buildMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return msgs
		} else if err != nil {
			t.Fatalf("decode the build stream: %v", err)
		}
		msgs = append(msgs, m)
	}
}

var imageIDLine = regexp.MustCompile(`(?m)^Successfully built ([0-9a-f]{12})$`)

func TestBuildClassicDockerCLI(t *testing.T) {
	d := sharedDaemon(t)
	name := unique("classic")
	removeImageOnCleanup(t, d, name)
	dir := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nENV GREETING=hello\nRUN echo built by $GREETING > /built\nCOPY file.txt /file.txt\nLABEL stage=test\nCMD [\"cat\", \"/built\"]\n",
		"file.txt":   "from the context\n",
	})
	res := classicDocker(t, d, "build", "-t", name, dir).Success(t)
	for _, want := range []string{
		"Step 1/6 : FROM busybox\n",
		"Step 2/6 : ENV GREETING=hello\n",
		"Step 3/6 : RUN echo built by $GREETING > /built\n",
		"Step 4/6 : COPY file.txt /file.txt\n",
		"Step 6/6 : CMD [\"cat\", \"/built\"]\n",
		"Successfully tagged " + name + ":latest\n",
	} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.Stdout)
		}
	}
	m := imageIDLine.FindStringSubmatch(res.Stdout)
	if m == nil {
		t.Fatalf("no Successfully built line:\n%s", res.Stdout)
	}
	if id := inspect(t, d, name, "{{.Id}}"); !strings.HasPrefix(id, "sha256:"+m[1]) {
		t.Errorf("built %s, the tag names %s", m[1], id)
	}
	if got := inspect(t, d, name, "{{json .Config.Cmd}} {{index .Config.Labels \"stage\"}}"); got != `["cat","/built"] test` {
		t.Errorf("config: %s", got)
	}
	if env := inspect(t, d, name, "{{json .Config.Env}}"); !strings.Contains(env, `"GREETING=hello"`) {
		t.Errorf("env: %s", env)
	}
	out := d.Berth(t, "run", "--rm", name).Success(t).Out()
	if out != "built by hello" {
		t.Errorf("run: %q", out)
	}
	if out := d.Berth(t, "run", "--rm", name, "cat", "/file.txt").Success(t).Out(); out != "from the context" {
		t.Errorf("copied file: %q", out)
	}

	// A rebuild hits BuildKit's cache.
	res = classicDocker(t, d, "build", "-t", name, dir).Success(t)
	if !strings.Contains(res.Stdout, " ---> Using cache\n") {
		t.Errorf("the rebuild did not use the cache:\n%s", res.Stdout)
	}
	// --no-cache runs the RUN again.
	res = classicDocker(t, d, "build", "--no-cache", "-t", name, dir).Success(t)
	if strings.Contains(res.Stdout, "Using cache") || !strings.Contains(res.Stdout, " ---> Running in ") {
		t.Errorf("--no-cache used the cache:\n%s", res.Stdout)
	}

	// A Dockerfile on stdin, -f naming another file, and -q.
	res = testutil.Run(t, func() *exec.Cmd {
		testutil.RequiresDockerCLI(t)
		cmd := d.DockerCmd("build", "-q", "-t", name+":stdin", "-")
		cmd.Env = append(cmd.Env, "DOCKER_BUILDKIT=0")
		return cmd
	}(), strings.NewReader("FROM busybox\nRUN echo quiet\n")).Success(t)
	removeImageOnCleanup(t, d, name+":stdin")
	if !fullID.MatchString(strings.TrimPrefix(res.Out(), "sha256:")) {
		t.Errorf("-q printed %q, want only the image id", res.Out())
	}
	other := buildContext(t, map[string]string{"build/Other.Dockerfile": "FROM busybox\nLABEL from=other\n"})
	classicDocker(t, d, "build", "--platform", "linux/"+runtime.GOARCH, "-t", name+":other", "-f", filepath.Join(other, "build/Other.Dockerfile"), other).Success(t)
	removeImageOnCleanup(t, d, name+":other")
	if got := inspect(t, d, name+":other", `{{index .Config.Labels "from"}}`); got != "other" {
		t.Errorf("-f: label %q", got)
	}
}

func TestBuildClassicErrors(t *testing.T) {
	d := sharedDaemon(t)
	for _, tc := range []struct {
		name, dockerfile string
		code             int
		msg              string
	}{
		{"failing RUN", "FROM busybox\nRUN echo about to fail && exit 3\n", 3, "The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3"},
		{"unknown instruction", "FROM busybox\nFOO bar\n", 1, "dockerfile parse error on line 2: unknown instruction: FOO"},
		{"COPY of a missing file", "FROM busybox\nCOPY nofile /x\n", 1, "COPY failed: file not found in build context or excluded by .dockerignore: stat nofile: file does not exist"},
		{"missing base image", "FROM 127.0.0.1:1/nosuch/image:1\n", 1, "127.0.0.1:1/nosuch/image:1"},
		{"empty Dockerfile", "", 1, "the Dockerfile (Dockerfile) cannot be empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := unique("classic-bad")
			dir := buildContext(t, map[string]string{"Dockerfile": tc.dockerfile})
			res := classicDocker(t, d, "build", "-t", name, dir).Fails(t, tc.code, tc.msg)
			if tc.code == 3 && !strings.Contains(res.Stdout, "about to fail") {
				t.Errorf("the RUN's output is missing:\n%s", res.Stdout)
			}
			if r := d.Berth(t, "image", "inspect", name); r.ExitCode == 0 {
				removeImageOnCleanup(t, d, name)
				t.Errorf("a failed build tagged %s", name)
			}
		})
	}
}

func TestBuildClassicImageBuild(t *testing.T) {
	d := sharedDaemon(t)
	c := d.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := unique("imagebuild")
	removeImageOnCleanup(t, d, name)
	ver := "2.0"
	res, err := c.ImageBuild(ctx, contextTar(t, map[string]string{
		"Dockerfile": "FROM busybox AS base\nARG VERSION=1.0\nRUN echo $VERSION > /version\nFROM base AS final\nLABEL kind=final\nFROM busybox AS other\nRUN exit 1\n",
	}), client.ImageBuildOptions{
		Tags:      []string{name},
		BuildArgs: map[string]*string{"VERSION": &ver},
		Labels:    map[string]string{"org.example.built-by": "imagebuild"},
		Target:    "final",
		Remove:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := readBuild(t, res.Body)
	res.Body.Close()
	var id string
	var stream strings.Builder
	for _, m := range msgs {
		if m.ErrorDetail != nil {
			t.Fatalf("build failed: %s", m.ErrorDetail.Message)
		}
		stream.WriteString(m.Stream)
		if m.Aux != nil && m.ID == "" {
			var aux struct{ ID string }
			if err := json.Unmarshal(m.Aux, &aux); err != nil {
				t.Fatal(err)
			}
			id = aux.ID
		}
	}
	// --target drops the stages after it; --label adds a LABEL step.
	if !strings.Contains(stream.String(), "Step 6/6 : LABEL org.example.built-by=imagebuild\n") {
		t.Errorf("stream:\n%s", stream.String())
	}
	if id == "" || inspect(t, d, name, "{{.Id}}") != id {
		t.Fatalf("aux id %q is not %s's", id, name)
	}
	labels := inspect(t, d, name, "{{json .Config.Labels}}")
	if !strings.Contains(labels, `"kind":"final"`) || !strings.Contains(labels, `"org.example.built-by":"imagebuild"`) {
		t.Errorf("labels %s", labels)
	}
	if out := d.Berth(t, "run", "--rm", name, "cat", "/version").Success(t).Out(); out != "2.0" {
		t.Errorf("build arg: /version is %q", out)
	}

	// q=1: the stream is only the image id.
	res, err = c.ImageBuild(ctx, contextTar(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo hidden\n"}),
		client.ImageBuildOptions{Tags: []string{name + ":q"}, SuppressOutput: true})
	if err != nil {
		t.Fatal(err)
	}
	removeImageOnCleanup(t, d, name+":q")
	msgs = readBuild(t, res.Body)
	res.Body.Close()
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Stream, "sha256:") || strings.TrimSpace(msgs[0].Stream) != inspect(t, d, name+":q", "{{.Id}}") {
		t.Errorf("q=1 stream: %+v", msgs)
	}

	// A failed RUN: its exit code in errorDetail, as the classic builder.
	res, err = c.ImageBuild(ctx, contextTar(t, map[string]string{"Dockerfile": "FROM busybox\nRUN exit 7\n"}), client.ImageBuildOptions{Tags: []string{name + ":bad"}})
	if err != nil {
		t.Fatal(err)
	}
	msgs = readBuild(t, res.Body)
	res.Body.Close()
	last := msgs[len(msgs)-1]
	if last.ErrorDetail == nil || last.ErrorDetail.Code != 7 || last.ErrorDetail.Message != "The command '/bin/sh -c exit 7' returned a non-zero code: 7" {
		t.Errorf("last message %+v", last)
	}
}

// TestBuildClassicDisconnect checks that a client going away mid-build
// cancels it: the RUN's process ends, the extracted context is removed
// and nothing is tagged. The daemon is its own, so that no other build's
// context is around.
func TestBuildClassicDisconnect(t *testing.T) {
	d := ownDaemon(t)
	c := d.Client(t)
	name := unique("disconnect")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := c.ImageBuild(ctx, contextTar(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo started && sleep 4321\n"}),
		client.ImageBuildOptions{Tags: []string{name}, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(res.Body)
	for {
		var m buildMessage
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("the build ended before its RUN started: %v", err)
		}
		if m.Stream == "started\n" {
			break
		}
	}
	running := func() bool {
		out, _ := exec.Command("pgrep", "-f", "sleep 4321").Output()
		return len(bytes.TrimSpace(out)) > 0
	}
	if !running() {
		t.Fatal("the RUN's sleep is not running")
	}
	contexts := filepath.Join(d.DataRoot, "buildkit", "classic-contexts")
	if entries, err := os.ReadDir(contexts); err != nil || len(entries) != 1 {
		t.Fatalf("the running build's context is not in %s: %v %v", contexts, entries, err)
	}
	cancel()
	res.Body.Close()
	waitFor(t, 20*time.Second, "the cancelled RUN to end", func() bool { return !running() })
	waitFor(t, 10*time.Second, "the cancelled build's context to be removed", func() bool {
		entries, err := os.ReadDir(contexts)
		return err == nil && len(entries) == 0
	})
	if r := d.Berth(t, "image", "inspect", name); r.ExitCode == 0 {
		removeImageOnCleanup(t, d, name)
		t.Errorf("a cancelled build tagged %s", name)
	}
}

// debianDocker is Debian's docker 20.10 CLI, whose DOCKER_BUILDKIT=1 build
// is POST /build version 2 with a session.
const debianDocker = "/usr/bin/docker"

func TestBuildClassicVersion2(t *testing.T) {
	if _, err := os.Stat(debianDocker); err != nil {
		t.Skipf("%s (Debian's docker.io 20.10 client) is not installed", debianDocker)
	}
	d := sharedDaemon(t)
	name := unique("v2")
	removeImageOnCleanup(t, d, name)
	dir := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY greeting /greeting\nRUN cat /greeting\n",
		"greeting":   "hello from the session\n",
	})
	run := func(args ...string) *testutil.Result {
		cmd := exec.Command(debianDocker, append([]string{"-H", d.Host}, args...)...)
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=1", "DOCKER_CONFIG="+filepath.Join(d.Root, "docker-config-2010"))
		return testutil.Run(t, cmd, nil)
	}
	res := run("build", "--progress", "plain", "-t", name, dir).Success(t)
	if !strings.Contains(res.Stderr, "hello from the session") {
		t.Errorf("progress:\n%s", res.Stderr)
	}
	if out := d.Berth(t, "run", "--rm", name, "cat", "/greeting").Success(t).Out(); out != "hello from the session" {
		t.Errorf("built image: %q", out)
	}
	res = run("build", "-q", "-t", name, dir).Success(t)
	if id := inspect(t, d, name, "{{.Id}}"); res.Out() != id {
		t.Errorf("-q printed %q, want %s", res.Out(), id)
	}

	// `docker build - < context.tar`: the context comes in a second
	// request (buildid=upload-request:<id>).
	cmd := exec.Command(debianDocker, "-H", d.Host, "build", "--progress", "plain", "-t", name+":stdin", "-")
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=1", "DOCKER_CONFIG="+filepath.Join(d.Root, "docker-config-2010"))
	res = testutil.Run(t, cmd, contextTar(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY greeting /greeting\nRUN cat /greeting\n",
		"greeting":   "hello from stdin\n",
	})).Success(t)
	removeImageOnCleanup(t, d, name+":stdin")
	if out := d.Berth(t, "run", "--rm", name+":stdin", "cat", "/greeting").Success(t).Out(); out != "hello from stdin" {
		t.Errorf("built from stdin: %q\n%s", out, res.Stderr)
	}
}

func TestBuildClassicCompose(t *testing.T) {
	compose, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Skip("docker-compose 1.29 is not installed (apt-get install docker-compose)")
	}
	d := sharedDaemon(t)
	name := unique("compose")
	removeImageOnCleanup(t, d, name)
	dir := buildContext(t, map[string]string{
		"docker-compose.yml": "version: '3'\nservices:\n  app:\n    image: " + name + "\n    build:\n      context: ./app\n      args:\n        MSG: composed\n",
		"app/Dockerfile":     "FROM busybox\nARG MSG=none\nRUN echo $MSG > /msg\n",
	})
	cmd := exec.Command(compose, "-f", filepath.Join(dir, "docker-compose.yml"), "-p", name, "build")
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host, "DOCKER_BUILDKIT=0", "COMPOSE_DOCKER_CLI_BUILD=0")
	res := testutil.Run(t, cmd, nil).Success(t)
	if !strings.Contains(res.Combined(), "Successfully tagged "+name+":latest") {
		t.Errorf("compose build:\n%s", res.Combined())
	}
	if out := d.Berth(t, "run", "--rm", name, "cat", "/msg").Success(t).Out(); out != "composed" {
		t.Errorf("/msg is %q", out)
	}
}

func TestBuildClassicPythonSDK(t *testing.T) {
	if err := exec.Command("python3", "-c", "import docker").Run(); err != nil {
		t.Skip("the Python docker SDK is not installed")
	}
	d := sharedDaemon(t)
	name := unique("pysdk")
	removeImageOnCleanup(t, d, name)
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo from python > /py\n"})
	// A folder (the SDK tars it, here gzipped), then a bare Dockerfile as
	// the whole body (custom_context).
	script := `import io, sys, docker
c = docker.DockerClient(base_url=sys.argv[1], version="auto")
img, logs = c.images.build(path=sys.argv[2], tag=sys.argv[3], gzip=True)
print(img.id)
img, logs = c.images.build(fileobj=io.BytesIO(b"FROM busybox\nRUN echo bare > /bare\n"), custom_context=True, tag=sys.argv[3] + ":bare")
print(img.id)
`
	cmd := exec.Command("python3", "-c", script, d.Host, dir, name)
	res := testutil.Run(t, cmd, nil).Success(t)
	removeImageOnCleanup(t, d, name+":bare")
	ids := lines(res.Out())
	if len(ids) != 2 || ids[0] != inspect(t, d, name, "{{.Id}}") || ids[1] != inspect(t, d, name+":bare", "{{.Id}}") {
		t.Errorf("the SDK returned %q", ids)
	}
	if out := d.Berth(t, "run", "--rm", name+":bare", "cat", "/bare").Success(t).Out(); out != "bare" {
		t.Errorf("/bare: %q", out)
	}
}

// TestBuildClassicNetwork checks networkmode and extrahosts on the RUN
// steps of a classic build.
func TestBuildClassicNetwork(t *testing.T) {
	d := sharedDaemon(t)
	c := d.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := unique("classic-net")
	removeImageOnCleanup(t, d, name)
	res, err := c.ImageBuild(ctx, contextTar(t, map[string]string{
		"Dockerfile": "FROM busybox\nRUN cat /etc/hosts > /hosts && ls /sys/class/net > /nets\n",
	}), client.ImageBuildOptions{Tags: []string{name}, NetworkMode: "none", ExtraHosts: []string{"classic-host:10.11.12.13"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range readBuild(t, res.Body) {
		if m.ErrorDetail != nil {
			t.Fatalf("build failed: %s", m.ErrorDetail.Message)
		}
	}
	res.Body.Close()
	if hosts := d.Berth(t, "run", "--rm", name, "cat", "/hosts").Success(t).Out(); !regexp.MustCompile(`(?m)^10\.11\.12\.13\s+classic-host$`).MatchString(hosts) {
		t.Errorf("extrahosts: /etc/hosts of the RUN:\n%s", hosts)
	}
	if nets := d.Berth(t, "run", "--rm", name, "cat", "/nets").Success(t).Out(); nets != "lo" {
		t.Errorf("networkmode=none: the RUN saw interfaces %q", nets)
	}
}

// TestBuildClassicContextChange checks that a rebuild sees a file changed
// at the same size within the same second (the docker CLI sends whole
// seconds), although the context's snapshot is kept between the builds
// of one tag.
func TestBuildClassicContextChange(t *testing.T) {
	d := sharedDaemon(t)
	c := d.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := unique("classic-change")
	removeImageOnCleanup(t, d, name)
	mtime := time.Now().Truncate(time.Second)
	for _, content := range []string{"first", "other", "first"} {
		res, err := c.ImageBuild(ctx, contextTarAt(t, map[string]string{
			"Dockerfile": "FROM busybox\nCOPY data /data\n",
			"data":       content,
		}, mtime), client.ImageBuildOptions{Tags: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range readBuild(t, res.Body) {
			if m.ErrorDetail != nil {
				t.Fatalf("build failed: %s", m.ErrorDetail.Message)
			}
		}
		res.Body.Close()
		if got := d.Berth(t, "run", "--rm", name, "cat", "/data").Success(t).Out(); got != content {
			t.Errorf("the image has %q, the context %q", got, content)
		}
	}
}

// TestBuildClassicRemoteContext checks remote=<URL>: a context tar the
// builder fetches itself, from a server on the host's loopback.
func TestBuildClassicRemoteContext(t *testing.T) {
	d := sharedDaemon(t)
	c := d.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var body bytes.Buffer
	if _, err := io.Copy(&body, contextTar(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY remote.txt /remote.txt\nRUN cat /remote.txt\n",
		"remote.txt": "fetched by the builder\n",
	})); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-tar")
		w.Write(body.Bytes())
	}))
	defer srv.Close()
	name := unique("classic-remote")
	removeImageOnCleanup(t, d, name)
	res, err := c.ImageBuild(ctx, nil, client.ImageBuildOptions{Tags: []string{name}, RemoteContext: srv.URL + "/context.tar"})
	if err != nil {
		t.Fatal(err)
	}
	var stream strings.Builder
	for _, m := range readBuild(t, res.Body) {
		if m.ErrorDetail != nil {
			t.Fatalf("build failed: %s", m.ErrorDetail.Message)
		}
		stream.WriteString(m.Stream)
	}
	res.Body.Close()
	for _, want := range []string{"Step 2/3 : COPY remote.txt /remote.txt\n", "fetched by the builder\n", "Successfully tagged " + name + ":latest\n"} {
		if !strings.Contains(stream.String(), want) {
			t.Errorf("stream lacks %q:\n%s", want, stream.String())
		}
	}
	if got := d.Berth(t, "run", "--rm", name, "cat", "/remote.txt").Success(t).Out(); got != "fetched by the builder" {
		t.Errorf("/remote.txt: %q", got)
	}
}

// TestBuildClassicCancel checks POST /build/cancel?id= on a build started
// with buildid=: the build ends with an error, its RUN stops, nothing is
// tagged.
func TestBuildClassicCancel(t *testing.T) {
	d := sharedDaemon(t)
	c := d.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := unique("classic-cancel")
	buildID := unique("buildid")
	res, err := c.ImageBuild(ctx, contextTar(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo started && sleep 4322\n"}),
		client.ImageBuildOptions{Tags: []string{name}, NoCache: true, BuildID: buildID})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var m buildMessage
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("the build ended before its RUN started: %v", err)
		}
		if m.Stream == "started\n" {
			break
		}
	}
	if _, err := c.BuildCancel(ctx, buildID, client.BuildCancelOptions{}); err != nil {
		t.Fatal(err)
	}
	var last buildMessage
	for {
		var m buildMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		last = m
	}
	if last.ErrorDetail == nil {
		t.Errorf("the cancelled build did not end with an error: %+v", last)
	}
	waitFor(t, 20*time.Second, "the cancelled RUN to end", func() bool {
		out, _ := exec.Command("pgrep", "-f", "sleep 4322").Output()
		return len(bytes.TrimSpace(out)) == 0
	})
	if r := d.Berth(t, "image", "inspect", name); r.ExitCode == 0 {
		removeImageOnCleanup(t, d, name)
		t.Errorf("a cancelled build tagged %s", name)
	}
}
