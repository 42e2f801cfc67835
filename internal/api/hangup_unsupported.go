//go:build !linux

package api

import (
	"context"
	"net"
)

// watchHangup does nothing where POLLHUP cannot be queried: an attach
// session then ends when a write to the gone client fails.
func watchHangup(ctx context.Context, conn net.Conn, probe func() error, hangup func()) {}
