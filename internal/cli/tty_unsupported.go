//go:build !linux

package cli

import (
	"context"
	"os"

	"github.com/moby/moby/client"
)

// notifyResize is not supported here: window changes are not followed.
func notifyResize() (<-chan os.Signal, func()) { return nil, func() {} }

// forwardSignals is not supported here: signals are not proxied.
func forwardSignals(context.Context, *client.Client, string) (stop func()) { return func() {} }
