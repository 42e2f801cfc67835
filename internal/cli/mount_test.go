package cli

import (
	"reflect"
	"testing"

	"github.com/moby/moby/api/types/mount"
)

func TestParseMount(t *testing.T) {
	tests := []struct {
		in   string
		want mount.Mount
		err  bool
	}{
		{in: "type=bind,source=/s,target=/t,readonly", want: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "/t", ReadOnly: true}},
		{in: "type=bind,src=/s,dst=/t,bind-propagation=rshared", want: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "/t", BindOptions: &mount.BindOptions{Propagation: mount.PropagationRShared}}},
		{in: "source=v,destination=/t,ro=false,volume-nocopy", want: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/t", VolumeOptions: &mount.VolumeOptions{NoCopy: true}}},
		{in: "type=volume,target=/t", want: mount.Mount{Type: mount.TypeVolume, Target: "/t"}},
		{in: "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770", want: mount.Mount{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 64 << 20, Mode: 0o1770}}},
		{in: "type=tmpfs,target=/t,tmpfs-mode=9", err: true},
		{in: "type=tmpfs,target=/t,tmpfs-size=lots", err: true},
		{in: "type=volume,target=/t,tmpfs-size=1m", err: true},
		{in: "type=tmpfs,target=/t,bind-propagation=shared", err: true},
		{in: "type=bind,source=/s,target=/t,volume-nocopy", err: true},
		{in: "type=bind,source=/s", err: true},
		{in: "type=bind,bogus=1,target=/t", err: true},
		{in: "type,target=/t", err: true},
		{in: "target=/t,readonly=maybe", err: true},
	}
	for _, tt := range tests {
		got, err := parseMount(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("parseMount(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseMount(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}
