//go:build !linux

// Command health measures what healthchecks cost the engine; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench/health: berth runs containers on Linux only")
	os.Exit(1)
}
