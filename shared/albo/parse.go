package albo

// pstate is where the parser is within a CSV record.
type pstate uint8

const (
	stStart    pstate = iota // at the start of a field, or after blanks that start it
	stUnquoted               // inside a field that does not start with a quote
	stQuoted                 // inside a quoted field
	stQuote                  // after a '"' in a quoted field: its end, or the first of ""
	stAfter                  // after the closing quote and blanks
)

// perr is why a record cannot be parsed.
type perr uint8

const (
	perrNone       perr = iota
	perrBareQuote       // a '"' inside an unquoted field
	perrAfterQuote      // text after the closing quote of a field
	perrUnclosed        // a quoted field still open where the record must end
)

// parser is an RFC 4180 state machine over one record, fed a physical line at a time so that a
// quoted field may span lines without the record being parsed again. Leniencies: blanks before
// an opening quote and after a closing one are ignored; a CRLF inside quotes becomes LF.
type parser struct {
	sep   byte
	state pstate
	buf   []byte // the fields' contents, one after the other
	ends  []int  // where each field ends in buf
	start int    // where the current field starts in buf
	i     int    // how much of the raw record has been parsed
	done  bool   // the record ended, or failed
	err   perr
}

func (p *parser) reset(sep byte) {
	*p = parser{sep: sep, buf: p.buf[:0], ends: p.ends[:0]}
}

// feed parses raw[p.i:], the raw record read so far; atEOF says that nothing follows raw.
func (p *parser) feed(raw []byte, atEOF bool) {
	for p.i < len(raw) && !p.done {
		c := raw[p.i]
		p.i++
		crlf := c == '\r' && p.i < len(raw) && raw[p.i] == '\n'
		if c == '\n' || crlf {
			if crlf {
				p.i++
			}
			if p.state == stQuoted {
				p.buf = append(p.buf, '\n')
				continue
			}
			p.endField()
			p.done = true
			return
		}
		switch p.state {
		case stStart:
			switch c {
			case '"':
				p.buf = p.buf[:p.start]
				p.state = stQuoted
			case p.sep:
				p.endField()
			case ' ', '\t':
				p.buf = append(p.buf, c)
			default:
				p.buf = append(p.buf, c)
				p.state = stUnquoted
			}
		case stUnquoted:
			switch c {
			case p.sep:
				p.endField()
			case '"':
				p.fail(perrBareQuote)
			default:
				p.buf = append(p.buf, c)
			}
		case stQuoted:
			if c == '"' {
				p.state = stQuote
			} else {
				p.buf = append(p.buf, c)
			}
		case stQuote:
			switch c {
			case '"':
				p.buf = append(p.buf, '"')
				p.state = stQuoted
			case p.sep:
				p.endField()
			case ' ', '\t':
				p.state = stAfter
			default:
				p.fail(perrAfterQuote)
			}
		case stAfter:
			switch c {
			case p.sep:
				p.endField()
			case ' ', '\t':
			default:
				p.fail(perrAfterQuote)
			}
		}
	}
	if atEOF && !p.done {
		if p.state == stQuoted {
			p.fail(perrUnclosed)
			return
		}
		p.endField()
		p.done = true
	}
}

func (p *parser) endField() {
	p.ends = append(p.ends, len(p.buf))
	p.start = len(p.buf)
	p.state = stStart
}

func (p *parser) fail(e perr) {
	p.err = e
	p.done = true
}

// field returns the bytes of field i.
func (p *parser) field(i int) []byte {
	a := 0
	if i > 0 {
		a = p.ends[i-1]
	}
	return p.buf[a:p.ends[i]]
}
