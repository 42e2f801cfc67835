package shim

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/runtime"
)

// The shim's socket protocol: a client sends one JSON request line and reads
// one JSON response line. An attach then carries frames both ways: a kind
// byte, a big-endian uint32 length and the payload.
const (
	opInfo     = "info"
	opStart    = "start"
	opAttach   = "attach"
	opResize   = "resize"
	opKill     = "kill"
	opWait     = "wait"
	opShutdown = "shutdown"
	opRelease  = "release"
	opExec     = "exec"
	opPause    = "pause"
	opResume   = "resume"
	opUpdate   = "update"
)

// Frame kinds.
const (
	frameStdin      byte = 0 // client -> shim: input
	frameStdout     byte = 1 // shim -> client
	frameStderr     byte = 2 // shim -> client
	frameEnd        byte = 3 // shim -> client: the attach is over (payload: error message, if any)
	frameStdinClose byte = 4 // client -> shim: the client's stdin ended
	frameExit       byte = 5 // shim -> client: an exec'd process ended (payload: its exit code, decimal)
	frameResize     byte = 6 // client -> shim: an exec's terminal size (payload: width, height, big-endian uint16s)
	frameKill       byte = 7 // client -> shim: SIGKILL the exec'd process (a health probe past its timeout)
)

const maxFrame = 1 << 20

type request struct {
	Op     string `json:"op"`
	Stdin  bool   `json:"stdin,omitempty"`
	Stdout bool   `json:"stdout,omitempty"`
	Stderr bool   `json:"stderr,omitempty"`
	Width  uint16 `json:"width,omitempty"`
	Height uint16 `json:"height,omitempty"`
	Signal int    `json:"signal,omitempty"`
	// Process is the runtime-spec process an exec runs (JSON); Tty gives it
	// a pty, Stdin an open stdin.
	Process json.RawMessage `json:"process,omitempty"`
	Tty     bool            `json:"tty,omitempty"`
	// Resources is the runtime-spec LinuxResources an update applies (JSON).
	Resources json.RawMessage `json:"resources,omitempty"`
}

type response struct {
	Error string `json:"error,omitempty"`
	Kind  string `json:"kind,omitempty"` // errdefs class of Error
	// Exec is set when Error is a command the runtime could not execute
	// (runtime.ExecError): the class travels as a field, never as text.
	Exec      runtime.ExecFailure `json:"exec,omitempty"`
	Pid       int                 `json:"pid,omitempty"`
	Status    string              `json:"status,omitempty"` // created, running, stopped
	Tty       bool                `json:"tty,omitempty"`
	OpenStdin bool                `json:"openStdin,omitempty"`
	StdinOnce bool                `json:"stdinOnce,omitempty"`
	Exit      *ExitStatus         `json:"exit,omitempty"`
}

// errorKinds carries errdefs classes across the socket.
var errorKinds = []struct {
	name string
	err  error
	with func(string) error
}{
	{"notfound", errdefs.ErrNotFound, errdefs.ErrNotFound.WithMessage},
	{"conflict", errdefs.ErrConflict, errdefs.ErrConflict.WithMessage},
	{"invalid", errdefs.ErrInvalidArgument, errdefs.ErrInvalidArgument.WithMessage},
	{"exists", errdefs.ErrAlreadyExists, errdefs.ErrAlreadyExists.WithMessage},
	{"precondition", errdefs.ErrFailedPrecondition, errdefs.ErrFailedPrecondition.WithMessage},
	{"unavailable", errdefs.ErrUnavailable, errdefs.ErrUnavailable.WithMessage},
	{"notimplemented", errdefs.ErrNotImplemented, errdefs.ErrNotImplemented.WithMessage},
}

// errorResponse encodes err with its class.
func errorResponse(err error) response {
	r := response{Error: err.Error()}
	if ee, ok := errors.AsType[*runtime.ExecError](err); ok {
		r.Exec = ee.Failure
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			r.Kind = k.name
			break
		}
	}
	return r
}

// err decodes the response's error, classified again.
func (r *response) err() error {
	if r.Error == "" {
		return nil
	}
	if r.Exec != "" {
		return &runtime.ExecError{Failure: r.Exec, Msg: r.Error}
	}
	for _, k := range errorKinds {
		if k.name == r.Kind {
			return k.with(r.Error)
		}
	}
	return errdefs.ErrUnknown.WithMessage(r.Error)
}

func writeJSON(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

func readJSON(r *bufio.Reader, v any) error {
	line, err := r.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return json.Unmarshal(line, v)
}

// writeFrame writes one frame in a single write.
func writeFrame(w io.Writer, kind byte, p []byte) error {
	buf := make([]byte, 5+len(p))
	buf[0] = kind
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(p)))
	copy(buf[5:], p)
	_, err := w.Write(buf)
	return err
}

// readFrame reads one frame; the payload is freshly allocated.
func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:5])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("shim protocol: frame of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, io.ErrUnexpectedEOF
	}
	return hdr[0], p, nil
}
