package main

import "strings"

// defaultHost is berthd's socket, as berth's own CLI defaults to it
// (internal/cli.DefaultHost; a test keeps the two equal without linking
// berth's CLI into Compose).
const defaultHost = "unix:///run/berth/berth.sock"

// engineHost is the DOCKER_HOST that standalone Compose must get so that
// it talks to berthd: $BERTH_HOST (which `berth -H` sets), else the
// docker client's own choice when the user made one ($DOCKER_HOST,
// $DOCKER_CONTEXT, or -H/--host or --context before the command), else
// berthd's default socket. ok is false when DOCKER_HOST must be left alone.
func engineHost(args []string, getenv func(string) string) (host string, ok bool) {
	if h := getenv("BERTH_HOST"); h != "" {
		return h, true
	}
	if getenv("DOCKER_HOST") != "" || getenv("DOCKER_CONTEXT") != "" {
		return "", false
	}
	// Compose's root flags come before its first command (see compose's
	// compatibility.Convert); what follows belongs to the command.
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "" || a[0] != '-' || a == "--" {
			break
		}
		name, _, inline := strings.Cut(a, "=")
		switch name {
		case "-H", "--host", "--context":
			return "", false
		case "--tlscacert", "--tlscert", "--tlskey", "--log-level":
			if !inline {
				i++
			}
		}
	}
	return defaultHost, true
}
