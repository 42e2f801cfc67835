package build

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/klauspost/compress/gzip"
	"github.com/moby/buildkit/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	bkerrdefs "github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/backend"
)

const multiStage = `ARG BASE=busybox
FROM $BASE AS build
WORKDIR /src
COPY . .
RUN make
ENV X=1
FROM scratch
COPY --from=build /src/app /app
CMD ["/app"]
FROM busybox AS final
RUN echo unused
`

func TestClassicPlanSteps(t *testing.T) {
	p, err := newClassicPlan("Dockerfile", []byte(multiStage), "", map[string]string{"b": "2", "a": "1"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range p.steps {
		got = append(got, p.header(i))
	}
	want := []string{
		"Step 1/13 : ARG BASE=busybox\n",
		"Step 2/13 : FROM $BASE AS build\n",
		"Step 3/13 : WORKDIR /src\n",
		"Step 4/13 : COPY . .\n",
		"Step 5/13 : RUN make\n",
		"Step 6/13 : ENV X=1\n",
		"Step 7/13 : FROM scratch\n",
		"Step 8/13 : COPY --from=build /src/app /app\n",
		"Step 9/13 : CMD [\"/app\"]\n",
		"Step 10/13 : FROM busybox AS final\n",
		"Step 11/13 : RUN echo unused\n",
		"Step 12/13 : LABEL a=1\n",
		"Step 13/13 : LABEL b=2\n",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps:\n%q\nwant\n%q", got, want)
	}
	// The classic builder drops the stages after the target.
	if tp, err := newClassicPlan("Dockerfile", []byte(multiStage), "build", nil); err != nil || len(tp.steps) != 6 {
		t.Errorf("with --target build: %v %v", tp, err)
	}
	for name, step := range map[string]int{
		"[build 1/4] FROM docker.io/library/busybox:latest": 1,
		"[build 2/4] WORKDIR /src":                          2,
		"[build 3/4] COPY . .":                              3,
		"[build 4/4] RUN make":                              4,
		"[stage-1 1/1] COPY --from=build /src/app /app":     7,
		"[stage-1 1/1] RUN x":                               -1, // not the instruction there
		"[internal] load build context":                     -1,
		"exporting to image":                                -1,
		"[final 2/2] RUN echo unused":                       10,
		"[stage-2 1/2] FROM docker.io/library/busybox":      -1,
	} {
		if got := p.stepOf(name); got != step {
			t.Errorf("stepOf(%q) = %d, want %d", name, got, step)
		}
	}
}

func TestClassicPlanOneStage(t *testing.T) {
	p, err := newClassicPlan("Dockerfile", []byte("FROM busybox\nONBUILD RUN x\nrun echo hi\nCOPY a /a\nCOPY --link b /b\n"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, step := range map[string]int{
		"[1/4] FROM docker.io/library/busybox":      0,
		"[1/5] ONBUILD RUN echo trigger":            0, // a trigger of the base image
		"[2/5] FROM docker.io/library/busybox":      0,
		"[3/5] RUN echo hi":                         2,
		"[ 2/4] RUN echo hi":                        2,
		"[3/4] COPY a /a":                           3,
		"[4/4] LINK COPY b /b":                      4,
		"[stage-0 2/4] RUN echo hi":                 2, // COPY --from=image adds a state
		"[4/4] COPY b /b":                           4,
		"[5/4] COPY b /b":                           -1,
		"[other 1/1] FROM docker.io/library/alpine": -1,
	} {
		if got := p.stepOf(name); got != step {
			t.Errorf("stepOf(%q) = %d, want %d", name, got, step)
		}
	}
	if h := p.header(2); h != "Step 3/5 : run echo hi\n" {
		t.Errorf("header = %q", h)
	}
}

func TestClassicPlanErrors(t *testing.T) {
	for _, tc := range []struct{ dockerfile, target, msg string }{
		{"", "", "the Dockerfile (Dockerfile) cannot be empty"},
		{"FROM busybox\nFOO bar\n", "", "dockerfile parse error on line 2: unknown instruction: FOO"},
		{"RUN echo\n", "", "no build stage in current context"},
		{"ARG A=1\n", "", "No image was generated. Is your Dockerfile empty?"},
		{"FROM busybox\n", "nope", "failed to reach build target nope in Dockerfile"},
	} {
		_, err := newClassicPlan("Dockerfile", []byte(tc.dockerfile), tc.target, nil)
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: err = %v, want a 400 with %q", tc.dockerfile, err, tc.msg)
		}
	}
}

// renderedStreams renders statuses and returns the stream texts.
func renderedStreams(t *testing.T, plan *classicPlan, statuses ...*client.SolveStatus) []string {
	t.Helper()
	var buf bytes.Buffer
	r := newClassicRenderer(plan, newMessageWriter(&buf))
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	for _, ss := range statuses {
		if err := r.handle(ss); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.finish(digest.FromString("image")); err != nil {
		t.Fatal(err)
	}
	var out []string
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var m jsonMessage
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Stream)
	}
	return out
}

func TestClassicRenderer(t *testing.T) {
	plan, err := newClassicPlan("Dockerfile", []byte("FROM busybox\nENV A=b\nRUN echo hi\nCOPY a /a\nCMD [\"sh\"]\n"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	from, run, cp, internal := digest.FromString("from"), digest.FromString("run"), digest.FromString("copy"), digest.FromString("ctx")
	got := renderedStreams(t, plan,
		&client.SolveStatus{Vertexes: []*client.Vertex{
			{Digest: internal, Name: "[internal] load build context", Started: &now},
			{Digest: from, Name: "[1/3] FROM docker.io/library/busybox:latest", Started: &now},
		}},
		&client.SolveStatus{Vertexes: []*client.Vertex{
			{Digest: from, Name: "[1/3] FROM docker.io/library/busybox:latest", Started: &now, Completed: &now, Cached: true},
			{Digest: run, Name: "[2/3] RUN echo hi", Started: &now},
		}},
		&client.SolveStatus{Logs: []*client.VertexLog{
			{Vertex: run, Stream: 1, Data: []byte("hi\n")},
			{Vertex: run, Stream: 2, Data: []byte("oops\n")},
		}},
		&client.SolveStatus{Vertexes: []*client.Vertex{
			{Digest: run, Name: "[2/3] RUN echo hi", Started: &now, Completed: &now},
			{Digest: cp, Name: "[3/3] COPY a /a", Started: &now, Completed: &now, Cached: true},
		}},
	)
	want := []string{
		"Step 1/5 : FROM busybox\n",
		" ---> " + from.Encoded()[:12] + "\n",
		"Step 2/5 : ENV A=b\n",
		"Step 3/5 : RUN echo hi\n",
		" ---> Running in " + run.Encoded()[:12] + "\n",
		"hi\n",
		"\033[91moops\n\033[0m",
		" ---> " + run.Encoded()[:12] + "\n",
		"Step 4/5 : COPY a /a\n",
		" ---> Using cache\n",
		" ---> " + cp.Encoded()[:12] + "\n",
		"Step 5/5 : CMD [\"sh\"]\n",
		" ---> " + digest.FromString("image").Encoded()[:12] + "\n",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rendered:\n%q\nwant\n%q", got, want)
	}
}

// TestClassicRendererLastStep: a Dockerfile whose last step makes a
// vertex shows one result under it, the image's id, as dockerd's, not
// the vertex's and then the image's; a FROM scratch shows an empty id, a
// FROM of an earlier stage that stage's last result.
func TestClassicRendererLastStep(t *testing.T) {
	plan, err := newClassicPlan("Dockerfile", []byte("FROM scratch AS empty\nFROM busybox AS base\nRUN echo hi\nFROM base\nRUN echo again\n"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	from, run, again := digest.FromString("from"), digest.FromString("run"), digest.FromString("again")
	got := renderedStreams(t, plan,
		&client.SolveStatus{Vertexes: []*client.Vertex{
			{Digest: from, Name: "[base 1/2] FROM docker.io/library/busybox:latest", Started: &now, Completed: &now, Cached: true},
			{Digest: run, Name: "[base 2/2] RUN echo hi", Started: &now, Completed: &now, Cached: true},
			{Digest: again, Name: "[stage-2 1/1] RUN echo again", Started: &now, Completed: &now, Cached: true},
		}},
	)
	want := []string{
		"Step 1/5 : FROM scratch AS empty\n",
		" ---> \n",
		"Step 2/5 : FROM busybox AS base\n",
		" ---> " + from.Encoded()[:12] + "\n",
		"Step 3/5 : RUN echo hi\n",
		" ---> Using cache\n",
		" ---> " + run.Encoded()[:12] + "\n",
		"Step 4/5 : FROM base\n",
		" ---> " + run.Encoded()[:12] + "\n",
		"Step 5/5 : RUN echo again\n",
		" ---> Using cache\n",
		" ---> " + digest.FromString("image").Encoded()[:12] + "\n",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rendered:\n%q\nwant\n%q", got, want)
	}
}

// TestClassicRendererBaseImage: the FROM of a local image shows the
// image's id, as dockerd's classic builder does, not its vertex's.
func TestClassicRendererBaseImage(t *testing.T) {
	plan, err := newClassicPlan("Dockerfile", []byte("FROM busybox\nRUN echo hi\n"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	manifest, id := digest.FromString("manifest"), digest.FromString("config")
	var buf bytes.Buffer
	r := newClassicRenderer(plan, newMessageWriter(&buf))
	r.imageID = func(d digest.Digest) (digest.Digest, bool) { return id, d == manifest }
	now := time.Now()
	if err := r.handle(&client.SolveStatus{Vertexes: []*client.Vertex{
		{Digest: digest.FromString("from"), Name: "[1/2] FROM docker.io/library/busybox:latest@" + manifest.String(), Started: &now, Completed: &now},
	}}); err != nil {
		t.Fatal(err)
	}
	if want := `" ---\u003e ` + id.Encoded()[:12] + `\n"`; !strings.Contains(buf.String(), want) {
		t.Errorf("rendered %s, want %s", buf.String(), want)
	}
}

// tarball builds a tar from entries.
func tarball(t *testing.T, entries ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = "content of " + h.Name
			h.Size = int64(len(body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		h.Uid, h.Gid = os.Geteuid(), os.Getegid()
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReceiveContext(t *testing.T) {
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	outside := t.TempDir()
	ctxTar := tarball(t,
		&tar.Header{Name: "Dockerfile", Typeflag: tar.TypeReg, ModTime: mtime},
		&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o750, ModTime: mtime},
		&tar.Header{Name: "dir/x.sh", Typeflag: tar.TypeReg, Mode: 0o755, ModTime: mtime},
		&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "dir/x.sh"},
		&tar.Header{Name: "hard", Typeflag: tar.TypeLink, Linkname: "dir/x.sh"},
		&tar.Header{Name: "deep/er/f", Typeflag: tar.TypeReg},
		// What must not escape the context's folder:
		&tar.Header{Name: "../../escaped", Typeflag: tar.TypeReg},
		&tar.Header{Name: "out", Typeflag: tar.TypeSymlink, Linkname: outside},
	)
	root := t.TempDir()
	dir, err := receiveContext(context.Background(), root, bytes.NewReader(ctxTar), "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, filepath.Join(root, contextsDir)) {
		t.Errorf("context extracted to %s, not under the builder's root", dir)
	}
	read := func(name string) string {
		dt, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(dt)
	}
	if got := read("link"); got != "content of dir/x.sh" {
		t.Errorf("link reads %q", got)
	}
	if got := read("hard"); got != "content of dir/x.sh" {
		t.Errorf("hard reads %q", got)
	}
	if got := read("escaped"); got != "content of ../../escaped" {
		t.Errorf("../../escaped was not kept inside: %q", got)
	}
	fi, err := os.Stat(filepath.Join(dir, "dir/x.sh"))
	if err != nil {
		t.Fatal(err)
	}
	// A whole-second mtime gains a fraction from the content, so that the
	// kept snapshot of the context sees a same-second, same-size rewrite.
	if fi.Mode().Perm() != 0o755 || !fi.ModTime().Truncate(time.Second).Equal(mtime) || fi.ModTime().Equal(mtime) {
		t.Errorf("x.sh: mode %v mtime %v", fi.Mode(), fi.ModTime())
	}
	if a, b := distinctMtime(mtime, 1), distinctMtime(mtime, 2); a.Equal(b) {
		t.Error("two contents, one mtime")
	}
	if precise := mtime.Add(5); !distinctMtime(precise, 1).Equal(precise) {
		t.Error("a precise mtime was changed")
	}
	if fi, err := os.Stat(filepath.Join(dir, "dir")); err != nil || fi.Mode().Perm() != 0o750 || !fi.ModTime().Equal(mtime) {
		t.Errorf("dir: %v %v", fi.Mode(), err)
	}

	// A file written through a symlink that points out is refused.
	evil := tarball(t,
		&tar.Header{Name: "out", Typeflag: tar.TypeSymlink, Linkname: outside},
		&tar.Header{Name: "out/pwned", Typeflag: tar.TypeReg},
	)
	if _, err := receiveContext(context.Background(), root, bytes.NewReader(evil), ""); err == nil {
		t.Error("a file through an outward symlink was extracted")
	}
	if _, err := os.Stat(filepath.Join(outside, "pwned")); err == nil {
		t.Fatal("the context escaped its folder")
	}
	entries, _ := os.ReadDir(filepath.Join(root, contextsDir))
	if len(entries) != 1 {
		t.Errorf("a failed extraction left its folder: %d contexts", len(entries))
	}
}

func TestReceiveContextForms(t *testing.T) {
	plain := tarball(t, &tar.Header{Name: "Dockerfile", Typeflag: tar.TypeReg})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	for _, tc := range []struct {
		name, dockerfile, body, file, want string
	}{
		{name: "gzip", body: gz.String(), file: "Dockerfile", want: "content of Dockerfile"},
		{name: "bare Dockerfile", body: "FROM busybox\n", file: "Dockerfile", want: "FROM busybox\n"},
		{name: "bare named", dockerfile: "sub/My.Dockerfile", body: "FROM busybox\n", file: "sub/My.Dockerfile", want: "FROM busybox\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := receiveContext(context.Background(), t.TempDir(), strings.NewReader(tc.body), tc.dockerfile)
			if err != nil {
				t.Fatal(err)
			}
			name, dt, err := readDockerfile(dir, tc.dockerfile)
			if err != nil || name != tc.file || string(dt) != tc.want {
				t.Errorf("readDockerfile = %q %q %v", name, dt, err)
			}
		})
	}
	dir, err := receiveContext(context.Background(), t.TempDir(), bytes.NewReader(tarball(t, &tar.Header{Name: "dockerfile", Typeflag: tar.TypeReg})), "")
	if err != nil {
		t.Fatal(err)
	}
	if name, _, err := readDockerfile(dir, ""); err != nil || name != "dockerfile" {
		t.Errorf("lowercase fallback: %q %v", name, err)
	}
	if _, _, err := readDockerfile(dir, "nope"); err == nil || err.Error() != "Cannot locate specified Dockerfile: nope" {
		t.Errorf("missing: %v", err)
	}
	if _, _, err := readDockerfile(dir, "../x"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("outside: %v", err)
	}
}

func TestFrontendAttrs(t *testing.T) {
	v := "1"
	attrs, err := frontendAttrs(backend.BuildOptions{
		Dockerfile: "sub/Df", Target: "t", BuildArgs: map[string]*string{"V": &v, "UNSET": nil},
		Labels: map[string]string{"l": "x"}, NoCache: true, Pull: true, Platform: "linux/amd64",
		NetworkMode: "none", ExtraHosts: []string{"a:1.2.3.4", "b:::1"}, CacheFrom: []string{"c1", "c2"},
		ShmSize: 1024, Ulimits: []string{"nofile=1:2"},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"filename": "sub/Df", "target": "t", "build-arg:V": "1", "label:l": "x", "no-cache": "",
		"image-resolve-mode": "pull", "platform": "linux/amd64", "force-network-mode": "none",
		"add-hosts": "a=1.2.3.4,b=::1", "cache-from": "c1,c2", "shm-size": "1024", "ulimit": "nofile=1:2",
	}
	if !reflect.DeepEqual(attrs, want) {
		t.Errorf("attrs\n %v\nwant\n %v", attrs, want)
	}
	for _, opts := range []backend.BuildOptions{{ExtraHosts: []string{"nocolon"}}, {ExtraHosts: []string{"gw:host-gateway"}}, {Platform: "linux/amd64/v9/x"}} {
		if _, err := frontendAttrs(opts, ""); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%+v: err = %v", opts, err)
		}
	}
	if attrs, err := frontendAttrs(backend.BuildOptions{ExtraHosts: []string{"gw:host-gateway"}}, "172.17.0.1"); err != nil || attrs["add-hosts"] != "gw=172.17.0.1" {
		t.Errorf("host-gateway: %v %v", attrs, err)
	}
	names, err := exportNames([]string{"app", "app:latest", "reg:5000/x/y:2"})
	if err != nil || !reflect.DeepEqual(names, []string{"docker.io/library/app:latest", "reg:5000/x/y:2"}) {
		t.Errorf("names %v %v", names, err)
	}
	for _, bad := range []string{"UPPER", "app@sha256:" + strings.Repeat("a", 64)} {
		if _, err := exportNames([]string{bad}); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestClassicError(t *testing.T) {
	now := time.Now()
	// A failed RUN: the exit code from the error's details, the command
	// from the Dockerfile (the step of the failed vertex), with its SHELL.
	runPlan, err := newClassicPlan("Dockerfile", []byte("FROM busybox\nSHELL [\"/bin/sh\", \"-ec\"]\nRUN exit 3\nRUN [\"sh\", \"-c\", \"exit 4\"]\n"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	rr := newClassicRenderer(runPlan, newMessageWriter(&bytes.Buffer{}))
	run3, run4 := digest.FromString("run3"), digest.FromString("run4")
	rr.handle(&client.SolveStatus{Vertexes: []*client.Vertex{
		{Digest: run3, Name: "[2/3] RUN exit 3", Started: &now},
		{Digest: run4, Name: "[3/3] RUN sh -c exit 4", Started: &now},
	}})
	for vertex, want := range map[digest.Digest]string{
		run3: "The command '/bin/sh -ec exit 3' returned a non-zero code: 3",
		run4: "The command 'sh -c exit 4' returned a non-zero code: 3",
	} {
		failed := (&bkerrdefs.Vertex{Digest: vertex.String()}).WrapError(&gwpb.ExitError{ExitCode: 3, Err: errors.New("process did not complete successfully: exit code: 3")})
		err := classicError(fmt.Errorf("solve: %w", failed), rr)
		var ec interface{ ExitCode() int }
		if err.Error() != want || !errors.As(err, &ec) || ec.ExitCode() != 3 {
			t.Errorf("run: %v, want %q", err, want)
		}
	}
	// Without a known step, the exec op of a SolveError names the command.
	exec := &pb.Op{Op: &pb.Op_Exec{Exec: &pb.ExecOp{Meta: &pb.Meta{Args: []string{"/bin/sh", "-c", "exit 3"}}}}}
	runErr := &bkerrdefs.SolveError{Solve: &bkerrdefs.Solve{Op: exec}, Err: &gwpb.ExitError{ExitCode: 3, Err: errors.New(`process "/bin/sh -c exit 3" did not complete successfully: exit code: 3`)}}
	if err := classicError(fmt.Errorf("solve: %w", runErr), nil); err.Error() != "The command '/bin/sh -c exit 3' returned a non-zero code: 3" {
		t.Errorf("run: %v", err)
	}

	plan, _ := newClassicPlan("Dockerfile", []byte("FROM busybox\nCOPY nofile /x\n"), "", nil)
	r := newClassicRenderer(plan, newMessageWriter(&bytes.Buffer{}))
	cp := digest.FromString("copy")
	r.handle(&client.SolveStatus{Vertexes: []*client.Vertex{{Digest: cp, Name: "[2/2] COPY nofile /x", Started: &now, Completed: &now, Error: "not found"}}})
	copyErr := (&bkerrdefs.Vertex{Digest: cp.String()}).WrapError(errors.New(`failed to calculate checksum of ref abc::def: "/nofile": not found`))
	err = classicError(copyErr, r)
	if want := "COPY failed: file not found in build context or excluded by .dockerignore: stat nofile: file does not exist"; err.Error() != want {
		t.Errorf("copy: %v", err)
	}
	if err := classicError(errors.New("Unknown: something else"), r); err.Error() != "something else" {
		t.Errorf("other: %v", err)
	}
}

// TestUploads pairs a build with the request that uploads its context, in
// either order.
func TestUploads(t *testing.T) {
	var u uploads
	for _, uploadFirst := range []bool{true, false} {
		gave := make(chan error, 1)
		give := func() { gave <- u.give(context.Background(), "b1", strings.NewReader("ctx")) }
		if uploadFirst {
			go give()
			time.Sleep(50 * time.Millisecond)
		} else {
			go func() { time.Sleep(50 * time.Millisecond); give() }()
		}
		body, done, err := u.wait(context.Background(), "b1")
		if err != nil {
			t.Fatal(err)
		}
		dt, _ := io.ReadAll(body)
		done(nil)
		if string(dt) != "ctx" || <-gave != nil {
			t.Errorf("upload first %v: got %q", uploadFirst, dt)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := u.wait(ctx, "nobody"); err == nil {
		t.Error("a build waited for an upload that never came")
	}
	if len(u.slots) != 0 {
		t.Errorf("slots left: %v", u.slots)
	}
}
