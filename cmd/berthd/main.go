// Command berthd is berth's engine: it serves the Docker Engine API on a unix
// socket and runs containers under per-container shims.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/api"
	"github.com/berth-project/berth/internal/daemon"
	"github.com/berth-project/berth/internal/pagetrim"
)

// the daemon must satisfy everything the API edge needs.
var _ api.Backend = (*daemon.Daemon)(nil)

func main() {
	cfg := defaultConfig()
	cmd := &cobra.Command{
		Use:           "berthd [OPTIONS]",
		Short:         "A self-sufficient runtime for containers",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       daemon.Version,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.load(cmd.Flags()); err != nil {
				return err
			}
			cfg.finish(cmd.Flags())
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return run(ctx, cfg)
		},
	}
	cfg.flags(cmd.Flags())
	if err := cmd.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "berthd: %v\n", err)
		os.Exit(1)
	}
}

// run holds the data root, serves the API until ctx ends, then shuts down,
// leaving the containers running under their shims.
func run(ctx context.Context, cfg *config) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.level()}))
	routeLogrus(logger, cfg.level())
	slog.SetDefault(logger)

	for _, dir := range []string{cfg.DataRoot, cfg.ExecRoot} {
		if err := os.MkdirAll(dir, 0o710); err != nil {
			return err
		}
	}
	unlock, err := lockDataRoot(cfg.DataRoot)
	if err != nil {
		return err
	}
	defer unlock()
	release, err := claimHost(cfg.ExecRoot, cfg.Bridge, cfg.FirewallTable)
	if err != nil {
		return err
	}
	defer release()
	if err := writePidfile(cfg.Pidfile); err != nil {
		return err
	}
	defer os.Remove(cfg.Pidfile)
	if err := setupRemap(cfg, logger); err != nil {
		return err
	}

	// the API's TLS files and TCP policy, checked before anything is set up
	sec, err := cfg.tcpSecurity()
	if err != nil {
		return err
	}
	rt, err := selectRuntime(ctx, cfg.Runtime, logger)
	if err != nil {
		return fmt.Errorf("OCI runtime %q: %w", cfg.Runtime, err)
	}
	runtimePath := rt.Path
	// CVE-2024-21626: warn at boot, and in info, of a runc that lets a
	// container out through a leaked fd.
	var bootWarnings []string
	if w := runtimeWarning(ctx, runtimePath); w != "" {
		logger.Warn(w)
		bootWarnings = append(bootWarnings, w)
	}
	shimPath, err := shimBinary()
	if err != nil {
		return err
	}
	parts, err := buildParts(cfg, shimPath, logger)
	if err != nil {
		return err
	}
	sandboxes := &daemon.BuildSandboxes{} // the daemon, once it exists
	builder, err := newBuilder(cfg, rt.Build, parts.Images, sandboxes, logger)
	if err != nil {
		return err
	}
	defer builder.Close()
	parts.Builds = builder
	logConfig, err := daemon.DefaultLogConfig(cfg.LogDriver, cfg.LogOpts)
	if err != nil {
		return err
	}
	d, err := daemon.New(ctx, daemon.Config{
		Debug:      cfg.Debug,
		InitPath:   besideSelf("berth-init"),
		Init:       cfg.Init,
		DataRoot:   cfg.DataRoot,
		ExecRoot:   cfg.ExecRoot,
		Runtime:    runtimePath,
		Host:       rt.host(),
		APIVersion: apiVersion,
		MinAPI:     minAPIVersion,
		Logger:     logger,
		LogConfig:  logConfig,

		// isolation: dockerd's --no-new-privileges, the runtime's warning
		NoNewPrivileges: cfg.NoNewPrivileges,
		Warnings:        bootWarnings,
		Remap:           cfg.remap,
	}, parts)
	if err != nil {
		return err
	}
	defer d.Close()
	// The builder closes before the daemon: builds it cancels release their
	// sandboxes through it.
	defer builder.Close()
	sandboxes.Set(d)

	if cfg.Debug {
		// the engine does not need its debug socket: a failure is a warning
		if stopDebug, err := serveDebug(filepath.Join(cfg.ExecRoot, debugSocketName), logger); err != nil {
			logger.Warn("debug socket not served", "err", err)
		} else {
			defer stopDebug()
		}
	}
	debugf := func(format string, args ...any) { logger.Debug(fmt.Sprintf(format, args...)) }
	opts := api.Options{Version: apiVersion, MinVersion: minAPIVersion, Logf: debugf}
	if cfg.level() <= slog.LevelDebug {
		opts.Tracef = debugf
		// the steps of a traced run (BERTH_TRACE=1 berth run ...), one debug line each
		opts.TraceTo = logWriter{logger}
	}
	srv := api.New(d, opts)
	listeners, err := listen(cfg.Hosts, cfg.Group, sec)
	if err != nil {
		return err
	}
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		logger.Info("API listening", "addr", l.Addr().String())
		go func() { errc <- srv.Serve(l) }()
	}
	logger.Info("berthd started", "version", daemon.Version, "data-root", cfg.DataRoot)
	pagetrim.ReleaseBinary()
	select {
	case <-ctx.Done():
		logger.Info("shutting down; containers keep running")
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// API versions: the newest advertised is that of the moby api module berth is
// built on; clients down to 1.24 are served.
const (
	apiVersion    = "1.56"
	minAPIVersion = "1.24"
)

// resolveBinary finds a program by path or in $PATH.
func resolveBinary(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	return execLookPath(name)
}

// besideSelf is the path of the program name installed beside berthd, ""
// when there is none.
func besideSelf(name string) string {
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(self), name)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// shimBinary is berth-shim, installed beside berthd.
func shimBinary() (string, error) {
	if p := besideSelf("berth-shim"); p != "" {
		return p, nil
	}
	p, err := execLookPath("berth-shim")
	if err != nil {
		return "", fmt.Errorf("berth-shim not found beside berthd nor in $PATH: %w", err)
	}
	return p, nil
}

// logWriter writes each line it is given as one debug message.
type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Debug(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
