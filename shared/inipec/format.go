// Package inipec writes and checks the daily delta file an Order delivers to INI-PEC, the
// national index of PEC addresses (domain.md, "INI-PEC (what is public)").
//
// What is public: a .csv file, ';'-separated, one line per address, empty fields keeping their
// separators, fields in the order
//
//	PEC;Nome;Cognome;NumeroIscrizione;CodiceFiscale;Stato;DataIscrizione;DataCancellazione
//
// with Stato 2 for an insertion, 1 for an update of a position already sent and 3 for a
// deletion (INI-PEC's page for Orders, "Come mandare i dati", after DM 19/3/2013 art. 4 c. 5);
// DataIscrizione is optional, given for new positions; DataCancellazione is given for members
// no longer enrolled. The date format and the encoding are not published, so they, like the
// codes, are configuration (Format), with the defaults of DefaultFormat. The format has no
// quoting: a field that would need it is refused.
//
// The package is pure (no AWS, no I/O of its own); package inipecupload delivers the file.
package inipec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Stato is what a line does to the index.
type Stato int

// The Stato values. The zero value is not a Stato.
const (
	Insert Stato = iota + 1
	Update
	Delete
)

// String returns "insert", "update" or "delete".
func (s Stato) String() string {
	switch s {
	case Insert:
		return "insert"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return "Stato(" + strconv.Itoa(int(s)) + ")"
}

// Encoding names, as Format.Encoding and INIPEC_ENCODING take them (case does not matter, and
// the aliases utf8, latin1, latin-1, iso8859-1, iso_8859-1 and cp1252 are accepted too).
const (
	UTF8        = "UTF-8"
	ISO88591    = "ISO-8859-1"
	Windows1252 = "windows-1252"
)

// Format is the configurable part of the layout.
type Format struct {
	Separator rune
	// The literal Stato codes: INI-PEC publishes 2 / 1 / 3 for insert / update / delete.
	InsertCode, UpdateCode, DeleteCode string
	// DateLayout is a Go time layout for DataIscrizione and DataCancellazione.
	DateLayout string
	// Encoding is UTF8, ISO88591 or Windows1252.
	Encoding string
	// LineEnding ends every line, the last one included: "\r\n" or "\n".
	LineEnding string
	// Header, when true, makes the first line the field names (HeaderRow).
	Header bool
}

// DefaultDateLayout is DD/MM/YYYY. The official date format is not published: this is the
// Italian convention, and it is configuration (INIPEC_DATE_LAYOUT).
const DefaultDateLayout = "02/01/2006"

// DefaultFormat returns the defaults of domain.md: ';', Stato codes 2 / 1 / 3 for insert /
// update / delete, dates DD/MM/YYYY, UTF-8, CRLF line endings, no header row (the public
// description lists the fields in order and mentions no header).
func DefaultFormat() Format {
	return Format{
		Separator:  ';',
		InsertCode: "2",
		UpdateCode: "1",
		DeleteCode: "3",
		DateLayout: DefaultDateLayout,
		Encoding:   UTF8,
		LineEnding: "\r\n",
		Header:     false,
	}
}

// FormatFromEnv starts from DefaultFormat and applies the variables that are set (not empty):
//
//	INIPEC_SEPARATOR    one character; "\t" or TAB for a tab
//	INIPEC_STATO_CODES  the insert, update and delete codes, comma-separated: "2,1,3"
//	INIPEC_DATE_LAYOUT  a Go time layout, e.g. 02/01/2006 or 2006-01-02
//	INIPEC_ENCODING     UTF-8, ISO-8859-1 or windows-1252
//	INIPEC_HEADER       true or false
//	INIPEC_LINE_ENDING  CRLF or LF
//
// The result is checked (Format.Check); every problem is reported, naming its variable.
func FormatFromEnv(getenv func(string) string) (Format, error) {
	f := DefaultFormat()
	var errs []error
	if v := getenv("INIPEC_SEPARATOR"); v != "" {
		switch {
		case v == `\t` || strings.EqualFold(v, "tab"):
			f.Separator = '\t'
		case utf8.RuneCountInString(v) == 1 && utf8.ValidString(v):
			f.Separator, _ = utf8.DecodeRuneInString(v)
		default:
			errs = append(errs, fmt.Errorf("INIPEC_SEPARATOR=%q: want exactly one character", v))
		}
	}
	if v := strings.TrimSpace(getenv("INIPEC_STATO_CODES")); v != "" {
		codes := strings.Split(v, ",")
		if len(codes) != 3 {
			errs = append(errs, fmt.Errorf("INIPEC_STATO_CODES=%q: want three comma-separated codes, insert,update,delete (e.g. 2,1,3)", v))
		} else {
			f.InsertCode = strings.TrimSpace(codes[0])
			f.UpdateCode = strings.TrimSpace(codes[1])
			f.DeleteCode = strings.TrimSpace(codes[2])
		}
	}
	if v := strings.TrimSpace(getenv("INIPEC_DATE_LAYOUT")); v != "" {
		f.DateLayout = v
	}
	if v := strings.TrimSpace(getenv("INIPEC_ENCODING")); v != "" {
		if name, _, err := lookupEncoding(v); err != nil {
			errs = append(errs, fmt.Errorf("INIPEC_ENCODING: %w", err))
		} else {
			f.Encoding = name
		}
	}
	if v := strings.TrimSpace(getenv("INIPEC_HEADER")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("INIPEC_HEADER=%q: want true or false", v))
		} else {
			f.Header = b
		}
	}
	if v := strings.TrimSpace(getenv("INIPEC_LINE_ENDING")); v != "" {
		switch strings.ToUpper(v) {
		case "CRLF", `\R\N`:
			f.LineEnding = "\r\n"
		case "LF", `\N`:
			f.LineEnding = "\n"
		default:
			errs = append(errs, fmt.Errorf("INIPEC_LINE_ENDING=%q: want CRLF or LF", v))
		}
	}
	if len(errs) > 0 {
		return Format{}, errors.Join(errs...)
	}
	if err := f.Check(); err != nil {
		return Format{}, fmt.Errorf("INIPEC_* configuration: %w", err)
	}
	return f, nil
}

// Check reports every way f cannot describe a readable file: an unknown encoding, a separator
// that could occur inside a field (letters, digits, spaces, '@', '.', '"', the characters of
// the dates or of the Stato codes), empty, repeated or unencodable Stato codes, a date layout
// that does not round-trip a calendar day, a line ending other than CRLF or LF.
func (f Format) Check() error {
	var errs []error
	_, cm, err := lookupEncoding(f.Encoding)
	if err != nil {
		errs = append(errs, err)
	}
	encodable := func(s string) bool {
		if cm == nil {
			return utf8.ValidString(s)
		}
		for _, r := range s {
			if _, ok := cm.EncodeRune(r); !ok {
				return false
			}
		}
		return true
	}

	sep := f.Separator
	switch {
	case sep == 0:
		errs = append(errs, errors.New("separator is required"))
	case sep == utf8.RuneError || !utf8.ValidRune(sep):
		errs = append(errs, fmt.Errorf("separator %U is not a character", sep))
	case sep != '\t' && (unicode.IsSpace(sep) || unicode.IsControl(sep)),
		unicode.IsLetter(sep), unicode.IsDigit(sep), unicode.IsMark(sep),
		strings.ContainsRune("\"@.'-", sep):
		errs = append(errs, fmt.Errorf("separator %q could occur inside a field", sep))
	case !encodable(string(sep)):
		errs = append(errs, fmt.Errorf("separator %q cannot be represented in %s", sep, f.Encoding))
	}

	codes := []struct{ name, code string }{{"insert", f.InsertCode}, {"update", f.UpdateCode}, {"delete", f.DeleteCode}}
	for i, c := range codes {
		switch {
		case c.code == "":
			errs = append(errs, fmt.Errorf("the %s code is required", c.name))
			continue
		case sep != 0 && strings.ContainsRune(c.code, sep):
			errs = append(errs, fmt.Errorf("the %s code contains the separator", c.name))
		case strings.TrimSpace(c.code) != c.code || hasForbidden(c.code):
			errs = append(errs, fmt.Errorf("the %s code %q has spaces, quotes or control characters", c.name, c.code))
		case !encodable(c.code):
			errs = append(errs, fmt.Errorf("the %s code %q cannot be represented in %s", c.name, c.code, f.Encoding))
		}
		for _, d := range codes[:i] {
			if d.code == c.code {
				errs = append(errs, fmt.Errorf("the %s and %s codes are both %q", d.name, c.name, c.code))
			}
		}
	}

	if f.DateLayout == "" {
		errs = append(errs, errors.New("date layout is required"))
	} else {
		for _, day := range []time.Time{time.Date(2023, 11, 28, 0, 0, 0, 0, time.UTC), time.Date(1987, 2, 3, 0, 0, 0, 0, time.UTC)} {
			s := day.Format(f.DateLayout)
			back, err := time.Parse(f.DateLayout, s)
			if err != nil || !back.Equal(day) {
				errs = append(errs, fmt.Errorf("date layout %q does not round-trip a calendar day (%s formats as %q)", f.DateLayout, day.Format(time.DateOnly), s))
				break
			}
			if sep != 0 && strings.ContainsRune(s, sep) || hasForbidden(s) || !encodable(s) {
				errs = append(errs, fmt.Errorf("date layout %q produces the separator, quotes, control or unencodable characters", f.DateLayout))
				break
			}
		}
	}

	if f.LineEnding != "\r\n" && f.LineEnding != "\n" {
		errs = append(errs, fmt.Errorf("line ending %q: want \"\\r\\n\" or \"\\n\"", f.LineEnding))
	}
	if len(errs) > 0 {
		return fmt.Errorf("inipec: invalid format: %w", errors.Join(errs...))
	}
	return nil
}

// Code returns the literal code of s, "" when s is not a Stato.
func (f Format) Code(s Stato) string {
	switch s {
	case Insert:
		return f.InsertCode
	case Update:
		return f.UpdateCode
	case Delete:
		return f.DeleteCode
	}
	return ""
}

// Stato returns the Stato whose code is code.
func (f Format) Stato(code string) (Stato, bool) {
	switch code {
	case "":
		return 0, false
	case f.InsertCode:
		return Insert, true
	case f.UpdateCode:
		return Update, true
	case f.DeleteCode:
		return Delete, true
	}
	return 0, false
}

// Encode returns s in f's encoding. A character the encoding cannot represent is an error
// naming it and its position (1-based, in characters); so is invalid UTF-8 in s.
func (f Format) Encode(s string) ([]byte, error) {
	name, cm, err := lookupEncoding(f.Encoding)
	if err != nil {
		return nil, err
	}
	return encode(nil, s, name, cm)
}

// Decode returns b, in f's encoding, as a UTF-8 string. Invalid UTF-8 (for UTF8) and the bytes
// windows-1252 leaves undefined are errors.
func (f Format) Decode(b []byte) (string, error) {
	name, cm, err := lookupEncoding(f.Encoding)
	if err != nil {
		return "", err
	}
	return decode(b, name, cm)
}

func lookupEncoding(name string) (string, *charmap.Charmap, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "utf-8", "utf8":
		return UTF8, nil, nil
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1":
		return ISO88591, charmap.ISO8859_1, nil
	case "windows-1252", "cp1252":
		return Windows1252, charmap.Windows1252, nil
	case "":
		return "", nil, errors.New("encoding is required")
	}
	return "", nil, fmt.Errorf("unknown encoding %q: want UTF-8, ISO-8859-1 or windows-1252", name)
}

// UnencodableError is a character that the file's encoding cannot represent.
type UnencodableError struct {
	Rune     rune
	Pos      int // 1-based, in characters
	Encoding string
}

func (e *UnencodableError) Error() string {
	return fmt.Sprintf("character %U %q (position %d) cannot be represented in %s", e.Rune, e.Rune, e.Pos, e.Encoding)
}

func encode(dst []byte, s, name string, cm *charmap.Charmap) ([]byte, error) {
	if cm == nil {
		if !utf8.ValidString(s) {
			return dst, errors.New("not valid UTF-8 text")
		}
		return append(dst, s...), nil
	}
	pos := 0
	for i, r := range s {
		pos++
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return dst, errors.New("not valid UTF-8 text")
			}
		}
		b, ok := cm.EncodeRune(r)
		if !ok {
			return dst, &UnencodableError{Rune: r, Pos: pos, Encoding: name}
		}
		dst = append(dst, b)
	}
	return dst, nil
}

func decode(b []byte, name string, cm *charmap.Charmap) (string, error) {
	if cm == nil {
		if !utf8.Valid(b) {
			return "", errors.New("not valid UTF-8")
		}
		return string(b), nil
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		r := cm.DecodeByte(c)
		if r == utf8.RuneError {
			return "", fmt.Errorf("byte 0x%02X is not defined in %s", c, name)
		}
		sb.WriteRune(r)
	}
	return sb.String(), nil
}

// hasForbidden reports a double quote or a control character (CR and LF included).
func hasForbidden(s string) bool {
	for _, r := range s {
		if r == '"' || unicode.IsControl(r) {
			return true
		}
	}
	return false
}
