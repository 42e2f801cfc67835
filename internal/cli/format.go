package cli

import (
	"io"

	"github.com/berth-project/berth/internal/cli/format"
)

// headered is implemented by row types that title their own table columns:
// the keys are the template's field names, the values docker's headers.
type headered interface {
	Headers() map[string]string
}

// formatRows renders rows with a --format value: "table <template>" aligns
// the cells under a header row (titles from the rows' Headers method, else
// docker's container column names, else the field name upper-cased), "json"
// prints each row as a JSON object per line (give row types a MarshalJSON
// returning format.MarshalMethods(r) to get docker's keys), anything else
// executes the template once per row. A bare "table" must be replaced by the
// command's default table before calling.
func formatRows(w io.Writer, tmpl string, rows []any) error {
	header := formatRowsDefaultHeader()
	if len(rows) > 0 {
		if h, ok := rows[0].(headered); ok {
			header = h.Headers()
		}
	}
	return format.Write(w, format.Format(tmpl), rows, header)
}

// formatRowsDefaultHeader titles docker's `ps` columns, so that an empty `ps` table
// (no row to ask) still gets docker's header.
func formatRowsDefaultHeader() format.Header {
	return format.Header{
		"ID":           "CONTAINER ID",
		"Image":        "IMAGE",
		"Command":      "COMMAND",
		"CreatedAt":    "CREATED AT",
		"RunningFor":   "CREATED",
		"Ports":        "PORTS",
		"State":        "STATE",
		"Status":       "STATUS",
		"Size":         "SIZE",
		"Names":        "NAMES",
		"Labels":       "LABELS",
		"Mounts":       "MOUNTS",
		"LocalVolumes": "LOCAL VOLUMES",
		"Networks":     "NETWORKS",
		"Platform":     "PLATFORM",
	}
}
