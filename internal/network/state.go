package network

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/atomicfile"
	"github.com/containerd/errdefs"
)

// stateFile holds every network and endpoint; IPAM and port allocations are
// rebuilt from it.
const stateFile = "state.json"

type state struct {
	Networks  []*Network  `json:"networks"`
	Endpoints []*Endpoint `json:"endpoints"`
	// ULA is the unique local /48 IPv6 subnets come from when the address
	// pools have no IPv6 pool, chosen once.
	ULA netip.Prefix `json:"ula,omitzero"`
}

func loadState(root string) (*state, error) {
	data, err := os.ReadFile(filepath.Join(root, stateFile))
	if os.IsNotExist(err) {
		return &state{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read network state: %w", err)
	}
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode network state %s: %w: %w", filepath.Join(root, stateFile), errdefs.ErrDataLoss, err)
	}
	return &s, nil
}

// save persists the manager's state. m.mu is held.
func (m *Manager) save() error {
	s := state{ULA: m.ula}
	for _, n := range m.networks {
		s.Networks = append(s.Networks, n)
	}
	for _, ep := range m.endpoints {
		s.Endpoints = append(s.Endpoints, ep)
	}
	slices.SortFunc(s.Networks, func(a, b *Network) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Endpoints, func(a, b *Endpoint) int { return strings.Compare(a.ID, b.ID) })
	data, err := json.MarshalIndent(&s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode network state: %w", err)
	}
	if err := os.MkdirAll(m.cfg.Root, 0o700); err != nil {
		return fmt.Errorf("create network state dir: %w", err)
	}
	if old, err := os.ReadFile(filepath.Join(m.cfg.Root, stateFile)); err == nil && bytes.Equal(old, data) {
		return nil // unchanged (a boot): no write, so berthd starts on a full disk
	}
	if err := atomicfile.WriteFile(filepath.Join(m.cfg.Root, stateFile), data, 0o600); err != nil {
		return fmt.Errorf("write network state: %w", err)
	}
	return nil
}
