package cli

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/moby/moby/api/types/container"
)

// errPsJSON is any answer parsePsTable does not take: the caller decodes it
// with encoding/json instead, which takes or reports it as docker's does.
var errPsJSON = errors.New("ps: unexpected JSON")

// parsePsTable reads what ps's default table shows of each container in a
// GET /containers/json answer (id, names, image, command, created, ports,
// sizes, state, status) and steps over the rest byte by byte, without
// encoding/json's validation pass and state machine: with 1,000 containers
// most of the 600 KB answer is network endpoint settings no column shows.
// Strings with escapes, and the ports, go through encoding/json.
func parsePsTable(b []byte) ([]container.Summary, error) {
	p := psParser{b: b}
	var out []container.Summary
	p.space()
	if !p.eat('[') {
		return nil, errPsJSON
	}
	p.space()
	if p.eat(']') {
		return nil, p.end()
	}
	for {
		var s container.Summary
		if err := p.object(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
		p.space()
		if p.eat(']') {
			return out, p.end()
		}
		if !p.eat(',') {
			return nil, errPsJSON
		}
		p.space()
	}
}

type psParser struct {
	b []byte
	i int
}

func (p *psParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\n' || p.b[p.i] == '\t' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *psParser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *psParser) end() error {
	p.space()
	if p.i != len(p.b) {
		return errPsJSON
	}
	return nil
}

// object reads one container's object into s.
func (p *psParser) object(s *container.Summary) error {
	if !p.eat('{') {
		return errPsJSON
	}
	p.space()
	if p.eat('}') {
		return nil
	}
	for {
		key, err := p.str()
		if err != nil {
			return err
		}
		p.space()
		if !p.eat(':') {
			return errPsJSON
		}
		p.space()
		switch key {
		case "Id":
			s.ID, err = p.str()
		case "Image":
			s.Image, err = p.str()
		case "ImageID":
			s.ImageID, err = p.str()
		case "Command":
			s.Command, err = p.str()
		case "State":
			var st string
			st, err = p.str()
			s.State = container.ContainerState(st)
		case "Status":
			s.Status, err = p.str()
		case "Created":
			s.Created, err = p.int()
		case "SizeRw":
			s.SizeRw, err = p.int()
		case "SizeRootFs":
			s.SizeRootFs, err = p.int()
		case "Names":
			s.Names, err = p.strings()
		case "Ports":
			start := p.i
			if err = p.skip(); err == nil && p.i-start > 2 {
				err = json.Unmarshal(p.b[start:p.i], &s.Ports)
			}
		default:
			err = p.skip()
		}
		if err != nil {
			return err
		}
		p.space()
		if p.eat('}') {
			return nil
		}
		if !p.eat(',') {
			return errPsJSON
		}
		p.space()
	}
}

// str reads a string; one with escapes is decoded by encoding/json.
func (p *psParser) str() (string, error) {
	start := p.i
	if !p.eat('"') {
		if p.literal("null") {
			return "", nil
		}
		return "", errPsJSON
	}
	escaped := false
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '\\':
			escaped = true
			p.i += 2
			continue
		case c < 0x20:
			return "", errPsJSON
		case c == '"':
			p.i++
			if !escaped && utf8.Valid(p.b[start+1:p.i-1]) {
				return string(p.b[start+1 : p.i-1]), nil
			}
			var s string
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return "", errPsJSON
			}
			return s, nil
		}
		p.i++
	}
	return "", errPsJSON
}

func (p *psParser) literal(word string) bool {
	if len(p.b)-p.i >= len(word) && string(p.b[p.i:p.i+len(word)]) == word {
		p.i += len(word)
		return true
	}
	return false
}

func (p *psParser) int() (int64, error) {
	start := p.i
	if p.literal("null") {
		return 0, nil
	}
	for p.i < len(p.b) && (p.b[p.i] == '-' || p.b[p.i] >= '0' && p.b[p.i] <= '9') {
		p.i++
	}
	n, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
	if err != nil {
		return 0, errPsJSON
	}
	return n, nil
}

func (p *psParser) strings() ([]string, error) {
	if p.literal("null") {
		return nil, nil
	}
	if !p.eat('[') {
		return nil, errPsJSON
	}
	out := []string{}
	p.space()
	if p.eat(']') {
		return out, nil
	}
	for {
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		p.space()
		if p.eat(']') {
			return out, nil
		}
		if !p.eat(',') {
			return nil, errPsJSON
		}
		p.space()
	}
}

// skip steps over one value: a string, an object or array (counting
// brackets outside strings), or a literal up to the next delimiter. It does
// not validate what it skips; the values ps shows are read strictly.
func (p *psParser) skip() error {
	if p.i >= len(p.b) {
		return errPsJSON
	}
	switch p.b[p.i] {
	case '"':
		_, err := p.str()
		return err
	case '{', '[':
		depth := 0
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case '"':
				if _, err := p.str(); err != nil {
					return err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					p.i++
					return nil
				}
			}
			p.i++
		}
		return errPsJSON
	}
	start := p.i
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ',', '}', ']', ' ', '\n', '\t', '\r':
			if p.i == start {
				return errPsJSON
			}
			return nil
		}
		p.i++
	}
	return errPsJSON
}

// readPsTable is parsePsTable reading r through a small window that it
// refills, instead of the whole answer: a fresh process pays for each page
// of memory it touches, and 600 KB read into a doubling buffer touches
// twice that. An item cut by the window's end is parsed again once more
// has been read.
func readPsTable(r io.Reader) ([]container.Summary, error) {
	var out []container.Summary
	err := eachPsTable(r, func(s *container.Summary) { out = append(out, *s) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachPsTable is readPsTable handing each item to f as it is read, instead
// of keeping them: f must not keep s.
func eachPsTable(r io.Reader, f func(s *container.Summary)) error {
	buf := make([]byte, 0, 32<<10)
	pos, eof := 0, false
	// more keeps buf[pos:] and reads what follows; false at the end of r.
	more := func() (bool, error) {
		if eof {
			return false, nil
		}
		buf = buf[:copy(buf, buf[pos:])]
		pos = 0
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			eof = true
		} else if err != nil {
			return false, err
		}
		return true, nil
	}
	var s container.Summary
	// 0: before '['; 1: after '[', an item or ']'; 2: after an item, ',' or ']';
	// 3: after ',', an item; 4: after ']', only space.
	state := 0
	for {
		p := psParser{b: buf[pos:]}
		p.space()
		if p.i == len(p.b) {
			pos += p.i
			switch ok, err := more(); {
			case err != nil:
				return err
			case !ok && state == 4:
				return nil
			case !ok:
				return errPsJSON
			}
			continue
		}
		switch state {
		case 0:
			if !p.eat('[') {
				return errPsJSON
			}
			state = 1
		case 1, 3:
			if state == 1 && p.eat(']') {
				state = 4
				break
			}
			s = container.Summary{}
			if err := p.object(&s); err != nil {
				// cut by the window's end, or wrong: read on to tell
				switch ok, rerr := more(); {
				case rerr != nil:
					return rerr
				case !ok:
					return err
				}
				continue
			}
			f(&s)
			state = 2
		case 2:
			switch {
			case p.eat(']'):
				state = 4
			case p.eat(','):
				state = 3
			default:
				return errPsJSON
			}
		case 4:
			return errPsJSON
		}
		pos += p.i
	}
}
