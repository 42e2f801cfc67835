//go:build linux

package integration

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestInspect(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("insp")
		c.run(t, "run", "--name", name, "-h", "insphost", "-e", "FOO=bar", "-w", "/tmp", "busybox", "sh", "-c", "exit 3")
		rmOnCleanup(t, d, name)
		tests := []struct {
			tmpl, want string
		}{
			{"{{.State.ExitCode}}", "3"},
			{"{{.State.Status}}", "exited"},
			{"{{.Config.Hostname}}", "insphost"},
			{"{{.Config.WorkingDir}}", "/tmp"},
			{"{{.Name}}", "/" + name},
			{"{{.Config.Image}}", "busybox"},
			{`{{json .Config.Cmd}}`, `["sh","-c","exit 3"]`},
			{`{{join .Config.Cmd "|"}}`, "sh|-c|exit 3"},
			{"{{upper .Config.Hostname}}", "INSPHOST"},
			{"{{lower .State.Status}}", "exited"},
			{"{{title .State.Status}}", "Exited"},
			{`{{index (split .Config.Hostname "p") 0}}`, "ins"},
		}
		for _, tt := range tests {
			if got := c.ok(t, "inspect", "-f", tt.tmpl, name); got != tt.want {
				t.Errorf("inspect -f %q = %q, want %q", tt.tmpl, got, tt.want)
			}
		}
		var env []string
		if err := json.Unmarshal([]byte(c.ok(t, "inspect", "-f", "{{json .Config.Env}}", name)), &env); err != nil {
			t.Fatalf("{{json .Config.Env}}: %v", err)
		}
		// like docker, the default PATH goes to the process, not to Config.Env
		// (the image has no Env)
		if len(env) != 1 || env[0] != "FOO=bar" {
			t.Errorf("Config.Env = %q, want [FOO=bar]", env)
		}

		// without -f: a JSON array of one object
		var all []map[string]any
		out := c.ok(t, "inspect", name)
		if err := json.Unmarshal([]byte(out), &all); err != nil || len(all) != 1 {
			t.Fatalf("inspect output is not a JSON array of one: %v\n%s", err, out)
		}
		for _, key := range []string{"Id", "Created", "Path", "Args", "State", "Image", "Name", "HostConfig", "Config", "Mounts", "NetworkSettings"} {
			if _, ok := all[0][key]; !ok {
				t.Errorf("inspect lacks %s", key)
			}
		}
		if img, _ := all[0]["Image"].(string); !strings.HasPrefix(img, "sha256:") {
			t.Errorf("Image = %q, want the image id sha256:...", img)
		}

		// several objects, one unknown: prints the known one, exits 1
		r := c.run(t, "inspect", "-f", "{{.Name}}", name, unique("nosuch"))
		if r.ExitCode != 1 || r.Out() != "/"+name || !strings.Contains(r.Stderr, "No such") {
			t.Errorf("inspect of a known and an unknown container: %s", r)
		}
	})
}

func TestInspectImage(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		id := c.ok(t, "image", "inspect", "-f", "{{.Id}}", "busybox")
		if !strings.HasPrefix(id, "sha256:") || !fullID.MatchString(strings.TrimPrefix(id, "sha256:")) {
			t.Fatalf("image id = %q", id)
		}
		for _, ref := range []string{"busybox:latest", "docker.io/library/busybox:latest", "docker.io/library/busybox", strings.TrimPrefix(id, "sha256:")[:12], id} {
			if got := c.ok(t, "image", "inspect", "-f", "{{.Id}}", ref); got != id {
				t.Errorf("image inspect %s = %q, want %q", ref, got, id)
			}
		}
		if got := c.ok(t, "inspect", "-f", "{{json .RepoTags}} {{.Os}} {{.Architecture}} {{len .RootFS.Layers}}", "busybox"); got != `["busybox:latest"] linux amd64 1` {
			t.Errorf("inspect busybox = %q", got)
		}
		c.run(t, "image", "inspect", unique("nosuch")).Fails(t, 1, "No such image")
	})
}
