package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
)

// lister prints rows the way docker's --format does: a table by default
// ("table" plus an optional template), "json" for one JSON object per
// line, or any other Go template for one line per row.
type lister struct {
	format  string            // the user's --format
	table   string            // the default table template
	headers map[string]string // field → column header
}

var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"join":  strings.Join,
	"truncate": func(s string, n int) string {
		if len(s) > n {
			return s[:n]
		}
		return s
	},
}

// print writes rows (each a struct or map whose fields the templates name).
func (l lister) print(w io.Writer, rows []any) error {
	f := l.format
	switch {
	case f == "json":
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	case f == "" || f == "table":
		f = "table " + l.table
	}
	text, table := strings.CutPrefix(f, "table ")
	text = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(text)
	tmpl, err := template.New("format").Funcs(templateFuncs).Option("missingkey=error").Parse(text + "\n")
	if err != nil {
		return fmt.Errorf("--format %q: %w", l.format, err)
	}
	out := w
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		if err := tmpl.Execute(out, l.headers); err != nil {
			return fmt.Errorf("--format %q: header: %w", l.format, err)
		}
	}
	for _, r := range rows {
		if err := tmpl.Execute(out, r); err != nil {
			return fmt.Errorf("--format %q: %w", l.format, err)
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// printJSON writes v as indented JSON, as docker's inspect does.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// printInspect prints inspect results: a JSON array, or each result
// through the Go template format.
func printInspect(w io.Writer, format string, vs []any) error {
	if format == "" || format == "json" {
		return printJSON(w, vs)
	}
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(format + "\n")
	if err != nil {
		return fmt.Errorf("--format %q: %w", format, err)
	}
	for _, v := range vs {
		// Through JSON, so the template sees docker's field names.
		var m any
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		if err := tmpl.Execute(w, m); err != nil {
			return fmt.Errorf("--format %q: %w", format, err)
		}
	}
	return nil
}
