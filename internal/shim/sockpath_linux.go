package shim

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// maxSocketPath is the room sun_path leaves for a socket path.
const maxSocketPath = 107

// withSocketPath calls fn with a name for the unix socket at path that fits
// in sun_path. A path that is too long (a long --exec-root) is reached
// through an O_PATH descriptor of its folder, /proc/self/fd/<n>/<name>:
// the kernel resolves it like any path, so bind and connect work whatever
// the folder's length, and the socket still lives in the container's state
// folder (nothing to clean up elsewhere). The descriptor is closed when fn
// returns: a listener bound through it must be unlinked by its real path.
func withSocketPath(path string, fn func(name string) error) error {
	if len(path) <= maxSocketPath {
		return fn(path)
	}
	dir, err := unix.Open(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open socket folder: %w", err)
	}
	defer unix.Close(dir)
	return fn(fmt.Sprintf("/proc/self/fd/%d/%s", dir, filepath.Base(path)))
}
