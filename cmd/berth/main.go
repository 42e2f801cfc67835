// Command berth is the command-line client of the berth container engine,
// compatible with docker's CLI.
package main

import (
	"context"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/cli"
)

func main() {
	if cli.VersionOnly(os.Args[1:]) {
		// before the signal handler and the GC timer: a goroutine, a
		// thread and an epoll instance fewer for the commonest probe
		_, _ = os.Stdout.WriteString(cli.VersionLine())
		return
	}
	deferGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// deferGC holds the garbage collector off for the first second, below a
// 64 MiB heap: most commands are done by then (ps -a with 1,000 containers
// would otherwise collect two or three times), and a longer one (logs -f,
// attach, a build's context) is back to the usual GOGC=100 after it.
// GOGC or GOMEMLIMIT in the environment keep their own say.
func deferGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(64 << 20)
	time.AfterFunc(time.Second, func() {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
	})
}
