package network_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/internal/network"
)

// TestGarbledStateQuarantined: a truncated or garbled state file is set
// aside (not deleted) and the manager starts with the default networks,
// and serves new ones.
func TestGarbledStateQuarantined(t *testing.T) {
	for name, garble := range map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"empty":     func([]byte) []byte { return nil },
		"garbage":   func(b []byte) []byte { return []byte("\x00\xffnot json") },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			e := newFakeEnv(t)
			if _, err := e.m.Create(ctx, "mine", network.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			_ = e.m.Close(ctx)
			path := filepath.Join(e.cfg.Root, "state.json")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			bad := garble(data)
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			e.start(t)
			if _, err := e.m.Get("bridge"); err != nil {
				t.Errorf("the default network: %v", err)
			}
			if _, err := e.m.Create(ctx, "mine", network.CreateOptions{}); err != nil {
				t.Errorf("a new network after the quarantine: %v", err)
			}
			set, _ := filepath.Glob(filepath.Join(e.cfg.Root, "quarantine", "state.json.*"))
			if len(set) != 1 {
				t.Fatalf("quarantined: %v, want the one state file", set)
			}
			if kept, _ := os.ReadFile(set[0]); string(kept) != string(bad) {
				t.Errorf("the quarantined file holds %q, want the garbled state", kept)
			}
		})
	}
}
