// Package albo reads an Order's albo (its list of members) for the import routes, one member at a
// time, whatever the size of the file: memory stays small and constant, and no input makes it
// panic.
//
// Two formats are read. CSV: a header row naming the columns, `;` or `,` separated, UTF-8 with or
// without BOM, RFC 4180 quoting, CRLF or LF; header names are matched loosely and by alias,
// values are trimmed of surrounding white space, blank lines are skipped and an Italian date
// (DD/MM/YYYY) becomes YYYY-MM-DD. JSON: an array of objects with the fields of
// domain.Enrolment, taken as they are. A line that cannot be read as a member is a Row with Err
// set, and reading goes on; only a file that cannot be read at all past some point stops the
// Reader with an error.
//
// A long CSV import can stop and resume: after any row, save Offset, NextLine and Header, then
// re-open the object at that byte (HTTP Range) and call ResumeCSV. A JSON import cannot enter
// the array mid-file: it reads it again from the beginning and passes over the elements already
// processed.
package albo

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/pecplatform/pec/shared/domain"
)

// Row is one member line of the file.
type Row struct {
	// Line is the 1-based line number in the file where the record starts (the header is line
	// 1) for CSV, or the 1-based index of the array element for JSON.
	Line      int
	Enrolment domain.Enrolment
	// Err says why the line cannot be read as a member, with Kind domain.KindInvalid, Field
	// when known, and Code one of: for CSV "malformed_line" (quotes), "line_too_long",
	// "wrong_field_count", "invalid_encoding" (not UTF-8), "invalid_ctu"; for JSON
	// "invalid_json". Enrolment is then best-effort, possibly empty. Whether the member's data
	// is valid is for domain.Enrolment.Member to say, not for the reader.
	Err *domain.Error
}

// Format is the format of an albo file.
type Format int

const (
	FormatCSV Format = iota + 1
	FormatJSON
)

func (f Format) String() string {
	switch f {
	case FormatCSV:
		return "csv"
	case FormatJSON:
		return "json"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

const (
	// bufSize is the read buffer; it is also how far Detect looks for the first byte.
	bufSize = 64 << 10
	// maxRecord bounds one CSV record or one JSON element, in bytes. A member takes well under
	// 1 KiB; anything near this is not a member line, and the bound keeps memory constant.
	maxRecord = 64 << 10
	// maxRecordLines bounds how many physical lines one CSV record (a quoted field with line
	// breaks) may span. It also bounds the re-reading after an unclosed quote (see readRecord).
	maxRecordLines = 10
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Detect tells a JSON file from a CSV one by its first byte that is not white space (after a
// UTF-8 BOM): '[' is JSON, anything else CSV, an empty file too. The returned reader yields every
// byte of r, those Detect looked at included. The error is r's, other than io.EOF.
func Detect(r io.Reader) (Format, io.Reader, error) {
	br := bufio.NewReaderSize(r, bufSize)
	i := 0
	if b, _ := br.Peek(len(utf8BOM)); string(b) == string(utf8BOM) {
		i = len(utf8BOM)
	}
	for ; i < bufSize; i++ {
		b, err := br.Peek(i + 1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return FormatCSV, br, nil
			}
			return 0, br, fmt.Errorf("albo: detecting the format: %w", err)
		}
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '[':
			return FormatJSON, br, nil
		}
		return FormatCSV, br, nil
	}
	return FormatCSV, br, nil
}

// Reader reads an albo file one row at a time.
type Reader struct {
	csv  *csvReader
	json *jsonReader
	err  error // sticky: io.EOF or the error that ended the file
}

// NewReader returns a Reader over an albo file in format f. For CSV it reads the header now and
// returns a *domain.Error with Code "invalid_header" (or "invalid_encoding" for a UTF-16 file)
// when a required column is missing, a column appears twice, or there is no header at all.
func NewReader(r io.Reader, f Format) (*Reader, error) {
	br := bufio.NewReaderSize(r, bufSize)
	var skipped int64
	if b, _ := br.Peek(len(utf8BOM)); string(b) == string(utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
		skipped = int64(len(utf8BOM))
	}
	switch f {
	case FormatCSV:
		if b, _ := br.Peek(2); string(b) == "\xFF\xFE" || string(b) == "\xFE\xFF" {
			return nil, domain.Invalid("file", "invalid_encoding", "the file is UTF-16: save it as CSV UTF-8")
		}
		c := newCSVReader(br, skipped, 1)
		if err := c.readHeader(); err != nil {
			return nil, err
		}
		return &Reader{csv: c}, nil
	case FormatJSON:
		return &Reader{json: newJSONReader(br, skipped)}, nil
	}
	return nil, fmt.Errorf("albo: unknown format %v", f)
}

// ResumeCSV continues reading a CSV albo from a record boundary: r yields the file from an
// Offset a previous Reader reported, header and sep are what that Reader's Header returned, and
// firstLine is its NextLine. Rows carry the line numbers of the whole file, but Offset counts
// from the start of r: add the offset resumed at to save a new checkpoint.
func ResumeCSV(r io.Reader, header []string, sep rune, firstLine int) (*Reader, error) {
	if sep != ';' && sep != ',' {
		return nil, fmt.Errorf("albo: separator %q is neither ';' nor ','", sep)
	}
	if firstLine < 1 {
		return nil, fmt.Errorf("albo: first line %d is not a line number", firstLine)
	}
	c := newCSVReader(bufio.NewReaderSize(r, bufSize), 0, firstLine)
	if err := c.setHeader(header, byte(sep)); err != nil {
		return nil, err
	}
	return &Reader{csv: c}, nil
}

// Next returns the next row, or io.EOF after the last one. Any other error ends the file: an I/O
// error of the underlying reader, or a *domain.Error for a file that cannot be read past this
// point (JSON that is not an array or breaks off). Problems of a single line are in Row.Err.
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	var row Row
	var err error
	if r.csv != nil {
		row, err = r.csv.next()
	} else {
		row, err = r.json.next()
	}
	if err != nil {
		r.err = err
	}
	return row, err
}

// Offset is the number of bytes of the input consumed up to the end of the last row returned,
// its line ending included (after NewReader, the end of the header). For CSV it is where
// ResumeCSV can take over. For JSON it only reports progress.
func (r *Reader) Offset() int64 {
	if r.csv != nil {
		return r.csv.offset
	}
	return r.json.offset
}

// NextLine is the line number of the line that starts at Offset: the firstLine to give ResumeCSV.
// It is 0 for JSON.
func (r *Reader) NextLine() int {
	if r.csv != nil {
		return r.csv.nextLine
	}
	return 0
}

// Header returns the CSV header's column names, as written in the file, and the separator, for
// ResumeCSV. It returns nil and 0 for JSON.
func (r *Reader) Header() ([]string, rune) {
	if r.csv == nil {
		return nil, 0
	}
	return append([]string(nil), r.csv.header...), rune(r.csv.sep)
}
