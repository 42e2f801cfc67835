package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/containerd/errdefs"
)

func TestBuildPartsRefusesInvalidBIP(t *testing.T) {
	cfg := defaultConfig()
	cfg.DataRoot, cfg.ExecRoot = t.TempDir(), t.TempDir()
	cfg.BIP = "10.0.0.1" // no prefix length
	_, err := buildParts(cfg, "/nonexistent/berth-shim", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("--bip 10.0.0.1: %v, want an invalid argument at start, as dockerd", err)
	}
}
