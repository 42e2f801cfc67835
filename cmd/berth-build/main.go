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
	"github.com/sirupsen/logrus"
)

func main() {
	cli.NewBuildCommand = buildcmd.NewCommand
	// BuildKit's client libraries log through logrus; their notices (such
	// as a local cache store's fsverity check) are not the build's output.
	logrus.SetLevel(logrus.ErrorLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
