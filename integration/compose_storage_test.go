//go:build linux

package integration

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// The compose storage tests run berth compose, the compose v5 binary and
// docker-compose 1.29 against berthd. The v5 client with buildx is left
// out: buildx changes how compose builds, and these projects build nothing.
var storageClients = []string{"berth", "v5", "1.29"}

// eachStorageCompose is eachCompose restricted to storageClients.
func eachStorageCompose(t *testing.T, d *testutil.Daemon, f func(t *testing.T, c composeCLI)) {
	t.Helper()
	eachCompose(t, d, func(t *testing.T, c composeCLI) {
		if !contains(storageClients, c.name) {
			t.Skipf("%s builds like v5 and these projects build nothing", c.name)
		}
		f(t, c)
	})
}

// sleeper is a service's command that waits for SIGTERM (so stop is
// quick), with busybox:latest as its image unless image says otherwise.
const (
	sleeperCmd = `    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
`
	sleeper = `    image: busybox:latest
` + sleeperCmd
)

// storageCompose is the volumes project: a named volume with labels, a
// local volume with driver options (a tmpfs device), an anonymous volume
// (short syntax), one from the image's VOLUME, a relative read-only bind
// and a tmpfs; its fixed address must be free again at each re-create.
const storageCompose = `services:
  a:
    image: %[1]s
` + sleeperCmd + `    volumes:
      - data:/data
      - opt:/opt
      - /anon
      - ./bind:/bind:ro
    tmpfs: [/scratch]
    networks:
      default:
        ipv4_address: %[2]s.5
networks:
  default:
    ipam:
      config:
        - subnet: %[2]s.0/24
volumes:
  data:
    labels:
      test.berth: storage
  opt:
    driver_opts:
      type: tmpfs
      device: tmpfs
      o: size=1m
`

// TestComposeVolumes: named volumes keep their data across a forced
// re-create (the tutorial's "traitement particulier des volumes"),
// anonymous ones (compose's and the image's) are carried over from the old
// container unless -V, the old container is renamed out of the way, down
// keeps named volumes and down -v removes them.
func TestComposeVolumes(t *testing.T) {
	d := sharedDaemon(t)
	img := unique("volimage")
	d.Berth(t, "create", "--name", img, "busybox:latest", "true").Success(t)
	d.Berth(t, "commit", "--change", "VOLUME /imgvol", img, img+":latest").Success(t)
	d.Berth(t, "rm", img).Success(t)
	t.Cleanup(func() { d.Berth(t, "rmi", img+":latest") })

	eachStorageCompose(t, d, func(t *testing.T, c composeCLI) {
		p := unique("vol")
		dir := composeProject(t, map[string]string{
			"compose.yaml": fmt.Sprintf(storageCompose, img+":latest", composeSubnet()),
			"bind/f":       "from the host\n",
		}, false)
		var anon []string // anonymous volumes -V and down leave behind
		down := false     // whether the test took the project down itself
		t.Cleanup(func() {
			if !down {
				c.run(t, dir, "-p", p, "down", "-v", "-t", "0")
			}
			for _, v := range anon {
				d.Berth(t, "volume", "rm", v)
			}
		})
		name := c.container(p, "a", 1)
		sh := func(script string) string {
			t.Helper()
			return containerSh(t, d, name, script)
		}
		c.ok(t, dir, "-p", p, "up", "-d")

		labels := objInspect(t, d, "volume", p+"_data", `{{json .Labels}}`)
		for _, want := range []string{`"test.berth":"storage"`, `"com.docker.compose.project":"` + p + `"`, `"com.docker.compose.volume":"data"`} {
			if !strings.Contains(labels, want) {
				t.Errorf("volume %s_data labels %s, want %s", p, labels, want)
			}
		}
		if got := objInspect(t, d, "volume", p+"_opt", `{{.Options.type}} {{.Options.o}}`); got != "tmpfs size=1m" {
			t.Errorf("volume %s_opt options %q", p, got)
		}
		got := sh("grep -E ' /(opt|scratch|bind) ' /proc/mounts; cat /bind/f; touch /bind/x 2>&1; for d in data anon imgvol opt; do echo kept > /$d/f; done")
		for _, want := range []string{"tmpfs /opt tmpfs rw", "size=1024k", "tmpfs /scratch tmpfs rw", " /bind ", "from the host", "/bind/x: Read-only file system"} {
			if !strings.Contains(got, want) {
				t.Errorf("in %s (mounts, a relative bind's file, touch in it):\n%s\nwant %q", name, got, want)
			}
		}
		vols := func() string { // in no particular order, as dockerd's
			m := strings.Fields(inspect(t, d, name, `{{range .Mounts}}{{.Destination}}={{.Name}} {{end}}`))
			slices.Sort(m)
			return strings.Join(m, " ")
		}
		before := vols()
		for _, m := range strings.Fields(before) {
			if dst, v, _ := strings.Cut(m, "="); dst == "/anon" || dst == "/imgvol" {
				anon = append(anon, v)
			}
		}
		oldID := inspect(t, d, name, "{{.Id}}")

		c.ok(t, dir, "-p", p, "up", "-d", "--force-recreate")
		// the tmpfs behind opt goes with the last container that used it
		if got := sh("cat /data/f /anon/f /imgvol/f; ls /opt"); got != "kept\nkept\nkept" {
			t.Errorf("after a forced re-create, the volumes hold %q; want each file kept, and opt's tmpfs empty", got)
		}
		if after := vols(); after != before {
			t.Errorf("re-create mounts %s, want the old container's %s", after, before)
		}
		checkRenamed(t, d, c, name, oldID)

		c.ok(t, dir, "-p", p, "up", "-d", "--renew-anon-volumes")
		if got := sh("cat /data/f /anon/f /imgvol/f 2>/dev/null; true"); got != "kept" {
			t.Errorf("after up -V: %q; want the named volume kept and fresh anonymous ones", got)
		}
		// down then removes the container without its anonymous volumes
		// (as on dockerd), so that down -v finds no container to take them
		for _, m := range strings.Fields(vols()) {
			if dst, v, _ := strings.Cut(m, "="); dst == "/anon" || dst == "/imgvol" {
				anon = append(anon, v)
			}
		}

		c.ok(t, dir, "-p", p, "down", "-t", "0")
		if got := objInspect(t, d, "volume", p+"_data", "{{.Name}}"); got != p+"_data" {
			t.Errorf("down removed the named volume: %q", got)
		}
		c.ok(t, dir, "-p", p, "down", "-v", "-t", "0")
		down = true
		if left := d.Berth(t, "volume", "ls", "-q", "--filter", "label=com.docker.compose.project="+p).Success(t).Out(); left != "" {
			t.Errorf("down -v left volumes: %s", left)
		}
	})
}

// checkRenamed checks the re-create's rename: v5 creates the new
// container as <old id[:12]>_<name> and renames it once the old one is
// gone; 1.29 renames the old one to that name before creating the new one.
func checkRenamed(t *testing.T, d *testutil.Daemon, c composeCLI, name, oldID string) {
	t.Helper()
	newID := inspect(t, d, name, "{{.Id}}")
	if newID == oldID {
		t.Fatalf("%s was not re-created", name)
	}
	renamed := oldID
	if !c.v1 {
		renamed = newID
	}
	got := d.Berth(t, "events", "--since", "2m", "--until", strconv.FormatInt(time.Now().Unix()+1, 10), "--filter", "event=rename",
		"--filter", "container="+renamed, "--format", "{{.Actor.Attributes.oldName}}>{{.Actor.Attributes.name}}").Success(t).Out()
	want := "/" + oldID[:12] + "_" + name + ">" + name
	if c.v1 {
		want = "/" + name + ">" + oldID[:12] + "_" + name
	}
	if !strings.Contains(got, want) {
		t.Errorf("rename events of %s: %q, want %q", renamed[:12], got, want)
	}
}

// networkCompose is the networks project: back (labels, attachable, an
// ipam subnet and options, a fixed address and aliases), front, and inner
// (internal); services on one or two of them, and the network modes
// service:, host and none.
const networkCompose = `services:
  a:
` + sleeper + `    networks:
      back:
        aliases: [kv, db]
        ipv4_address: %[1]s.10
      inner: {}
  b:
` + sleeper + `    networks: [front, back]
  c:
` + sleeper + `    networks: [front]
  i:
` + sleeper + `    networks: [inner]
  s:
` + sleeper + `    network_mode: service:a
  h:
` + sleeper + `    network_mode: host
  n:
` + sleeper + `    network_mode: none
networks:
  back:
    labels:
      test.berth: back
    attachable: true
    ipam:
      options:
        test.berth: ipam
      config:
        - subnet: %[1]s.0/24
  front: {}
  inner:
    internal: true
`

// externalCompose is a second project on an external network, with an
// external volume.
const externalCompose = `services:
  x:
` + sleeper + `    networks: [ext]
    volumes: [ext:/ext]
  y:
` + sleeper + `    networks: [ext]
networks:
  ext:
    external: true
    name: %[1]s
volumes:
  ext:
    external: true
    name: %[1]s
`

// TestComposeNetworks: compose's networks on berthd as on dockerd.
func TestComposeNetworks(t *testing.T) {
	d := sharedDaemon(t)
	eachStorageCompose(t, d, func(t *testing.T, c composeCLI) {
		p, q, ext := unique("net"), unique("ext"), unique("extnet")
		net := composeSubnet()
		dir := composeProject(t, map[string]string{"compose.yaml": fmt.Sprintf(networkCompose, net)}, false)
		dirQ := composeProject(t, map[string]string{"compose.yaml": fmt.Sprintf(externalCompose, ext)}, false)
		pUp, qUp := true, false // whether p and q may need taking down
		t.Cleanup(func() {
			if qUp {
				c.run(t, dirQ, "-p", q, "down", "-v", "-t", "0")
			}
			if pUp {
				c.run(t, dir, "-p", p, "down", "-v", "-t", "0")
			}
			d.Berth(t, "network", "rm", ext)
			d.Berth(t, "volume", "rm", ext)
		})
		sh := func(p, svc, script string) string {
			t.Helper()
			return containerSh(t, d, c.container(p, svc, 1), script)
		}
		c.ok(t, dir, "-p", p, "up", "-d")
		ids := d.Berth(t, "ps", "-aq", "--no-trunc", "--filter", "label=com.docker.compose.project="+p).Success(t).Out()
		// a second up finds every network and container as the file says
		c.ok(t, dir, "-p", p, "up", "-d")
		if again := d.Berth(t, "ps", "-aq", "--no-trunc", "--filter", "label=com.docker.compose.project="+p).Success(t).Out(); again != ids || len(lines(ids)) != 7 {
			t.Errorf("a second up changed the containers from\n%s\nto\n%s", ids, again)
		}

		labels := objInspect(t, d, "network", p+"_back", `{{json .Labels}}`)
		for _, want := range []string{`"test.berth":"back"`, `"com.docker.compose.project":"` + p + `"`, `"com.docker.compose.network":"back"`} {
			if !strings.Contains(labels, want) {
				t.Errorf("network %s_back labels %s, want %s", p, labels, want)
			}
		}
		if got := objInspect(t, d, "network", p+"_back", `{{range .IPAM.Config}}{{.Subnet}}{{end}} {{json .IPAM.Options}} {{.Attachable}}`); got != net+`.0/24 {"test.berth":"ipam"} true` {
			t.Errorf("back's subnet, IPAM options, attachable: %s; want %s.0/24, the ipam options, true", got, net)
		}
		if got := objInspect(t, d, "network", p+"_inner", `{{.Internal}}`); got != "true" {
			t.Errorf("inner is internal: %s", got)
		}
		aIP := net + ".10"
		// b is on front and back: it reaches a by its aliases and c
		if got := sh(p, "b", "for h in kv db a c; do ping -c1 -W2 $h >/dev/null && echo $h; done; nslookup kv | grep -c "+aIP); got != "kv\ndb\na\nc\n1" {
			t.Errorf("from b (front, back), reached:\n%s\nwant kv, db, a, c, and kv resolving to %s", got, aIP)
		}
		// c is on front only: back's names are unknown to it
		if r := d.Berth(t, "exec", c.container(p, "c", 1), "ping", "-c1", "-W1", "kv"); r.ExitCode == 0 {
			t.Errorf("c (front only) reached kv on back: %s", r)
		}
		// i is on inner only, which is internal: a is reachable there, but
		// there is no route out
		if got := sh(p, "i", "ping -c1 -W2 a >/dev/null && echo a; ip route | grep default || echo no route"); got != "a\nno route" {
			t.Errorf("from i (internal): %q, want a reached and no default route", got)
		}
		if got := sh(p, "s", "ip -4 -o addr | grep -c ' "+aIP+"/'"); got != "1" {
			t.Errorf("network_mode service:a has not a's address %s: %s", aIP, got)
		}
		if got := sh(p, "h", "ip -4 -o addr | grep -c ' "+net+".1/'"); got != "1" {
			t.Errorf("network_mode host does not see back's bridge (%s.1): %s", net, got)
		}
		if got := sh(p, "n", "ls /sys/class/net"); got != "lo" {
			t.Errorf("network_mode none has interfaces %q", got)
		}

		// an external network that is missing, then an external volume
		r := c.run(t, dirQ, "-p", q, "up", "-d")
		if r.ExitCode == 0 || !strings.Contains(strings.ToLower(r.Stderr), "network "+ext+" declared as external, but could not be found") {
			t.Errorf("up with a missing external network: %s", r)
		}
		d.Berth(t, "network", "create", ext).Success(t)
		r = c.run(t, dirQ, "-p", q, "up", "-d")
		wantVol := `external volume "` + ext + `" not found`
		if c.v1 {
			wantVol = "Volume " + ext + " declared as external, but could not be found"
		}
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, wantVol) {
			t.Errorf("up with a missing external volume: %s", r)
		}
		d.Berth(t, "volume", "create", ext).Success(t)
		qUp = true
		c.ok(t, dirQ, "-p", q, "up", "-d")
		// projects are isolated: x reaches y on its network, not a's address
		// on the other project's network
		if got := sh(q, "x", "ping -c1 -W2 y >/dev/null && echo y; ping -c1 -W1 "+aIP+" >/dev/null && echo a; mount | grep -c ' /ext '"); got != "y\n1" {
			t.Errorf("from x on the external network: %q, want y reached, a (other project) not, /ext mounted", got)
		}
		c.ok(t, dirQ, "-p", q, "down", "-v", "-t", "0")
		qUp = false
		if got := objInspect(t, d, "network", ext, "{{.Name}}") + " " + objInspect(t, d, "volume", ext, "{{.Name}}"); got != ext+" "+ext {
			t.Errorf("down -v removed the external network or volume: %q", got)
		}

		// a running container's new name is in the DNS, its old one gone
		// (but v5 gives the container's name as an alias too, which stays)
		renamed := p + "-renamed"
		d.Berth(t, "rename", c.container(p, "c", 1), renamed).Success(t)
		want := "new"
		if c.v1 {
			want = "new\nold gone"
		}
		if got := sh(p, "b", "ping -c1 -W2 "+renamed+" >/dev/null && echo new; nslookup "+c.container(p, "c", 1)+" >/dev/null || echo old gone"); got != want {
			t.Errorf("after c's rename, from b: %q, want %q", got, want)
		}

		c.ok(t, dir, "-p", p, "down", "-v", "-t", "0")
		pUp = false
		for _, kind := range []string{"network", "volume"} {
			if left := d.Berth(t, kind, "ls", "-q", "--filter", "label=com.docker.compose.project="+p).Success(t).Out(); left != "" {
				t.Errorf("down -v left %ss: %s", kind, left)
			}
		}
		if left := d.Berth(t, "ps", "-aq", "--filter", "label=com.docker.compose.project="+p).Success(t).Out(); left != "" {
			t.Errorf("down -v left containers: %s", left)
		}
	})
}

// objInspect is `berth <kind> inspect -f tmpl name` (kind: volume,
// network), failing t on error.
func objInspect(t testing.TB, d *testutil.Daemon, kind, name, tmpl string) string {
	t.Helper()
	return d.Berth(t, kind, "inspect", "-f", tmpl, name).Success(t).Out()
}

// containerSh runs script with sh in the running container name (with
// berth exec: the compose clients' exec is not what these tests check, and
// each docker-compose 1.29 run costs a Python start) and returns its
// trimmed output.
func containerSh(t testing.TB, d *testutil.Daemon, name, script string) string {
	t.Helper()
	return d.Berth(t, "exec", name, "sh", "-c", script).Success(t).Out()
}

// composeSubnet is the first three bytes of a /24 for a compose network's
// ipam config, picked at random among 10.231.1-250 so that runs and the
// other daemons on the host seldom meet.
func composeSubnet() string {
	return fmt.Sprintf("10.231.%d", 1+rand.IntN(250))
}
