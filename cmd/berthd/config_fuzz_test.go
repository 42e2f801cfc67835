package main

import (
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"

	"github.com/berth-project/berth/internal/daemon"
)

// FuzzDaemonJSON loads daemon.json files as berthd does at boot, with a
// flag set beside them, and derives what berthd derives from them before it
// opens any store (log level, log config, bridge addresses, the build
// cache's GC policy): a clear error or a configuration, never a panic.
func FuzzDaemonJSON(f *testing.F) {
	for _, s := range []string{
		`{"data-root":"/x","hosts":["unix:///a.sock","tcp://0.0.0.0:2375"],"log-level":"debug","bip":"10.0.0.1/24"}`,
		`{"ipv6":true,"fixed-cidr-v6":"fd00::/64","insecure-registries":["r:5000"],"default-runtime":"crun"}`,
		`{"log-driver":"json-file","log-opts":{"max-size":"-1k","max-file":"x","compress":"maybe"}}`,
		`{"log-driver":"local","log-opts":{"max-size":"99999999999999999999g"}}`, `{"log-driver":"syslog"}`,
		`{"builder":{"gc":{"enabled":false,"defaultKeepStorage":"-5GB","policy":[{"keepStorage":"1e99","filter":["unused-for=-1h","bogus"]}]}}}`,
		`{"builder":{"gc":{"policy":[{"all":true,"reservedSpace":"x","maxUsedSpace":"10%","minFreeSpace":"1TB"}]}}}`,
		`{"bip":"300.0.0.1/24","fixed-cidr-v6":"::ffff:1.2.3.4/120"}`, `{"hosts":"not a list"}`, `{"log-opts":{"a":1}}`,
		`[]`, `null`, `{`, ``, `{"data-root":"x","data-root":"y"}`, `{"unknown-key":{"deep":[1,2,3]}}`,
	} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "--data-root=/other")
	}
	f.Fuzz(func(t *testing.T, file []byte, arg string) {
		c := defaultConfig()
		c.ConfigFile = filepath.Join(t.TempDir(), "daemon.json")
		if err := os.WriteFile(c.ConfigFile, file, 0o644); err != nil {
			t.Fatal(err)
		}
		fs := pflag.NewFlagSet("berthd", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.flags(fs)
		if err := fs.Parse([]string{arg}); err != nil {
			return
		}
		if err := c.load(fs); err != nil {
			return
		}
		c.finish(fs)
		_ = c.level()
		_, _ = daemon.DefaultLogConfig(c.LogDriver, c.LogOpts)
		_, _ = netip.ParsePrefix(c.BIP)
		_, _ = c.Builder.GC.GCPolicy(t.TempDir())
	})
}
