//go:build linux

// Command pause is a pod sandbox's process, as Kubernetes' pause.c: it
// holds the pod's namespaces and does nothing else. As pid 1 it reaps the
// orphans that exit in the pod's shared PID namespace; SIGINT or SIGTERM
// end it with status 0. scripts/pause-image.sh (make pause-image) and the
// tests build it static into a FROM-scratch image, registry.k8s.io/pause,
// so a node runs without pulling one.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is what `pause -v` prints.
const version = "berth-pause 3.10"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println(version)
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			fmt.Fprintf(os.Stderr, "Shutting down, got signal: %v\n", sig)
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
