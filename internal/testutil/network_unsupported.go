//go:build !linux

package testutil

import "github.com/containerd/errdefs"

// Net is the private networking of a test daemon (Linux only).
type Net struct{ Bridge, BIP, Table string }

func newNet() (Net, error) { return Net{}, errdefs.ErrNotImplemented }

func (n Net) args() []string { return nil }

func (n Net) remove() error { return nil }
