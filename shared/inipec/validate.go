package inipec

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// MaxLineLength is the longest line Validate reads (line ending included); a longer line is a
// problem of its own and the rest of it is skipped.
const MaxLineLength = 64 << 10

// Validate reads a delivered file strictly, as a receiver would, and returns every problem it
// finds (a line with several problems has several LineErrors) together with the number of
// valid lines of each Stato. err is only a read error of r, or an invalid f.
//
// The rules: every line ends with f.LineEnding (the last line may lack it); no empty lines; no
// byte order mark; the header row exactly when f.Header; exactly eight fields; the bytes are
// valid in f.Encoding; no field holds a double quote or a control character; Stato is one of
// the three codes; PEC is a bare e-mail address and CodiceFiscale has the shape of a personal
// codice fiscale (both always required); Nome, Cognome and NumeroIscrizione are required except
// on a delete line; DataIscrizione is optional; dates are in f.DateLayout exactly (zero-padded as the
// layout says); DataCancellazione appears only on a delete line and not before DataIscrizione.
// An empty file (no header expected) is valid: a day with no changes.
func Validate(r io.Reader, f Format) (inserts, updates, deletes int, errs []LineError, err error) {
	if err := f.Check(); err != nil {
		return 0, 0, 0, nil, err
	}
	name, cm, _ := lookupEncoding(f.Encoding)
	sep, _ := encode(nil, string(f.Separator), name, cm)
	crlf := f.LineEnding == "\r\n"
	var counts [Delete + 1]int
	br := bufio.NewReaderSize(r, 64<<10)
	lineNo := 0
	for {
		raw, terminated, tooLong, rerr := readLine(br)
		if len(raw) == 0 && !terminated && !tooLong {
			if rerr != nil && rerr != io.EOF {
				err = fmt.Errorf("inipec: read: %w", rerr)
			}
			break
		}
		lineNo++
		if tooLong {
			errs = append(errs, LineError{Line: lineNo, Message: fmt.Sprintf("longer than %d bytes", MaxLineLength)})
		} else {
			errs = checkLine(raw, terminated, lineNo, f, name, cm, sep, crlf, &counts, errs)
		}
		if rerr != nil {
			if rerr != io.EOF {
				err = fmt.Errorf("inipec: read: %w", rerr)
			}
			break
		}
	}
	if f.Header && lineNo == 0 && err == nil {
		errs = append(errs, LineError{Line: 1, Message: "missing header row: want " + f.HeaderRow()})
	}
	return counts[Insert], counts[Update], counts[Delete], errs, err
}

func checkLine(raw []byte, terminated bool, n int, f Format, name string, cm *charmap.Charmap, sep []byte, crlf bool, counts *[Delete + 1]int, errs []LineError) []LineError {
	add := func(field, msg string) { errs = append(errs, LineError{Line: n, Field: field, Message: msg}) }

	line := raw
	if terminated {
		line = line[:len(line)-1]
		hasCR := len(line) > 0 && line[len(line)-1] == '\r'
		if hasCR {
			line = line[:len(line)-1]
		}
		switch {
		case crlf && !hasCR:
			add("", "ends with LF alone: want CRLF")
		case !crlf && hasCR:
			add("", "ends with CRLF: want LF alone")
		}
	}
	if n == 1 && bytes.HasPrefix(line, []byte("\xEF\xBB\xBF")) {
		add("", "starts with a byte order mark")
		line = line[3:]
	}
	if len(line) == 0 {
		add("", "empty line")
		return errs
	}

	decodeAll := func(b []byte) (string, error) { return decode(b, name, cm) }
	if n == 1 && f.Header {
		if s, err := decodeAll(line); err != nil || s != f.HeaderRow() {
			add("", "want the header row "+f.HeaderRow())
		}
		return errs
	}

	parts := bytes.Split(line, sep)
	if len(parts) != numFields {
		add("", fmt.Sprintf("%d fields: want %d (%s)", len(parts), numFields, strings.Join(fieldNames[:], string(f.Separator))))
		return errs
	}
	fields := make([]string, numFields)
	decoded := true
	for i, p := range parts {
		s, err := decodeAll(p)
		if err != nil {
			add(fieldNames[i], err.Error())
			decoded = false
		}
		fields[i] = s
	}
	if !decoded {
		return errs
	}
	if n == 1 && strings.Join(fields, string(f.Separator)) == f.HeaderRow() {
		add("", "unexpected header row: the format has none")
		return errs
	}
	if stato, ok := f.checkRecord(fields, add); ok {
		counts[stato]++
	}
	return errs
}

// readLine returns the next line with its '\n' (terminated) or the last bytes before EOF. A
// line longer than MaxLineLength is skipped up to its end and reported as tooLong.
func readLine(br *bufio.Reader) (line []byte, terminated, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > MaxLineLength {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch err {
		case nil:
			return buf, true, tooLong, nil
		case bufio.ErrBufferFull:
			continue
		default:
			return buf, false, tooLong, err
		}
	}
}
