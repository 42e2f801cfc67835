package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
)

// Image answers change shape with the API version: fields were added (a
// client of an older version never saw them) and removed (a client of an
// older version may require them: docker-compose 1.29 reads
// ContainerConfig on every `up` after the first). The functions below
// return an image inspect or list answer as the requested version shows it,
// following the Engine API changelog and dockerd's image router.

// legacyImageConfigFields are the image Config fields older versions always
// returned, even empty, which are omitted when empty now.
var legacyImageConfigFields = struct{ upTo149, upTo151 map[string]any }{
	// API 1.50 dropped the container-only fields; see the v1.50 changelog.
	upTo149: map[string]any{
		"AttachStderr": false, "AttachStdin": false, "AttachStdout": false,
		"Cmd": nil, "Domainname": "", "Entrypoint": nil, "Env": nil, "Hostname": "",
		"Image": "", "Labels": nil, "OnBuild": nil, "OpenStdin": false, "StdinOnce": false,
		"Tty": false, "User": "", "Volumes": nil, "WorkingDir": "",
	},
	// API 1.52 made these omitempty, as in the OCI image spec.
	upTo151: map[string]any{
		"Cmd": nil, "Entrypoint": nil, "Env": nil, "Labels": nil, "OnBuild": nil,
		"User": "", "Volumes": nil, "WorkingDir": "",
	},
}

// imageInspectVersion is the API version an image inspect answers r in:
// the requested one, except for docker-compose 1.x. That client asks for
// the server's newest version (docker-py's "auto"), yet reads
// ContainerConfig, gone since 1.45, whenever it re-creates a container,
// and crashes with KeyError without it (as it does against dockerd 25 and
// later); it gets the image as 1.44 showed it, the newest shape that has
// the field.
func imageInspectVersion(r *http.Request) string {
	v := apiVersion(r.Context())
	if composeV1(r) && compareVersions(v, "1.45") >= 0 {
		return "1.44"
	}
	return v
}

// composeV1 reports whether r comes from docker-compose 1.x, which asks
// for the server's newest API version (docker-py's "auto") yet reads
// fields that version no longer has.
func composeV1(r *http.Request) bool {
	return strings.HasPrefix(r.UserAgent(), "docker-compose/1.")
}

// imageInspectForVersion returns img as API version v shows it.
func imageInspectForVersion(img *image.InspectResponse, v string) any {
	resp := *img
	if resp.RepoTags == nil {
		resp.RepoTags = []string{}
	}
	if resp.RepoDigests == nil {
		resp.RepoDigests = []string{}
	}
	var extra []map[string]any
	if compareVersions(v, "1.44") < 0 {
		// VirtualSize was removed in 1.44; Created was "0001-01-01T00:00:00Z"
		// when unknown until then.
		extra = append(extra, map[string]any{"VirtualSize": resp.Size})
		if resp.Created == "" {
			resp.Created = time.Time{}.Format(time.RFC3339Nano)
		}
	}
	if compareVersions(v, "1.45") < 0 {
		// Container and ContainerConfig were removed in 1.45. berth
		// records neither: the committing container is "" and its config
		// holds only the image's Volumes, which docker-compose 1.29 reads
		// there to carry a re-created container's image volumes over (as
		// dockerd 20.10's classic builder, whose last step's container
		// config had them, let it).
		cc := &container.Config{}
		if resp.Config != nil {
			cc.Volumes = resp.Config.Volumes
		}
		extra = append(extra, map[string]any{"Container": "", "ContainerConfig": cc})
	}
	if compareVersions(v, "1.48") < 0 {
		resp.Descriptor = nil // added in 1.48
		resp.Manifests = nil
	}
	if compareVersions(v, "1.53") < 0 {
		resp.Identity = nil // added in 1.53
	}
	if compareVersions(v, "1.52") < 0 {
		// Until 1.52 these were always present, even empty. berth keeps no
		// legacy-builder Parent or DockerVersion, so they are "".
		extra = append(extra, map[string]any{"Parent": "", "Comment": resp.Comment, "DockerVersion": "", "Author": resp.Author})
		if resp.Config != nil {
			cfg := legacyImageConfigFields.upTo151
			if compareVersions(v, "1.50") < 0 {
				cfg = legacyImageConfigFields.upTo149
			}
			extra = append(extra, map[string]any{"Config": cfg})
		}
	}
	if len(extra) == 0 {
		return &resp
	}
	return withFields{base: &resp, extra: extra}
}

// imageListForVersion returns the image list as API version v shows it.
func imageListForVersion(list []image.Summary, v string) any {
	out := make([]any, len(list))
	for i := range list {
		s := list[i]
		if compareVersions(v, "1.43") < 0 {
			// untagged images showed placeholders until 1.43
			if len(s.RepoTags) == 0 && len(s.RepoDigests) == 0 {
				s.RepoTags, s.RepoDigests = []string{"<none>:<none>"}, []string{"<none>@<none>"}
			}
		}
		if s.RepoTags == nil {
			s.RepoTags = []string{}
		}
		if s.RepoDigests == nil {
			s.RepoDigests = []string{}
		}
		if compareVersions(v, "1.47") < 0 {
			s.Manifests = nil // added in 1.47
		}
		if compareVersions(v, "1.48") < 0 {
			s.Descriptor = nil // added in 1.48
		}
		if compareVersions(v, "1.51") < 0 {
			s.Containers = -1 // counted since 1.51
		}
		if compareVersions(v, "1.44") < 0 {
			out[i] = withFields{base: &s, extra: []map[string]any{{"VirtualSize": s.Size}}} // removed in 1.44
		} else {
			out[i] = &s
		}
	}
	return out
}

// withFields encodes base as a JSON object with the fields of extra that it
// lacks, like dockerd's compat wrapper: a field base already has keeps its
// value, and an object in both is completed field by field.
type withFields struct {
	base  any
	extra []map[string]any
}

// MarshalJSON implements json.Marshaler.
func (w withFields) MarshalJSON() ([]byte, error) {
	data, err := json.Marshal(w.base)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	for _, e := range w.extra {
		if err := addMissing(obj, e); err != nil {
			return nil, err
		}
	}
	return json.Marshal(obj)
}

// addMissing adds to obj the fields of extra it lacks, recursing into
// objects present in both.
func addMissing(obj map[string]json.RawMessage, extra map[string]any) error {
	for k, v := range extra {
		have, ok := obj[k]
		if !ok {
			raw, err := json.Marshal(v)
			if err != nil {
				return err
			}
			obj[k] = raw
			continue
		}
		sub, isObject := v.(map[string]any)
		if !isObject {
			continue
		}
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(have, &inner); err != nil || inner == nil {
			continue // not an object (or null): keep it
		}
		if err := addMissing(inner, sub); err != nil {
			return err
		}
		raw, err := json.Marshal(inner)
		if err != nil {
			return err
		}
		obj[k] = raw
	}
	return nil
}
