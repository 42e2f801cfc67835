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
