package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// writeJSON sends v as an application/json response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// listBuffers are writeJSONList's buffers, kept between lists.
var listBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSONList is writeJSON for a long answer (a list): encoded whole into
// a pooled buffer, then sent with its Content-Length in one write instead
// of 4 KB chunks, some 150 of them for 1,000 containers. The bytes are
// writeJSON's.
func writeJSONList(w http.ResponseWriter, status int, v any) error {
	buf := listBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 8<<20 {
			buf.Reset()
			listBuffers.Put(buf)
		}
	}()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
