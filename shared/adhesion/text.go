package adhesion

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxRunes bounds a text laid out on the page: more than this cannot fit in
// the lines any text is given anyway, and it keeps measuring cheap.
const maxRunes = 600

// block is a text laid out for a width: the font, its size and the lines.
type block struct {
	bold  bool
	size  float64
	lines []string
}

func (b block) height() float64 { return float64(len(b.lines)) * lineHeight(b.size) }

func lineHeight(size float64) float64 { return size * 1.25 }

// clean makes s printable with the current font: line breaks and tabs become
// spaces, invisible format characters go, a letter the font lacks falls back
// to its base letter (ǹ -> n), and anything else it lacks becomes "?". The
// form must render whatever Unicode a name or an address brings.
func (w *writer) clean(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxRunes {
			b.WriteRune('…')
			break
		}
		n++
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			r = ' '
		case unicode.In(r, unicode.Cf):
			continue
		}
		if w.hasGlyph(r) {
			b.WriteRune(r)
			continue
		}
		if unicode.In(r, unicode.Mn) {
			continue
		}
		if base := w.base(r); base != "" {
			b.WriteString(base)
			continue
		}
		b.WriteByte('?')
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// base is r decomposed with the marks the font cannot show dropped, or "" when
// nothing printable is left.
func (w *writer) base(r rune) string {
	var b strings.Builder
	for _, d := range norm.NFKD.String(string(r)) {
		if d != r && w.hasGlyph(d) && !unicode.In(d, unicode.Mn) {
			b.WriteRune(d)
		}
	}
	return b.String()
}

func (w *writer) hasGlyph(r rune) bool {
	ok, err := w.pdf.IsCurrFontContainGlyph(r)
	return err == nil && ok
}

// fit lays s out in width: on one line at the largest size from max down to
// min, else wrapped at min on at most maxLines lines, the last one cut with an
// ellipsis. Nothing a member types can push the form off its page.
func (w *writer) fit(s string, width float64, bold bool, max, min float64, maxLines int) block {
	w.font(bold, max)
	s = w.clean(s)
	for size := max; size >= min; size -= 0.5 {
		w.font(bold, size)
		if w.width(s) <= width {
			return block{bold: bold, size: size, lines: []string{s}}
		}
	}
	w.font(bold, min)
	lines := w.wrap(s, width)
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		lines[maxLines-1] = w.ellipsis(lines[maxLines-1], width)
	}
	return block{bold: bold, size: min, lines: lines}
}

// wrap breaks s at spaces, and inside a word only when the word alone is
// wider than the line (a long e-mail address).
func (w *writer) wrap(s string, width float64) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		candidate := word
		if line != "" {
			candidate = line + " " + word
		}
		if w.width(candidate) <= width {
			line = candidate
			continue
		}
		if line != "" {
			lines = append(lines, line)
		}
		for w.width(word) > width {
			n := w.prefix(word, width)
			lines = append(lines, word[:n])
			word = word[n:]
		}
		line = word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// prefix is the byte length of the longest prefix of s that fits in width,
// at least one rune so that wrapping always advances.
func (w *writer) prefix(s string, width float64) int {
	_, n := utf8.DecodeRuneInString(s)
	for i := range s {
		if i <= n {
			continue
		}
		if w.width(s[:i]) > width {
			break
		}
		n = i
	}
	return n
}

func (w *writer) ellipsis(s string, width float64) string {
	for s != "" && w.width(s+"…") > width {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return strings.TrimRight(s, " ") + "…"
}
