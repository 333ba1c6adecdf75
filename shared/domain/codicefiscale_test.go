package domain_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/pecplatform/pec/shared/domain"
)

// Valid codes with their check characters computed once, by hand and with a throwaway script
// independent of this package. Omocodic variants are of the first code of their group.
const (
	cfZurzi          = "ZRZCRL72R10H501D" // the seed's Carlo Zurzi
	cfZurziOmo15     = "ZRZCRL72R10H50MV" // 501 -> 50M
	cfZurziOmoYear   = "ZRZCRLTNR10H501L" // 72 -> TN
	cfZurziOmoAll    = "ZRZCRLTNRMLHRLMX" // all seven digits replaced
	cfRossi          = "RSSMRA80A01H501U" // Mario Rossi, 1 January 1980, Roma
	cfRossiOmo15     = "RSSMRA80A01H50MM"
	cfBianchi        = "BNCMRA85T41F205Z" // Maria Bianchi, 1 December 1985, Milano (day+40: female)
	cfBianchiOmo     = "BNCMRA85TQMF2LRJ" // 41 -> QM, 205 -> 2LR
	cfVerdi          = "VRDGPP13R10B034H" // Giuseppe Verdi, 10 October 1813, Busseto
	cfVerdiOmoLast   = "VRDGPP13R10B03QE"
	cfZurziBadCheck  = "ZRZCRL72R10H501A"
	cfZurziOmoBadChk = "ZRZCRL72R10H50MD" // omocodic, but with the original check character
)

func TestParseCodiceFiscale_AcceptsValidCodes(t *testing.T) {
	for _, s := range []string{
		cfZurzi, cfZurziOmo15, cfZurziOmoYear, cfZurziOmoAll,
		cfRossi, cfRossiOmo15, cfBianchi, cfBianchiOmo, cfVerdi, cfVerdiOmoLast,
	} {
		t.Run(s, func(t *testing.T) {
			cf, err := domain.ParseCodiceFiscale(s)
			if err != nil {
				t.Fatalf("ParseCodiceFiscale: %v", err)
			}
			if cf.Value() != s {
				t.Errorf("Value() = %q, want %q", cf.Value(), s)
			}
		})
	}
}

func TestParseCodiceFiscale_NormalisesCaseAndSpaces(t *testing.T) {
	for _, s := range []string{
		"zrzcrl72r10h501d",
		"ZrZcRl72r10H501d",
		"  ZRZCRL72R10H501D\t",
		"\nzrzcrl72r10h501d ",
		"\u00a0ZRZCRL72R10H501D\u00a0", // no-break spaces, as pasted from a PDF
	} {
		cf, err := domain.ParseCodiceFiscale(s)
		if err != nil {
			t.Errorf("ParseCodiceFiscale(%q): %v", s, err)
			continue
		}
		if cf.Value() != cfZurzi {
			t.Errorf("ParseCodiceFiscale(%q) = %q, want %q", s, cf.Value(), cfZurzi)
		}
	}
	// Omocodic letters are kept as written, not canonicalised.
	cf, err := domain.ParseCodiceFiscale(strings.ToLower(cfZurziOmoAll))
	if err != nil || cf.Value() != cfZurziOmoAll {
		t.Errorf("ParseCodiceFiscale(lower omocodic) = %q, %v; want %q", cf.Value(), err, cfZurziOmoAll)
	}
}

func TestParseCodiceFiscale_RejectsInvalidCodes(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"only spaces", "                "},
		{"15 characters", "ZRZCRL72R10H501"},
		{"17 characters", "ZRZCRL72R10H501DX"},
		{"inner space", "ZRZCRL 72R10H501D"},
		{"wrong check character", cfZurziBadCheck},
		{"omocodic without recomputed check", cfZurziOmoBadChk},
		{"one digit changed", "ZRZCRL72R10H502D"},
		{"two characters swapped", "ZRZCRL27R10H501D"},
		{"digit in surname letters", "ZRZCR172R10H501D"},
		{"letter K in year", "ZRZCRLK2R10H501D"},
		{"omocodia letter W in day", "ZRZCRL72R1WH501D"},
		{"month F does not exist", "ZRZCRL72F10H501D"},
		{"digit as month", "ZRZCRL72910H501D"},
		{"digit at position 12", "ZRZCRL72R101501D"},
		{"digit as check character", "ZRZCRL72R10H5013"},
		{"non-ASCII letter in 16 bytes", "ÐRZCRL72R10H50D"},
		{"long s that upper-cases to S", "RſSMRA80A01H501U"},
		{"16 bytes of UTF-8", "ÀÀÀÀÀÀÀÀ"},
		{"punctuation", "ZRZ-RL72R10H501D"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cf, err := domain.ParseCodiceFiscale(tt.in)
			if err == nil {
				t.Fatalf("ParseCodiceFiscale(%q) = %q, want an error", tt.in, cf.Value())
			}
			var de *domain.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *domain.Error", err)
			}
			if de.Kind != domain.KindInvalid || de.Code != "invalid_codice_fiscale" || de.Field != "codiceFiscale" {
				t.Errorf("error = %+v, want KindInvalid invalid_codice_fiscale on codiceFiscale", de)
			}
			if trimmed := strings.TrimSpace(tt.in); trimmed != "" && strings.Contains(strings.ToUpper(err.Error()), strings.ToUpper(trimmed)) {
				t.Errorf("error %q echoes the input", err)
			}
		})
	}
}

func TestCodiceFiscale_CanonicalRemovesOmocodia(t *testing.T) {
	tests := []struct{ in, want string }{
		{cfZurzi, cfZurzi},
		{cfZurziOmo15, cfZurzi},
		{cfZurziOmoYear, cfZurzi},
		{cfZurziOmoAll, cfZurzi},
		{cfRossiOmo15, cfRossi},
		{cfBianchiOmo, cfBianchi},
		{cfVerdiOmoLast, cfVerdi},
	}
	for _, tt := range tests {
		cf, err := domain.ParseCodiceFiscale(tt.in)
		if err != nil {
			t.Fatalf("ParseCodiceFiscale(%q): %v", tt.in, err)
		}
		if got := cf.Canonical().Value(); got != tt.want {
			t.Errorf("%s.Canonical() = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCodiceFiscale_CanonicalLeavesMalformedUnchanged(t *testing.T) {
	for _, s := range []string{"", "ZRZ", cfZurziBadCheck, "zrzcrl72r10h50mv"} {
		if got := domain.CodiceFiscale(s).Canonical(); string(got) != s {
			t.Errorf("CodiceFiscale(%q).Canonical() = %q, want it unchanged", s, string(got))
		}
	}
}

func TestCodiceFiscale_SamePerson(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{cfZurzi, cfZurzi, true},
		{cfZurzi, cfZurziOmo15, true},
		{cfZurziOmoYear, cfZurziOmo15, true},
		{cfZurziOmoAll, cfZurzi, true},
		{cfBianchiOmo, cfBianchi, true},
		{cfVerdiOmoLast, cfVerdi, true},
		{cfRossiOmo15, cfRossi, true},
		{cfZurzi, cfRossi, false},
		{cfZurziOmo15, cfRossiOmo15, false},
		{cfBianchi, cfVerdi, false},
		{cfZurzi, cfZurziBadCheck, false},
		{cfZurzi, "", false},
		{"", "", false},
		{cfZurziBadCheck, cfZurziBadCheck, false},
		{strings.ToLower(cfZurzi), strings.ToLower(cfZurzi), false}, // not a parsed value
	}
	for _, tt := range tests {
		a, b := domain.CodiceFiscale(tt.a), domain.CodiceFiscale(tt.b)
		if got := a.SamePerson(b); got != tt.want {
			t.Errorf("SamePerson(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := b.SamePerson(a); got != tt.want {
			t.Errorf("SamePerson(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestCodiceFiscale_Masked(t *testing.T) {
	tests := []struct{ in, want string }{
		{cfZurzi, "ZRZCRL**R10H501*"},
		{cfZurziOmoAll, "ZRZCRL**RMLHRLM*"},
		{cfBianchi, "BNCMRA**T41F205*"},
		{"", ""},
		{"ZRZ", "****************"},
		{cfZurziBadCheck, "****************"}, // could be a real code with a typo
	}
	for _, tt := range tests {
		if got := domain.CodiceFiscale(tt.in).Masked(); got != tt.want {
			t.Errorf("CodiceFiscale(%q).Masked() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCodiceFiscale_NeverFormattedWhole(t *testing.T) {
	cf, err := domain.ParseCodiceFiscale(cfZurzi)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x", "%X"} {
		if got := fmt.Sprintf(verb, cf); strings.Contains(got, cfZurzi) || strings.Contains(got, fmt.Sprintf("%x", cfZurzi)) {
			t.Errorf("Sprintf(%q) = %q: the full code leaks", verb, got)
		}
	}
	if got := fmt.Sprint(struct{ CF domain.CodiceFiscale }{cf}); strings.Contains(got, cfZurzi) {
		t.Errorf("a struct holding the code prints %q", got)
	}

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(h).Info("member", "cf", cf, slog.Any("any", cf), slog.Group("g", "cf", cf))
	}
	if strings.Contains(buf.String(), cfZurzi) {
		t.Errorf("slog output leaks the code:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "ZRZCRL**R10H501*") {
		t.Errorf("slog output lacks the masked code:\n%s", buf.String())
	}
}

func ExampleParseCodiceFiscale() {
	cf, err := domain.ParseCodiceFiscale(" zrzcrl72r10h501d ")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cf.Value())
	fmt.Println(cf) // printing it masks it

	_, err = domain.ParseCodiceFiscale("ZRZCRL72R10H501A")
	fmt.Println(err)
	// Output:
	// ZRZCRL72R10H501D
	// ZRZCRL**R10H501*
	// invalid_codice_fiscale: the check character (the last one) does not match the rest of the codice fiscale (codiceFiscale)
}

func ExampleCodiceFiscale_SamePerson() {
	issued, _ := domain.ParseCodiceFiscale("ZRZCRL72R10H50MV") // omocodic: 1 -> M
	typed, _ := domain.ParseCodiceFiscale("ZRZCRL72R10H501D")
	fmt.Println(issued == typed, issued.SamePerson(typed))
	fmt.Println(issued.Canonical().Value())
	// Output:
	// false true
	// ZRZCRL72R10H501D
}

func ExampleCodiceFiscale_Masked() {
	cf, _ := domain.ParseCodiceFiscale("ZRZCRL72R10H501D")
	fmt.Println(cf.Masked())
	// Output: ZRZCRL**R10H501*
}
