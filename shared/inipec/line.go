package inipec

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Line is one address in the delta.
type Line struct {
	PEC, Nome, Cognome, NumeroIscrizione, CodiceFiscale string
	Stato                                               Stato
	DataIscrizione                                      time.Time // date only: its calendar day in its own location
	DataCancellazione                                   time.Time // zero unless Delete of a member who left the albo
}

// The field names, in file order; LineError.Field is one of them, or "" for the whole line.
const (
	FieldPEC               = "PEC"
	FieldNome              = "Nome"
	FieldCognome           = "Cognome"
	FieldNumeroIscrizione  = "NumeroIscrizione"
	FieldCodiceFiscale     = "CodiceFiscale"
	FieldStato             = "Stato"
	FieldDataIscrizione    = "DataIscrizione"
	FieldDataCancellazione = "DataCancellazione"
)

const (
	iPEC = iota
	iNome
	iCognome
	iNumero
	iCF
	iStato
	iDataIscr
	iDataCanc
	numFields
)

var fieldNames = [numFields]string{FieldPEC, FieldNome, FieldCognome, FieldNumeroIscrizione, FieldCodiceFiscale, FieldStato, FieldDataIscrizione, FieldDataCancellazione}

// Fields returns the field names in file order.
func Fields() []string { return append([]string(nil), fieldNames[:]...) }

// HeaderRow returns the header line of f (without line ending): the field names joined by the
// separator. It is written and expected only when f.Header is true.
func (f Format) HeaderRow() string { return strings.Join(fieldNames[:], string(f.Separator)) }

// LineError is one problem with one line. Line is the 1-based line number in the file (the
// header row, when there is one, is line 1). Message never repeats the field's content, so
// that no codice fiscale (or any other personal data) ends up in logs or responses.
type LineError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

// checkRecord checks the decoded fields of one line (len(fields) == numFields) and returns the
// Stato and whether the line is valid. The problems are reported through add, in field order.
func (f Format) checkRecord(fields []string, add func(field, msg string)) (Stato, bool) {
	type problem struct {
		i   int
		msg string
	}
	var problems []problem
	bad := func(i int, msg string) { problems = append(problems, problem{i, msg}) }
	defer func() {
		slices.SortStableFunc(problems, func(a, b problem) int { return a.i - b.i })
		for _, p := range problems {
			add(fieldNames[p.i], p.msg)
		}
	}()
	clean := [numFields]bool{}
	for i, v := range fields {
		switch {
		case !utf8.ValidString(v):
			bad(i, "not valid UTF-8 text")
		case strings.ContainsRune(v, f.Separator):
			bad(i, fmt.Sprintf("contains the separator %q (the format has no quoting)", f.Separator))
		case strings.ContainsRune(v, '"'):
			bad(i, "contains a double quote (the format has no quoting)")
		case strings.ContainsAny(v, "\r\n"):
			bad(i, "contains a line break")
		case strings.ContainsFunc(v, unicode.IsControl):
			bad(i, "contains a control character")
		default:
			clean[i] = true
		}
	}

	stato, known := f.Stato(fields[iStato])
	if clean[iStato] && !known {
		if fields[iStato] == "" {
			bad(iStato, "is required")
		} else {
			bad(iStato, fmt.Sprintf("unknown code: want %s (insert), %s (update) or %s (delete)", f.InsertCode, f.UpdateCode, f.DeleteCode))
		}
	}
	// Nome, Cognome and NumeroIscrizione may be empty on a delete line only (the address and
	// the codice fiscale identify what to delete); Data Iscrizione is optional everywhere (INI-PEC:
	// "facoltativa, per i nuovi iscritti").
	for _, i := range []int{iPEC, iCF, iNome, iCognome, iNumero} {
		if clean[i] && fields[i] == "" && (i == iPEC || i == iCF || known && stato != Delete) {
			bad(i, "is required")
			clean[i] = false
		}
	}
	if clean[iPEC] && !isAddress(fields[iPEC]) {
		bad(iPEC, "not an e-mail address")
	}
	if clean[iCF] && !cfShape(fields[iCF]) {
		bad(iCF, "not a codice fiscale: want 16 characters, 6 letters, 2 digits, a month letter, 2 digits, a letter, 3 digits, a letter (upper case; omocodia letters allowed for digits)")
	}
	var iscr, canc time.Time
	dateOK := [numFields]bool{}
	for _, i := range []int{iDataIscr, iDataCanc} {
		if !clean[i] || fields[i] == "" {
			continue
		}
		t, err := time.Parse(f.DateLayout, fields[i])
		if err != nil || t.Format(f.DateLayout) != fields[i] {
			bad(i, fmt.Sprintf("not a date in the layout %q", f.DateLayout))
			continue
		}
		dateOK[i] = true
		if i == iDataIscr {
			iscr = t
		} else {
			canc = t
		}
	}
	if clean[iDataCanc] && fields[iDataCanc] != "" && known && stato != Delete {
		bad(iDataCanc, fmt.Sprintf("allowed only on a delete line (code %s)", f.DeleteCode))
	} else if dateOK[iDataIscr] && dateOK[iDataCanc] && canc.Before(iscr) {
		bad(iDataCanc, "before DataIscrizione")
	}
	return stato, len(problems) == 0 && known
}

// isAddress accepts a bare addr-spec (no display name, no angle brackets) whose domain has a dot.
func isAddress(s string) bool {
	if len(s) > 254 || strings.ContainsFunc(s, unicode.IsSpace) {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// cfShape checks the shape of a personal codice fiscale: letters and digits in their places
// (LLLLLL DD M DD L DDD L, where a digit may be an omocodia letter and M is a month letter).
// The check character is not verified here: the receiver's job is the layout.
func cfShape(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < 16; i++ {
		c := s[i]
		switch i {
		case 6, 7, 9, 10, 12, 13, 14:
			if !('0' <= c && c <= '9') && !strings.ContainsRune("LMNPQRSTUV", rune(c)) {
				return false
			}
		case 8:
			if !strings.ContainsRune("ABCDEHLMPRST", rune(c)) {
				return false
			}
		default:
			if c < 'A' || c > 'Z' {
				return false
			}
		}
	}
	return true
}
