// Package format renders berth's command output as docker does: --format Go
// templates with docker's functions, "table" formats aligned under a header
// row, "json" as one object per line, and the small value formatters (ids,
// sizes, durations) docker's columns are made of.
package format

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Keywords a --format value may be or start with.
const (
	// TableKey prefixes a template whose cells are aligned under a header row.
	TableKey = "table"
	// JSONKey alone prints every row as one JSON object per line.
	JSONKey = "json"
)

// Format is a --format value: "json", "table <template>", or a template.
type Format string

// IsTable reports whether f renders an aligned table with a header row.
func (f Format) IsTable() bool { return strings.HasPrefix(string(f), TableKey) }

// IsJSON reports whether f is the bare "json" keyword.
func (f Format) IsJSON() bool { return string(f) == JSONKey }

// Template returns the Go template f stands for: "json" becomes {{json .}},
// a "table" prefix is dropped, surrounding spaces are trimmed and the escapes
// \t and \n typed on a command line become a tab and a newline.
func (f Format) Template() string {
	s := string(f)
	switch s {
	case TableKey:
		return ""
	case JSONKey:
		return "{{json .}}"
	}
	s = strings.TrimPrefix(s, TableKey)
	s = strings.Trim(s, " ")
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(s)
}

// Header names the table columns: the key is the field or method a template
// names ({{.ID}}), the value the column title ("CONTAINER ID"). Fields
// missing from it are titled after their name ("CreatedAt" -> "CREATED AT").
type Header map[string]string

// Label titles a {{.Label "key"}} column after the label's last dotted part,
// as docker does ("com.example.my-label" -> "my label").
func (Header) Label(name string) string {
	parts := strings.Split(name, ".")
	return strings.NewReplacer("-", " ", "_", " ").Replace(parts[len(parts)-1])
}

// Write renders rows to w according to f. A table is written through a
// tabwriter with docker's settings (minimum width 10, padding 3) after a
// header row made by executing the template on header; other formats print
// one template execution per line. Nothing is written when a row fails.
// Errors read "template parsing error: ..." like docker's.
func Write(w io.Writer, f Format, rows []any, header Header) error {
	tmpl, err := Parse(f.Template())
	if err != nil {
		return fmt.Errorf("template parsing error: %w", err)
	}
	var body bytes.Buffer
	for _, row := range rows {
		if err := tmpl.Execute(&body, row); err != nil {
			return fmt.Errorf("template parsing error: %w", err)
		}
		body.WriteByte('\n')
	}
	if !f.IsTable() {
		_, err := body.WriteTo(w)
		return err
	}

	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	// A header that fails to render (a method the header map lacks) is left
	// out, as docker does, rather than failing output that already worked.
	if h, err := tmpl.Clone(); err == nil {
		_ = h.Funcs(headerFuncs()).Execute(tw, headerFor(f.Template(), header))
	}
	if _, err := tw.Write([]byte{'\n'}); err != nil {
		return err
	}
	if _, err := body.WriteTo(tw); err != nil {
		return err
	}
	return tw.Flush()
}

// headerFor completes header with a title for every {{.Field}} of the
// template that header does not name.
func headerFor(text string, header Header) Header {
	out := Header{}
	for _, field := range fieldNames(text) {
		out[field] = Title(field)
	}
	for k, v := range header {
		out[k] = v
	}
	return out
}

// fieldNames lists the top-level field names (.Foo in {{.Foo.Bar}}) that
// text refers to.
func fieldNames(text string) []string {
	var names []string
	for i := 0; i < len(text); i++ {
		if text[i] != '.' || (i > 0 && isIdent(text[i-1])) {
			continue
		}
		j := i + 1
		for j < len(text) && isIdent(text[j]) {
			j++
		}
		if j > i+1 {
			names = append(names, text[i+1:j])
		}
		i = j - 1
	}
	return names
}

func isIdent(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Title makes a column title from a field name: words split at case changes
// and upper-cased ("CreatedAt" -> "CREATED AT", "ID" -> "ID").
func Title(field string) string {
	var b strings.Builder
	rs := []rune(field)
	for i, r := range rs {
		if i > 0 && isUpper(r) && (!isUpper(rs[i-1]) || i+1 < len(rs) && !isUpper(rs[i+1])) {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToUpper(string(r)))
	}
	return b.String()
}

func isUpper(r rune) bool { return r >= 'A' && r <= 'Z' }
