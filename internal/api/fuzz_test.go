package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// fuzzServer is the real API handler over the fake backend, with an image
// to create containers from.
func fuzzServer() http.Handler {
	fake := newFakeBackend()
	fake.addImage("busybox:latest")
	return New(fake, Options{Version: "1.56", MinVersion: "1.24", Logf: func(string, ...any) {}}).Handler()
}

// fuzzRequest sends one request and fails on a 5xx: a panic in a handler
// is recovered into a 500, so this also catches panics.
func fuzzRequest(t *testing.T, h http.Handler, method, target, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "http://docker/", bytes.NewReader(body))
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil
	}
	req.URL, req.RequestURI = u, target
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
	}
	return rec
}

// FuzzContainerCreate posts container-create bodies through the real
// handler: anything that is not a JSON object with a config is a 400, and
// nothing is a 5xx.
func FuzzContainerCreate(f *testing.F) {
	for _, b := range []string{
		`{"Image":"busybox","Cmd":["echo","hi"]}`,
		`{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"::1","HostPort":"8080"}]},"Binds":["/a:/b:ro"],"Mounts":[{"Type":"tmpfs","Target":"/t"}]}}`,
		`{"Image":"busybox","MacAddress":"02:42:ac:11:00:02","NetworkingConfig":{"EndpointsConfig":{"bridge":{"IPAMConfig":{"IPv4Address":"10.0.0.300"}}}}}`,
		`{"Image":"busybox","ExposedPorts":{"99999/tcp":{}},"Healthcheck":{"Test":["CMD"],"Interval":-1}}`,
		`{"Image":"busybox","HostConfig":{"Memory":-1,"CpuShares":-5,"RestartPolicy":{"Name":"always","MaximumRetryCount":-1}}}`,
		`{"Image":"nope"}`, `{}`, `null`, `[]`, `{"Image":1}`, `{"Image":"busybox"} {}`, ``, `{"Image":"busybox","StopTimeout":99999999999999999999}`,
	} {
		f.Add([]byte(b), "name", "1.43", "application/json")
		f.Add([]byte(b), "", "1.44", "")
	}
	f.Add([]byte(`{"Image":"busybox"}`), "/bad/name", "1.24", "text/plain")
	f.Add([]byte(`{"Image":"busybox"}`), "x\x00", "0.1", "application/json; charset=\x00")
	f.Fuzz(func(t *testing.T, body []byte, name, version, contentType string) {
		h := fuzzServer()
		target := "/v" + url.PathEscape(version) + "/containers/create?name=" + url.QueryEscape(name)
		rec := fuzzRequest(t, h, http.MethodPost, target, contentType, body)
		if rec == nil {
			return
		}
		if rec.Code == http.StatusNotFound || rec.Code/100 == 3 {
			return // not routed to the handler: a version that is no path segment ("0/" is redirected, as by any ServeMux)
		}
		if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("body %q: %d %s, want 400", body, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzNetworkCreate posts network-create bodies through the real handler.
func FuzzNetworkCreate(f *testing.F) {
	for _, b := range []string{
		`{"Name":"n","Driver":"bridge","IPAM":{"Config":[{"Subnet":"10.1.0.0/16","IPRange":"10.1.1.0/24","Gateway":"10.1.0.1","AuxiliaryAddresses":{"a":"10.1.0.2"}}]}}`,
		`{"Name":"n","EnableIPv6":true,"IPAM":{"Config":[{"Subnet":"fd00::/64"},{"Subnet":"300.0.0.0/8"}]}}`,
		`{"Name":"","Options":{"com.docker.network.bridge.name":"a/b"}}`, `{"Name":"bridge"}`, `{"Name":"host","Driver":"host"}`,
		`{"Name":"n","Labels":{"a":"b"},"Internal":true,"Attachable":true}`, `null`, `{`, `{"Name":["x"]}`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := fuzzRequest(t, fuzzServer(), http.MethodPost, "/networks/create", "application/json", body)
		if rec != nil && !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) && rec.Code < 400 {
			t.Fatalf("body %q: %d, want an error", body, rec.Code)
		}
	})
}

// FuzzFilters sends --filter JSON (current and legacy forms) to every list
// endpoint that takes one, and to parseFilters itself: a 400 for what is
// not a filter map, never a 5xx.
func FuzzFilters(f *testing.F) {
	for _, s := range []string{
		`{"label":{"a=b":true}}`, `{"label":["a","b=c"]}`, `{"status":{"running":true},"before":{"x":true}}`,
		`{"dangling":{"true":true},"reference":{"busy*":true}}`, `{"until":{"10m":true}}`, `{"since":{"1e99":true}}`,
		`{"type":{"custom":true},"driver":{"bridge":true}}`, `{"a":{"b":false}}`, `[]`, `{"a":null}`, `{"a":[1]}`, `x`, ``,
	} {
		f.Add(s)
	}
	h := fuzzServer()
	f.Fuzz(func(t *testing.T, filters string) {
		got, err := parseFilters(url.Values{"filters": {filters}})
		if err == nil {
			for k, vs := range got {
				if vs == nil && filters != "" {
					t.Fatalf("%q: key %q without a value list", filters, k)
				}
			}
		}
		q := "?all=1&filters=" + url.QueryEscape(filters)
		for _, e := range [][2]string{
			{http.MethodGet, "/containers/json"}, {http.MethodGet, "/images/json"},
			{http.MethodGet, "/networks"}, {http.MethodGet, "/volumes"},
			{http.MethodPost, "/containers/prune"}, {http.MethodPost, "/images/prune"},
			{http.MethodPost, "/networks/prune"}, {http.MethodPost, "/volumes/prune"},
		} {
			fuzzRequest(t, h, e[0], e[1]+q, "", nil)
		}
	})
}

// FuzzPullReference checks the reference a pull request names (fromImage
// and tag): an invalid-argument error or a normalized, tagged or digested
// name.
func FuzzPullReference(f *testing.F) {
	for _, s := range [][2]string{
		{"busybox", ""}, {"busybox", "1.36"}, {"localhost:5000/a/b", "sha256:" + strings.Repeat("a", 64)},
		{"busybox:1@sha256:" + strings.Repeat("b", 64), ""}, {"UPPER", ""}, {" busybox ", "latest"}, {"a//b", "x"},
		{"busybox", "sha256:short"}, {"", ""}, {strings.Repeat("a", 300), strings.Repeat("t", 200)},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, fromImage, tag string) {
		ref, err := pullReference(fromImage, tag)
		if err != nil {
			return
		}
		if ref.Name() == "" || ref.String() == "" {
			t.Fatalf("%q %q: empty reference %v", fromImage, tag, ref)
		}
	})
}
