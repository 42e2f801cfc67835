package format

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
	"unicode"

	"github.com/docker/go-units"
	"github.com/moby/moby/client/pkg/stringid"
)

// TruncateID shortens an id to docker's 12 characters, dropping a
// "sha256:" style algorithm prefix first.
func TruncateID(id string) string { return stringid.TruncateID(id) }

// Size formats a byte count as docker's list columns do ("4.26MB").
func Size(n int64) string { return units.HumanSizeWithPrecision(float64(n), 3) }

// Since formats how long before now t was, as docker's CREATED columns do
// ("2 minutes ago", "About an hour ago").
func Since(now, t time.Time) string {
	return units.HumanDuration(now.Sub(t)) + " ago"
}

// Ellipsis shortens s to at most max runes, the last being "…".
func Ellipsis(s string, max int) string {
	rs := []rune(s)
	switch {
	case max <= 0:
		return ""
	case len(rs) <= max:
		return s
	case max == 1:
		return string(rs[0])
	}
	return string(rs[:max-1]) + "…"
}

// MarshalMethods encodes a row type for --format json the way docker does:
// a JSON object with one key per exported method that takes no argument and
// returns one value (so the keys are exactly the template's fields). v must
// be a non-nil pointer to a struct.
func MarshalMethods(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("expected a pointer to a struct, got %T", v)
	}
	rt := rv.Type()
	m := make(map[string]any)
	for i := range rt.NumMethod() {
		method := rt.Method(i)
		ft := method.Type // receiver is the first argument
		// Headers names the columns; it is not a column itself.
		if method.Name == "Headers" || !unicode.IsUpper(rune(method.Name[0])) || ft.NumIn() != 1 || ft.NumOut() != 1 {
			continue
		}
		m[method.Name] = rv.Method(i).Call(nil)[0].Interface()
	}
	return json.Marshal(m)
}

// HumanSize formats a byte count with four significant digits ("1.234GB").
func HumanSize(n int64) string { return units.HumanSize(float64(n)) }
