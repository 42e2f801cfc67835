package build

import "github.com/moby/buildkit/session"

// engine is a started BuildKit: a controller with one worker, its gRPC
// server fed in-process and hijacked connections.
type engine struct {
	sessions *session.Manager
	// sessionIDs keeps two clients from serving one session id.
	sessionIDs sessionIDs
	listener   *pipeListener
	// close stops serving, ends running builds and closes BuildKit's
	// stores.
	close func() error
}
