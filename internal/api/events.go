package api

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types"
	"github.com/moby/moby/api/types/events"
)

func (s *Server) eventRoutes() {
	s.handle("GET /events", s.events)
}

// events answers GET /events as dockerd: the recorded events within
// since/until, then (unless until is past) the live ones as they happen,
// until the client goes or until comes. One JSON object per line, flushed.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	since, err := parseLogTime(q.Get("since"))
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid value for 'since': %v", err))
	}
	until, err := parseLogTime(q.Get("until"))
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid value for 'until': %v", err))
	}
	filters, err := parseFilters(q)
	if err != nil {
		return err
	}
	ctx, cancel := s.longPoll(r.Context())
	defer cancel()
	onlyPast := false
	if !until.IsZero() {
		if until.Before(since) {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("`since` time (%s) cannot be after `until` time (%s)", q.Get("since"), q.Get("until")))
		}
		onlyPast = until.Before(time.Now())
		if !onlyPast {
			timer := time.AfterFunc(time.Until(until), cancel)
			defer timer.Stop()
		}
	}

	version := apiVersion(r.Context())
	contentType := eventsContentType(r.Header.Values("Accept"), version)
	past, sub := s.backend.SubscribeEvents(ctx, since, until, filters)
	defer sub.Close()
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush()
	enc := &eventEncoder{w: &streamWriter{w: w, flush: true}, seq: contentType == types.MediaTypeJSONSequence,
		legacy: !versionAtLeast(r.Context(), "1.52") || composeV1(r), noImageCreate: !versionAtLeast(r.Context(), "1.46")}
	for _, m := range past {
		if err := enc.encode(m); err != nil {
			return nil // the client went away
		}
	}
	if onlyPast {
		return nil
	}
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return nil // the client went, until came, the daemon stops, or the subscriber fell behind
		}
		if err := enc.encode(m); err != nil {
			return nil
		}
	}
}

// eventsContentType is dockerd's choice: what the client accepts among
// JSON Lines, NDJSON and JSON text sequences (the best q first), else
// application/jsonl, or application/json before API 1.52.
func eventsContentType(accept []string, version string) string {
	best, bestQ := "", 0.0
	for _, header := range accept {
		for _, part := range strings.Split(header, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch mt {
			case types.MediaTypeJSONLines, types.MediaTypeNDJSON, types.MediaTypeJSONSequence:
			default:
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
			if q > bestQ {
				best, bestQ = mt, q
			}
		}
	}
	if best != "" {
		return best
	}
	if compareVersions(version, "1.52") < 0 {
		return types.MediaTypeJSON // the stream is not one JSON document, but older APIs said so
	}
	return types.MediaTypeJSONLines
}

// eventEncoder writes events in the response's framing and shape.
type eventEncoder struct {
	w   io.Writer
	seq bool // RFC 7464: each record starts with RS
	// legacy adds the top-level status, id and from fields that dockerd
	// fills before API 1.52 (docker CLIs before 25 rely on them), and
	// for docker-compose 1.x at any version: its `up` reads a container
	// event's id and stops with KeyError without it.
	legacy bool
	// noImageCreate drops image create events, new in API 1.46.
	noImageCreate bool
}

// containerEventV1 and imageEventV1 are the pre-1.52 shapes.
type containerEventV1 struct {
	Status string `json:"status"`
	ID     string `json:"id"`
	From   string `json:"from"`
	events.Message
}

type imageEventV1 struct {
	Status string `json:"status"`
	ID     string `json:"id"`
	events.Message
}

func (e *eventEncoder) encode(m events.Message) error {
	if e.noImageCreate && m.Type == events.ImageEventType && m.Action == events.ActionCreate {
		return nil
	}
	var v any = m
	if e.legacy {
		switch m.Type {
		case events.ContainerEventType:
			v = containerEventV1{Status: string(m.Action), ID: m.Actor.ID, From: m.Actor.Attributes["image"], Message: m}
		case events.ImageEventType:
			v = imageEventV1{Status: string(m.Action), ID: m.Actor.ID, Message: m}
		}
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if e.seq {
		data = append([]byte{0x1e}, data...)
	}
	_, err = e.w.Write(append(data, '\n'))
	return err
}
