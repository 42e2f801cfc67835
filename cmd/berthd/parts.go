package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/cgroups"
	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/daemon"
	"github.com/berth-project/berth/internal/distribution"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/tasks"
	"github.com/berth-project/berth/internal/volume"
)

// buildParts opens the stores and prepares the managers the daemon
// composes. The network manager is only described here: the daemon creates
// it on first use.
func buildParts(cfg *config, shimPath string, logger *slog.Logger) (daemon.Parts, error) {
	netCfg := network.Config{
		Root:          filepath.Join(cfg.DataRoot, "network"),
		ExecRoot:      cfg.ExecRoot,
		DefaultBridge: cfg.Bridge,
		TableName:     cfg.FirewallTable,
		Logger:        logger,
	}
	if cfg.BIP != "" {
		bip, err := netip.ParsePrefix(cfg.BIP)
		if err != nil {
			return daemon.Parts{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid --bip %q: %v", cfg.BIP, err))
		}
		netCfg.DefaultBIP = bip
	}
	netCfg.DefaultIPv6 = cfg.IPv6
	if cfg.FixedCIDRv6 != "" {
		p, err := netip.ParsePrefix(cfg.FixedCIDRv6)
		if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
			return daemon.Parts{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid fixed-cidr-v6: '%s' is not a valid IPv6 subnet", cfg.FixedCIDRv6))
		}
		netCfg.DefaultFixedCIDRv6 = p
	}
	snaps, err := snapshot.NewOverlay(filepath.Join(cfg.DataRoot, "snapshot"), snapshot.WithIDMap(cfg.remap.IDs))
	if err != nil {
		return daemon.Parts{}, fmt.Errorf("open snapshot store: %w", err)
	}
	images, err := image.NewStore(cfg.DataRoot, image.WithLogger(logger), image.WithSnapshotter(snaps))
	if err != nil {
		return daemon.Parts{}, fmt.Errorf("open image store: %w", err)
	}
	volumes, err := volume.Open(filepath.Join(cfg.DataRoot, "volumes"), volume.WithOwner(cfg.remap.IDs.RootPair()))
	if err != nil {
		return daemon.Parts{}, fmt.Errorf("open volume store: %w", err)
	}
	return daemon.Parts{
		Images: images,
		Distribution: distribution.New(images, distribution.Options{
			InsecureRegistries: cfg.InsecureRegistries,
			CertsDir:           cfg.CertsDir,
			UserAgent:          "berth/" + daemon.Version,
			Logger:             logger,
		}),
		Records: container.NewStore(),
		Networks: func(ctx context.Context) (daemon.Networks, error) {
			m, err := network.New(ctx, netCfg)
			if err != nil {
				return nil, err
			}
			return m, nil
		},
		Launcher:   tasks.ShimLauncher{Binary: shimPath},
		Mounter:    kernelMounter{},
		Volumes:    volumes,
		Files:      containerFiles(cfg.remap.IDs),
		Accounting: cgroups.Accounting{},
	}, nil
}

// kernelMounter mounts root filesystems with mount(2).
type kernelMounter struct{}

func (kernelMounter) Mount(m snapshot.Mount, target string) error { return m.MountAt(target) }
func (kernelMounter) Unmount(target string) error                 { return snapshot.Unmount(target) }
