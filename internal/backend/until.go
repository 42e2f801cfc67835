package backend

import (
	"fmt"
	"time"

	"github.com/containerd/errdefs"
)

// ParseUntil reads the value of an "until" (or "since") filter as docker
// does: a duration ago ("24h"), an RFC 3339 time or date, or a Unix
// timestamp with optional fraction.
func ParseUntil(v string) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	var sec, nsec int64
	if n, _ := fmt.Sscanf(v, "%d.%d", &sec, &nsec); n >= 1 {
		return time.Unix(sec, nsec), nil
	}
	return time.Time{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("failed to parse value as time or duration: %q", v))
}
