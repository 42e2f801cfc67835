package image

import (
	"github.com/moby/moby/api/types/image"
)

type imageSummary = image.Summary
