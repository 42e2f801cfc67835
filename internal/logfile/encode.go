package logfile

import (
	"time"
	"unicode/utf8"
)

// appendEntry appends one log line. It is written by hand because it runs
// for every line every container prints, in the shim whose memory counts.
// attrs, when set, is docker's "attrs" object, already encoded.
func appendEntry(b []byte, stream string, p []byte, t time.Time, attrs []byte) []byte {
	b = append(b, `{"log":`...)
	b = appendString(b, p)
	b = append(b, `,"stream":`...)
	b = appendString(b, []byte(stream))
	if len(attrs) > 0 {
		b = append(b, `,"attrs":`...)
		b = append(b, attrs...)
	}
	b = append(b, `,"time":"`...)
	b = t.UTC().AppendFormat(b, timeFormat)
	return append(b, "\"}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string escaped like docker's json-file
// writer: \n \r \t \" \\ short, other control characters and the
// HTML-sensitive <, >, & as \u00XX, U+2028 and U+2029 escaped, invalid
// UTF-8 replaced by \ufffd.
func appendString(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
