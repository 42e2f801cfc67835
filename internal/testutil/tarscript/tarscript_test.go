package tarscript

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// naiveExtract is the unpacker every check here must catch: it joins names
// to dir and follows symlinks.
func naiveExtract(t *testing.T, data []byte, dir string) {
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, h.Name)
		switch h.Typeflag {
		case tar.TypeReg:
			body, _ := io.ReadAll(tr)
			_ = os.WriteFile(p, body, 0o644)
		case tar.TypeSymlink:
			_ = os.Symlink(h.Linkname, p)
		}
	}
}

// TestUnchangedCatchesEscapes proves the check on a naive extractor: each
// script escapes its target in a different way, and each is caught.
func TestUnchangedCatchesEscapes(t *testing.T) {
	for _, script := range []string{
		"f|../outside/pwned|x",
		"f|../outside/secret|overwritten",
		"l|x|@OUT@\nf|x/pwned|x",
		"l|x|../outside/d\nf|x/secret|overwritten",
	} {
		t.Run(script, func(t *testing.T) {
			base := t.TempDir()
			out, target := filepath.Join(base, "outside"), filepath.Join(base, "target")
			if err := Canary(out); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(target, 0o755); err != nil {
				t.Fatal(err)
			}
			before, err := Tree(base)
			if err != nil {
				t.Fatal(err)
			}
			naiveExtract(t, Build([]byte(script), Subst{Outside: out}), target)
			diffs, err := Unchanged(before, base, func(rel string) bool { return rel == "target" || filepath.Dir(rel) == "target" })
			if err != nil {
				t.Fatal(err)
			}
			if len(diffs) == 0 {
				t.Fatal("the escape went unnoticed")
			}
		})
	}
}

// TestBuild checks the script's fields: placeholders, devices, and a header
// claiming more than the archive holds.
func TestBuild(t *testing.T) {
	data := Build([]byte("d|dir\nl|dir/l|@OUT@/x\nb|sda|8:1\nf|big|abc||1000\nf|never|x"), Subst{Outside: "/out"})
	tr := tar.NewReader(bytes.NewReader(data))
	var got []string
	for {
		h, err := tr.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				got = append(got, "err")
			}
			break
		}
		switch h.Typeflag {
		case tar.TypeSymlink:
			got = append(got, h.Name+"->"+h.Linkname)
		case tar.TypeBlock:
			got = append(got, fmt.Sprintf("%s block %d:%d", h.Name, h.Devmajor, h.Devminor))
		case tar.TypeReg:
			got = append(got, h.Name)
			if _, err := io.Copy(io.Discard, tr); err != nil {
				got = append(got, "truncated")
			}
		default:
			got = append(got, h.Name)
		}
	}
	want := []string{"dir", "dir/l->/out/x", "sda block 8:1", "big", "truncated", "err"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
