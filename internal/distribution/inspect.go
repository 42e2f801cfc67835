package distribution

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	reg "github.com/berth-project/berth/internal/registry"
)

// Inspect resolves ref on its registry, like GET /distribution/{name}/json:
// the manifest's (or index's) descriptor and the platforms it provides.
func (s *Service) Inspect(ctx context.Context, ref string, auth registry.AuthConfig) (ocispec.Descriptor, []ocispec.Platform, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ocispec.Descriptor{}, nil, invalidRef(err)
	}
	named = reference.TagNameOnly(named)
	p := &puller{s: s, named: named, opts: PullOptions{Auth: auth}}
	desc, platforms, err := p.inspect(ctx)
	if err != nil {
		return ocispec.Descriptor{}, nil, reg.PullError(err, named, !reg.HasCredentials(auth))
	}
	return desc, platforms, nil
}

func (p *puller) inspect(ctx context.Context) (ocispec.Descriptor, []ocispec.Platform, error) {
	if err := p.connect(ctx); err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	raw, desc, err := p.manifest(ctx, p.tagOrDigest())
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	platforms := []ocispec.Platform{}
	switch desc.MediaType {
	case ocispec.MediaTypeImageIndex, mediaTypeDockerList:
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil {
			return desc, nil, fmt.Errorf("invalid manifest list %s: %w", desc.Digest, err)
		}
		for _, m := range idx.Manifests {
			if m.Platform != nil {
				platforms = append(platforms, *m.Platform)
			}
		}
	default:
		m, err := parseManifest(raw, desc)
		if err != nil {
			return desc, nil, err
		}
		cfgRaw, err := p.config(ctx, m.Config)
		if err != nil {
			return desc, nil, err
		}
		var cfg ocispec.Image
		if err := json.Unmarshal(cfgRaw, &cfg); err != nil {
			return desc, nil, fmt.Errorf("invalid image config: %w", err)
		}
		platforms = append(platforms, cfg.Platform)
	}
	return desc, platforms, nil
}
