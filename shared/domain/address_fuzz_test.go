package domain_test

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pecplatform/pec/shared/domain"
)

var localPartRE = regexp.MustCompile(`^[a-z0-9]+\.[a-z0-9]+$`)

func FuzzLocalPart(f *testing.F) {
	f.Add("Mario", "Rossi", 0)
	f.Add("Maria Grazia", "D'Amico", 2)
	f.Add("Niccolò", "Dall’Olio", 1)
	f.Add("Þór", "Guðmundsson", 0)
	f.Add("İlknur", "Straẞe", 0)
	f.Add("'-'", "Rossi", 0)
	f.Add("Mario", "😀", 0)
	f.Add("Mario", "Rossi", -1)
	f.Add(strings.Repeat("Maria ", 20), strings.Repeat("Della ", 20), 99)
	f.Add("Ugo", strings.Repeat("x", 70), 1<<62)
	f.Fuzz(func(t *testing.T, nome, cognome string, n int) {
		got, err := domain.LocalPart(nome, cognome, n)
		if err != nil {
			var de *domain.Error
			switch {
			case n < 0:
			case !errors.As(err, &de) || de.Code != "unusable_name":
				t.Fatalf("LocalPart(%q, %q, %d): unexpected error %v", nome, cognome, n, err)
			case de.Field == "nome" && domain.FoldNamePart(nome) != "",
				de.Field == "cognome" && domain.FoldNamePart(cognome) != "":
				t.Fatalf("LocalPart(%q, %q, %d): %v, but that part folds to something", nome, cognome, n, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("LocalPart(%q, %q, %d) = %q, want an error", nome, cognome, n, got)
		}
		if !localPartRE.MatchString(got) || len(got) > 64 {
			t.Fatalf("LocalPart(%q, %q, %d) = %q (%d characters)", nome, cognome, n, got, len(got))
		}
		if n > 0 && !strings.HasSuffix(got, strconv.Itoa(n)) {
			t.Fatalf("LocalPart(%q, %q, %d) = %q: the number was cut", nome, cognome, n, got)
		}
		given, _, _ := strings.Cut(got, ".")
		if !strings.HasPrefix(domain.FoldNamePart(nome), given) {
			t.Fatalf("LocalPart(%q, %q, %d) = %q: given part is not a prefix of the folded nome", nome, cognome, n, got)
		}
	})
}
