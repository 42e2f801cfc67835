// Command berth is the command-line client of the berth container engine,
// compatible with docker's CLI.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/berth-project/berth/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
