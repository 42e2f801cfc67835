//go:build linux

package integration

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// buildCompose is the build test's project: web and store are the hits
// app built from the project's Dockerfile (FROM scratch); tool is built
// from busybox with RUN steps, from another folder, Dockerfile and stage,
// with a build arg, under its own image name, and rebuilt on every up
// (pull_policy: build). TOOL is the tool's image name.
const buildCompose = `services:
  web:
    build: .
    command: ["web"]
    environment:
      GREETING: built
    ports:
      - "127.0.0.1::8000"
    depends_on: [store]
  store:
    build: .
    command: ["store"]
  tool:
    build:
      context: ./tool
      dockerfile: Build.dockerfile
      target: final
      args:
        GREETING: hola
    image: TOOL
    pull_policy: build
    init: true
    command: ["sh", "-c", "cat /msg /ctx-list; exec sleep 300"]
`

// toolDockerfile prints "HOLA FROM THE BUILD" (its build arg, in capitals
// so that BuildKit's name of the step does not show it) only when its RUN
// runs, not when the step comes from the cache; PROJECT, in a comment of
// the RUN's shell, keeps the step of one run from the cache of another.
// The last stage, which a build without target would make, writes another
// /msg.
const toolDockerfile = `FROM busybox AS base
ARG GREETING=hello
RUN echo "$GREETING from the build" > /msg && echo "ran: $(tr a-z A-Z < /msg)" # PROJECT
FROM base AS final
COPY . /ctx
RUN ls /ctx > /ctx-list
FROM base AS other
RUN echo "the last stage, not the target" > /msg
`

// ranRUN is what the tool's build prints when its RUN runs.
const ranRUN = "HOLA FROM THE BUILD"

// badCompose is a project whose build fails at a RUN.
const badCompose = `services:
  bad:
    build: ./bad
`

// TestComposeBuild builds through each compose client: the v5 binary with
// buildx as a plugin goes through bake (BuildKit's /grpc and /session),
// the other clients through the classic POST /build (compose v5 and berth
// compose fall back to it without the plugin; docker-compose 1.29 runs
// `docker build`, which has no buildx here either). Each one builds three
// services on `up -d --build` (build args, target, another Dockerfile
// name, .dockerignore), names and labels the images, runs them, rebuilds
// from the cache without re-creating the containers, rebuilds with
// --no-cache, rebuilds a pull_policy: build service on a plain up, and
// fails with the client's message and status on a bad RUN.
func TestComposeBuild(t *testing.T) {
	d := sharedDaemon(t)
	eachCompose(t, d, func(t *testing.T, c composeCLI) {
		bake := c.name == "v5-buildx"
		p := unique("cbuild")
		tool := p + "/tool:custom"
		dir := composeProject(t, map[string]string{
			"compose.yaml":          strings.Replace(buildCompose, "TOOL", tool, 1),
			"tool/Build.dockerfile": strings.Replace(toolDockerfile, "PROJECT", p, 1),
			"tool/.dockerignore":    "secret.txt\n",
			"tool/secret.txt":       "not in the context\n",
			"tool/kept.txt":         "in the context\n",
			"bad.yaml":              badCompose,
			"bad/Dockerfile":        "FROM busybox\nRUN echo FAILING | tr A-Z a-z >&2; exit 3\n",
		}, true)
		web, store := p+"-web", p+"-store"
		if c.v1 {
			web, store = p+"_web", p+"_store"
		}
		// After the project is down (cleanups run last first), its images.
		t.Cleanup(func() { d.Berth(t, "rmi", "-f", web, store, tool) })
		cleanupProject(t, c, dir, p)

		start, logFrom := time.Now(), len(d.Log())
		out := c.run(t, dir, "-p", p, "up", "-d", "--build").Success(t).Combined()
		t.Logf("first up -d --build: %s", time.Since(start).Round(time.Millisecond))
		wantBuildPath(t, bake, out, buildRequestsLog(d, logFrom, bake), web)
		if !strings.Contains(out, ranRUN) {
			t.Errorf("up --build did not run tool's RUN with GREETING=hola:\n%s", out)
		}

		// The images, named as the client names them, run as the
		// project's containers.
		for svc, img := range map[string]string{"web": web, "store": store, "tool": tool} {
			if got := inspect(t, d, c.container(p, svc, 1), "{{.Config.Image}}"); got != img {
				t.Errorf("%s runs image %q, want %q", svc, got, img)
			}
		}
		if r := d.Berth(t, "image", "inspect", p+"-tool"); r.ExitCode == 0 {
			t.Errorf("tool's image is named %s, though its image: says %s", p+"-tool", tool)
		}
		wantComposeImageLabels(t, c, d, p, web, "web")
		wantComposeImageLabels(t, c, d, p, tool, "tool")

		// web answers over HTTP, counting in store.
		wantHit(t, c, dir, p, "built", 1)
		// tool was built from its target stage with its build arg, from a
		// context without what .dockerignore names.
		var logs string
		waitFor(t, 10*time.Second, "tool's output", func() bool {
			logs = c.ok(t, dir, "-p", p, "logs", "--no-color", "tool")
			return strings.Contains(logs, "Build.dockerfile")
		})
		for _, want := range []string{"hola from the build", "kept.txt"} {
			if !strings.Contains(logs, want) {
				t.Errorf("tool's output lacks %q:\n%s", want, logs)
			}
		}
		for _, unwanted := range []string{"secret.txt", "the last stage"} {
			if strings.Contains(logs, unwanted) {
				t.Errorf("tool's output has %q:\n%s", unwanted, logs)
			}
		}

		// A second build of every service comes from the cache; so does
		// the next up, which keeps the containers: with compose v5 a plain
		// up, which rebuilds tool (pull_policy: build) and only tool;
		// docker-compose 1.29, which knows no pull_policy, up --build.
		start = time.Now()
		out = c.run(t, dir, "-p", p, "build").Success(t).Combined()
		t.Logf("cached build: %s", time.Since(start).Round(time.Millisecond))
		wantCached(t, bake, out)
		ids := composeContainerIDs(t, c, p)
		if c.v1 {
			out = c.run(t, dir, "-p", p, "up", "-d", "--build").Success(t).Combined()
		} else {
			out = c.run(t, dir, "-p", p, "up", "-d").Success(t).Combined()
			if !strings.Contains(out, "Image "+tool+" Built") || strings.Contains(out, "Image "+web+" Built") {
				t.Errorf("up -d with tool's pull_policy: build: want tool rebuilt, not web:\n%s", out)
			}
		}
		wantCached(t, bake, out)
		if got := composeContainerIDs(t, c, p); got != ids {
			t.Errorf("an up that built from the cache re-created containers: %s, were %s\n%s", got, ids, out)
		}

		// --no-cache runs the RUN again. docker-compose 1.29 does it
		// through docker-py's POST /build (COMPOSE_DOCKER_CLI_BUILD=0) this
		// time, not the docker CLI.
		args := []string{"-p", p, "build", "--no-cache", "tool"}
		var r *testutil.Result
		if c.v1 {
			cmd, err := c.cmd(d, dir, args...)
			if err != nil {
				t.Fatal(err)
			}
			cmd.Env = append(cmd.Env, "COMPOSE_DOCKER_CLI_BUILD=0")
			r = testutil.Run(t, cmd, nil)
		} else {
			r = c.run(t, dir, args...)
		}
		out = r.Success(t).Combined()
		if !strings.Contains(out, ranRUN) || strings.Contains(out, "Using cache") {
			t.Errorf("build --no-cache tool did not run its steps again:\n%s", out)
		}

		// A RUN that fails fails the build with the client's message and
		// status: the classic clients exit with the RUN's code, which
		// berthd's stream carries as dockerd's does.
		r = c.run(t, dir, "-p", p, "-f", "bad.yaml", "build")
		wantMsg, wantCode := "The command '/bin/sh -c echo FAILING | tr A-Z a-z >&2; exit 3' returned a non-zero code: 3", 3
		switch {
		case bake:
			wantMsg, wantCode = `process "/bin/sh -c echo FAILING | tr A-Z a-z >&2; exit 3" did not complete successfully: exit code: 3`, 1
		case c.v1:
			wantCode = 1 // "Service 'bad' failed to build : Build failed"
		}
		if r.ExitCode != wantCode || !strings.Contains(r.Combined(), wantMsg) || !strings.Contains(r.Combined(), "failing\n") {
			t.Errorf("a failing RUN: want exit %d and %q after the RUN's output (failing): %s", wantCode, wantMsg, r)
		}

		// down --rmi all takes the built images with the project.
		network := inspectNetwork(t, d, p+"_default")
		c.ok(t, dir, "-p", p, "down", "-v", "--rmi", "all", "-t", "1")
		wantNoProject(t, d, p, network)
		for _, img := range []string{web, store, tool} {
			if r := d.Berth(t, "image", "inspect", img); r.ExitCode == 0 {
				t.Errorf("image %s left after down --rmi all", img)
			}
		}
	})
}

// wantBuildPath checks that a build went through bake, BuildKit's /grpc,
// or the classic POST /build (version 1), by what berthd logged of the
// requests (log: its log while the build ran; the compose tests do not run
// in parallel with others) and by the output: bake's progress, or the
// classic builder's steps; image is one it built.
func wantBuildPath(t *testing.T, bake bool, out, log, image string) {
	t.Helper()
	grpc, build := strings.Contains(log, "api: POST /grpc "), strings.Contains(log, "api: POST /build ")
	if bake {
		if !grpc || build || !strings.Contains(out, "load local bake definitions") || strings.Contains(out, "Step 1/") {
			t.Errorf("compose with buildx did not build through bake (berthd served /grpc: %v, /build: %v):\n%s", grpc, build, out)
		}
		return
	}
	if grpc || !build || !regexp.MustCompile(`Step 1/[34] : FROM scratch\n`).MatchString(out) ||
		!strings.Contains(out, "Successfully tagged "+image+":latest") {
		t.Errorf("compose without buildx did not build through the classic POST /build (berthd served /grpc: %v, /build: %v):\n%s", grpc, build, out)
	}
}

// buildRequestsLog is berthd's log from offset from on, once it shows the
// build's request (/grpc for bake, else /build), which berthd logs when it
// ends, maybe just after the client has exited; at most 5s later.
func buildRequestsLog(d *testutil.Daemon, from int, bake bool) string {
	want := "api: POST /build "
	if bake {
		want = "api: POST /grpc "
	}
	var log string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if log = d.Log()[from:]; strings.Contains(log, want) {
			break
		}
	}
	return log
}

// wantCached checks that a build's output shows its steps came from the
// cache and the tool's RUN did not run.
func wantCached(t *testing.T, bake bool, out string) {
	t.Helper()
	mark := "Using cache"
	if bake {
		mark = "CACHED"
	}
	if !strings.Contains(out, mark) || strings.Contains(out, ranRUN) {
		t.Errorf("a second build did not come from the cache (want %q, no RUN):\n%s", mark, out)
	}
}

// wantComposeImageLabels checks the labels compose sets on an image it
// builds: bake labels it with its project and service, the classic path
// of compose v5 names the builder; docker-compose 1.29 sets none.
func wantComposeImageLabels(t *testing.T, c composeCLI, d *testutil.Daemon, p, image, service string) {
	t.Helper()
	var labels map[string]string
	if err := json.Unmarshal([]byte(d.Berth(t, "image", "inspect", "-f", "{{json .Config.Labels}}", image).Success(t).Out()), &labels); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	switch {
	case c.name == "v5-buildx":
		want["com.docker.compose.project"] = p
		want["com.docker.compose.service"] = service
	case !c.v1:
		want["com.docker.compose.image.builder"] = "classic"
	}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("image %s: label %s=%q, want %q (labels %v)", image, k, labels[k], v, labels)
		}
	}
}

// composeContainerIDs are the project's container IDs as `ps -q` lists
// them, sorted, in one string.
func composeContainerIDs(t *testing.T, c composeCLI, p string) string {
	t.Helper()
	ids := strings.Fields(c.d.Berth(t, "ps", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project="+p).Success(t).Out())
	if len(ids) != 3 {
		t.Fatalf("project %s has containers %v, want 3", p, ids)
	}
	slices.Sort(ids)
	return strings.Join(ids, " ")
}
