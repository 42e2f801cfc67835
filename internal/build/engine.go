package build

import "github.com/moby/buildkit/session"

// engine is a started BuildKit: a controller with one worker, its gRPC
// server fed in-process and hijacked connections.
type engine struct {
	sessions *session.Manager
	listener *pipeListener
	// close stops serving, ends running builds and closes BuildKit's
	// stores.
	close func() error
}
