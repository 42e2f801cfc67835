package format

import (
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
)

// Docker's default `images` tables.
const (
	imageTable       = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
	imageDigestTable = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
	quietFormat      = "{{.ID}}"
)

// ImageFormat turns the --format value of `images` (empty for the default)
// into the format to render, honouring -q and --digests as docker does.
func ImageFormat(source string, quiet, digests bool) Format {
	switch source {
	case "", TableKey:
		switch {
		case quiet:
			return quietFormat
		case digests:
			return imageDigestTable
		default:
			return imageTable
		}
	}
	f := Format(source)
	if f.IsTable() && digests && !strings.Contains(source, "{{.Digest}}") {
		f += "\t{{.Digest}}"
	}
	return f
}

// ImageHeader titles the columns of `images`.
func ImageHeader() Header {
	return Header{
		"ID":           "IMAGE ID",
		"Repository":   "REPOSITORY",
		"Tag":          "TAG",
		"Digest":       "DIGEST",
		"CreatedSince": "CREATED",
		"CreatedAt":    "CREATED AT",
		"Size":         "SIZE",
		"Containers":   "CONTAINERS",
		"VirtualSize":  "SIZE",
		"SharedSize":   "SHARED SIZE",
		"UniqueSize":   "UNIQUE SIZE",
	}
}

// ImageOptions says how image rows are made.
type ImageOptions struct {
	// Trunc shortens ids to 12 characters.
	Trunc bool
	// Digests shows a row per digest (--digests, or a format naming .Digest).
	Digests bool
	// Now is the time CREATED is measured from; its location is the one
	// CreatedAt is printed in.
	Now time.Time
}

// ImageRow is one line of `images`: an image under one repository and tag.
// Its methods are the fields a --format template may use.
type ImageRow struct {
	img               image.Summary
	repo, tag, digest string
	opts              ImageOptions
}

// ImageRows makes the rows of `images`: one per repository tag (and per
// digest when opts.Digests), "<none>" for untagged images.
func ImageRows(images []image.Summary, opts ImageOptions) []any {
	var rows []any
	for _, img := range images {
		for _, r := range imageRefs(img, opts.Digests) {
			rows = append(rows, &ImageRow{img: img, repo: r[0], tag: r[1], digest: r[2], opts: opts})
		}
	}
	return rows
}

// imageRefs lists the (repository, tag, digest) triples an image is shown
// under, in the order of its RepoTags, then repositories known only by digest.
func imageRefs(img image.Summary, showDigests bool) [][3]string {
	if isDangling(img) {
		return [][3]string{{"<none>", "<none>", "<none>"}}
	}
	var repos []string
	tags := map[string][]string{}
	digests := map[string][]string{}
	for _, s := range img.RepoTags {
		ref, err := reference.ParseNormalizedNamed(s)
		if err != nil {
			continue
		}
		if t, ok := ref.(reference.NamedTagged); ok {
			name := reference.FamiliarName(ref)
			if _, seen := tags[name]; !seen {
				repos = append(repos, name)
			}
			tags[name] = append(tags[name], t.Tag())
		}
	}
	var digestOnly []string
	for _, s := range img.RepoDigests {
		ref, err := reference.ParseNormalizedNamed(s)
		if err != nil {
			continue
		}
		if c, ok := ref.(reference.Canonical); ok {
			name := reference.FamiliarName(ref)
			if _, tagged := tags[name]; !tagged {
				if _, seen := digests[name]; !seen {
					digestOnly = append(digestOnly, name)
				}
			}
			digests[name] = append(digests[name], c.Digest().String())
		}
	}

	var out [][3]string
	for _, repo := range repos {
		ds := digests[repo]
		if !showDigests {
			ds = nil
		}
		for _, tag := range tags[repo] {
			if len(ds) == 0 {
				out = append(out, [3]string{repo, tag, "<none>"})
			}
			for _, d := range ds {
				out = append(out, [3]string{repo, tag, d})
			}
		}
	}
	for _, repo := range digestOnly {
		if !showDigests {
			out = append(out, [3]string{repo, "<none>", ""})
			continue
		}
		for _, d := range digests[repo] {
			out = append(out, [3]string{repo, "<none>", d})
		}
	}
	return out
}

// isDangling reports an image with no name at all.
func isDangling(img image.Summary) bool {
	if len(img.RepoTags) == 0 && len(img.RepoDigests) == 0 {
		return true
	}
	return len(img.RepoTags) == 1 && img.RepoTags[0] == "<none>:<none>" &&
		len(img.RepoDigests) == 1 && img.RepoDigests[0] == "<none>@<none>"
}

// Headers titles the columns of `images`.
func (r *ImageRow) Headers() map[string]string { return ImageHeader() }

// MarshalJSON encodes the row's fields for --format json.
func (r *ImageRow) MarshalJSON() ([]byte, error) { return MarshalMethods(r) }

// ID is the image id, 12 characters unless --no-trunc.
func (r *ImageRow) ID() string {
	if r.opts.Trunc {
		return TruncateID(r.img.ID)
	}
	return r.img.ID
}

// Repository is the familiar repository name, or "<none>".
func (r *ImageRow) Repository() string { return r.repo }

// Tag is the tag, or "<none>".
func (r *ImageRow) Tag() string { return r.tag }

// Digest is the repository digest, or "<none>".
func (r *ImageRow) Digest() string { return r.digest }

// CreatedSince is how long ago the image was created ("2 weeks ago").
func (r *ImageRow) CreatedSince() string {
	return Since(r.opts.Now, time.Unix(r.img.Created, 0))
}

// CreatedAt is the creation time ("2024-01-02 15:04:05 +0000 UTC").
func (r *ImageRow) CreatedAt() string {
	return time.Unix(r.img.Created, 0).In(r.opts.Now.Location()).String()
}

// Size is the image size ("4.26MB").
func (r *ImageRow) Size() string { return Size(r.img.Size) }

// VirtualSize is the size with four significant digits ("4.261MB"), kept
// for old templates as docker does.
func (r *ImageRow) VirtualSize() string { return HumanSize(r.img.Size) }

// Containers is how many containers use the image, or "N/A".
func (r *ImageRow) Containers() string {
	if r.img.Containers == -1 {
		return "N/A"
	}
	return strconv.FormatInt(r.img.Containers, 10)
}

// SharedSize is the size shared with other images, or "N/A".
func (r *ImageRow) SharedSize() string {
	if r.img.SharedSize == -1 {
		return "N/A"
	}
	return HumanSize(r.img.SharedSize)
}

// UniqueSize is the size not shared with other images, or "N/A".
func (r *ImageRow) UniqueSize() string {
	if r.img.Size == -1 || r.img.SharedSize == -1 {
		return "N/A"
	}
	return HumanSize(r.img.Size - r.img.SharedSize)
}
