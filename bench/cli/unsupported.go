//go:build !linux

// Command cli measures the CLI's start and ps -a; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench/cli: berth runs containers on Linux only")
	os.Exit(1)
}
