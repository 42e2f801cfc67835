// Package build embeds BuildKit in berthd: the controller and its runc
// worker on berth's stores, a network provider over internal/network, the
// exporter into berth's image store, the /grpc and /session handlers and the
// classic POST /build adapter.
package build

// The BuildKit packages the engine is built on, pinned here so that go.mod
// holds them before the code that uses each one lands.
import (
	_ "github.com/moby/buildkit/client"
	_ "github.com/moby/buildkit/control"
	_ "github.com/moby/buildkit/exporter/containerimage"
	_ "github.com/moby/buildkit/frontend/dockerfile/builder"
	_ "github.com/moby/buildkit/frontend/dockerfile/parser"
	_ "github.com/moby/buildkit/frontend/gateway/forwarder"
	_ "github.com/moby/buildkit/session"
	_ "github.com/moby/buildkit/session/auth/authprovider"
	_ "github.com/moby/buildkit/session/filesync"
	_ "github.com/moby/buildkit/session/secrets/secretsprovider"
	_ "github.com/moby/buildkit/session/sshforward/sshprovider"
	_ "github.com/moby/buildkit/solver/bboltcachestorage"
	_ "github.com/moby/buildkit/util/progress/progressui"
	_ "github.com/moby/buildkit/worker/runc"
)
