//go:build !linux

// Command toolbox measures berth's container toolbox; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench/toolbox: berth runs containers on Linux only")
	os.Exit(1)
}
