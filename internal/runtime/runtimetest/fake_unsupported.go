//go:build !linux

package runtimetest

import (
	"fmt"
	"os"
)

// Main is the fake runtime's program; it runs on Linux only.
func Main() {
	fmt.Fprintln(os.Stderr, "the fake runtime runs on Linux only")
	os.Exit(1)
}
