//go:build !linux

// Command load measures berthd under load; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench/load: berth runs containers on Linux only")
	os.Exit(1)
}
