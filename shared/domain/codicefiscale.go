package domain

import (
	"log/slog"
	"strings"
)

// CodiceFiscale is an Italian tax code, upper case, exactly as the tax agency issued it: omocodic
// letters are kept, because the agency may have issued the omocodic form and that is the code the
// person uses. Compare people with SamePerson, not ==.
//
// The code is personal data. String, GoString and LogValue return the Masked form, so that a
// CodiceFiscale passed by mistake to fmt or to a log/slog logger is never printed whole; code that
// really needs the full value (storage, the provider, INI-PEC) asks for it with Value. Conversion
// with string(c) also yields the full value, but it is explicit at the call site.
type CodiceFiscale string

// cfLen is the length of every codice fiscale.
const cfLen = 16

// Positions (0-based) whose digit may be replaced by an omocodia letter: the year (7-8), the day
// (10-11) and the municipality number (13-15), in 1-based terms.
var omocodiaPositions = [...]int{6, 7, 9, 10, 12, 13, 14}

// omocodiaLetters[d] replaces digit d.
const omocodiaLetters = "LMNPQRSTUV"

// monthLetters are the letters the agency uses for January..December.
const monthLetters = "ABCDEHLMPRST"

// oddValues maps the value of a character at an odd (1-based) position, 0-9 for digits and 0-25
// for A-Z, to its weight in the check sum; even positions weigh their value unchanged.
var oddValues = [26]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// ParseCodiceFiscale validates s after trimming spaces and upper-casing it: the shape of the 16
// characters (omocodic letters allowed where digits are expected) and the check character. The
// code is validated, never generated: only the tax agency's code is authoritative, so the day and
// the municipality are not checked against a calendar or a register.
func ParseCodiceFiscale(s string) (CodiceFiscale, error) {
	s = strings.TrimSpace(s)
	if len(s) != cfLen {
		return "", invalidCF("the codice fiscale must be 16 characters long")
	}
	b := []byte(s)
	for i, ch := range b {
		// Upper-case ASCII only: strings.ToUpper would turn some non-ASCII letters (ſ, ı) into
		// ASCII ones and accept them.
		if 'a' <= ch && ch <= 'z' {
			b[i] = ch - 'a' + 'A'
		}
	}
	if msg := checkShape(b); msg != "" {
		return "", invalidCF(msg)
	}
	if checkChar(b) != b[cfLen-1] {
		return "", invalidCF("the check character (the last one) does not match the rest of the codice fiscale")
	}
	return CodiceFiscale(b), nil
}

func invalidCF(msg string) *Error {
	return Invalid("codiceFiscale", "invalid_codice_fiscale", msg)
}

// checkShape returns what is wrong with the shape of an upper-case, 16-byte code, or "".
// Messages name positions (1-based) but never the characters, which are personal data.
func checkShape(b []byte) string {
	for i, ch := range b {
		switch {
		case i < 6:
			if !isLetter(ch) {
				return "the first 6 characters of the codice fiscale must be letters"
			}
		case i == 8:
			if strings.IndexByte(monthLetters, ch) < 0 {
				return "character 9 of the codice fiscale must be a month letter (A B C D E H L M P R S T)"
			}
		case i == 11:
			if !isLetter(ch) {
				return "character 12 of the codice fiscale must be a letter"
			}
		case i == cfLen-1:
			if !isLetter(ch) {
				return "the last character of the codice fiscale (the check character) must be a letter"
			}
		default: // an omocodia position
			if !isDigit(ch) && strings.IndexByte(omocodiaLetters, ch) < 0 {
				return "characters 7-8, 10-11 and 13-15 of the codice fiscale must be digits or the letters L M N P Q R S T U V"
			}
		}
	}
	return ""
}

// checkChar computes the check character of a code whose first 15 bytes are in [0-9A-Z].
func checkChar(b []byte) byte {
	sum := 0
	for i, ch := range b[:cfLen-1] {
		v := int(ch - 'A')
		if isDigit(ch) {
			v = int(ch - '0')
		}
		if i%2 == 0 { // position i+1 is odd
			v = oddValues[v]
		}
		sum += v
	}
	return byte('A' + sum%26)
}

func isLetter(ch byte) bool { return 'A' <= ch && ch <= 'Z' }
func isDigit(ch byte) bool  { return '0' <= ch && ch <= '9' }

// valid reports whether c is a well-formed code as ParseCodiceFiscale returns it. A
// CodiceFiscale built by conversion (say, read back from storage) is not guaranteed to be.
func (c CodiceFiscale) valid() bool {
	parsed, err := ParseCodiceFiscale(string(c))
	return err == nil && parsed == c
}

// Canonical returns the code with every omocodia letter replaced by its digit and the check
// character recomputed: the code the agency would have issued without omocodia. Codes that differ
// only by omocodia have the same Canonical. A malformed c is returned unchanged.
func (c CodiceFiscale) Canonical() CodiceFiscale {
	if !c.valid() {
		return c
	}
	return c.canonical()
}

// canonical is Canonical for a c known to be valid.
func (c CodiceFiscale) canonical() CodiceFiscale {
	b := []byte(c)
	for _, i := range omocodiaPositions {
		if d := strings.IndexByte(omocodiaLetters, b[i]); d >= 0 {
			b[i] = byte('0' + d)
		}
	}
	b[cfLen-1] = checkChar(b)
	return CodiceFiscale(b)
}

// SamePerson reports whether c and o identify the same person, that is whether they are equal
// up to omocodia. A malformed code identifies nobody, so it is never the same person as anything,
// not even itself: two unset codes must not match.
func (c CodiceFiscale) SamePerson(o CodiceFiscale) bool {
	return c.valid() && o.valid() && c.canonical() == o.canonical()
}

// Masked returns the code fit for a page: the year (characters 7-8) and the check character are
// replaced by '*', as in ZRZCRL**R10H501*. A malformed non-empty c is masked entirely: it may be
// anything, even a full code with a typo.
func (c CodiceFiscale) Masked() string {
	if c == "" {
		return ""
	}
	if !c.valid() {
		return strings.Repeat("*", cfLen)
	}
	return string(c[:6]) + "**" + string(c[8:cfLen-1]) + "*"
}

// Value returns the full code. Use it only where the full code is needed, never for logs.
func (c CodiceFiscale) Value() string { return string(c) }

// String returns Masked, so that fmt's %v and %s never print the full code.
func (c CodiceFiscale) String() string { return c.Masked() }

// GoString returns the masked code for fmt's %#v, which would otherwise bypass String.
func (c CodiceFiscale) GoString() string { return `domain.CodiceFiscale("` + c.Masked() + `")` }

// LogValue returns the masked code for log/slog, whose JSON handler would otherwise marshal the
// underlying string in full.
func (c CodiceFiscale) LogValue() slog.Value { return slog.StringValue(c.Masked()) }
