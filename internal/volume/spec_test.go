package volume

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

func TestParse(t *testing.T) {
	tests := []struct {
		raw  string
		want Spec
		err  string
	}{
		{raw: "/srv:/data", want: Spec{Type: mount.TypeBind, Source: "/srv", Target: "/data", Propagation: mount.PropagationRPrivate}},
		{raw: "/srv:/data:ro", want: Spec{Type: mount.TypeBind, Source: "/srv", Target: "/data", Mode: "ro", ReadOnly: true, Propagation: mount.PropagationRPrivate}},
		{raw: "/srv:/data:rw,rshared", want: Spec{Type: mount.TypeBind, Source: "/srv", Target: "/data", Mode: "rw,rshared", Propagation: mount.PropagationRShared}},
		{raw: "/srv:/data:Z,ro", want: Spec{Type: mount.TypeBind, Source: "/srv", Target: "/data", Mode: "Z,ro", ReadOnly: true, Propagation: mount.PropagationRPrivate}},
		{raw: "db:/var/lib/db", want: Spec{Type: mount.TypeVolume, Source: "db", Target: "/var/lib/db"}},
		{raw: "db:/var/lib/db:ro,nocopy", want: Spec{Type: mount.TypeVolume, Source: "db", Target: "/var/lib/db", Mode: "ro,nocopy", ReadOnly: true, NoCopy: true}},
		{raw: "/data", want: Spec{Type: mount.TypeVolume, Target: "/data"}},
		{raw: "rel/dir:/data", err: `create rel/dir: "rel/dir" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`},
		{raw: "./x:/data", err: `create ./x: "./x" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`},
		{raw: "x:/data", err: "create x: volume name is too short, names should be at least two alphanumeric characters"},
		{raw: "", err: "invalid volume specification: ''"},
		{raw: ":/data", err: "invalid volume specification: ':/data'"},
		{raw: "/a:/b:ro:x", err: "invalid volume specification: '/a:/b:ro:x'"},
		{raw: "/data:ro", err: "invalid volume specification: '/data:ro'"},
		{raw: "/srv:/data:rx", err: "invalid mode: rx"},
		{raw: "/srv:/data:ro,rw", err: "invalid mode: ro,rw"},
		{raw: "/srv:data", err: `invalid mount config for type "bind": invalid mount path: 'data' mount path must be absolute`},
		{raw: "db:data", err: `invalid mount config for type "volume": invalid mount path: 'data' mount path must be absolute`},
		{raw: "/srv:/", err: "invalid specification: destination can't be '/'"},
		{raw: "/srv:/data:nocopy", err: `invalid mount config for type "bind": field VolumeOptions must not be specified`},
		{raw: "db:/data:rshared", err: `invalid mount config for type "volume": field BindOptions must not be specified`},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := Parse(tt.raw)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errdefs.IsInvalidArgument(err) {
					t.Fatalf("Parse(%q) error = %v, want invalid argument %q", tt.raw, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestMountPoints(t *testing.T) {
	folder := func(name string) string { return "/v/" + name + "/_data" }
	specs, err := Specs([]string{"/srv:/data", "/etc/x:/x:ro,rslave", "db:/db", "db2:/db2:ro", "anon:/anon"}, []mount.Mount{
		{Type: mount.TypeBind, Source: "/m", Target: "/m", ReadOnly: true},
		{Type: mount.TypeVolume, Source: "mv", Target: "/mv"},
		{Type: mount.TypeVolume, Source: "manon", Target: "/manon"},
		{Type: mount.TypeTmpfs, Target: "/tm", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20}},
	})
	if err != nil {
		t.Fatal(err)
	}
	anonymous := func(name string) bool { return name == "anon" || name == "manon" }
	got := MountPoints(specs, folder, anonymous)
	want := []containertypes.MountPoint{
		{Type: mount.TypeBind, Source: "/srv", Destination: "/data", RW: true, Propagation: mount.PropagationRPrivate},
		{Type: mount.TypeBind, Source: "/etc/x", Destination: "/x", Mode: "ro,rslave", Propagation: mount.PropagationRSlave},
		{Type: mount.TypeVolume, Name: "db", Source: "/v/db/_data", Destination: "/db", Driver: "local", Mode: "z", RW: true},
		{Type: mount.TypeVolume, Name: "db2", Source: "/v/db2/_data", Destination: "/db2", Driver: "local", Mode: "ro"},
		// a VOLUME path's anonymous volume, which create adds as a -v entry
		{Type: mount.TypeVolume, Name: "anon", Source: "/v/anon/_data", Destination: "/anon", Driver: "local", RW: true},
		{Type: mount.TypeBind, Source: "/m", Destination: "/m", Propagation: mount.PropagationRPrivate},
		// --mount volumes, named or not, show the local driver's "z" too
		{Type: mount.TypeVolume, Name: "mv", Source: "/v/mv/_data", Destination: "/mv", Driver: "local", Mode: "z", RW: true},
		{Type: mount.TypeVolume, Name: "manon", Source: "/v/manon/_data", Destination: "/manon", Driver: "local", Mode: "z", RW: true},
		{Type: mount.TypeTmpfs, Destination: "/tm", RW: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MountPoints = %+v, want %+v", got, want)
	}
	if got := MountPoints(nil, folder, anonymous); got == nil || len(got) != 0 {
		t.Errorf("MountPoints(nil) = %#v, want an empty list (inspect shows [])", got)
	}
}

func TestTmpfsData(t *testing.T) {
	for _, tt := range []struct {
		s    Spec
		want string
	}{
		{Spec{}, ""},
		{Spec{TmpfsSize: 1 << 30}, "size=1g"},
		{Spec{TmpfsSize: 3 << 20, TmpfsMode: 0o1777}, "size=3m,mode=1777"},
		{Spec{TmpfsSize: 5 << 10, ReadOnly: true}, "size=5k,ro"},
		{Spec{TmpfsSize: 1000}, "size=1000"},
	} {
		if got := tt.s.TmpfsData(); got != tt.want {
			t.Errorf("TmpfsData(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestPrepareBindSources(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "file")
	if err := os.WriteFile(existing, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "a", "b")
	specs, err := Specs([]string{existing + ":/f", missing + ":/d:ro", "db:/db"}, []mount.Mount{{Type: mount.TypeBind, Source: existing, Target: "/g"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := PrepareBindSources(specs); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(missing); err != nil || !fi.IsDir() {
		t.Errorf("missing source not created as a folder: %v", err)
	}
	if fi, err := os.Stat(existing); err != nil || fi.IsDir() {
		t.Errorf("existing file source changed: %v", err)
	}
	gone := filepath.Join(dir, "gone")
	specs, _ = Specs(nil, []mount.Mount{{Type: mount.TypeBind, Source: gone, Target: "/g"}})
	want := `invalid mount config for type "bind": bind source path does not exist: ` + gone
	if err := PrepareBindSources(specs); err == nil || err.Error() != want || !errdefs.IsInvalidArgument(err) {
		t.Errorf("--mount bind of a missing path: %v", err)
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("--mount bind source created: %v", err)
	}
}

func TestFromMount(t *testing.T) {
	tests := []struct {
		m    mount.Mount
		want Spec
		err  string
	}{
		{m: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "/t", BindOptions: &mount.BindOptions{Propagation: mount.PropagationRShared}}, want: Spec{Type: mount.TypeBind, Source: "/s", Target: "/t", Propagation: mount.PropagationRShared, FromMount: true}},
		{m: mount.Mount{Type: mount.TypeVolume, Target: "/t", ReadOnly: true, VolumeOptions: &mount.VolumeOptions{NoCopy: true}}, want: Spec{Type: mount.TypeVolume, Target: "/t", ReadOnly: true, NoCopy: true, FromMount: true}},
		{m: mount.Mount{Type: mount.TypeBind, Target: "/t"}, err: `invalid mount config for type "bind": field Source must not be empty`},
		{m: mount.Mount{Type: mount.TypeBind, Source: "rel", Target: "/t"}, err: `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`},
		{m: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "t"}, err: `invalid mount config for type "bind": invalid mount path: 't' mount path must be absolute`},
		{m: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "/t", VolumeOptions: &mount.VolumeOptions{}}, err: `invalid mount config for type "bind": field VolumeOptions must not be specified`},
		{m: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/t", BindOptions: &mount.BindOptions{}}, err: `invalid mount config for type "volume": field BindOptions must not be specified`},
		{m: mount.Mount{Type: mount.TypeVolume, Source: "a/b", Target: "/t"}, err: `"a/b" includes invalid characters`},
		{m: mount.Mount{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 3 << 20, Mode: 0o700}}, want: Spec{Type: mount.TypeTmpfs, Target: "/t", TmpfsSize: 3 << 20, TmpfsMode: 0o700, FromMount: true}},
		{m: mount.Mount{Type: mount.TypeTmpfs, Source: "x", Target: "/t"}, err: `invalid mount config for type "tmpfs": field Source must not be specified`},
		{m: mount.Mount{Type: mount.TypeTmpfs, Target: "/t", BindOptions: &mount.BindOptions{}}, err: `invalid mount config for type "tmpfs": field BindOptions must not be specified`},
		{m: mount.Mount{Type: mount.TypeTmpfs, Target: "t"}, err: `invalid mount config for type "tmpfs": invalid mount path: 't' mount path must be absolute`},
		{m: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "/t", BindOptions: &mount.BindOptions{Propagation: "sideways"}}, err: `invalid mount config for type "bind": invalid propagation mode: sideways`},
		{m: mount.Mount{Type: mount.TypeNamedPipe, Target: "/t"}, err: `mounts of type "npipe" are not supported by berth yet`},
	}
	for _, tt := range tests {
		got, err := FromMount(tt.m)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("FromMount(%+v) error = %v, want %q", tt.m, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("FromMount(%+v) = %+v, %v; want %+v", tt.m, got, err, tt.want)
		}
	}
}

func TestParseVolumesFrom(t *testing.T) {
	for _, tt := range []struct {
		raw, ref string
		ro       bool
		err      string
	}{
		{raw: "data", ref: "data"},
		{raw: "data:ro", ref: "data", ro: true},
		{raw: "data:rw", ref: "data"},
		{raw: "data:ro,z", ref: "data", ro: true},
		{raw: "", err: "volume-from specification cannot be an empty string"},
		{raw: "data:rx", err: "invalid mode: rx"},
		{raw: "data:rshared", err: "invalid mode: rshared"},
		{raw: "data:nocopy", err: "invalid mode: nocopy"},
	} {
		ref, ro, err := ParseVolumesFrom(tt.raw)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err || !errdefs.IsInvalidArgument(err) {
				t.Errorf("ParseVolumesFrom(%q) error = %v, want %q", tt.raw, err, tt.err)
			}
			continue
		}
		if err != nil || ref != tt.ref || ro != tt.ro {
			t.Errorf("ParseVolumesFrom(%q) = %q, %v, %v; want %q, %v", tt.raw, ref, ro, err, tt.ref, tt.ro)
		}
	}
}

func TestInherit(t *testing.T) {
	specs, err := Specs([]string{"/srv:/data:ro,rslave", "db:/db"}, []mount.Mount{{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []mount.Mount
	for _, s := range specs {
		got = append(got, s.Inherit(false))
	}
	want := []mount.Mount{
		{Type: mount.TypeBind, Source: "/srv", Target: "/data", ReadOnly: true, BindOptions: &mount.BindOptions{Propagation: mount.PropagationRSlave}},
		{Type: mount.TypeVolume, Source: "db", Target: "/db", VolumeOptions: &mount.VolumeOptions{NoCopy: true}},
		{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Inherit = %+v, want %+v", got, want)
	}
	if m := specs[1].Inherit(true); !m.ReadOnly {
		t.Errorf("Inherit(ro) of a rw volume is writable")
	}
	// what is inherited parses back to the same mount
	for _, m := range got {
		if _, err := FromMount(m); err != nil {
			t.Errorf("FromMount(%+v): %v", m, err)
		}
	}
}
