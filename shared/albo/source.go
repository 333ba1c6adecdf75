package albo

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// source reads physical lines with a bounded buffer, counts bytes and lines, and can give back
// bytes it already returned, so that a record that turns out malformed is re-read from its
// second line.
type source struct {
	br   *bufio.Reader
	back []byte // bytes given back, read before br
	pos  int64  // offset of the next byte in the input
	line int    // number of the physical line the next byte is on
}

// lineEnd says how appendLine stopped.
type lineEnd int

const (
	endNewline lineEnd = iota // at a '\n', which was appended
	endEOF                    // at the end of the input
	endFull                   // at the limit, in the middle of a line
)

// appendLine appends the rest of the current physical line to dst, stopping when dst holds limit
// bytes. It never consumes a byte it does not append.
func (s *source) appendLine(dst []byte, limit int) ([]byte, lineEnd, error) {
	for {
		if len(dst) >= limit {
			return dst, endFull, nil
		}
		chunk, err := s.peek()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return dst, endEOF, nil
			}
			return dst, 0, err
		}
		take, nl := len(chunk), false
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			take, nl = i+1, true
		}
		if room := limit - len(dst); take > room {
			take, nl = room, false
		}
		dst = append(dst, chunk[:take]...)
		s.consume(take)
		if nl {
			s.line++
			return dst, endNewline, nil
		}
	}
}

// skipLine consumes the rest of the current physical line.
func (s *source) skipLine() error {
	for {
		chunk, err := s.peek()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			s.consume(i + 1)
			s.line++
			return nil
		}
		s.consume(len(chunk))
	}
}

// unread gives back b, the last bytes consumed, whose first byte is on physical line line.
func (s *source) unread(b []byte, line int) {
	if len(b) == 0 {
		return
	}
	nb := make([]byte, len(b)+len(s.back))
	copy(nb, b)
	copy(nb[len(b):], s.back)
	s.back = nb
	s.pos -= int64(len(b))
	s.line = line
}

// peek returns the bytes available without blocking again, at least one, or the read error.
func (s *source) peek() ([]byte, error) {
	if len(s.back) > 0 {
		return s.back, nil
	}
	if s.br.Buffered() == 0 {
		if _, err := s.br.Peek(1); err != nil {
			return nil, err
		}
	}
	b, _ := s.br.Peek(s.br.Buffered())
	return b, nil
}

// consume drops n bytes of what peek returned.
func (s *source) consume(n int) {
	s.pos += int64(n)
	if len(s.back) > 0 {
		s.back = s.back[n:]
		if len(s.back) == 0 {
			s.back = nil
		}
		return
	}
	_, _ = s.br.Discard(n)
}
