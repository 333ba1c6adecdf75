package albo

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/pecplatform/pec/shared/domain"
)

// errElementTooLarge stops the decoder from buffering an element beyond maxRecord.
var errElementTooLarge = errors.New("albo: JSON element too large")

// jsonReader reads the elements of a JSON array one at a time.
type jsonReader struct {
	dec     *json.Decoder
	base    int64 // bytes skipped before the decoder's input (a BOM)
	started bool  // the '[' has been read
	index   int   // elements read
	offset  int64
}

func newJSONReader(br *bufio.Reader, skipped int64) *jsonReader {
	lr := &limitedReader{r: br}
	j := &jsonReader{dec: json.NewDecoder(lr), base: skipped, offset: skipped}
	lr.dec = j.dec
	return j
}

// limitedReader fails a read when the decoder already holds more than maxRecord bytes it has not
// got past: the element being decoded is too large to be a member.
type limitedReader struct {
	r   io.Reader
	dec *json.Decoder
	n   int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n-l.dec.InputOffset() > maxRecord {
		return 0, errElementTooLarge
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

func invalidJSON(msg string) *domain.Error {
	return &domain.Error{Kind: domain.KindInvalid, Code: "invalid_json", Message: msg}
}

var errNotArray = invalidJSON("the file must be a JSON array of members")

func (j *jsonReader) next() (Row, error) {
	if !j.started {
		tok, err := j.dec.Token()
		if err != nil && !errors.Is(err, io.EOF) {
			return Row{}, j.fatal(err)
		}
		if d, ok := tok.(json.Delim); err != nil || !ok || d != '[' {
			return Row{}, errNotArray
		}
		j.started = true
	}
	if !j.dec.More() {
		return Row{}, j.end()
	}
	var raw json.RawMessage
	if err := j.dec.Decode(&raw); err != nil {
		return Row{}, j.fatal(err)
	}
	j.index++
	j.offset = j.base + j.dec.InputOffset()
	row := Row{Line: j.index}
	if raw[0] != '{' {
		row.Err = domain.Invalid("", "invalid_json", "the element is not an object")
		return row, nil
	}
	if err := json.Unmarshal(raw, &row.Enrolment); err != nil {
		row.Err = domain.Invalid("", "invalid_json", "the element cannot be read as a member")
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			row.Err.Field = te.Field
			row.Err.Message = te.Field + " must be " + jsonType(te.Type)
		}
	}
	return row, nil
}

// end reads the closing ']' and checks that nothing but white space follows it.
func (j *jsonReader) end() error {
	tok, err := j.dec.Token()
	if errors.Is(err, io.EOF) {
		return invalidJSON(fmt.Sprintf("the file ends before the array is closed (after element %d)", j.index))
	}
	if err != nil {
		return j.fatal(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != ']' {
		return invalidJSON(fmt.Sprintf("the array is not valid JSON after element %d", j.index))
	}
	if _, err := j.dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil && !isSyntax(err) {
			return j.fatal(err)
		}
		return invalidJSON("the file goes on after the end of the array")
	}
	return io.EOF
}

// fatal turns a decoder error into the error that ends the file.
func (j *jsonReader) fatal(err error) error {
	switch {
	case errors.Is(err, errElementTooLarge):
		return &domain.Error{Kind: domain.KindInvalid, Code: "line_too_long",
			Message: fmt.Sprintf("element %d, or the white space before it, is longer than %d KiB", j.index+1, maxRecord>>10)}
	case errors.Is(err, io.EOF) && j.started: // the decoder's own io.EOF: nothing after a ','
		return invalidJSON(fmt.Sprintf("the file ends before the array is closed (after element %d)", j.index))
	case errors.Is(err, io.ErrUnexpectedEOF) && j.started:
		return invalidJSON(fmt.Sprintf("the file ends inside element %d", j.index+1))
	case isSyntax(err):
		if !j.started {
			return errNotArray
		}
		return invalidJSON(fmt.Sprintf("the array is not valid JSON after element %d", j.index))
	}
	return fmt.Errorf("albo: reading element %d: %w", j.index+1, err)
}

func isSyntax(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF)
}

// jsonType names the JSON type a Go field type takes.
func jsonType(t reflect.Type) string {
	if t != nil && t.Kind() == reflect.Bool {
		return "true or false"
	}
	return "a string"
}
