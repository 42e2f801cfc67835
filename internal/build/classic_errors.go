package build

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// runError is a RUN that exited non-zero, worded as docker's classic
// builder does; the API edge puts its code in errorDetail, which the docker
// CLI exits with.
type runError struct {
	msg  string
	code int
	err  error
}

func (e *runError) Error() string { return e.msg }

// ExitCode is the RUN's exit code.
func (e *runError) ExitCode() int { return e.code }

func (e *runError) Unwrap() error { return e.err }

// classicError is a failed solve's error as docker's classic builder
// words it where it has its own words (a failed RUN, a COPY of a missing
// file); other errors keep BuildKit's message. The failure is recognized
// by the error's typed details (the exit code, the failed vertex, whose
// step the renderer knows) and the command comes from the Dockerfile;
// only a missing COPY source's path is read from the message.
func classicError(err error, r *classicRenderer) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var ve *errdefs.VertexError
	var vertex digest.Digest
	if errors.As(err, &ve) {
		vertex = digest.Digest(ve.Digest)
	}
	step := -1
	if r != nil && r.plan != nil {
		step = r.failedStep(vertex)
	}
	var exit *gwpb.ExitError
	if errors.As(err, &exit) {
		cmd := ""
		if step >= 0 {
			cmd = r.plan.steps[step].runCmd
		}
		var solve *errdefs.SolveError
		if errors.As(err, &solve) && solve.Solve != nil {
			if ex := solve.Op.GetExec(); ex != nil && ex.GetMeta() != nil {
				cmd = strings.Join(ex.GetMeta().GetArgs(), " ")
			}
		}
		msg := cleanMessage(err.Error())
		if cmd != "" {
			msg = fmt.Sprintf("The command '%s' returned a non-zero code: %d", cmd, exit.ExitCode)
		}
		return &runError{msg: msg, code: int(exit.ExitCode), err: err}
	}
	if step >= 0 {
		kw := r.plan.steps[step].keyword
		if m := missingSource.FindStringSubmatch(err.Error()); m != nil && (kw == "COPY" || kw == "ADD") {
			return &wordedError{err: err, msg: fmt.Sprintf("%s failed: file not found in build context or excluded by .dockerignore: stat %s: file does not exist",
				kw, strings.TrimPrefix(m[1], "/"))}
		}
	}
	return &wordedError{err: err, msg: cleanMessage(err.Error())}
}

// missingSource finds the path in BuildKit's "failed to calculate checksum
// of ref ...: "/nofile": not found".
var missingSource = regexp.MustCompile(`"([^"]*)":? not found`)

// wordedError is an error with docker's words for it, keeping BuildKit's
// for errors.Is and errors.As.
type wordedError struct {
	msg string
	err error
}

func (e *wordedError) Error() string { return e.msg }
func (e *wordedError) Unwrap() error { return e.err }

// cleanMessage drops the gRPC status code a message gained on its way
// from the solver ("Unknown: ", "NotFound: ").
func cleanMessage(msg string) string {
	for _, p := range []string{"Unknown: ", "NotFound: ", "InvalidArgument: ", "Internal: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}
