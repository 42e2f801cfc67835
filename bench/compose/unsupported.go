//go:build !linux

// Command compose times Compose on berthd against dockerd; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench/compose: berth runs containers on Linux only")
	os.Exit(1)
}
