package registry

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Error is a registry's answer to a failed request, worded as dockerd
// words it ("manifest unknown: manifest unknown") and classified with
// errdefs (Unwrap returns the class).
type Error struct {
	Status int    // HTTP status of the registry's answer
	Code   string // the registry's first error code ("MANIFEST_UNKNOWN"), if any
	msg    string
	class  error
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns the errdefs class, nil for an unclassified failure.
func (e *Error) Unwrap() error { return e.class }

// codeWords is docker's errcode rendering of a code: lower case, spaces.
func codeWords(code string) string {
	return strings.ToLower(strings.ReplaceAll(code, "_", " "))
}

// Describe rewords a failed registry request like dockerd. anonymous tells
// that no credentials were sent, which turns a 401 into docker's "no basic
// auth credentials". Errors that are not registry answers pass unchanged.
func Describe(err error, anonymous bool) error {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return err
	}
	e := &Error{Status: terr.StatusCode}
	if len(terr.Errors) > 0 {
		d := terr.Errors[0]
		e.Code = string(d.Code)
		e.msg = codeWords(e.Code) + ": " + d.Message
	} else {
		e.msg = fmt.Sprintf("unexpected status code %d %s", terr.StatusCode, http.StatusText(terr.StatusCode))
	}
	switch {
	case terr.StatusCode == http.StatusUnauthorized && anonymous:
		e.msg = "no basic auth credentials"
		if terr.Request != nil {
			e.msg = fmt.Sprintf("%s %q: %s", methodName(terr.Request.Method), terr.Request.URL.Redacted(), e.msg)
		}
	case terr.StatusCode == http.StatusUnauthorized && e.Code == "":
		e.msg = "unauthorized: authentication required"
	case terr.StatusCode == http.StatusTooManyRequests:
		e.class = errdefs.ErrUnavailable
	}
	return e
}

// methodName is how Go's HTTP client names a method in its errors.
func methodName(m string) string {
	if m == "" {
		return "Get"
	}
	return m[:1] + strings.ToLower(m[1:])
}

// PullError is Describe, plus dockerd's not-found wording when the
// registry has no such repository or manifest, or denies access to it.
func PullError(err error, ref reference.Named, anonymous bool) error {
	err = Describe(err, anonymous)
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case "DENIED":
		e.msg = fmt.Sprintf("pull access denied for %s, repository does not exist or may require 'docker login': %s", reference.FamiliarName(ref), e.msg)
		e.class = errdefs.ErrNotFound
	case "MANIFEST_UNKNOWN":
		e.msg = fmt.Sprintf("manifest for %s not found: %s", reference.FamiliarString(ref), e.msg)
		e.class = errdefs.ErrNotFound
	case "NAME_UNKNOWN":
		e.msg = fmt.Sprintf("repository %s not found: %s", reference.FamiliarName(ref), e.msg)
		e.class = errdefs.ErrNotFound
	case "":
		if e.Status == http.StatusNotFound {
			e.msg = fmt.Sprintf("manifest for %s not found: manifest unknown: manifest unknown", reference.FamiliarString(ref))
			e.class = errdefs.ErrNotFound
		}
	}
	return e
}
