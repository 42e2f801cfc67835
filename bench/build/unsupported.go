//go:build !linux

// Command build measures builds on berth beside dockerd; it runs on Linux
// only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench/build: berth builds on Linux only")
	os.Exit(1)
}
