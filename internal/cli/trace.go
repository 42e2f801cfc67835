package cli

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"strings"

	"github.com/moby/moby/client"

	"github.com/berth-project/berth/internal/trace"
)

// traceEnv turns on the trace of a run (package trace): "1" writes the
// CLI's steps on stderr, a path appends them to that file. Every request
// then carries the trace id, which a berthd in debug mode (-D) follows
// through the container's start, exit and removal, in its own log.
const traceEnv = "BERTH_TRACE"

// startTrace returns the trace BERTH_TRACE asks for, or nil.
func startTrace(stderr io.Writer) *trace.Trace {
	v := os.Getenv(traceEnv)
	if v == "" || v == "0" {
		return nil
	}
	w := stderr
	if strings.ContainsRune(v, '/') {
		f, err := os.OpenFile(v, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil
		}
		w = f // closed by the process's exit; each line is one write
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return trace.New(hex.EncodeToString(b[:]), "cli", w)
}

// traceOpts are the client options that send c's trace id with every
// request.
func (c *Cli) traceOpts() []client.Opt {
	if c.trace == nil {
		return nil
	}
	return []client.Opt{client.WithHTTPHeaders(map[string]string{trace.Header: c.trace.ID})}
}
