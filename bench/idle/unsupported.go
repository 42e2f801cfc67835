//go:build !linux

// Command idle measures the memory of idle containers; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench/idle: berth runs containers on Linux only")
	os.Exit(1)
}
