package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
)

// distributionRoutes registers /auth, /distribution and /images/prune;
// pulls and pushes arrive through the image routes.
func (s *Server) distributionRoutes() {
	s.handle("POST /auth", s.auth)
	s.handle("GET /distribution/{rest...}", s.distributionInspect)
	s.handle("POST /images/prune", s.imagePrune)
}

// decodeAuthHeader reads X-Registry-Auth (base64url JSON of an
// AuthConfig; standard base64 and missing padding are accepted too).
func decodeAuthHeader(r *http.Request) (registry.AuthConfig, error) {
	var cfg registry.AuthConfig
	header := strings.TrimSpace(r.Header.Get(registry.AuthHeader))
	if header == "" {
		return cfg, nil
	}
	var data []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if data, err = enc.DecodeString(header); err == nil {
			break
		}
	}
	if err == nil {
		err = json.Unmarshal(data, &cfg)
	}
	if err != nil {
		return cfg, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid X-Registry-Auth header: %v", err))
	}
	return cfg, nil
}

// pullReference joins fromImage and tag (a tag or a digest) as dockerd
// does: a tag or digest already in fromImage stands when tag is empty, and
// "latest" when there is neither. It is the request's one parse of the name.
func pullReference(fromImage, tag string) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(strings.TrimSpace(fromImage))
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if tag != "" {
		if dgst, derr := digest.Parse(tag); derr == nil {
			named, err = reference.WithDigest(reference.TrimNamed(named), dgst)
		} else {
			named, err = reference.WithTag(reference.TrimNamed(named), tag)
		}
		if err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
	}
	return reference.TagNameOnly(named), nil
}

// imagePull answers POST /images/create?fromImage=&tag=&platform=.
func (s *Server) imagePull(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	ref, err := pullReference(q.Get("fromImage"), q.Get("tag"))
	if err != nil {
		return err
	}
	auth, err := decodeAuthHeader(r)
	if err != nil {
		return err
	}
	opts := ImagePullOptions{Image: ref, Platform: q.Get("platform"), Auth: auth}
	return s.jsonStream(w, r, false, func(out *streamWriter) error {
		return s.backend.ImagePull(r.Context(), opts, out)
	})
}

// imagePush answers POST /images/{name}/push?tag=.
func (s *Server) imagePush(w http.ResponseWriter, r *http.Request, name string) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	auth, err := decodeAuthHeader(r)
	if err != nil {
		return err
	}
	if r.Header.Get(registry.AuthHeader) == "" && r.Body != nil {
		// Old clients sent the credentials as the body.
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&auth)
	}
	opts := ImagePushOptions{Name: name, Tag: q.Get("tag"), Auth: auth}
	return s.jsonStream(w, r, false, func(out *streamWriter) error {
		return s.backend.ImagePush(r.Context(), opts, out)
	})
}

// auth answers POST /auth: it checks the credentials with the registry.
func (s *Server) auth(w http.ResponseWriter, r *http.Request) error {
	var cfg registry.AuthConfig
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&cfg); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid JSON: %v", err))
	}
	resp, err := s.backend.RegistryLogin(r.Context(), cfg)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

// distributionInspect answers GET /distribution/{name}/json.
func (s *Server) distributionInspect(w http.ResponseWriter, r *http.Request) error {
	name, action := splitImageAction(r.PathValue("rest"))
	if action != "json" {
		return errPageNotFound
	}
	auth, err := decodeAuthHeader(r)
	if err != nil {
		return err
	}
	res, err := s.backend.DistributionInspect(r.Context(), name, auth)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// imagePrune answers POST /images/prune?filters=.
func (s *Server) imagePrune(w http.ResponseWriter, r *http.Request) error {
	filters, err := requestFilters(r)
	if err != nil {
		return err
	}
	report, err := s.backend.ImagePrune(r.Context(), filters)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, report)
}
