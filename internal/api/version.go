package api

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// apiVersionKey is the context key of the API version a request asked for.
type apiVersionKey struct{}

// withAPIVersion records the request's API version in ctx.
func withAPIVersion(ctx context.Context, v string) context.Context {
	return context.WithValue(ctx, apiVersionKey{}, v)
}

// apiVersion returns the API version of the request that ctx belongs to.
func apiVersion(ctx context.Context) string {
	v, _ := ctx.Value(apiVersionKey{}).(string)
	return v
}

// splitVersion splits a "/v1.45/containers/json" path into its version and
// the unversioned rest. Like dockerd's /v{version:[0-9.]+} route prefix, the
// version is digits and dots; any other path is returned unchanged.
func splitVersion(path string) (version, rest string, ok bool) {
	if !strings.HasPrefix(path, "/v") {
		return "", path, false
	}
	end := strings.IndexByte(path[2:], '/')
	if end < 0 {
		return "", path, false
	}
	v := path[2 : 2+end]
	if v == "" || strings.Trim(v, "0123456789.") != "" {
		return "", path, false
	}
	return v, path[2+end:], true
}

// checkVersion refuses API versions outside [min, max], with dockerd's
// messages.
func checkVersion(v, min, max string) error {
	if compareVersions(v, min) < 0 {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
			"client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, min))
	}
	if compareVersions(v, max) > 0 {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
			"client version %s is too new. Maximum supported API version is %s", v, max))
	}
	return nil
}

// compareVersions compares dotted versions numerically ("1.9" < "1.10"),
// treating missing or non-numeric parts as 0. It returns -1, 0 or 1.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

// versionAtLeast reports whether the request's API version is v or newer.
func versionAtLeast(ctx context.Context, v string) bool {
	return compareVersions(apiVersion(ctx), v) >= 0
}
