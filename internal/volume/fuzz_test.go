package volume

import (
	"os"
	"path"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
)

// FuzzParse feeds -v specs (HostConfig.Binds, as a client sends them) to
// the daemon's parser: an invalid-argument error, or a spec with an
// absolute target other than "/" and a valid volume name.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/data", "vol:/data", "/host:/data:ro", "/host:/data:ro,rshared", "vol:/d:nocopy",
		"/a:/b:rw,ro", "v:/:rw", "a:b", "/host:/data:z,Z", "x:/d:rprivate", ":", "/a:/b:c:d", "\x00:/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := Parse(raw)
		if err != nil {
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("%q: error %v is not invalid-argument", raw, err)
			}
			return
		}
		checkSpec(t, raw, s)
	})
}

// FuzzFromMount feeds --mount entries (HostConfig.Mounts) to the daemon's
// checks, as a client may send any combination of options.
func FuzzFromMount(f *testing.F) {
	f.Add("bind", "/src", "/dst", true, "rshared", false, int64(0), uint32(0))
	f.Add("volume", "vol", "/dst", false, "", true, int64(0), uint32(0))
	f.Add("tmpfs", "", "/t", false, "", false, int64(1<<30), uint32(0o1777))
	f.Add("tmpfs", "src", "/", false, "private", true, int64(-1), uint32(0o7777777))
	f.Add("npipe", "x", "relative", false, "bogus", false, int64(0), uint32(0))
	f.Fuzz(func(t *testing.T, typ, src, dst string, ro bool, propagation string, nocopy bool, size int64, fmode uint32) {
		m := mount.Mount{Type: mount.Type(typ), Source: src, Target: dst, ReadOnly: ro}
		if propagation != "" {
			m.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(propagation)}
		}
		if nocopy {
			m.VolumeOptions = &mount.VolumeOptions{NoCopy: true}
		}
		if size != 0 || fmode != 0 {
			m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: size, Mode: os.FileMode(fmode)}
		}
		s, err := FromMount(m)
		if err != nil {
			if !errdefs.IsInvalidArgument(err) && !errdefs.IsNotImplemented(err) {
				t.Fatalf("%+v: error %v is neither invalid-argument nor not-implemented", m, err)
			}
			return
		}
		checkSpec(t, typ+" "+dst, s)
		_ = s.TmpfsData()
		_ = s.Inherit(ro)
	})
}

// FuzzParseVolumesFrom feeds --volumes-from entries.
func FuzzParseVolumesFrom(f *testing.F) {
	for _, s := range []string{"c", "c:ro", "c:rw,z", "c:ro,rshared", ":", "c:nocopy", "c:ro:ro"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if _, _, err := ParseVolumesFrom(raw); err != nil && !errdefs.IsInvalidArgument(err) {
			t.Fatalf("%q: error %v is not invalid-argument", raw, err)
		}
	})
}

func checkSpec(t *testing.T, raw string, s Spec) {
	t.Helper()
	if !path.IsAbs(s.Target) || path.Clean(s.Target) == "/" {
		t.Fatalf("%q: accepted target %q", raw, s.Target)
	}
	if s.Type == mount.TypeVolume && s.Source != "" && ValidateName(s.Source) != nil {
		t.Fatalf("%q: accepted volume name %q", raw, s.Source)
	}
}
