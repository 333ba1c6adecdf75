package domain_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/pecplatform/pec/shared/domain"
)

func TestLocalPart(t *testing.T) {
	tests := []struct {
		nome, cognome string
		n             int
		want          string
	}{
		// Plain names and homonyms.
		{"Mario", "Rossi", 0, "mario.rossi"},
		{"Mario", "Rossi", 1, "mario.rossi1"},
		{"Mario", "Rossi", 2, "mario.rossi2"},
		{"Mario", "Rossi", 10, "mario.rossi10"},
		{"Gianfranco", "Esposito", 0, "gianfranco.esposito"},
		{"ANTONIO", "DI GIOVANNI", 0, "antonio.digiovanni"},
		{"  Giuseppe  ", " Verdi ", 0, "giuseppe.verdi"},
		// Italian accents.
		{"Niccolò", "Machiavelli", 0, "niccolo.machiavelli"},
		{"Nicolò", "Dell’Orto", 0, "nicolo.dellorto"},
		{"Lucia", "Ciò", 0, "lucia.cio"},
		{"Mattia", "Fò", 0, "mattia.fo"},
		{"Noemi", "Mazzà", 0, "noemi.mazza"},
		{"Raffaele", "Perù", 0, "raffaele.peru"},
		{"Maria Pia", "Gesù", 0, "mariapia.gesu"},
		{"NICCOLÒ", "FORTÈ", 0, "niccolo.forte"},
		// Apostrophes (straight and curly), spaces and hyphens.
		{"Gabriele", "D'Amico", 0, "gabriele.damico"},
		{"Luca", "De Luca", 0, "luca.deluca"},
		{"Salvatore", "Lo Russo", 0, "salvatore.lorusso"},
		{"Giovanni", "Dell'Acqua", 0, "giovanni.dellacqua"},
		{"Paolo", "Dall’Olio", 0, "paolo.dallolio"},
		{"Gian Maria", "Sant'Angelo", 0, "gianmaria.santangelo"},
		{"Maria Vittoria", "De' Medici", 0, "mariavittoria.demedici"},
		{"Maria Teresa", "D'Alessandro-Sanna", 0, "mariateresa.dalessandrosanna"},
		{"Giorgio", "O'Brien", 0, "giorgio.obrien"},
		{"Rosa", "Dell’ Anna", 0, "rosa.dellanna"},
		{"Anna-Lisa", "Colombo", 0, "annalisa.colombo"},
		// Several given names.
		{"Maria Grazia", "Bianchi", 0, "mariagrazia.bianchi"},
		{"Pierluigi Maria", "Ferrari", 0, "pierluigimaria.ferrari"},
		{"Maria  Grazia\tRita", "Lo Giudice", 0, "mariagraziarita.logiudice"},
		// Diacritics of colleagues from elsewhere.
		{"Hans", "Müller", 0, "hans.muller"},
		{"Ｍario", "Ｒossi", 0, "mario.rossi"},       // full-width letters pasted from some PDFs
		{"Raﬀaele", "Bianﬁ", 0, "raffaele.bianfi"}, // typographic ligatures
		{"Jürgen", "Groß", 0, "jurgen.gross"},
		{"Françoise", "Lefèvre", 0, "francoise.lefevre"},
		{"Marie-Hélène", "Cœur", 0, "mariehelene.coeur"},
		{"Ştefan", "Popescu", 0, "stefan.popescu"},
		{"Ioana", "Țăranu", 0, "ioana.taranu"},
		{"Ancuța", "Bălan", 0, "ancuta.balan"},
		{"Łukasz", "Wiśniewski", 0, "lukasz.wisniewski"},
		{"Dragan", "Ćosić", 0, "dragan.cosic"},
		{"Đorđe", "Petrović", 0, "dorde.petrovic"},
		{"Tomáš", "Dvořák", 0, "tomas.dvorak"},
		{"Zoltán", "Szőke", 0, "zoltan.szoke"},
		{"Ëndri", "Çela", 0, "endri.cela"},
		{"Xhevdet", "Shkëmbi", 0, "xhevdet.shkembi"},
		{"Þór", "Guðmundsson", 0, "thor.gudmundsson"},
		{"Søren", "Kierkegaard", 0, "soren.kierkegaard"},
		{"Ægir", "Ørsted", 0, "aegir.orsted"},
		{"Ayşe", "Yılmaz", 0, "ayse.yilmaz"},
		{"İlknur", "Öztürk", 0, "ilknur.ozturk"},
		{"María José", "Núñez", 0, "mariajose.nunez"},
		{"João", "Gonçalves", 0, "joao.goncalves"},
		// Decomposed input (as some keyboards and PDFs produce) folds like precomposed.
		{"Nicco\u0300lo\u0300", "Mu\u0308ller", 0, "niccolo.muller"},
		// The 64-character limit: given names shortened first...
		{"Giovanni Battista Maria Annunziato Pierangelo", "Bonaccorsi Guicciardini", 0,
			"giovannibattistamariaannunziatopierangelo.bonaccorsiguicciardini"}, // exactly 64
		{"Giovanni Battista Maria Annunziato Pierangelo", "Bonaccorsi Guicciardini", 1,
			"giovannibattistamariaannunziatopierangel.bonaccorsiguicciardini1"},
		{"Maria Addolorata Immacolata Concetta Giuseppina Filomena Rosaria", "Sant'Angelo", 0,
			"mariaaddolorataimmacolataconcettagiuseppinafilomenaro.santangelo"},
		{"Maria Addolorata Immacolata Concetta Giuseppina Filomena Rosaria", "Sant'Angelo", 1,
			"mariaaddolorataimmacolataconcettagiuseppinafilomenar.santangelo1"},
		{"Maria Addolorata Immacolata Concetta Giuseppina Filomena Rosaria", "Sant'Angelo", 12,
			"mariaaddolorataimmacolataconcettagiuseppinafilomena.santangelo12"},
		{"Francesco Paolo Maria Giuseppe Antonio Raffaele", "Della Gherardesca von Hohenzollern", 3,
			"francescopaolomariagiuseppeanto.dellagherardescavonhohenzollern3"},
		// ...then, down to one given character, the surname; the number is never cut.
		{"Ugo", "Della Rovere Montefeltro Sforza Visconti Gonzaga Este Farnese Medici Savoia", 0,
			"u.dellaroveremontefeltrosforzaviscontigonzagaestefarnesemedicisa"},
		{"Ugo", "Della Rovere Montefeltro Sforza Visconti Gonzaga Este Farnese Medici Savoia", 5,
			"u.dellaroveremontefeltrosforzaviscontigonzagaestefarnesemedicis5"},
		{"Ugo", "Della Rovere Montefeltro Sforza Visconti Gonzaga Este Farnese Medici Savoia", math.MaxInt64,
			"u.dellaroveremontefeltrosforzaviscontigonzaga9223372036854775807"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s_%s_%d", tt.nome, tt.cognome, tt.n), func(t *testing.T) {
			got, err := domain.LocalPart(tt.nome, tt.cognome, tt.n)
			if err != nil {
				t.Fatalf("LocalPart: %v", err)
			}
			if got != tt.want {
				t.Errorf("LocalPart(%q, %q, %d) = %q, want %q", tt.nome, tt.cognome, tt.n, got, tt.want)
			}
			if len(got) > 64 {
				t.Errorf("LocalPart is %d characters long", len(got))
			}
		})
	}
}

func TestLocalPart_UnusableNameIsInvalid(t *testing.T) {
	tests := []struct {
		nome, cognome, field string
	}{
		{"'-'", "Rossi", "nome"},
		{"Mario", "  ", "cognome"},
		{"???", "Rossi", "nome"},
		{"😀😀", "Rossi", "nome"},
		{"Mario", "🇮🇹", "cognome"},
		{"Mario", "’", "cognome"},
		{"Mario", "", "cognome"},
		{"", "Rossi", "nome"},
		{"", "", "nome"},
		{"\u0300\u0301", "Rossi", "nome"}, // combining marks alone
		{"王", "Rossi", "nome"},            // not transliterated: that would be a guess
		{"Mario", "Παπαδόπουλος", "cognome"},
	}
	for _, tt := range tests {
		_, err := domain.LocalPart(tt.nome, tt.cognome, 0)
		var de *domain.Error
		if !errors.As(err, &de) {
			t.Errorf("LocalPart(%q, %q) error = %v, want a *domain.Error", tt.nome, tt.cognome, err)
			continue
		}
		if de.Kind != domain.KindInvalid || de.Code != "unusable_name" || de.Field != tt.field {
			t.Errorf("LocalPart(%q, %q) error = %+v, want KindInvalid unusable_name on %s", tt.nome, tt.cognome, de, tt.field)
		}
	}
}

func TestLocalPart_NegativeNumberIsAProgrammingError(t *testing.T) {
	_, err := domain.LocalPart("Mario", "Rossi", -1)
	if err == nil {
		t.Fatal("LocalPart with n = -1 succeeded")
	}
	var de *domain.Error
	if errors.As(err, &de) && de.Kind == domain.KindInvalid {
		t.Errorf("error = %+v: a caller's bug must not read as invalid user input", de)
	}
}

func TestComposeAddress(t *testing.T) {
	tests := []struct {
		nome, cognome, domain string
		n                     int
		want                  string
	}{
		{"Mario", "Rossi", "pec.tsrm.org", 0, "mario.rossi@pec.tsrm.org"},
		{"Mario", "Rossi", "pec.tsrm.org", 2, "mario.rossi2@pec.tsrm.org"},
		{"Maria Grazia", "D'Amico", "PEC.TSRM-PSTRP.ORG", 0, "mariagrazia.damico@pec.tsrm-pstrp.org"},
	}
	for _, tt := range tests {
		got, err := domain.ComposeAddress(tt.nome, tt.cognome, tt.domain, tt.n)
		if err != nil || got != tt.want {
			t.Errorf("ComposeAddress(%q, %q, %q, %d) = %q, %v; want %q", tt.nome, tt.cognome, tt.domain, tt.n, got, err, tt.want)
		}
	}
}

func TestComposeAddress_Errors(t *testing.T) {
	if _, err := domain.ComposeAddress("Mario", "Rossi", "", 0); err == nil {
		t.Error("empty domain accepted")
	}
	_, err := domain.ComposeAddress("Mario", "???", "pec.tsrm.org", 0)
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != "unusable_name" || de.Field != "cognome" {
		t.Errorf("error = %v, want unusable_name on cognome", err)
	}
}

func TestFoldNamePart(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Niccolò", "niccolo"},
		{"D'Amico", "damico"},
		{"Dall’Olio", "dallolio"},
		{"Maria Grazia", "mariagrazia"},
		{"Anna-Lisa", "annalisa"},
		{"S.ta Maria", "stamaria"},
		{"Luigi 2", "luigi2"},
		{"STRAẞE", "strasse"},
		{"ÆØÅ", "aeoa"},
		{"ŒUVRE", "oeuvre"},
		{"ĐURĐEVIĆ", "durdevic"},
		{"ÞÓR", "thor"},
		{"😀 Rossi 🇮🇹", "rossi"},
	}
	for _, tt := range tests {
		if got := domain.FoldNamePart(tt.in); got != tt.want {
			t.Errorf("FoldNamePart(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSameName(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"Mario", "Mario", true},
		{"Mario", "MARIO", true},
		{"Niccolò", "Niccolo", true},
		{"Niccolò", "NICCOLO'", true}, // the upper-case habit of writing an accent as an apostrophe
		{"D'Amico", "Damico", true},
		{"Dall’Olio", "Dall'Olio", true},
		{"De Luca", "DeLuca", true},
		{"Maria Grazia", "Mariagrazia", true},
		{"Anna-Lisa", "Anna Lisa", true},
		{"Müller", "Muller", true},
		{"Mario", "Maria", false},
		{"Rossi", "Rossini", false},
		{"Maria Grazia", "Maria", false},
		{"???", "!!!", false},
		{"", "", false},
		{"Mario", "", false},
	}
	for _, tt := range tests {
		if got := domain.SameName(tt.a, tt.b); got != tt.want {
			t.Errorf("SameName(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func ExampleLocalPart() {
	for n := range 3 {
		local, _ := domain.LocalPart("Maria Grazia", "D'Amico", n)
		fmt.Println(local)
	}
	_, err := domain.LocalPart("Mario", "???", 0)
	fmt.Println(err)
	// Output:
	// mariagrazia.damico
	// mariagrazia.damico1
	// mariagrazia.damico2
	// unusable_name: the surname contains no letter or digit that can be used in an address (cognome)
}

func ExampleComposeAddress() {
	addr, _ := domain.ComposeAddress("Niccolò", "Dall’Olio", "pec.tsrm.org", 0)
	fmt.Println(addr)
	// Output: niccolo.dallolio@pec.tsrm.org
}

func ExampleFoldNamePart() {
	fmt.Println(domain.FoldNamePart("Łukasz"), domain.FoldNamePart("Groß"), domain.FoldNamePart("Dell'Acqua"))
	// Output: lukasz gross dellacqua
}
