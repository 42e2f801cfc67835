package image

import (
	"testing"

	"github.com/berth-project/berth/internal/snapshot"
	"github.com/moby/moby/api/types/image"
)

type imageSummary = image.Summary

func unmount(t *testing.T, target string) {
	t.Helper()
	if err := snapshot.Unmount(target); err != nil {
		t.Error(err)
	}
}
