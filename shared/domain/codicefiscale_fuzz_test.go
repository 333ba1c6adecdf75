package domain_test

import (
	"strings"
	"testing"

	"github.com/pecplatform/pec/shared/domain"
)

func FuzzParseCodiceFiscale(f *testing.F) {
	for _, s := range []string{
		cfZurzi, cfZurziOmo15, cfZurziOmoAll, cfBianchiOmo, cfVerdiOmoLast,
		strings.ToLower(cfRossiOmo15), " " + cfRossi + " ", cfZurziBadCheck, "", "RſSMRA80A01H501U",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cf, err := domain.ParseCodiceFiscale(s)
		masked := cf.Masked()
		if err != nil {
			if cf != "" {
				t.Fatalf("ParseCodiceFiscale(%q) = %q with error %v", s, cf.Value(), err)
			}
			return
		}
		if cf.Value() != strings.ToUpper(cf.Value()) || len(cf.Value()) != 16 {
			t.Fatalf("ParseCodiceFiscale(%q) = %q: not 16 upper-case characters", s, cf.Value())
		}
		canon := cf.Canonical()
		if again, err := domain.ParseCodiceFiscale(canon.Value()); err != nil || again != canon {
			t.Fatalf("Canonical %q of %q does not parse back: %v", canon.Value(), cf.Value(), err)
		}
		if canon.Canonical() != canon {
			t.Fatalf("Canonical is not idempotent on %q", cf.Value())
		}
		if !cf.SamePerson(canon) || !canon.SamePerson(cf) || !cf.SamePerson(cf) {
			t.Fatalf("%q is not the same person as its Canonical %q", cf.Value(), canon.Value())
		}
		if strings.Count(masked, "*") != 3 || masked[:6] != cf.Value()[:6] {
			t.Fatalf("Masked %q of %q", masked, cf.Value())
		}
	})
}
