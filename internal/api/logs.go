package api

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
)

// rfc3339NanoFixed is docker's log timestamp layout: RFC3339Nano with
// trailing zeros kept, so the columns line up.
const rfc3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"

// containerLogs answers GET /containers/{id}/logs. Output is stdcopy-framed
// without a TTY and raw with one; every message is flushed at once.
func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	opts := LogsOptions{
		Stdout:     boolValue(q, "stdout"),
		Stderr:     boolValue(q, "stderr"),
		Follow:     boolValue(q, "follow"),
		Timestamps: boolValue(q, "timestamps"),
		Details:    boolValue(q, "details"),
		Tail:       q.Get("tail"),
	}
	if !opts.Stdout && !opts.Stderr {
		return errdefs.ErrInvalidArgument.WithMessage("Bad parameters: you must choose at least one stream")
	}
	if opts.Tail == "" {
		opts.Tail = "all"
	}
	if opts.Since, err = parseLogTime(q.Get("since")); err != nil {
		return err
	}
	if opts.Until, err = parseLogTime(q.Get("until")); err != nil {
		return err
	}

	ctx, cancel := s.longPoll(r.Context())
	defer cancel()
	msgs, tty, err := s.backend.ContainerLogs(ctx, r.PathValue("id"), opts)
	if err != nil {
		return err
	}
	multiplexed := !tty
	contentType := mediaTypeRawStream
	if multiplexed && versionAtLeast(r.Context(), "1.42") {
		contentType = mediaTypeMultiplexedStream
	}
	w.Header().Set("Content-Type", contentType)
	// From here on the response has started: errors travel in the stream.
	w.WriteHeader(http.StatusOK)
	out := &streamWriter{w: w, flush: true}
	_ = http.NewResponseController(w).Flush()

	var stdout, stderr, syserr io.Writer = out, out, out
	if multiplexed {
		stdout, stderr, syserr = newStdWriters(out)
	}
	for {
		var msg LogMessage
		var ok bool
		select {
		case msg, ok = <-msgs:
		case <-ctx.Done():
			return nil
		}
		if !ok {
			return nil
		}
		if msg.Err != nil {
			fmt.Fprintf(syserr, "Error grabbing logs: %v\n", msg.Err)
			continue
		}
		line := msg.Line
		if opts.Details {
			line = append(append(logAttrs(msg.Attrs), ' '), line...)
		}
		if opts.Timestamps {
			line = append([]byte(msg.Time.Format(rfc3339NanoFixed)+" "), line...)
		}
		var werr error
		switch {
		case msg.Stream == "stderr" && opts.Stderr:
			_, werr = stderr.Write(line)
		case msg.Stream != "stderr" && opts.Stdout:
			_, werr = stdout.Write(line)
		}
		if werr != nil {
			return nil // the client went away
		}
	}
}

// logAttrs is docker's --details prefix: key=value pairs sorted by key,
// query-escaped, comma-separated.
func logAttrs(attrs map[string]string) []byte {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []byte
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, url.QueryEscape(k)...)
		b = append(b, '=')
		b = append(b, url.QueryEscape(attrs[k])...)
	}
	return b
}

// parseLogTime reads a since/until value: unix seconds with optional
// fractional nanoseconds ("1700000000.000000001", what clients send) or an
// RFC3339 time. Empty is the zero time.
func parseLogTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	secStr, nsecStr, hasFrac := strings.Cut(v, ".")
	sec, err := strconv.ParseInt(secStr, 10, 64)
	if err != nil {
		return time.Time{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid timestamp %q: must be unix seconds or RFC3339", v))
	}
	var nsec int64
	if hasFrac {
		if nsecStr == "" || len(nsecStr) > 9 || strings.Trim(nsecStr, "0123456789") != "" {
			return time.Time{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid timestamp %q: must be unix seconds or RFC3339", v))
		}
		n, _ := strconv.ParseInt(nsecStr, 10, 64)
		nsec = n * int64(math.Pow10(9-len(nsecStr)))
	}
	return time.Unix(sec, nsec), nil
}
