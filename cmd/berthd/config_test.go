package main

import (
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestConfigIPv6 checks dockerd's IPv6 settings: flags, daemon.json keys,
// and the refusal of a key set in both places.
func TestConfigIPv6(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		file    string
		want    string // "ipv6 fixed-cidr-v6"
		wantErr string
	}{
		{name: "flags", args: []string{"--ipv6", "--fixed-cidr-v6", "fd00:1::/64"}, want: "true fd00:1::/64"},
		{name: "daemon.json", file: `{"ipv6": true, "fixed-cidr-v6": "fd00:2::/64"}`, want: "true fd00:2::/64"},
		{name: "default", want: "false "},
		{name: "both", args: []string{"--ipv6"}, file: `{"ipv6": true}`, wantErr: "ipv6: (from flag: true, from file: true)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadConfig(t, tt.args, tt.file, tt.wantErr)
			if c == nil {
				return
			}
			got := strings.TrimSpace(strings.Join([]string{strconv.FormatBool(c.IPv6), c.FixedCIDRv6}, " "))
			if got != strings.TrimSpace(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestConfigLog checks the daemon-wide log driver and options: flags,
// daemon.json keys, nil opts when none are configured (berth's defaults
// then apply), and the refusal of a key set in both places.
func TestConfigLog(t *testing.T) {
	tests := []struct {
		name, file, wantDriver, wantErr string
		args                            []string
		wantOpts                        map[string]string
	}{
		{name: "default", wantDriver: "json-file"},
		{name: "flags", args: []string{"--log-driver", "local", "--log-opt", "max-size=1m", "--log-opt", "max-file=2"}, wantDriver: "local", wantOpts: map[string]string{"max-size": "1m", "max-file": "2"}},
		{name: "daemon.json", file: `{"log-driver": "json-file", "log-opts": {"max-size": "3m"}}`, wantDriver: "json-file", wantOpts: map[string]string{"max-size": "3m"}},
		{name: "daemon.json empty opts", file: `{"log-opts": {}}`, wantDriver: "json-file", wantOpts: map[string]string{}},
		{name: "both", args: []string{"--log-driver", "local"}, file: `{"log-driver": "none"}`, wantErr: "log-driver: (from flag: local, from file: \"none\")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadConfig(t, tt.args, tt.file, tt.wantErr)
			if c == nil {
				return
			}
			if c.LogDriver != tt.wantDriver || (tt.wantOpts == nil) != (c.LogOpts == nil) || !maps.Equal(c.LogOpts, tt.wantOpts) {
				t.Fatalf("got %q %v, want %q %v", c.LogDriver, c.LogOpts, tt.wantDriver, tt.wantOpts)
			}
		})
	}
}

// loadConfig is berthd's configuration from args and, unless empty, a
// daemon.json holding file. With wantErr, it checks that loading fails
// with it and returns nil.
func loadConfig(t *testing.T, args []string, file, wantErr string) *config {
	t.Helper()
	c := defaultConfig()
	c.ConfigFile = filepath.Join(t.TempDir(), "daemon.json")
	if file != "" {
		if err := os.WriteFile(c.ConfigFile, []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs := pflag.NewFlagSet("berthd", pflag.ContinueOnError)
	c.flags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	err := c.load(fs)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want %q", err, wantErr)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}
