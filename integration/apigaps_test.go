//go:build linux

package integration

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/berth-project/berth/internal/testutil"
)

// TestAPIGapsLabelFilters: several label filters are AND-ed on the
// container, image and network lists, as docker does and docker-compose
// 1.29 relies on ("label=k" is presence, "label=k=v" the value).
func TestAPIGapsLabelFilters(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	proj := unique("proj")
	both := unique("both")      // proj=<proj>, svc=web
	projOnly := unique("proj1") // proj=<proj>, svc=db
	svcOnly := unique("svc")    // svc=web only
	for name, labels := range map[string][]string{
		both:     {"proj=" + proj, "svc=web"},
		projOnly: {"proj=" + proj, "svc=db"},
		svcOnly:  {"svc=web"},
	} {
		args := []string{"create", "--name", name}
		netArgs := []string{"network", "create"}
		importArgs := []string{"import"}
		for _, l := range labels {
			args = append(args, "--label", l)
			netArgs = append(netArgs, "--label", l)
			importArgs = append(importArgs, "--change", "LABEL "+l)
		}
		d.Berth(t, append(args, "busybox", "true")...).Success(t)
		rmOnCleanup(t, d, name)
		d.Berth(t, append(netArgs, name)...).Success(t)
		t.Cleanup(func() { d.Berth(t, "network", "rm", name) })
		d.Berth(t, append(importArgs, d.BusyboxTar(t), name+":v1")...).Success(t)
		t.Cleanup(func() { d.Berth(t, "rmi", "-f", name+":v1") })
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		for _, tc := range []struct {
			filters []string
			want    []string
		}{
			{[]string{"label=proj=" + proj, "label=svc=web"}, []string{both}},
			{[]string{"label=proj=" + proj, "label=svc"}, []string{both, projOnly}},
			{[]string{"label=proj=" + proj}, []string{both, projOnly}},
			{[]string{"label=proj=" + proj, "label=svc=nosuch"}, nil},
		} {
			var args []string
			for _, f := range tc.filters {
				args = append(args, "--filter", f)
			}
			got := lines(c.ok(t, append([]string{"ps", "-a", "--format", "{{.Names}}"}, args...)...))
			checkNames(t, "ps -a "+strings.Join(args, " "), got, tc.want, "")
			got = lines(c.ok(t, append([]string{"network", "ls", "--format", "{{.Name}}"}, args...)...))
			checkNames(t, "network ls "+strings.Join(args, " "), got, tc.want, "")
			got = lines(c.ok(t, append([]string{"images", "--format", "{{.Repository}}"}, args...)...))
			checkNames(t, "images "+strings.Join(args, " "), got, tc.want, "")
		}
	})
}

// checkNames compares the names a list printed (of this test's objects,
// suffix stripped) with want.
func checkNames(t *testing.T, what string, got, want []string, suffix string) {
	t.Helper()
	var mine []string
	for _, g := range got {
		if strings.HasPrefix(g, "it-") {
			mine = append(mine, strings.TrimSuffix(g, suffix))
		}
	}
	slices.Sort(mine)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(mine, want) {
		t.Errorf("%s listed %q, want %q", what, mine, want)
	}
}

// TestAPIGapsImageLegacyFields: image inspect and list carry the fields of
// the API version asked for; docker-compose 1.29 (API 1.41 and lower)
// reads ContainerConfig.
func TestAPIGapsImageLegacyFields(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	for _, tc := range []struct {
		version string
		present []string
		absent  []string
	}{
		{"1.24", []string{"ContainerConfig", "Container", "VirtualSize", "Parent", "DockerVersion", "Author", "Comment"}, []string{"Descriptor", "Identity"}},
		{"1.41", []string{"ContainerConfig", "Container", "VirtualSize", "Parent", "DockerVersion", "Author"}, nil},
		{"1.44", []string{"ContainerConfig", "Container", "Parent"}, []string{"VirtualSize"}},
		{"1.45", []string{"Parent", "DockerVersion", "Author"}, []string{"ContainerConfig", "Container", "VirtualSize"}},
		{"1.51", []string{"Parent", "Author"}, []string{"ContainerConfig"}},
		{"1.52", nil, []string{"ContainerConfig", "Container", "VirtualSize", "Parent", "DockerVersion"}},
		{"1.56", nil, []string{"ContainerConfig", "VirtualSize", "Parent", "DockerVersion"}},
	} {
		status, _, body := apiCall(t, d, "GET", "/v"+tc.version+"/images/busybox/json", "")
		if status != http.StatusOK {
			t.Fatalf("v%s inspect: %d %s", tc.version, status, body)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range tc.present {
			if _, ok := got[k]; !ok {
				t.Errorf("v%s image inspect lacks %s", tc.version, k)
			}
		}
		for _, k := range tc.absent {
			if _, ok := got[k]; ok {
				t.Errorf("v%s image inspect has %s", tc.version, k)
			}
		}
		if slices.Contains(tc.present, "ContainerConfig") {
			// compose 1.29: container.image_config['ContainerConfig'].get('Volumes')
			if _, ok := got["ContainerConfig"].(map[string]any); !ok {
				t.Errorf("v%s ContainerConfig = %#v, want an object", tc.version, got["ContainerConfig"])
			}
		}
		cfg, _ := got["Config"].(map[string]any)
		if _, ok := cfg["Hostname"]; ok != (compareAPI(tc.version, "1.50") < 0) {
			t.Errorf("v%s Config.Hostname present = %v", tc.version, ok)
		}

		status, _, body = apiCall(t, d, "GET", "/v"+tc.version+"/images/json", "")
		var list []map[string]any
		if err := json.Unmarshal([]byte(body), &list); err != nil || status != http.StatusOK || len(list) == 0 {
			t.Fatalf("v%s list: %d %v %s", tc.version, status, err, body)
		}
		for _, img := range list {
			if _, ok := img["VirtualSize"]; ok != (compareAPI(tc.version, "1.44") < 0) {
				t.Errorf("v%s image list: VirtualSize present = %v", tc.version, ok)
				break
			}
		}
	}
	// the docker CLI at its own version still reads inspect as before
	eachCLI(t, d, func(t *testing.T, c cli) {
		if got := c.ok(t, "image", "inspect", "-f", "{{.Os}} {{len .RootFS.Layers}}", "busybox"); got != "linux 1" {
			t.Errorf("image inspect = %q", got)
		}
	})
}

// compareAPI compares two "1.x" API versions.
func compareAPI(a, b string) int {
	am, _ := strconv.Atoi(strings.TrimPrefix(a, "1."))
	bm, _ := strconv.Atoi(strings.TrimPrefix(b, "1."))
	return am - bm
}

const noSwarmManager = `This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`

// TestAPIGapsSwarmPlugins: the swarm endpoints answer as a docker engine
// outside a swarm (503), the plugin endpoints as one without plugins.
func TestAPIGapsSwarmPlugins(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/swarm"}, {"GET", "/v1.41/swarm"}, {"GET", "/nodes"}, {"GET", "/services"},
		{"GET", "/v1.24/services"}, {"POST", "/services/create"}, {"GET", "/tasks"},
		{"GET", "/secrets"}, {"GET", "/configs"}, {"DELETE", "/secrets/x"},
	} {
		status, _, body := apiCall(t, d, tc.method, tc.path, "")
		if status != http.StatusServiceUnavailable || errorMessage(t, body) != noSwarmManager {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, status, body)
		}
	}
	if status, _, body := apiCall(t, d, "GET", "/plugins", ""); status != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("GET /plugins: %d %s", status, body)
	}
	for _, tc := range []struct{ method, path string }{{"GET", "/plugins/x/json"}, {"DELETE", "/plugins/x"}, {"POST", "/v1.41/plugins/x/enable"}} {
		status, _, body := apiCall(t, d, tc.method, tc.path, "")
		if status != http.StatusNotFound || errorMessage(t, body) != `plugin "x" not found` {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, status, body)
		}
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		out := c.ok(t, "info")
		for _, want := range []string{" Plugins:\n", "  Volume: local\n", "  Network: bridge host null\n", "  Log: json-file local\n", " Swarm: inactive\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("info lacks %q:\n%s", want, out)
			}
		}
		if got := c.ok(t, "info", "--format", "{{.Swarm.LocalNodeState}} {{.Plugins.Network}}"); got != "inactive [bridge host null]" {
			t.Errorf("info --format = %q", got)
		}
		if c.name != "docker" {
			return // berth has no swarm or plugin commands
		}
		c.run(t, "node", "ls").Fails(t, 1, "Error response from daemon: "+noSwarmManager)
		c.run(t, "service", "ls").Fails(t, 1, "Error response from daemon: "+noSwarmManager)
		c.run(t, "secret", "ls").Fails(t, 1, "Error response from daemon: "+noSwarmManager)
		if got := c.ok(t, "plugin", "ls", "-q"); got != "" {
			t.Errorf("plugin ls -q = %q", got)
		}
		c.run(t, "plugin", "rm", "nosuch").Fails(t, 1, `plugin "nosuch" not found`)
	})
}

// multiLayerArchive writes a classic `docker save` archive of an image of
// the busybox layer and a second layer, tagged ref. With badSecond the
// second layer's content does not match its diff id.
func multiLayerArchive(t *testing.T, d *testutil.Daemon, ref string, badSecond bool) string {
	t.Helper()
	base, err := os.ReadFile(d.BusyboxTar(t))
	if err != nil {
		t.Fatal(err)
	}
	second := layerTar(t, "second.bin", 100_000)
	diffIDs := []string{"sha256:" + sha256hex(base), "sha256:" + sha256hex(second)}
	if badSecond {
		second = layerTar(t, "other.bin", 100_000)
	}
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:05Z",
		"config": map[string]any{"Cmd": []string{"ls", "/second.bin"}, "Env": []string{"PATH=/bin"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	configName := sha256hex(config) + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{ref}, "Layers": []string{"l1/layer.tar", "l2/layer.tar"}}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{"l1/layer.tar", base}, {"l2/layer.tar", second}, {configName, config}, {"manifest.json", manifest}} {
		_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data))})
		_, _ = tw.Write(f.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	// GNU tar and docker pad archives to whole 10 KiB records: the loader
	// stops at the end marker, leaving the padding unread.
	buf.Write(make([]byte, 10240-buf.Len()%10240))
	path := filepath.Join(t.TempDir(), "multi.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAPIGapsLoadMultiLayer: loading a multi-layer archive neither panics
// berthd ("invalid concurrent Body.Read call") nor breaks the connection;
// a bad archive's failure arrives as a JSON error message in the stream.
func TestAPIGapsLoadMultiLayer(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		ref := unique("multi") + ":v1"
		archive := multiLayerArchive(t, d, ref, false)
		r := c.run(t, "load", "-i", archive).Success(t)
		if !strings.Contains(r.Stdout, "Loaded image: "+ref) {
			t.Errorf("load: %s", r)
		}
		t.Cleanup(func() { d.Berth(t, "rmi", "-f", ref) })
		if got := c.ok(t, "image", "inspect", "-f", "{{len .RootFS.Layers}}", ref); got != "2" {
			t.Errorf("layers = %s", got)
		}
		if got := c.ok(t, "run", "--rm", ref); got != "/second.bin" {
			t.Errorf("run = %q", got)
		}
		bad := multiLayerArchive(t, d, unique("bad")+":v1", true)
		if r := c.run(t, "load", "-i", bad).Fails(t, 1); strings.TrimSpace(r.Stderr) == "" {
			t.Errorf("a failed load printed no error: %s", r)
		}
		c.ok(t, "run", "--rm", "busybox", "true")
	})

	// Several loads on one keep-alive connection, streamed with chunked
	// encoding as the CLIs send them; a bad archive's error is a JSON
	// message with errorDetail after a 200, as docker's.
	hc := testutil.UnixHTTPClient(d.Sock)
	for i, bad := range []bool{false, true, false, true} {
		ref := unique("conn") + ":v1"
		data, err := os.ReadFile(multiLayerArchive(t, d, ref, bad))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", "http://berthd/v1.41/images/load?quiet=1", struct{ io.Reader }{bytes.NewReader(data)})
		req.Header.Set("Content-Type", "application/x-tar")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("load %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bad {
			t.Cleanup(func() { d.Berth(t, "rmi", "-f", ref) })
		}
		var last struct {
			ErrorDetail *struct{ Message string } `json:"errorDetail"`
			Stream      string                    `json:"stream"`
		}
		msgs := strings.Split(strings.TrimSpace(string(body)), "\n")
		if err := json.Unmarshal([]byte(msgs[len(msgs)-1]), &last); err != nil || resp.StatusCode != 200 {
			t.Fatalf("load %d: %d %s", i, resp.StatusCode, body)
		}
		if bad != (last.ErrorDetail != nil) {
			t.Errorf("load %d (bad archive %v): %s", i, bad, body)
		}
	}
	if log := d.Log(); strings.Contains(log, "panic") {
		t.Errorf("berthd logged a panic:\n%s", d.LogTail(40))
	}
}

// TestAPIGapsSocketGroup: -G makes the socket root:<group> 0660, so
// members of the group may use it; a missing group asked for by name is an
// error.
func TestAPIGapsSocketGroup(t *testing.T) {
	t.Parallel()
	testutil.RequiresRoot(t)
	group := unique("g")
	if out, err := exec.Command("groupadd", group).CombinedOutput(); err != nil {
		t.Fatalf("groupadd %s: %v %s", group, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("groupdel", group).CombinedOutput(); err != nil {
			t.Errorf("groupdel %s: %v %s", group, err, out)
		}
	})
	g, err := user.LookupGroup(group)
	if err != nil {
		t.Fatal(err)
	}
	d := testutil.StartDaemon(t, testutil.WithArgs("-G", group))
	fi, err := os.Stat(d.Sock)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if strconv.Itoa(int(st.Gid)) != g.Gid || st.Uid != 0 || fi.Mode().Perm() != 0o660 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket %s: uid %d gid %d mode %v, want root:%s (%s) 0660", d.Sock, st.Uid, st.Gid, fi.Mode(), group, g.Gid)
	}
	eachCLI(t, d, func(t *testing.T, c cli) { c.ok(t, "version") })

	// a group that does not exist, asked for by name, stops berthd
	bad, err := testutil.NewDaemon(testutil.WithArgs("--group", group+"-nosuch"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bad.Close() })
	if err := bad.Start(); err == nil {
		t.Error("berthd started with a missing socket group")
	} else if !strings.Contains(bad.Log(), "group "+group+"-nosuch not found") {
		t.Errorf("berthd's error for a missing group:\n%s", bad.LogTail(10))
	}
}

// TestAPIGapsCLI: berth's unknown-command message is docker's, pull names
// the default tag, and a berth logout holds although docker's config still
// has the credentials berth falls back to.
func TestAPIGapsCLI(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	t.Run("unknown command", func(t *testing.T) {
		for _, args := range [][]string{{"nosuch"}, {"frobnicate", "-it", "c", "sh"}, {"-H", d.Host, "nosuch", "--flag"}} {
			r := d.Berth(t, args...).Fails(t, 1)
			name := args[0]
			if name == "-H" {
				name = args[2]
			}
			want := "berth: unknown command: berth " + name + "\n\nRun 'berth --help' for more information\n"
			if r.Stderr != want {
				t.Errorf("berth %v: stderr %q, want %q", args, r.Stderr, want)
			}
		}
		if testutil.HasDockerCLI() {
			r := d.Docker(t, "nosuch").Fails(t, 1)
			b := d.Berth(t, "nosuch")
			if strings.ReplaceAll(r.Stderr, "docker", "berth") != b.Stderr {
				t.Errorf("docker says %q, berth %q", r.Stderr, b.Stderr)
			}
		}
	})

	t.Run("pull default tag", func(t *testing.T) {
		testutil.RequiresRegistry(t)
		reg := testutil.StartRegistry(t)
		eachCLI(t, d, func(t *testing.T, c0 cli) {
			c := newRegCLI(t, c0)
			repo := reg.Host + "/" + unique("deftag")
			c.runStdin(t, string(layerTar(t, "p.bin", 1000)), "import", "-", repo+":latest").Success(t)
			c.ok(t, "push", repo)
			c.ok(t, "rmi", repo)
			out := c.ok(t, "pull", repo)
			if first := strings.SplitN(out, "\n", 2)[0]; first != "Using default tag: latest" {
				t.Errorf("pull %s printed first %q:\n%s", repo, first, out)
			}
			t.Cleanup(func() { d.Berth(t, "rmi", "-f", repo) })
			if out := c.ok(t, "pull", "-q", repo); strings.Contains(out, "Using default tag") {
				t.Errorf("pull -q: %q", out)
			}
			if out := c.ok(t, "pull", repo+":latest"); strings.Contains(out, "Using default tag") {
				t.Errorf("pull with a tag: %q", out)
			}
		})
	})

	t.Run("logout holds over docker's config", func(t *testing.T) {
		testutil.RequiresRegistry(t)
		testutil.RequiresDockerCLI(t)
		reg := testutil.StartRegistry(t, testutil.WithRegistryTLS(), testutil.WithRegistryAuth("tester", "s3cret"))
		certs, err := reg.CertsDir()
		if err != nil {
			t.Fatal(err)
		}
		od := testutil.StartDaemon(t, testutil.WithArgs("--certs-dir", certs))
		od.LoadBusybox(t)
		berth := newRegCLI(t, cli{name: "berth", d: od})
		docker := newRegCLI(t, cli{name: "docker", d: od})
		repo := reg.Host + "/" + unique("logout")
		berth.ok(t, "tag", "busybox", repo+":v1")

		docker.runStdin(t, "s3cret\n", "login", "-u", "tester", "--password-stdin", reg.Host).Success(t)
		dockerCfg, err := os.ReadFile(docker.configFile())
		if err != nil {
			t.Fatal(err)
		}
		berth.ok(t, "push", repo+":v1") // with docker's credentials

		if out := berth.ok(t, "logout", reg.Host); out != "Removing login credentials for "+reg.Host {
			t.Errorf("berth logout: %q", out)
		}
		if r := berth.run(t, "push", repo+":v1"); r.ExitCode == 0 || !strings.Contains(r.Combined(), "no basic auth credentials") {
			t.Errorf("berth push after berth logout: %s", r)
		}
		if out := berth.ok(t, "logout", reg.Host); out != "Not logged in to "+reg.Host {
			t.Errorf("second berth logout: %q", out)
		}
		if data, _ := os.ReadFile(docker.configFile()); !bytes.Equal(data, dockerCfg) {
			t.Errorf("berth logout changed docker's config.json:\n%s", data)
		}
		docker.ok(t, "push", repo+":v1") // docker is still logged in

		berth.runStdin(t, "s3cret\n", "login", "-u", "tester", "--password-stdin", reg.Host).Success(t)
		berth.ok(t, "push", repo+":v1")
	})
}
