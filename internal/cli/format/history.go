package format

import (
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/image"
)

// Docker's default `history` tables.
const (
	historyTable      = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
	historyPlainTable = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
)

// HistoryFormat turns the --format value of `history` (empty for the
// default) into the format to render, honouring -q and -H=false.
func HistoryFormat(source string, quiet, human bool) Format {
	if source != "" && source != TableKey {
		return Format(source)
	}
	switch {
	case quiet:
		return quietFormat
	case !human:
		return historyPlainTable
	default:
		return historyTable
	}
}

// HistoryOptions says how history rows are made.
type HistoryOptions struct {
	// Trunc shortens ids and CREATED BY.
	Trunc bool
	// Human prints sizes and dates for people (-H, the default).
	Human bool
	// Now is the time CREATED is measured from, and gives CreatedAt's location.
	Now time.Time
}

// HistoryRow is one layer of `history`. Its methods are the template fields.
type HistoryRow struct {
	h    image.HistoryResponseItem
	opts HistoryOptions
}

// HistoryRows makes the rows of `history`.
func HistoryRows(items []image.HistoryResponseItem, opts HistoryOptions) []any {
	rows := make([]any, len(items))
	for i, h := range items {
		rows[i] = &HistoryRow{h: h, opts: opts}
	}
	return rows
}

// Headers titles the columns of `history`.
func (r *HistoryRow) Headers() map[string]string { return HistoryHeader() }

// HistoryHeader titles the columns of `history`.
func HistoryHeader() Header {
	return Header{
		"ID":           "IMAGE",
		"CreatedSince": "CREATED",
		"CreatedAt":    "CREATED AT",
		"CreatedBy":    "CREATED BY",
		"Size":         "SIZE",
		"Comment":      "COMMENT",
	}
}

// MarshalJSON encodes the row's fields for --format json.
func (r *HistoryRow) MarshalJSON() ([]byte, error) { return MarshalMethods(r) }

// ID is the layer's image id ("<missing>" for layers of pulled images).
func (r *HistoryRow) ID() string {
	if r.opts.Trunc {
		return TruncateID(r.h.ID)
	}
	return r.h.ID
}

// CreatedAt is the creation time in RFC 3339.
func (r *HistoryRow) CreatedAt() string {
	return time.Unix(r.h.Created, 0).In(r.opts.Now.Location()).Format(time.RFC3339)
}

// historyEpoch (2000-01-01 UTC) is when docker stops showing durations:
// older dates are placeholders (reproducible builds set 0), shown as "N/A".
const historyEpoch = 946684800

// CreatedSince is how long ago the layer was made, or CreatedAt with -H=false.
func (r *HistoryRow) CreatedSince() string {
	if !r.opts.Human {
		return r.CreatedAt()
	}
	if r.h.Created <= historyEpoch {
		return "N/A"
	}
	return Since(r.opts.Now, time.Unix(r.h.Created, 0))
}

// CreatedBy is the command that made the layer, cut to 45 characters.
func (r *HistoryRow) CreatedBy() string {
	s := strings.ReplaceAll(r.h.CreatedBy, "\t", " ")
	if r.opts.Trunc {
		return Ellipsis(s, 45)
	}
	return s
}

// Size is the layer size, in bytes with -H=false.
func (r *HistoryRow) Size() string {
	if r.opts.Human {
		return Size(r.h.Size)
	}
	return strconv.FormatInt(r.h.Size, 10)
}

// Comment is the layer's comment.
func (r *HistoryRow) Comment() string { return r.h.Comment }
