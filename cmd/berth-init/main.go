// Command berth-init is the init `--init` runs as a container's pid 1,
// bind-mounted at /sbin/docker-init as docker's tini is: it starts the
// command after "--", forwards the signals it receives to it, reaps every
// zombie that the container's orphans leave, and exits with the command's
// status (128+n when a signal n killed it). It links only the standard
// library and x/sys, and is built static.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:]))
}
