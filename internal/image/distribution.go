package image

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	reg "github.com/berth-project/berth/internal/registry"
)

// DistributionInspect resolves ref on its registry, like GET
// /distribution/{name}/json: the manifest's (or index's) descriptor and the
// platforms it provides.
func DistributionInspect(ctx context.Context, ref string, r Remote) (ocispec.Descriptor, []ocispec.Platform, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ocispec.Descriptor{}, nil, invalidRef(err)
	}
	named = reference.TagNameOnly(named)
	anonymous := !reg.HasCredentials(r.Auth)
	desc, platforms, err := distributionInspect(ctx, named, r)
	if err != nil {
		return ocispec.Descriptor{}, nil, reg.PullError(err, named, anonymous)
	}
	return desc, platforms, nil
}

func distributionInspect(ctx context.Context, named reference.Named, r Remote) (ocispec.Descriptor, []ocispec.Platform, error) {
	p := &puller{named: named}
	c, err := newClient(ctx, r, named, p.scope())
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	raw, desc, err := c.manifest(ctx, p.tagOrDigest())
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
		cfgRaw, err := c.smallBlob(ctx, m.Config)
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
