//go:build linux

package integration

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestVersionInfo(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	apiVersion := regexp.MustCompile(`^1\.\d+$`)
	eachCLI(t, d, func(t *testing.T, c cli) {
		out := c.ok(t, "version")
		for _, want := range []string{"Client", "Server", "API version", "OS/Arch"} {
			if !strings.Contains(out, want) {
				t.Errorf("version output lacks %q:\n%s", want, out)
			}
		}
		if got := c.ok(t, "version", "--format", "{{.Server.APIVersion}}"); !apiVersion.MatchString(got) {
			t.Errorf("Server.APIVersion = %q", got)
		}
		if got := c.ok(t, "version", "--format", "{{.Server.Os}}/{{.Server.Arch}}"); got != "linux/amd64" {
			t.Errorf("server os/arch = %q", got)
		}

		out = c.ok(t, "info")
		for _, want := range []string{"Containers:", "Images:", "Server Version:", "Storage Driver:", "Docker Root Dir:"} {
			if !strings.Contains(out, want) {
				t.Errorf("info output lacks %q:\n%s", want, out)
			}
		}
		if got := c.ok(t, "info", "--format", "{{.DockerRootDir}}"); got != d.DataRoot {
			t.Errorf("DockerRootDir = %q, want %q", got, d.DataRoot)
		}
		if got := c.ok(t, "info", "--format", "{{.Containers}} {{.Images}}"); !regexp.MustCompile(`^\d+ \d+$`).MatchString(got) {
			t.Errorf("Containers Images = %q", got)
		} else if n, _ := strconv.Atoi(strings.Fields(got)[1]); n < 1 {
			t.Errorf("info counts %d images, want at least busybox", n)
		}
		if got := c.ok(t, "info", "--format", "{{.OSType}} {{.Architecture}}"); got != "linux x86_64" {
			t.Errorf("OSType Architecture = %q", got)
		}
	})
}
