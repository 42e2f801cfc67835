//go:build !linux

// Command bench measures berth; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench: berth runs containers on Linux only")
	os.Exit(1)
}
