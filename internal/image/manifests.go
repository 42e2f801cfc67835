package image

import (
	"github.com/opencontainers/go-digest"
)

// manifestRecord is a registry manifest of an image, stored as a blob.
type manifestRecord struct {
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	Size      int64         `json:"size"`
	// Repos are the repositories ("host/path") known to hold the
	// manifest's blobs: where a push can mount them from.
	Repos []string `json:"repos,omitempty"`
}

// maxManifests bounds the manifests remembered per image.
const maxManifests = 8

// addManifest remembers m (merging the repositories of a known one), most
// recent first.
func (r *record) addManifest(m manifestRecord) {
	out := []manifestRecord{m}
	for _, old := range r.Manifests {
		if old.Digest == m.Digest {
			for _, repo := range old.Repos {
				out[0].Repos = appendUnique(out[0].Repos, repo)
			}
			continue
		}
		out = append(out, old)
	}
	if len(out) > maxManifests {
		out = out[:maxManifests]
	}
	r.Manifests = out
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
