package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/containerd/errdefs"
)

func TestBuildPartsRefusesInvalidNetworkFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config)
	}{
		{"--bip without a prefix length", func(c *config) { c.BIP = "10.0.0.1" }},
		{"--fixed-cidr-v6 with an IPv4 subnet", func(c *config) { c.FixedCIDRv6 = "10.0.0.0/24" }},
		{"--fixed-cidr-v6 not a subnet", func(c *config) { c.FixedCIDRv6 = "fd00::" }},
	} {
		cfg := defaultConfig()
		cfg.DataRoot, cfg.ExecRoot = t.TempDir(), t.TempDir()
		tc.edit(cfg)
		_, err := buildParts(cfg, "/nonexistent/berth-shim", slog.New(slog.NewTextHandler(io.Discard, nil)))
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: %v, want an invalid argument at start, as dockerd", tc.name, err)
		}
	}
}
