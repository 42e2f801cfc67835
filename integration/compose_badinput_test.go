//go:build linux

package integration

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The messages below are what each client prints for the same input
// against dockerd 20.10 (Debian's, checked by hand): compose v5 (berth
// compose is its SDK) and docker-compose 1.29 word them differently, and
// the engine's part of them is dockerd's text, which berthd must answer.

// badComposeFile is a compose file the clients refuse before they ask the
// engine anything, with what each prints.
type badComposeFile struct {
	name, file string
	v5, v1     string
}

var badComposeFiles = []badComposeFile{
	{
		name: "yaml error",
		file: "services:\n  web:\n    image: busybox:latest\n   command: sleep 1\n",
		v5:   "did not find expected key",
		v1:   "expected <block end>, but found '<block mapping start>'",
	},
	{
		name: "unknown key",
		file: "services:\n  web:\n    image: busybox:latest\n    imagez: busybox:latest\n",
		v5:   "services.web.imagez false schema",
		v1:   "Unsupported config option for services.web: 'imagez'",
	},
	{
		name: "depends_on cycle",
		file: "services:\n  a:\n    image: busybox:latest\n    depends_on: [b]\n  b:\n    image: busybox:latest\n    depends_on: [a]\n",
		v5:   "dependency cycle detected: ",
		v1:   "Circular dependency between ",
	},
	{
		name: "neither image nor build",
		file: "services:\n  web:\n    command: sleep 1\n",
		v5:   `service "web" has neither an image nor a build context specified`,
		v1:   "Service web has neither an image nor a build context specified. At least one must be provided.",
	},
}

// badInputCompose is the project the engine refuses parts of: store and
// web (the tutorial's stack, built, store's data in a named volume) and
// side, a busybox publishing SIDE_PORT, started after web. The .env sets
// GREETING, WEB_PORT and SIDE_PORT; -f extnet.yaml or -f pull.yaml add an
// external network that does not exist or an image no registry serves.
const badInputCompose = `services:
  store:
    build: .
    command: ["store"]
    volumes:
      - data:/data
  web:
    build: .
    command: ["web"]
    environment:
      GREETING: ${GREETING}
    ports:
      - "127.0.0.1:${WEB_PORT}:8000"
    depends_on: [store]
  side:
    image: busybox:latest
    command: ["sleep", "300"]
    init: true
    ports:
      - "127.0.0.1:${SIDE_PORT}:80"
    depends_on: [web]
volumes:
  data:
`

// TestComposeBadInput drives each client through the bad input:
// files the client refuses itself (nothing made), then, on one project,
// what the engine refuses: an external network that does not exist, an
// image whose pull fails, a host port another service holds, a host port a
// process of the test holds. Each time the client exits 1 with the message
// it prints against dockerd; then the file is fixed and one more up
// converges: every service running once under the client's name (1.29 used
// to name a second service _2 and list containers twice), no temporary
// <id>_<name> container of a failed re-create left, one network and one
// volume, the counter's data kept across web's re-create (1.29 crashed
// there with KeyError: 'ContainerConfig'); another up changes nothing, and
// down -v leaves nothing.
func TestComposeBadInput(t *testing.T) {
	d := sharedDaemon(t)
	eachCompose(t, d, func(t *testing.T, c composeCLI) {
		msg := func(v5, v1 string) string {
			if c.v1 {
				return v1
			}
			return v5
		}

		bad := t.TempDir()
		pb := unique("badfile")
		for _, f := range badComposeFiles {
			if err := os.WriteFile(filepath.Join(bad, "compose.yaml"), []byte(f.file), 0o644); err != nil {
				t.Fatal(err)
			}
			if r := c.run(t, bad, "-p", pb, "up", "-d"); r.ExitCode != 1 || !strings.Contains(r.Stderr, msg(f.v5, f.v1)) {
				t.Errorf("%s: want exit 1 and %q: %s", f.name, msg(f.v5, f.v1), r)
			}
		}
		if left := projectLeftovers(t, d, pb); len(left) != 0 {
			t.Errorf("files the client refused left:\n%s", strings.Join(left, "\n"))
		}

		p := unique("bad")
		webPort, sidePort := freePort(t), freePort(t)
		missing := p + "-missing"
		dir := composeProject(t, map[string]string{
			"compose.yaml": badInputCompose,
			"extnet.yaml":  "services:\n  side:\n    networks: [default, ext]\nnetworks:\n  ext:\n    external: true\n    name: " + missing + "\n",
			"pull.yaml":    "services:\n  ghost:\n    image: 127.0.0.1:1/nope\n",
		}, true)
		cleanupProject(t, c, dir, p)
		env := func(greeting, side string) {
			t.Helper()
			content := "GREETING=" + greeting + "\nWEB_PORT=" + webPort + "\nSIDE_PORT=" + side + "\n"
			if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		env("hello", sidePort)

		c.run(t, dir, "-p", p, "-f", "compose.yaml", "-f", "extnet.yaml", "up", "-d", "--build").
			Fails(t, 1, msg("network ", "Network ")+missing+" declared as external, but could not be found")
		// the registry on port 1 refuses the connection: the daemon's pull
		// error, which both clients print
		c.run(t, dir, "-p", p, "-f", "compose.yaml", "-f", "pull.yaml", "up", "-d", "--build").
			Fails(t, 1, `Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused`)
		// neither made a container (1.29 makes the project's network before
		// it pulls, as against dockerd: the next up must take it over)
		if ids := d.Berth(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project="+p).Success(t).Out(); ids != "" {
			t.Errorf("containers made by an up that failed before creating any: %s", ids)
		}

		// side publishes web's port: web (started first) has it
		env("hello", webPort)
		side := c.container(p, "side", 1)
		c.run(t, dir, "-p", p, "up", "-d", "--build").Fails(t, 1,
			msg("Error response from daemon: ", "Cannot start service side: ")+"driver failed programming external connectivity on endpoint "+side+" (",
			"Bind for 127.0.0.1:"+webPort+" failed: port is already allocated")
		wantHitAt(t, "127.0.0.1:"+webPort, "hello", 1)

		// a process of the test holds side's port; side is re-created (1.29
		// leaves the old one renamed <id>_<name> when the new one fails to
		// start, as against dockerd; its next up removes it)
		held, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		heldAddr := held.Addr().String()
		env("hello", strings.TrimPrefix(heldAddr, "127.0.0.1:"))
		c.run(t, dir, "-p", p, "up", "-d").Fails(t, 1,
			"driver failed programming external connectivity on endpoint "+side+" (",
			"Error starting userland proxy: listen tcp4 "+heldAddr+": bind: address already in use")
		held.Close()

		// fixed, and GREETING changed: side starts, web is re-created
		env("bonjour", sidePort)
		c.ok(t, dir, "-p", p, "up", "-d")
		wantHitAt(t, "127.0.0.1:"+webPort, "bonjour", 2)
		ids := wantConverged(t, c, p)
		ps := c.ok(t, dir, "-p", p, "ps")
		for _, svc := range []string{"store", "web", "side"} {
			name := c.container(p, svc, 1)
			if n := len(regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(name)+`\s`).FindAllString(ps, -1)); n != 1 {
				t.Errorf("%s ps lists %s %d times:\n%s", c.name, name, n, ps)
			}
		}

		c.ok(t, dir, "-p", p, "up", "-d")
		if again := wantConverged(t, c, p); !slices.Equal(again, ids) {
			t.Errorf("an up with nothing changed replaced containers: %v, was %v", again, ids)
		}
		network := inspectNetwork(t, d, p+"_default")
		c.ok(t, dir, "-p", p, "down", "-v", "-t", "1")
		wantNoProject(t, d, p, network)
	})
}

// wantConverged checks that project p is store, web and side, each running
// once under the client's name, with one network and one volume; it
// returns the containers' IDs.
func wantConverged(t *testing.T, c composeCLI, p string) []string {
	t.Helper()
	var want []string
	for _, svc := range []string{"store", "web", "side"} {
		want = append(want, c.container(p, svc, 1))
	}
	slices.Sort(want)
	out := c.d.Berth(t, "ps", "-a", "--filter", "label=com.docker.compose.project="+p,
		"--format", "{{.ID}} {{.Names}} {{.State}}").Success(t).Out()
	var ids, names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("berth ps line %q", line)
		}
		ids, names = append(ids, f[0]), append(names, f[1])
		if f[2] != "running" {
			t.Errorf("container %s is %s, want running", f[1], f[2])
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("project %s has containers %v, want %v", p, names, want)
	}
	for _, what := range []string{"network", "volume"} {
		if got := strings.Fields(c.d.Berth(t, what, "ls", "-q", "--filter", "label=com.docker.compose.project="+p).Success(t).Out()); len(got) != 1 {
			t.Errorf("project %s has %d %ss, want 1: %v", p, len(got), what, got)
		}
	}
	slices.Sort(ids)
	return ids
}

// TestComposeEngineErrorAnswers checks, through the API, the status and
// message berthd answers for what compose sends when a service is wrong,
// each as dockerd 20.10 answers it (the clients print the message, and
// docker's CLI acts on the status): a relative working_dir or tmpfs, or
// an unknown container to share pid or ipc with, is refused at create (a
// 400); an unknown network, container to join or user only at start,
// so that compose reports a service it could not start and docker run does
// not take a create 404 for a missing image; a host port a process holds
// is a 500 in the words of dockerd's userland proxy.
func TestComposeEngineErrorAnswers(t *testing.T) {
	d := sharedDaemon(t)
	held, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, heldPort, _ := net.SplitHostPort(held.Addr().String())
	nosuch := unique("nosuch")
	q := regexp.QuoteMeta
	for _, tt := range []struct {
		name, body string
		atStart    bool // create answers 201, start answers status
		status     int
		message    string // a regexp of the whole message
	}{
		{"relative working_dir", `"WorkingDir":"rel/dir"`, false, http.StatusBadRequest,
			q("the working directory 'rel/dir' is invalid, it needs to be an absolute path")},
		{"relative tmpfs", `"HostConfig":{"Tmpfs":{"rel":""}}`, false, http.StatusBadRequest,
			q("invalid mount path: 'rel' mount path must be absolute")},
		{"unknown pid container", `"HostConfig":{"PidMode":"container:` + nosuch + `"}`, false, http.StatusBadRequest,
			q("No such container: " + nosuch)},
		{"unknown ipc container", `"HostConfig":{"IpcMode":"container:` + nosuch + `"}`, false, http.StatusBadRequest,
			q("No such container: " + nosuch)},
		{"unknown network", `"HostConfig":{"NetworkMode":"` + nosuch + `"}`, true, http.StatusNotFound,
			q("network " + nosuch + " not found")},
		{"unknown container to join", `"HostConfig":{"NetworkMode":"container:` + nosuch + `"}`, true, http.StatusNotFound,
			q("No such container: " + nosuch)},
		{"unknown user", `"User":"` + nosuch + `"`, true, http.StatusInternalServerError,
			q("unable to find user " + nosuch + ": no matching entries in passwd file")},
		{"host port a process holds", `"HostConfig":{"NetworkMode":"bridge","PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"` + heldPort + `"}]}}`,
			true, http.StatusInternalServerError,
			`driver failed programming external connectivity on endpoint \S+ \([0-9a-f]{64}\): ` +
				q("Error starting userland proxy: listen tcp4 127.0.0.1:"+heldPort+": bind: address already in use")},
	} {
		name := unique("answer")
		status, _, body := apiCall(t, d, "POST", "/containers/create?name="+name, `{"Image":"busybox:latest","Cmd":["sleep","30"],`+tt.body+`}`)
		if tt.atStart {
			if status != http.StatusCreated {
				t.Errorf("%s: create answered %d %s, want 201", tt.name, status, body)
				continue
			}
			rmOnCleanup(t, d, name)
			status, _, body = apiCall(t, d, "POST", "/containers/"+name+"/start", "")
		}
		if status != tt.status || !regexp.MustCompile("^"+tt.message+"$").MatchString(errorMessage(t, body)) {
			t.Errorf("%s: answered %d %s, want %d %s", tt.name, status, body, tt.status, tt.message)
		}
	}
}
