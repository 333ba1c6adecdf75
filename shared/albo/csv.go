package albo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pecplatform/pec/shared/domain"
)

// col is a column the reader knows: a field of domain.Enrolment.
type col int

const (
	colCodiceFiscale col = iota
	colNome
	colCognome
	colAlbo
	colNumeroIscrizione
	colDataIscrizione
	colEmail
	colPEC
	colCTU
	colTelefono
	colIndirizzo
	colComune
	colCAP
	colProvincia
	colNazione
	nCols
)

// colNames are the columns' names as in the API (and Error.Field).
var colNames = [nCols]string{"codiceFiscale", "nome", "cognome", "albo", "numeroIscrizione",
	"dataIscrizione", "email", "pec", "ctu", "telefono", "residenza.indirizzo", "residenza.comune", "residenza.cap",
	"residenza.provincia", "residenza.nazione"}

// requiredCols are the columns a header must have; pec, ctu, the telephone and the residence
// are optional.
const requiredCols = colEmail + 1

// headerAliases maps a normalised header name (see normaliseHeader) to its column.
var headerAliases = map[string]col{
	"codicefiscale": colCodiceFiscale, "cf": colCodiceFiscale,
	"nome":             colNome,
	"cognome":          colCognome,
	"albo":             colAlbo,
	"numeroiscrizione": colNumeroIscrizione, "niscrizione": colNumeroIscrizione, "matricola": colNumeroIscrizione,
	"dataiscrizione": colDataIscrizione,
	"email":          colEmail, "mail": colEmail,
	"pec":      colPEC,
	"ctu":      colCTU,
	"telefono": colTelefono, "tel": colTelefono, "cellulare": colTelefono,
	"indirizzo": colIndirizzo, "residenzaindirizzo": colIndirizzo, "indirizzoresidenza": colIndirizzo,
	"comune": colComune, "residenzacomune": colComune, "comuneresidenza": colComune, "citta": colComune, "città": colComune,
	"cap": colCAP, "residenzacap": colCAP,
	"provincia": colProvincia, "prov": colProvincia, "residenzaprovincia": colProvincia,
	"nazione": colNazione, "residenzanazione": colNazione,
}

// normaliseHeader lower-cases a header name and drops what people put between words at random:
// spaces, underscores, hyphens and dots ("N. iscrizione", "Codice_Fiscale", "E-mail").
func normaliseHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '_' || r == '-' || r == '.' || unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// csvReader reads the records of a CSV albo.
type csvReader struct {
	src    source
	p      parser
	raw    []byte // the current record as read, line endings included
	sep    byte
	header []string
	cols   [nCols]int // index of each known column in the header, -1 when absent
	names  []string   // column name of each header index, "" for unknown columns
	named  int        // header columns up to the last one with a name: fewer fields are short
	// offset and nextLine are where the last row returned (or the header) ends.
	offset   int64
	nextLine int
}

func newCSVReader(br *bufio.Reader, pos int64, line int) *csvReader {
	return &csvReader{src: source{br: br, pos: pos, line: line}, offset: pos, nextLine: line}
}

func invalidHeader(field, msg string) *domain.Error {
	return domain.Invalid(field, "invalid_header", msg)
}

// readHeader reads the first line that is not blank as the header, taking the separator that
// occurs more often in it outside quotes (';' on a tie: Italian spreadsheets use it).
func (c *csvReader) readHeader() error {
	s := &c.src
	for {
		line := s.line
		var end lineEnd
		var err error
		c.raw, end, err = s.appendLine(c.raw[:0], maxRecord)
		if err != nil {
			return fmt.Errorf("albo: reading the header: %w", err)
		}
		if len(c.raw) == 0 && end == endEOF {
			return invalidHeader("file", "the file is empty: its first line must be the header naming the columns")
		}
		if isBlankLine(c.raw) {
			continue
		}
		c.sep = detectSep(c.raw)
		s.unread(c.raw, line)
		break
	}
	_, rerr, err := c.readRecord()
	if err != nil {
		return fmt.Errorf("albo: reading the header: %w", err)
	}
	if rerr != nil {
		return invalidHeader("file", "the header row cannot be read: "+rerr.Message)
	}
	names := make([]string, len(c.p.ends))
	for i := range names {
		names[i] = strings.ToValidUTF8(string(bytes.TrimSpace(c.p.field(i))), "\uFFFD")
	}
	if err := c.setHeader(names, c.sep); err != nil {
		return err
	}
	c.offset, c.nextLine = s.pos, s.line
	return nil
}

// setHeader maps the header's names to the known columns.
func (c *csvReader) setHeader(names []string, sep byte) error {
	c.sep = sep
	c.header = append([]string(nil), names...)
	c.names = make([]string, len(names))
	for i := range c.cols {
		c.cols[i] = -1
	}
	for i, name := range names {
		k, ok := headerAliases[normaliseHeader(name)]
		if !ok {
			continue
		}
		if j := c.cols[k]; j >= 0 {
			return invalidHeader(colNames[k], fmt.Sprintf("the column %s appears twice: columns %d (%q) and %d (%q)",
				colNames[k], j+1, names[j], i+1, name))
		}
		c.cols[k] = i
		c.names[i] = colNames[k]
		c.named = i + 1
	}
	var missing []string
	for k := range requiredCols {
		if c.cols[k] < 0 {
			missing = append(missing, colNames[k])
		}
	}
	switch {
	case len(missing) == 0:
		return nil
	case len(names) == 1:
		return invalidHeader(missing[0], "the header has a single column: columns must be separated by ';' or ','")
	case len(missing) == 1:
		return invalidHeader(missing[0], "the header lacks the required column "+missing[0])
	}
	return invalidHeader(missing[0], "the header lacks the required columns "+strings.Join(missing, ", "))
}

func (c *csvReader) next() (Row, error) {
	for {
		line, rerr, err := c.readRecord()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Row{}, io.EOF
			}
			return Row{}, fmt.Errorf("albo: reading line %d: %w", c.src.line, err)
		}
		if rerr == nil && isBlank(c.p.buf) {
			continue
		}
		row := c.row(line, rerr)
		c.offset, c.nextLine = c.src.pos, c.src.line
		return row, nil
	}
}

// readRecord reads one record into c.p and returns the line it starts on and, when it cannot be
// parsed, why. A malformed record on one line is that line. A record that spans lines and then
// fails, or does not fit the header, most likely began with a stray quote that nobody closed:
// it is reported as its first line alone, and reading resumes at its second line
// (maxRecordLines keeps that re-reading linear). The error is io.EOF at the end of the input, or
// a read error.
func (c *csvReader) readRecord() (int, *domain.Error, error) {
	s := &c.src
	start := s.line
	c.raw = c.raw[:0]
	c.p.reset(c.sep)
	firstEnd := -1
	for lines := 1; ; lines++ {
		var end lineEnd
		var err error
		c.raw, end, err = s.appendLine(c.raw, maxRecord)
		if err != nil {
			return 0, nil, err
		}
		if firstEnd < 0 {
			if len(c.raw) == 0 && end == endEOF {
				return 0, nil, io.EOF
			}
			firstEnd = len(c.raw)
			if end == endFull {
				c.p.reset(c.sep)
				if err := s.skipLine(); err != nil {
					return 0, nil, err
				}
				return start, domain.Invalid("", "line_too_long", fmt.Sprintf("the line is longer than %d KiB", maxRecord>>10)), nil
			}
		}
		c.p.feed(c.raw, end == endEOF)
		if c.p.done {
			break
		}
		if end != endNewline || lines == maxRecordLines {
			c.p.fail(perrUnclosed)
			break
		}
	}
	multiLine := len(c.raw) > firstEnd
	switch {
	case c.p.err == perrNone && (!multiLine || c.countOK(len(c.p.ends))):
		return start, nil, nil
	case !multiLine:
		return start, malformed(c.p.err), nil
	}
	s.unread(c.raw[firstEnd:], start+1)
	c.p.reset(c.sep)
	return start, malformed(perrUnclosed), nil
}

func malformed(e perr) *domain.Error {
	msg := "a quoted field is not closed on this line"
	switch e {
	case perrBareQuote:
		msg = `a field that is not in quotes contains a quote: put the field in quotes and double the quote ("")`
	case perrAfterQuote:
		msg = "text follows the closing quote of a field"
	}
	return domain.Invalid("", "malformed_line", msg)
}

// countOK reports whether a record of n fields fits the header: exactly, or with extra fields
// that are all empty, or lacking only trailing columns that have no name. Any count fits while
// the header itself is being read.
func (c *csvReader) countOK(n int) bool {
	h := len(c.header)
	switch {
	case n == h || h == 0:
		return true
	case n > h:
		return isBlank(c.p.buf[c.p.ends[h-1]:])
	}
	return n >= c.named
}

// row turns the record in c.p into a Row; rerr is the record's parse error, if any.
func (c *csvReader) row(line int, rerr *domain.Error) Row {
	row := Row{Line: line, Err: rerr}
	n := len(c.p.ends)
	if rerr == nil && !c.countOK(n) {
		row.Err = domain.Invalid("", "wrong_field_count",
			fmt.Sprintf("the line has %d fields and the header %d", n, len(c.header)))
	}
	if n == 0 {
		return row
	}
	rec := string(c.p.buf)
	valid := utf8.ValidString(rec)
	get := func(k col) string {
		i := c.cols[k]
		if i < 0 || i >= n {
			return ""
		}
		a := 0
		if i > 0 {
			a = c.p.ends[i-1]
		}
		v := strings.TrimSpace(rec[a:c.p.ends[i]])
		if !valid {
			v = strings.ToValidUTF8(v, "\uFFFD")
		}
		return v
	}
	if !valid && row.Err == nil {
		row.Err = domain.Invalid(c.invalidUTF8Field(), "invalid_encoding",
			"the line is not valid UTF-8: save the file as CSV UTF-8")
	}
	e := &row.Enrolment
	e.CodiceFiscale = get(colCodiceFiscale)
	e.Nome = get(colNome)
	e.Cognome = get(colCognome)
	e.Albo = get(colAlbo)
	e.NumeroIscrizione = get(colNumeroIscrizione)
	e.DataIscrizione = isoDate(get(colDataIscrizione))
	e.Email = get(colEmail)
	e.PEC = get(colPEC)
	e.Telefono = get(colTelefono)
	if r := (domain.Residence{Address: get(colIndirizzo), City: get(colComune), PostCode: get(colCAP),
		Province: get(colProvincia), Country: get(colNazione)}); r != (domain.Residence{}) {
		e.Residenza = &r
	}
	ctu, ok := parseCTU(get(colCTU))
	e.CTU = ctu
	if !ok && row.Err == nil {
		row.Err = domain.Invalid("ctu", "invalid_ctu", "ctu must be true, false, 1, 0, sì, si, no, x or empty")
	}
	return row
}

// invalidUTF8Field names the column of the first field that is not UTF-8, "" when unknown.
func (c *csvReader) invalidUTF8Field() string {
	for i := range c.p.ends {
		if !utf8.Valid(c.p.field(i)) {
			if i < len(c.names) {
				return c.names[i]
			}
			return ""
		}
	}
	return ""
}

// parseCTU reads the ctu column; ok is false for a value it does not know.
func parseCTU(v string) (ctu, ok bool) {
	switch strings.ToLower(v) {
	case "", "false", "0", "no":
		return false, true
	case "true", "1", "si", "sì", "si\u0300", "x": // si\u0300: "sì" decomposed, as macOS writes it
		return true, true
	}
	return false, false
}

// isoDate rewrites an Italian D/M/YYYY or DD/MM/YYYY date as YYYY-MM-DD. Anything else is
// returned as it is, for the domain to judge; so is a date that only looks like one (31/02/2020).
func isoDate(v string) string {
	d, rest, ok1 := strings.Cut(v, "/")
	m, y, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !digits(d, 1, 2) || !digits(m, 1, 2) || !digits(y, 4, 4) {
		return v
	}
	iso := [10]byte{y[0], y[1], y[2], y[3], '-', '0', m[len(m)-1], '-', '0', d[len(d)-1]}
	if len(m) == 2 {
		iso[5] = m[0]
	}
	if len(d) == 2 {
		iso[8] = d[0]
	}
	return string(iso[:])
}

func digits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// detectSep returns the separator that occurs more often outside quotes in the header line,
// ';' on a tie.
func detectSep(line []byte) byte {
	semi, comma, quoted := 0, 0, false
	for _, b := range line {
		switch {
		case b == '"':
			quoted = !quoted
		case b == ';' && !quoted:
			semi++
		case b == ',' && !quoted:
			comma++
		}
	}
	if comma > semi {
		return ','
	}
	return ';'
}

// isBlank reports whether b holds only white space: the fields of a record that is no member.
func isBlank(b []byte) bool {
	return len(bytes.TrimSpace(b)) == 0
}

// isBlankLine reports whether a line before the header holds no column name: only white space,
// separators and quotes (a spreadsheet's empty first row exports as ";;;;").
func isBlankLine(b []byte) bool {
	return bytes.IndexFunc(b, func(r rune) bool {
		return r != ';' && r != ',' && r != '"' && !unicode.IsSpace(r)
	}) < 0
}
