package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/containerd/errdefs"
)

// requestFilters is parseFilters for a request whose query holds nothing
// else the handler reads.
func requestFilters(r *http.Request) (Filters, error) {
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	return parseFilters(q)
}

// parseFilters decodes the `filters` parameter. Clients send either the
// current form {"key":{"value":true}} (the moby client does) or the legacy
// {"key":["value"]}; both are accepted, as dockerd does.
func parseFilters(q url.Values) (Filters, error) {
	raw := q.Get("filters")
	if raw == "" {
		return Filters{}, nil
	}
	var current map[string]map[string]bool
	if err := json.Unmarshal([]byte(raw), &current); err == nil {
		f := make(Filters, len(current))
		for key, values := range current {
			vs := make([]string, 0, len(values))
			for v := range values {
				vs = append(vs, v)
			}
			slices.Sort(vs)
			f[key] = vs
		}
		return f, nil
	}
	var legacy map[string][]string
	if err := json.Unmarshal([]byte(raw), &legacy); err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter: %q is not a JSON filter map: %v", raw, err))
	}
	f := make(Filters, len(legacy))
	for key, values := range legacy {
		f[key] = slices.Clone(values)
	}
	return f, nil
}
