package oci

import (
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/volume"
)

func TestSetRootfsPropagation(t *testing.T) {
	// /shared is on a shared mount, /slave on a slave one, /private on neither
	source := func(path string) (string, bool, bool, error) {
		top := "/" + strings.Split(strings.TrimPrefix(path, "/"), "/")[0]
		return top, top == "/shared", top == "/slave", nil
	}
	for _, tt := range []struct {
		src, propagation string
		want, err        string
	}{
		{src: "/private/x", propagation: "rprivate"},
		{src: "/shared/x", propagation: "rshared", want: "shared"},
		{src: "/slave/x", propagation: "rslave", want: "rslave"},
		{src: "/shared/x", propagation: "slave", want: "rslave"},
		{src: "/slave/x", propagation: "shared", err: "path /slave/x is mounted on /slave but it is not a shared mount"},
		{src: "/private/x", propagation: "rslave", err: "path /private/x is mounted on /private but it is not a shared or slave mount"},
	} {
		s := &specs.Spec{Linux: &specs.Linux{}}
		mounts := []volume.Spec{{Type: mount.TypeBind, Source: tt.src, Target: "/t", Propagation: mount.Propagation(tt.propagation)}}
		err := setRootfsPropagation(s, mounts, source)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s %s: error %v, want %q", tt.src, tt.propagation, err, tt.err)
			}
			continue
		}
		if err != nil || s.Linux.RootfsPropagation != tt.want {
			t.Errorf("%s %s: rootfs propagation %q, %v; want %q", tt.src, tt.propagation, s.Linux.RootfsPropagation, err, tt.want)
		}
	}
}
