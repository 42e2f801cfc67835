package network

import "path/filepath"

// NetNSPath is where NewNetNS bind-mounts container id's network namespace
// under an exec root.
func NetNSPath(execRoot, id string) string { return filepath.Join(execRoot, "netns", id) }
