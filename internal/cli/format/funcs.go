package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"text/template"
	"unicode"
)

// Funcs returns the functions docker offers to every --format template:
// json, split, join, title, lower, upper, pad and truncate (text/template's
// own builtins such as index, len, printf and println come on top).
func Funcs() template.FuncMap {
	return template.FuncMap{
		"json":     jsonString,
		"split":    strings.Split,
		"join":     join,
		"title":    title,
		"lower":    strings.ToLower,
		"upper":    strings.ToUpper,
		"pad":      pad,
		"truncate": truncate,
	}
}

// headerFuncs replaces Funcs when a table template renders its header row:
// the header map holds column names, which must come out unchanged whatever
// function the row template applies to the field. pad keeps its meaning so
// the header stays aligned with the padded cells.
func headerFuncs() template.FuncMap {
	identity := func(v string) string { return v }
	return template.FuncMap{
		"json":     identity,
		"split":    func(v, _ string) string { return v },
		"join":     func(v, _ string) string { return v },
		"title":    identity,
		"lower":    identity,
		"upper":    identity,
		"truncate": func(v string, _ int) string { return v },
	}
}

// Parse parses text as an anonymous template with docker's functions, so
// errors read like docker's ("template: :1:2: executing \"\" at <.Foo>: ...").
func Parse(text string) (*template.Template, error) {
	return template.New("").Funcs(Funcs()).Parse(text)
}

// jsonString encodes v as compact JSON without HTML escaping and without the
// encoder's trailing newline, as docker's {{json}} does.
func jsonString(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

// join joins the elements of a slice or array (formatted with fmt.Sprint), or
// the sorted values of a map, with sep.
func join(elems any, sep string) (string, error) {
	if elems == nil {
		return "", nil
	}
	if ss, ok := elems.([]string); ok {
		return strings.Join(ss, sep), nil
	}
	rv := reflect.ValueOf(elems)
	switch rv.Kind() {
	case reflect.Array, reflect.Slice:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(rv.Index(i).Interface())
		}
		return strings.Join(parts, sep), nil
	case reflect.Map:
		parts := make([]string, 0, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			parts = append(parts, fmt.Sprint(iter.Value().Interface()))
		}
		// Map order is random; sorting keeps the output stable.
		sort.Strings(parts)
		return strings.Join(parts, sep), nil
	default:
		return "", fmt.Errorf("expected slice, got %T", elems)
	}
}

// title upper-cases the first letter of every word, a word starting after
// any character that is not a letter, digit or underscore.
func title(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		wordStart := !(unicode.IsLetter(prev) || unicode.IsDigit(prev) || prev == '_')
		prev = r
		if wordStart {
			return unicode.ToTitle(r)
		}
		return r
	}, s)
}

// pad surrounds a non-empty s with prefix spaces before and suffix after.
func pad(s string, prefix, suffix int) string {
	if s == "" {
		return s
	}
	return strings.Repeat(" ", prefix) + s + strings.Repeat(" ", suffix)
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if n < 0 || len(s) <= n {
		return s
	}
	return s[:n]
}
