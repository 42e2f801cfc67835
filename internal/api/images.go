package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
)

// imageRoutes registers /images. Image names contain slashes and colons
// ("localhost:5000/a/b:tag"), which a {name} wildcard cannot match, so
// "/images/{name...}/<action>" is matched as one trailing wildcard and
// split on its last slash.
func (s *Server) imageRoutes() {
	s.handle("GET /images/json", s.imageList)
	s.handle("GET /images/get", s.imageSaveMany)
	s.handle("POST /images/create", s.imageCreate)
	s.handle("POST /images/load", s.imageLoad)
	s.handle("GET /images/{rest...}", s.imageGetAction)
	s.handle("POST /images/{rest...}", s.imagePostAction)
	s.handle("DELETE /images/{name...}", s.imageDelete)
}

// errPageNotFound is the answer to an unknown route.
var errPageNotFound = errdefs.ErrNotFound.WithMessage("page not found")

// splitImageAction splits "a/b:tag/json" into the image name and action.
func splitImageAction(rest string) (name, action string) {
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 {
		return "", ""
	}
	return rest[:i], rest[i+1:]
}

// imageGetAction routes GET /images/{name...}/{json,history,get}.
func (s *Server) imageGetAction(w http.ResponseWriter, r *http.Request) error {
	name, action := splitImageAction(r.PathValue("rest"))
	switch action {
	case "json":
		return s.imageInspect(w, r, name)
	case "history":
		return s.imageHistory(w, r, name)
	case "get":
		return s.imageSave(w, r, []string{name})
	}
	return errPageNotFound
}

// imagePostAction routes POST /images/{name...}/{tag,push}.
func (s *Server) imagePostAction(w http.ResponseWriter, r *http.Request) error {
	name, action := splitImageAction(r.PathValue("rest"))
	switch action {
	case "tag":
		return s.imageTag(w, r, name)
	case "push":
		return s.imagePush(w, r, name)
	}
	return errPageNotFound
}

// imageList answers GET /images/json.
func (s *Server) imageList(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	filters, err := parseFilters(q)
	if err != nil {
		return err
	}
	// The `filter` parameter of API < 1.41 is a reference filter.
	if ref := q.Get("filter"); ref != "" {
		filters["reference"] = append(filters["reference"], ref)
	}
	list, err := s.backend.ImageList(r.Context(), ImageListOptions{
		All:     boolValue(q, "all"),
		Digests: boolValue(q, "digests"),
		Filters: filters,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, imageListForVersion(list, apiVersion(r.Context())))
}

// imageInspect answers GET /images/{name}/json.
func (s *Server) imageInspect(w http.ResponseWriter, r *http.Request, name string) error {
	img, err := s.backend.ImageInspect(r.Context(), name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, imageInspectForVersion(img, imageInspectVersion(r)))
}

// imageHistory answers GET /images/{name}/history.
func (s *Server) imageHistory(w http.ResponseWriter, r *http.Request, name string) error {
	history, err := s.backend.ImageHistory(r.Context(), name)
	if err != nil {
		return err
	}
	if history == nil {
		history = []image.HistoryResponseItem{}
	}
	return writeJSON(w, http.StatusOK, history)
}

// imageTag answers POST /images/{name}/tag?repo=&tag=.
func (s *Server) imageTag(w http.ResponseWriter, r *http.Request, name string) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	if err := s.backend.ImageTag(r.Context(), name, q.Get("repo"), q.Get("tag")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// imageDelete answers DELETE /images/{name}?force=&noprune=.
func (s *Server) imageDelete(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	deleted, err := s.backend.ImageDelete(r.Context(), r.PathValue("name"), boolValue(q, "force"), boolValue(q, "noprune"))
	if err != nil {
		return err
	}
	if deleted == nil {
		deleted = []image.DeleteResponse{}
	}
	return writeJSON(w, http.StatusOK, deleted)
}

// imageCreate answers POST /images/create: a pull (fromImage=) or an
// import from the request body (fromSrc=-); imports from URLs are not
// implemented yet.
func (s *Server) imageCreate(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	if q.Get("fromImage") != "" {
		return s.imagePull(w, r)
	}
	src := q.Get("fromSrc")
	switch src {
	case "":
		return errdefs.ErrInvalidArgument.WithMessage("either fromImage or fromSrc must be set")
	case "-":
	default:
		return errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("importing from a URL (%s) is not implemented yet", src))
	}
	opts := ImageImportOptions{
		Source:  src,
		Repo:    q.Get("repo"),
		Tag:     q.Get("tag"),
		Message: q.Get("message"),
		Changes: q["changes"],
	}
	return s.jsonStream(w, r, false, func(out *streamWriter) error {
		return s.backend.ImageImport(r.Context(), r.Body, opts, out)
	})
}

// imageLoad answers POST /images/load?quiet= (quiet unless told
// otherwise, as dockerd).
func (s *Server) imageLoad(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	quiet := boolValueOrDefault(q, "quiet", true)
	// dockerd reports every load failure, even a malformed archive, inside
	// the stream
	return s.jsonStream(w, r, true, func(out *streamWriter) error {
		return s.backend.ImageLoad(r.Context(), r.Body, quiet, out)
	})
}

// jsonStream runs a backend call that reads the request body while it
// writes JSON progress messages. Pulls, pushes and imports answer an error
// before their first message as an ordinary HTTP error, as dockerd does;
// with errorsInStream (load), every error is the stream's last message, a
// JSON message with errorDetail, after a 200.
func (s *Server) jsonStream(w http.ResponseWriter, r *http.Request, errorsInStream bool, call func(out *streamWriter) error) error {
	// Without full duplex, Go's HTTP/1 server discards the unread request
	// body as soon as the first progress message is written.
	if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
		return fmt.Errorf("enable full duplex: %w", err)
	}
	// In full duplex, a body left unread when the handler returns is
	// drained by the server after it has stopped watching the connection,
	// which starts a background read that the next request on the
	// connection collides with ("invalid concurrent Body.Read call",
	// golang/go#68560). Closing it here drains it (or gives up and closes
	// the connection) while the handler still owns it.
	defer r.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	out := &streamWriter{w: w, flush: true}
	err := call(out)
	if err == nil {
		if !out.started {
			w.WriteHeader(http.StatusOK)
		}
		return nil
	}
	if !out.started && !errorsInStream {
		return err
	}
	return writeStreamError(w, err)
}

// imageSaveMany answers GET /images/get?names=a&names=b.
func (s *Server) imageSaveMany(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	return s.imageSave(w, r, q["names"])
}

// imageSave streams a docker-archive tarball of names. A failure after the
// tarball has started breaks the connection, so the client cannot mistake
// a truncated archive for a complete one.
func (s *Server) imageSave(w http.ResponseWriter, r *http.Request, names []string) error {
	if len(names) == 0 {
		return errdefs.ErrInvalidArgument.WithMessage("no image names given")
	}
	w.Header().Set("Content-Type", "application/x-tar")
	out := &streamWriter{w: w}
	if err := s.backend.ImageSave(r.Context(), names, out); err != nil {
		if !out.started {
			return err
		}
		s.opts.Logf("api: save %v failed after the archive started: %v", names, err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
