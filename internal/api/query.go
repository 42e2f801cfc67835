package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// parseQuery parses the request's query string. Only the URL is read, never
// the body: POST bodies here are tarballs and JSON, not forms.
func parseQuery(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid query string: %v", err))
	}
	return q, nil
}

// boolValue reads a boolean parameter like dockerd: absent, "", "0", "no",
// "false" and "none" are false, anything else is true.
func boolValue(q url.Values, key string) bool {
	switch strings.ToLower(strings.TrimSpace(q.Get(key))) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}

// boolValueOrDefault is boolValue, with def when the parameter is absent or
// empty.
func boolValueOrDefault(q url.Values, key string, def bool) bool {
	if q.Get(key) == "" {
		return def
	}
	return boolValue(q, key)
}

// intValue reads an integer parameter, def when absent or empty.
func intValue(q url.Values, key string, def int) (int, error) {
	s := q.Get(key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid value for %q: %q is not an integer", key, s))
	}
	return n, nil
}

// optionalIntValue reads an integer parameter, nil when absent or empty.
func optionalIntValue(q url.Values, key string) (*int, error) {
	if q.Get(key) == "" {
		return nil, nil
	}
	n, err := intValue(q, key, 0)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// uintValue reads a non-negative integer parameter, def when absent or empty.
func uintValue(q url.Values, key string, def uint) (uint, error) {
	s := q.Get(key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(s, 10, 0)
	if err != nil {
		return 0, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid value for %q: %q is not a non-negative integer", key, s))
	}
	return uint(n), nil
}
