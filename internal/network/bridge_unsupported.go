//go:build !linux

package network

// NewBridgeDriver returns nil on this platform: New reports
// ErrNotImplemented.
func NewBridgeDriver(mtu int) Driver { return nil }
