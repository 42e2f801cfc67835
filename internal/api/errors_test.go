package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/containerd/errdefs"
)

func TestStatusFromError(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{errdefs.ErrInvalidArgument, 400},
		{errdefs.ErrNotFound.WithMessage("No such container: x"), 404},
		{fmt.Errorf("container %q: %w", "x", errdefs.ErrNotFound), 404},
		{errdefs.ErrConflict, 409},
		{errdefs.ErrAlreadyExists, 409},
		{errdefs.ErrPermissionDenied, 403},
		{errdefs.ErrUnauthenticated, 401},
		{errdefs.ErrUnavailable, 503},
		{errdefs.ErrNotImplemented, 501},
		{errdefs.ErrNotModified, 304},
		// errdefs' own HTTP helper maps these to 412 and 429; dockerd says 500.
		{errdefs.ErrFailedPrecondition, 500},
		{errdefs.ErrResourceExhausted, 500},
		{errdefs.ErrInternal, 500},
		{errdefs.ErrUnknown, 500},
		{context.Canceled, 500},
		{errors.New("plain"), 500},
	}
	for _, tt := range tests {
		if got := statusFromError(tt.err); got != tt.want {
			t.Errorf("statusFromError(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	writeError(rec, errdefs.ErrConflict.WithMessage("in use"))
	if rec.Code != 409 || rec.Body.String() != "{\"message\":\"in use\"}\n" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("got %d %q %q", rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"))
	}
	rec = httptest.NewRecorder()
	writeError(rec, errdefs.ErrNotModified.WithMessage("already started"))
	if rec.Code != 304 || rec.Body.Len() != 0 {
		t.Errorf("304: got %d %q", rec.Code, rec.Body.String())
	}
}

func TestPanicBecomes500(t *testing.T) {
	env := newTestEnv(t)
	env.fake.addImage("busybox")
	id := createContainer(t, env, "boom", "busybox", []string{"panic"}, false)
	resp := env.do(t, http.MethodPost, "/containers/"+id+"/start", "", nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	if msg := errorMessage(t, resp); msg == "" {
		t.Error("empty message")
	}
	if env.logs.count() == 0 {
		t.Error("panic was not logged")
	}
	// The server still answers.
	if resp := env.do(t, http.MethodGet, "/_ping", "", nil); resp.StatusCode != 200 {
		t.Errorf("ping after panic: %d", resp.StatusCode)
	}
}
