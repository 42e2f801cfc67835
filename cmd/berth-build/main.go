// Command berth-build runs berth's build commands (`berth build`, `berth
// image build`, `berth builder build`): berth execs it for them, so that
// BuildKit's client, gRPC and OpenTelemetry, which it links, cost nothing
// to berth's other commands. Its arguments are berth's.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/buildcmd"
)

func main() {
	cli.NewBuildCommand = buildcmd.NewCommand
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
