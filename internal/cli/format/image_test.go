package format

import (
	"bytes"
	"testing"
	"time"

	"github.com/moby/moby/api/types/image"
)

// testNow is the fixed "now" of the golden tests.
var testNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func testImages() []image.Summary {
	return []image.Summary{
		{
			ID:          "sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741",
			Created:     testNow.Add(-2 * time.Minute).Unix(),
			Size:        4261000,
			SharedSize:  -1,
			Containers:  2,
			RepoTags:    []string{"busybox:latest", "docker.io/library/mybox:1.0", "registry.example.com/team/app:v2"},
			RepoDigests: []string{"busybox@sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7"},
		},
		{
			ID:         "sha256:aaaabbbbccccddddeeeeffff00001111222233334444555566667777888899990",
			Created:    testNow.Add(-3 * 24 * time.Hour).Unix(),
			Size:       123456789,
			SharedSize: -1,
			Containers: -1,
		},
		{
			ID:          "sha256:1111222233334444555566667777888899990000aaaabbbbccccddddeeeeffff",
			Created:     testNow.Add(-90 * time.Minute).Unix(),
			Size:        1200,
			SharedSize:  200,
			RepoDigests: []string{"alpine@sha256:c5b1261d6d3e43071626931fc004f70149baeba2c8ec672bd4f27761f8e1ad6b"},
		},
	}
}

func TestImageGolden(t *testing.T) {
	tests := []struct {
		name, format   string
		quiet, digests bool
		noTrunc        bool
	}{
		{name: "images-default"},
		{name: "images-digests", digests: true},
		{name: "images-quiet", quiet: true},
		{name: "images-quiet-notrunc", quiet: true, noTrunc: true},
		{name: "images-no-trunc", noTrunc: true},
		{name: "images-json", format: "json"},
		{name: "images-template", format: "{{.Repository}}:{{.Tag}} {{.ID}} {{.CreatedAt}} {{.Containers}} {{.SharedSize}} {{.UniqueSize}}"},
		{name: "images-table-custom", format: `table {{.Repository}}\t{{.Digest}}\t{{.VirtualSize}}`},
		{name: "images-table-digests", format: `table {{.Repository}}`, digests: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ImageFormat(tt.format, tt.quiet, tt.digests)
			rows := ImageRows(testImages(), ImageOptions{
				Trunc:   !tt.noTrunc,
				Digests: tt.digests || bytes.Contains([]byte(f), []byte("{{.Digest}}")),
				Now:     testNow,
			})
			var b bytes.Buffer
			if err := Write(&b, f, rows, ImageHeader()); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

func TestHistoryGolden(t *testing.T) {
	items := []image.HistoryResponseItem{
		{
			ID:        "sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741",
			Created:   testNow.Add(-10 * time.Second).Unix(),
			CreatedBy: "/bin/sh -c #(nop)  CMD [\"sh\"]\twith a tab and a long tail that goes on",
			Size:      0,
			Comment:   "",
		},
		{
			ID:        "<missing>",
			Created:   testNow.Add(-50 * time.Hour).Unix(),
			CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / ",
			Size:      4261000,
			Comment:   "imported from -",
		},
		{ID: "<missing>", Created: 0, CreatedBy: "", Size: 12},
	}
	tests := []struct {
		name, format          string
		quiet, human, noTrunc bool
	}{
		{name: "history-default", human: true},
		{name: "history-no-human"},
		{name: "history-quiet", quiet: true, human: true},
		{name: "history-no-trunc", human: true, noTrunc: true},
		{name: "history-format", format: "{{.ID}}|{{.CreatedSince}}|{{.Size}}", human: true},
		{name: "history-json", format: "json", human: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := HistoryFormat(tt.format, tt.quiet, tt.human)
			rows := HistoryRows(items, HistoryOptions{Trunc: !tt.noTrunc, Human: tt.human, Now: testNow})
			var b bytes.Buffer
			if err := Write(&b, f, rows, HistoryHeader()); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}
