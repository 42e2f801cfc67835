package backend

import (
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"
)

// DiskUsageOptions are the object types GET /system/df asks about (none
// set: all of them).
type DiskUsageOptions struct {
	Containers, Images, Volumes, BuildCache bool
}

// DiskUsage is what the engine reports for GET /system/df, in full detail
// (the API before 1.52 sends it as it is; the edge derives the newer
// summaries from it). A type that was not asked for is nil.
type DiskUsage struct {
	// LayersSize is the file content of every image layer, counted once.
	LayersSize int64
	Images     []image.Summary
	Containers []container.Summary
	Volumes    []volume.Volume
	BuildCache []build.CacheRecord
}
