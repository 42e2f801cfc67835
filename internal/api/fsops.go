package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/backend"
)

// FilesBackend serves commit, diff, cp (archive) and export.
type FilesBackend interface {
	ContainerCommit(ctx context.Context, name string, opts backend.CommitOptions) (string, error)
	ContainerChanges(ctx context.Context, name string) ([]container.FilesystemChange, error)
	ContainerStatPath(ctx context.Context, name, path string) (container.PathStat, error)
	// ContainerArchivePath calls stat with the path's description before
	// it writes the tar to w.
	ContainerArchivePath(ctx context.Context, name, path string, stat func(container.PathStat) error, w io.Writer) error
	ContainerExtractToDir(ctx context.Context, name, path string, copyUIDGID, noOverwriteDirNonDir bool, r io.Reader) error
	ContainerExport(ctx context.Context, name string, w io.Writer) error
}

// pathStatHeader carries a path's stat in archive responses.
const pathStatHeader = "X-Docker-Container-Path-Stat"

// filesRoutes registers commit, changes, archive and export.
func (s *Server) filesRoutes() {
	s.handle("POST /commit", s.containerCommit)
	s.handle("GET /containers/{id}/changes", s.containerChanges)
	s.handle("HEAD /containers/{id}/archive", s.containerStatPath)
	s.handle("GET /containers/{id}/archive", s.containerArchive)
	s.handle("PUT /containers/{id}/archive", s.containerExtract)
	s.handle("GET /containers/{id}/export", s.containerExport)
}

// containerCommit answers POST /commit?container=&repo=&tag=&comment=
// &author=&pause=&changes= with 201 and the image id; the body, if any, is
// a container config whose fields override the container's.
func (s *Server) containerCommit(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	var cfg *container.Config
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return errdefs.ErrInvalidArgument.WithMessage("invalid JSON: " + err.Error())
	}
	id, err := s.backend.ContainerCommit(r.Context(), q.Get("container"), backend.CommitOptions{
		Repo:    q.Get("repo"),
		Tag:     q.Get("tag"),
		Author:  q.Get("author"),
		Comment: q.Get("comment"),
		Pause:   boolValueOrDefault(q, "pause", true),
		Changes: q["changes"],
		Config:  cfg,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, container.CommitResponse{ID: id})
}

// containerChanges answers GET /containers/{id}/changes.
func (s *Server) containerChanges(w http.ResponseWriter, r *http.Request) error {
	changes, err := s.backend.ContainerChanges(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if changes == nil {
		changes = []container.FilesystemChange{}
	}
	return writeJSON(w, http.StatusOK, changes)
}

// archivePath is the required ?path= of the archive endpoints, with the
// rest of the query.
func archivePath(r *http.Request) (string, url.Values, error) {
	q, err := parseQuery(r)
	if err != nil {
		return "", nil, err
	}
	p := q.Get("path")
	if p == "" {
		return "", nil, errdefs.ErrInvalidArgument.WithMessage("path is required")
	}
	return p, q, nil
}

func setPathStat(w http.ResponseWriter, st container.PathStat) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(raw))
	return nil
}

// containerStatPath answers HEAD /containers/{id}/archive?path= with the
// stat in a header.
func (s *Server) containerStatPath(w http.ResponseWriter, r *http.Request) error {
	p, _, err := archivePath(r)
	if err != nil {
		return err
	}
	st, err := s.backend.ContainerStatPath(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	if err := setPathStat(w, st); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// containerArchive answers GET /containers/{id}/archive?path= with a tar.
func (s *Server) containerArchive(w http.ResponseWriter, r *http.Request) error {
	p, _, err := archivePath(r)
	if err != nil {
		return err
	}
	return s.backend.ContainerArchivePath(r.Context(), r.PathValue("id"), p, func(st container.PathStat) error {
		if err := setPathStat(w, st); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/x-tar")
		w.WriteHeader(http.StatusOK)
		return nil
	}, w)
}

// containerExtract answers PUT /containers/{id}/archive?path=
// &noOverwriteDirNonDir=&copyUIDGID= by unpacking the body's tar.
func (s *Server) containerExtract(w http.ResponseWriter, r *http.Request) error {
	p, q, err := archivePath(r)
	if err != nil {
		return err
	}
	if err := s.backend.ContainerExtractToDir(r.Context(), r.PathValue("id"), p, boolValue(q, "copyUIDGID"), boolValue(q, "noOverwriteDirNonDir"), r.Body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// containerExport answers GET /containers/{id}/export with a tar of the
// root filesystem.
func (s *Server) containerExport(w http.ResponseWriter, r *http.Request) error {
	started := false
	return s.backend.ContainerExport(r.Context(), r.PathValue("id"), &lazyHeaderWriter{w: w, started: &started})
}

// lazyHeaderWriter sends the tar content type and 200 with the first
// bytes, so that an error before them is answered with its status.
type lazyHeaderWriter struct {
	w       http.ResponseWriter
	started *bool
}

func (l *lazyHeaderWriter) Write(p []byte) (int, error) {
	if !*l.started {
		*l.started = true
		l.w.Header().Set("Content-Type", "application/x-tar")
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}
