package albo

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pecplatform/pec/shared/domain"
)

// step is one row as the fuzz target records it, with where the Reader stood after it.
type step struct {
	row      got
	offset   int64
	nextLine int
}

func FuzzReader(f *testing.F) {
	data, _ := generated(30)
	for _, s := range []string{
		hdr + rossiLine,
		"\xEF\xBB\xBF" + strings.ReplaceAll(strings.ReplaceAll(hdr+rossiLine, ";", ","), "\n", "\r\n"),
		hdr + `"a;""b""";"c` + "\n\n" + rossiLine + `x"y;` + rossiLine + `"z` + "\r\n",
		hdr + strings.Replace(rossiLine, "Mario", "Niccol\xF2", 1) + "\n;;;\n",
		string(data),
		`[{"nome":"Mario","ctu":true},{"ctu":"si"},42,null]`,
		`[{"nome":"Mario"} {"nome":"Luigi"}]`,
		" [ ] x",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fm, r, err := Detect(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Detect: %v", err)
		}
		if b, _ := io.ReadAll(r); !bytes.Equal(b, data) {
			t.Fatalf("Detect's reader lost bytes")
		}
		if fm != FormatCSV && fm != FormatJSON {
			t.Fatalf("Detect: format %v", fm)
		}
		checkJSON(t, data)
		checkCSV(t, data)
		// Random bytes rarely make a valid header: give them one, so that the rows are fuzzed.
		checkCSV(t, append([]byte(hdr), data...))
	})
}

// walk reads r to the end, checking what holds for every row, and returns the rows and the
// error that ended the file (nil for io.EOF).
func walk(t *testing.T, r *Reader, size int, minLine int) ([]step, error) {
	var steps []step
	prevLine, prevOffset := minLine-1, r.Offset()
	for range size + 2 { // a row consumes at least one byte, and then io.EOF
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return steps, nil
		}
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Kind != domain.KindInvalid || de.Code == "" {
				t.Fatalf("an error that is not about the file: %v", err)
			}
			if _, again := r.Next(); again != err {
				t.Fatalf("Next after %v: %v", err, again)
			}
			return steps, err
		}
		if row.Line <= prevLine {
			t.Fatalf("line %d after line %d", row.Line, prevLine)
		}
		if r.Offset() < prevOffset || r.Offset() > int64(size) {
			t.Fatalf("Offset %d after %d (input of %d bytes)", r.Offset(), prevOffset, size)
		}
		if row.Err != nil && (row.Err.Kind != domain.KindInvalid || row.Err.Code == "") {
			t.Fatalf("row error %+v", row.Err)
		}
		e := row.Enrolment
		for _, s := range []string{e.CodiceFiscale, e.Nome, e.Cognome, e.Albo, e.NumeroIscrizione, e.DataIscrizione, e.Email, e.PEC} {
			if !utf8.ValidString(s) {
				t.Fatalf("row %d: invalid UTF-8 %q", row.Line, s)
			}
		}
		prevLine, prevOffset = row.Line, r.Offset()
		steps = append(steps, step{reduce(row), r.Offset(), r.NextLine()})
	}
	t.Fatal("the reader does not stop")
	return nil, nil
}

func checkJSON(t *testing.T, data []byte) {
	r, err := NewReader(bytes.NewReader(data), FormatJSON)
	if err != nil {
		t.Fatalf("NewReader(JSON): %v", err)
	}
	_, err = walk(t, r, len(data), 1)
	if isArray := isJSONArray(data); (err == nil) != isArray && (err == nil || len(data) < maxRecord) {
		t.Fatalf("JSON array %v, but the reader ended with %v", isArray, err)
	}
}

// isJSONArray reports whether data, after a BOM, is an array (of anything).
func isJSONArray(data []byte) bool {
	var v []any
	return bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(data, utf8BOM), " \t\r\n"), []byte("[")) &&
		json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &v) == nil
}

// checkCSV reads data as CSV, then resumes from the middle and checks that the resumed Reader
// sees exactly what the first one saw from there on.
func checkCSV(t *testing.T, data []byte) {
	r, err := NewReader(bytes.NewReader(data), FormatCSV)
	if err != nil {
		var de *domain.Error
		if !errors.As(err, &de) || de.Kind != domain.KindInvalid {
			t.Fatalf("NewReader(CSV): %v", err)
		}
		return
	}
	steps, err := walk(t, r, len(data), 2)
	if err != nil {
		t.Fatalf("CSV ended with %v", err)
	}
	if len(steps) == 0 {
		return
	}
	k := len(steps) / 2
	from := steps[k].offset
	header, sep := r.Header()
	r2, err := ResumeCSV(bytes.NewReader(data[from:]), header, sep, steps[k].nextLine)
	if err != nil {
		t.Fatalf("ResumeCSV(%q, %q): %v", header, sep, err)
	}
	rest, err := walk(t, r2, len(data)-int(from), steps[k].nextLine)
	if err != nil {
		t.Fatalf("resumed CSV ended with %v", err)
	}
	want := steps[k+1:]
	if len(rest) != len(want) {
		t.Fatalf("resumed after row %d at byte %d: %d rows, want %d", k, from, len(rest), len(want))
	}
	for i := range rest {
		rest[i].offset += from
		if rest[i] != want[i] {
			t.Fatalf("resumed row %d: %+v, want %+v", i, rest[i], want[i])
		}
	}
}
