//go:build !linux

// Command kube times a Kubernetes node on berthd against dockerd; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench/kube: berth runs containers on Linux only")
	os.Exit(1)
}
