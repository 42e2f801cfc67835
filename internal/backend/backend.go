// Package backend holds the request and stream types shared by the API edge
// (internal/api) and the engine (internal/daemon), so that neither imports
// the other.
package backend

import (
	"context"
	"io"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/registry"
)

// Filters are the decoded `filters` query parameter: key -> accepted values.
type Filters map[string][]string

// ContainerListOptions are the query parameters of GET /containers/json.
type ContainerListOptions struct {
	All     bool
	Limit   int // <= 0 means no limit
	Size    bool
	Filters Filters
}

// LogsOptions are the query parameters of GET /containers/{id}/logs.
type LogsOptions struct {
	Stdout, Stderr bool
	Follow         bool
	Timestamps     bool
	Tail           string // "all" or a number
	Since, Until   time.Time
}

// LogMessage is one line of a container's log.
type LogMessage struct {
	Stream string // "stdout" or "stderr"
	Line   []byte // including its trailing newline, if it had one
	Time   time.Time
	Err    error // set on the last message when reading failed
}

// AttachStreams are the client's streams, handed to the engine once the
// connection has been hijacked. Stdin is nil unless requested.
type AttachStreams struct {
	Stdin          io.ReadCloser
	Stdout, Stderr io.Writer
}

// AttachOptions describe an attach request. GetStreams is called by the
// engine exactly once, when it knows whether the container has a TTY
// (multiplexed is true without one: the edge then frames output with stdcopy).
// Errors returned before GetStreams is called are sent as normal HTTP errors.
type AttachOptions struct {
	UseStdin, UseStdout, UseStderr bool
	Logs, Stream                   bool
	DetachKeys                     string
	GetStreams                     func(multiplexed bool) (*AttachStreams, error)
}

// ImageListOptions are the query parameters of GET /images/json.
type ImageListOptions struct {
	All     bool
	Digests bool
	Filters Filters
}

// ImageImportOptions are the query parameters of POST /images/create?fromSrc=.
type ImageImportOptions struct {
	Source  string // "-" means the request body
	Repo    string // may be empty
	Tag     string
	Message string
	Changes []string
}

// ImagePullOptions are the parameters of POST /images/create?fromImage=.
type ImagePullOptions struct {
	Image    reference.Named // name:tag or name@digest, parsed once at the edge
	Platform string          // "os[/arch[/variant]]", "" for the host's
	Auth     registry.AuthConfig
}

// ImagePushOptions are the parameters of POST /images/{name}/push.
type ImagePushOptions struct {
	Name string // the repository, possibly with a tag
	Tag  string // "" pushes every tag of the repository
	Auth registry.AuthConfig
}

// ExecStartOptions describe POST /exec/{id}/start. Without Detach, the
// engine calls GetStreams exactly once, when the exec is about to run
// (multiplexed is true without a TTY); errors returned before it are sent
// as normal HTTP errors.
type ExecStartOptions struct {
	Detach     bool
	GetStreams func(multiplexed bool) (*AttachStreams, error)
}

// EventSubscription is a subscriber's live feed of engine events
// (GET /events).
type EventSubscription interface {
	// Next waits for the next event; it fails when ctx ends or the
	// subscription is over (closed, or dropped for falling behind).
	Next(ctx context.Context) (events.Message, error)
	// Close unsubscribes.
	Close()
}
