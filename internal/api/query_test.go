package api

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/containerd/errdefs"
)

func TestBoolValue(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{"", false},
		{"x=", false},
		{"x=0", false},
		{"x=no", false},
		{"x=false", false},
		{"x=FALSE", false},
		{"x=none", false},
		{"x=1", true},
		{"x=true", true},
		{"x=yes", true},
		{"x=anything", true},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.raw)
		if got := boolValue(q, "x"); got != tt.want {
			t.Errorf("boolValue(%q) = %v", tt.raw, got)
		}
	}
	q, _ := url.ParseQuery("y=0")
	if !boolValueOrDefault(q, "x", true) || boolValueOrDefault(q, "y", true) {
		t.Error("boolValueOrDefault")
	}
}

func TestIntValues(t *testing.T) {
	q, _ := url.ParseQuery("a=12&b=-3&c=x&d=")
	if n, err := intValue(q, "a", 0); n != 12 || err != nil {
		t.Errorf("a: %d %v", n, err)
	}
	if n, err := intValue(q, "d", 7); n != 7 || err != nil {
		t.Errorf("d: %d %v", n, err)
	}
	if _, err := intValue(q, "c", 0); !errdefs.IsInvalidArgument(err) {
		t.Errorf("c: %v", err)
	}
	if p, err := optionalIntValue(q, "b"); err != nil || p == nil || *p != -3 {
		t.Errorf("b: %v %v", p, err)
	}
	if p, err := optionalIntValue(q, "missing"); err != nil || p != nil {
		t.Errorf("missing: %v %v", p, err)
	}
	if _, err := uintValue(q, "b", 0); !errdefs.IsInvalidArgument(err) {
		t.Errorf("negative uint: %v", err)
	}
	r, _ := http.NewRequest("GET", "/x?a=%zz", nil)
	if _, err := parseQuery(r); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad escape: %v", err)
	}
}

func TestParseFilters(t *testing.T) {
	tests := []struct {
		raw  string
		want Filters
		bad  bool
	}{
		{"", Filters{}, false},
		{`{"name":{"a":true,"b":true}}`, Filters{"name": {"a", "b"}}, false},
		{`{"name":["a","b"],"status":["running"]}`, Filters{"name": {"a", "b"}, "status": {"running"}}, false},
		{`{}`, Filters{}, false},
		{`{"name":`, nil, true},
		{`["name"]`, nil, true},
		{`{"name":"a"}`, nil, true},
	}
	for _, tt := range tests {
		got, err := parseFilters(url.Values{"filters": {tt.raw}})
		if tt.bad {
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("%s: err %v, want invalid argument", tt.raw, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v %v, want %v", tt.raw, got, err, tt.want)
		}
	}
}
