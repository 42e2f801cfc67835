//go:build !linux

package main

import (
	"fmt"
	"os"
)

// run refuses: the init is Linux-only, as containers are.
func run([]string) int {
	fmt.Fprintln(os.Stderr, "berth-init: only Linux is supported")
	return 1
}
