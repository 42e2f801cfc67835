package build

import (
	"context"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/solver"
	"github.com/moby/buildkit/solver/pb"
)

// --pull (the image resolve mode "pull") means what it means to dockerd:
// a FROM image's tag is resolved at its registry, never among the local
// images, and a registry that cannot be reached fails the build. The
// image's content, pinned by digest, still comes from the local store
// when it holds the same manifest (the same bytes), else from the
// registry. Without --pull, local images win.
//
// The mode reaches the mirror through the request's context: BuildKit
// keeps one list of hosts per repository, shared by every mode, so the
// hosts themselves cannot differ.

// forcePullKey marks a context whose tag resolutions skip the mirror.
type forcePullKey struct{}

// forcePull reports whether ctx resolves tags at the registry only.
func forcePull(ctx context.Context) bool {
	v, _ := ctx.Value(forcePullKey{}).(bool)
	return v
}

// ResolveSourceMetadata implements worker.Worker: the image config the
// frontend reads for FROM (and the digest it pins the image to) is the
// registry's when the build pulls.
func (w *berthWorker) ResolveSourceMetadata(ctx context.Context, op *pb.SourceOp, opt sourceresolver.Opt, sm *session.Manager, jobCtx solver.JobContext) (*sourceresolver.MetaResponse, error) {
	if opt.ImageOpt != nil && opt.ImageOpt.ResolveMode == pb.AttrImageResolveModeForcePull {
		ctx = context.WithValue(ctx, forcePullKey{}, true)
	}
	return w.Worker.ResolveSourceMetadata(ctx, op, opt, sm, jobCtx)
}
