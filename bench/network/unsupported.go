//go:build !linux

// Command network measures berth's container networking; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench/network: berth runs containers on Linux only")
	os.Exit(1)
}
