package inipec

import (
	"bufio"
	"fmt"
	"io"

	"golang.org/x/text/encoding/charmap"
)

// Writer streams a delta file. Every line it accepts passes Validate with the same Format: a
// line that would not (a field holding the separator, a quote or a line break, a character the
// encoding cannot represent, a missing PEC, a malformed codice fiscale, ...) is refused with a
// LineError and nothing of it is written; the Writer stays usable and the next line takes the
// refused line's number. An error of the underlying io.Writer is returned by every later call.
type Writer struct {
	f    Format
	enc  string
	cm   *charmap.Charmap
	sep  []byte
	eol  []byte
	bw   *bufio.Writer
	line int // lines written, header included
	n    [Delete + 1]int
	err  error
	buf  []byte
}

// NewWriter returns a Writer of f-formatted lines to w; with f.Header it writes the header row
// first. Call Flush at the end.
func NewWriter(w io.Writer, f Format) (*Writer, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	name, cm, _ := lookupEncoding(f.Encoding)
	sep, _ := encode(nil, string(f.Separator), name, cm)
	eol, _ := encode(nil, f.LineEnding, name, cm)
	wr := &Writer{f: f, enc: name, cm: cm, sep: sep, eol: eol, bw: bufio.NewWriter(w)}
	if f.Header {
		b, _ := encode(nil, f.HeaderRow(), name, cm)
		wr.writeRaw(append(b, eol...))
	}
	return wr, nil
}

// Write appends l as the next line. A refused line is a LineError (Field names the field).
func (w *Writer) Write(l Line) error {
	if w.err != nil {
		return w.err
	}
	lineNo := w.line + 1
	var fields [numFields]string
	fields[iPEC] = l.PEC
	fields[iNome] = l.Nome
	fields[iCognome] = l.Cognome
	fields[iNumero] = l.NumeroIscrizione
	fields[iCF] = l.CodiceFiscale
	fields[iStato] = w.f.Code(l.Stato)
	if !l.DataIscrizione.IsZero() {
		fields[iDataIscr] = l.DataIscrizione.Format(w.f.DateLayout)
	}
	if !l.DataCancellazione.IsZero() {
		fields[iDataCanc] = l.DataCancellazione.Format(w.f.DateLayout)
	}
	if fields[iStato] == "" {
		return LineError{Line: lineNo, Field: FieldStato, Message: fmt.Sprintf("unknown Stato %d", int(l.Stato))}
	}

	var first *LineError
	w.f.checkRecord(fields[:], func(field, msg string) {
		if first == nil {
			first = &LineError{Line: lineNo, Field: field, Message: msg}
		}
	})
	if first != nil {
		return *first
	}

	b := w.buf[:0]
	for i, v := range fields {
		if i > 0 {
			b = append(b, w.sep...)
		}
		var err error
		if b, err = encode(b, v, w.enc, w.cm); err != nil {
			return LineError{Line: lineNo, Field: fieldNames[i], Message: err.Error()}
		}
	}
	b = append(b, w.eol...)
	w.buf = b
	if err := w.writeRaw(b); err != nil {
		return err
	}
	w.n[l.Stato]++
	return nil
}

func (w *Writer) writeRaw(b []byte) error {
	if _, err := w.bw.Write(b); err != nil {
		w.err = fmt.Errorf("inipec: write: %w", err)
		return w.err
	}
	w.line++
	return nil
}

// Flush writes any buffered data to the underlying io.Writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("inipec: write: %w", err)
		return w.err
	}
	return nil
}

// Count returns the lines written so far by Stato (the header row is not counted).
func (w *Writer) Count() (inserts, updates, deletes int) {
	return w.n[Insert], w.n[Update], w.n[Delete]
}
