package logfile

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// Format is the on-disk encoding of a log's entries.
type Format int

const (
	// JSON is docker's json-file format: one JSON object per line,
	// {"log":"hello\n","stream":"stdout","attrs":{...},"time":"..."}.
	JSON Format = iota
	// Local is berth's compact format for the local driver: one line per
	// entry, "<o|e><unix nanoseconds> <payload>\n", the payload with "\\"
	// and "\n" escaped. About a third of json-file's size for short lines,
	// and it still reads backwards line by line for --tail.
	Local
)

// encode appends one entry. attrs (json-file only) is a JSON object written
// as the entry's "attrs", or nil.
func (f Format) encode(b []byte, stream string, p []byte, t time.Time, attrs []byte) []byte {
	if f == Local {
		return appendLocal(b, stream, p, t)
	}
	return appendEntry(b, stream, p, t, attrs)
}

// decode parses one entry, its newline included; false for a damaged one.
func (f Format) decode(line []byte) (Message, bool) {
	if f == Local {
		return decodeLocal(line)
	}
	return decodeJSON(line)
}

func appendLocal(b []byte, stream string, p []byte, t time.Time) []byte {
	s := byte('o')
	if stream == "stderr" {
		s = 'e'
	}
	b = append(b, s)
	b = strconv.AppendInt(b, t.UnixNano(), 10)
	b = append(b, ' ')
	start := 0
	for i, c := range p {
		if c != '\n' && c != '\\' {
			continue
		}
		b = append(b, p[start:i]...)
		if c == '\n' {
			b = append(b, '\\', 'n')
		} else {
			b = append(b, '\\', '\\')
		}
		start = i + 1
	}
	b = append(b, p[start:]...)
	return append(b, '\n')
}

func decodeLocal(line []byte) (Message, bool) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	sp := bytes.IndexByte(line, ' ')
	if len(line) < 2 || sp < 2 || (line[0] != 'o' && line[0] != 'e') {
		return Message{}, false
	}
	ns, err := strconv.ParseInt(string(line[1:sp]), 10, 64)
	if err != nil {
		return Message{}, false
	}
	m := Message{Stream: "stdout", Time: time.Unix(0, ns).UTC()}
	if line[0] == 'e' {
		m.Stream = "stderr"
	}
	payload := line[sp+1:]
	out := make([]byte, 0, len(payload))
	for i := 0; i < len(payload); i++ {
		c := payload[i]
		if c == '\\' && i+1 < len(payload) {
			i++
			if payload[i] == 'n' {
				c = '\n'
			} else {
				c = payload[i]
			}
		}
		out = append(out, c)
	}
	m.Line = out
	return m, true
}

func decodeJSON(line []byte) (Message, bool) {
	var en entry
	if err := json.Unmarshal(line, &en); err != nil {
		return Message{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, en.Time)
	if err != nil {
		return Message{}, false
	}
	return Message{Stream: en.Stream, Line: []byte(en.Log), Time: t, Attrs: en.Attrs}, true
}
