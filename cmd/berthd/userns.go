package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/moby/sys/user"

	"github.com/berth-project/berth/internal/ctrfs"
	"github.com/berth-project/berth/internal/daemon"
	"github.com/berth-project/berth/internal/userns"
)

// setupRemap applies --userns-remap as dockerd does: it resolves (for
// "default", creates) the remap user and its ranges, opens the data root
// to the remapped root (0711) and moves berth's state into
// <data-root>/<uid>.<gid>, owned by it, so that images unpacked there with
// shifted owners are never mixed with those of another mapping.
func setupRemap(cfg *config, logger *slog.Logger) error {
	if cfg.UsernsRemap == "" {
		return nil
	}
	remap, err := userns.Host().Resolve(cfg.UsernsRemap)
	if err != nil {
		return err
	}
	if !remap.Enabled() {
		logger.Warn("User namespaces: root cannot be remapped with itself; user namespaces are OFF")
		return nil
	}
	logger.Info("User namespaces: ID ranges will be mapped to subuid/subgid ranges of: " + remap.User)
	if err := os.Chmod(cfg.DataRoot, 0o711); err != nil {
		return err
	}
	root := remap.Root(cfg.DataRoot)
	uid, gid := remap.IDs.RootPair()
	if err := os.MkdirAll(root, 0o710); err != nil {
		return err
	}
	if err := os.Chown(root, uid, gid); err != nil {
		return fmt.Errorf("user namespaces: %w", err)
	}
	cfg.DataRoot = root
	cfg.remap = remap
	return nil
}

// containerFiles opens containers' files for cp and export with the
// remapping's IDs: archives hold container IDs, as dockerd's do.
func containerFiles(ids user.IdentityMapping) func(ctrfs.FS) daemon.ContainerFiles {
	return func(fs ctrfs.FS) daemon.ContainerFiles {
		fs.IDMap = ids
		return &fs
	}
}
