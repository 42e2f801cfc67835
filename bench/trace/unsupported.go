//go:build !linux

// Command trace prints where a berth run spends its time; Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "trace: berth runs containers on Linux only")
	os.Exit(1)
}
