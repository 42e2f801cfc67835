package image

import (
	"encoding/json"
	"fmt"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
)

// record is what the store keeps about one image besides its config blob.
type record struct {
	ID          digest.Digest `json:"id"`
	Layers      []layerRecord `json:"layers"`
	Parent      digest.Digest `json:"parent,omitempty"`
	Created     time.Time     `json:"created"` // when the store got it
	LastTagTime time.Time     `json:"lastTagTime,omitempty"`
	// Manifests are the registry manifests known for the image (pulled or
	// pushed), kept so that a push sends them byte for byte.
	Manifests []manifestRecord `json:"manifests,omitempty"`

	// Filled from the config blob when loaded.
	config dockerspec.DockerOCIImage `json:"-"`
	extra  configExtra               `json:"-"`
	raw    []byte                    `json:"-"`
	size   int64                     `json:"-"` // sum of layer sizes
}

// layerRecord ties one of the config's diff IDs to the blob it came from.
type layerRecord struct {
	DiffID    digest.Digest `json:"diffID"`
	ChainID   digest.Digest `json:"chainID"`
	Blob      digest.Digest `json:"blob"` // == DiffID when stored uncompressed
	MediaType string        `json:"mediaType"`
	BlobSize  int64         `json:"blobSize"`
	TarSize   int64         `json:"tarSize"` // uncompressed
	Size      int64         `json:"size"`    // file content, as docker reports it
}

// configExtra holds fields of docker's image config that the OCI types lack.
type configExtra struct {
	Comment       string `json:"comment,omitempty"`
	DockerVersion string `json:"docker_version,omitempty"`
	Parent        string `json:"parent,omitempty"`
}

// setConfig parses and checks a raw image config.
func (r *record) setConfig(raw []byte) error {
	var cfg dockerspec.DockerOCIImage
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("invalid image config: %w", err)
	}
	var extra configExtra
	_ = json.Unmarshal(raw, &extra)
	if len(cfg.RootFS.DiffIDs) != len(r.Layers) {
		return fmt.Errorf("image config has %d layers, record %d", len(cfg.RootFS.DiffIDs), len(r.Layers))
	}
	r.size = 0
	for i, d := range cfg.RootFS.DiffIDs {
		if r.Layers[i].DiffID != d {
			return fmt.Errorf("layer %d: config says %s, record %s", i, d, r.Layers[i].DiffID)
		}
		r.size += r.Layers[i].Size
	}
	r.config, r.extra, r.raw = cfg, extra, raw
	return nil
}

// chainID is the chain ID of the top layer, "" without layers.
func (r *record) chainID() digest.Digest {
	if len(r.Layers) == 0 {
		return ""
	}
	return r.Layers[len(r.Layers)-1].ChainID
}

// created is the image's creation time from its config, else when stored.
func (r *record) created() time.Time {
	if r.config.Created != nil {
		return *r.config.Created
	}
	return r.Created
}
