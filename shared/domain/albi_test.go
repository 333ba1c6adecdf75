package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestAlbi_ResolvesACodeOrANameInAnyCase(t *testing.T) {
	a := MustAlbi(DefaultAlbi())
	if n := len(a.Codes()); n != 19 {
		t.Errorf("%d albi, want FNO TSRM e PSTRP's 19", n)
	}
	for in, want := range map[string]string{
		"TSRM": "TSRM", "tsrm": "TSRM", " Igienista dentale ": "IGD", "IGIENISTA DENTALE": "IGD", "igienista-dentale": "IGD",
		"Tecnico della prevenzione nell'ambiente e nei luoghi di lavoro": "TPALL", "Terapista della neuro e psicomotricita dell'eta evolutiva": "TNPEE",
		"Fisioterapisti": "FISIO", "fisio": "FISIO",
	} {
		al, err := a.Resolve(in)
		if err != nil || al.Code != want {
			t.Errorf("%q -> %q, %v; want %s", in, al.Code, err, want)
		}
	}
	if a.Domain("TSRM") != DomainTSRM || a.Domain("IGD") != DomainPSTRP || a.Domain("XX") != "" {
		t.Errorf("domains %q %q %q", a.Domain("TSRM"), a.Domain("IGD"), a.Domain("XX"))
	}
}

func TestAlbi_AnUnknownAlboIsRefusedWithTheKnownCodes(t *testing.T) {
	a := MustAlbi(DefaultAlbi())
	for _, in := range []string{"TSMR", "", "   ", "radiologo"} { // TSMR: the typo that would give a radiographer the PSTRP domain
		_, err := a.Resolve(in)
		var de *Error
		if !errors.As(err, &de) || de.Code != "invalid_albo" || de.Field != "albo" || !strings.Contains(de.Message, "TSRM, AS, DIET") {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestAlbi_AnotherFederationsRegistry(t *testing.T) {
	a, err := ParseAlbi(`[{"code":"MC","name":"Medici chirurghi","aliases":["Medico chirurgo"],"domain":"pec.omceo.it"},
		{"code":"OD","name":"Odontoiatri","domain":"pec.omceo.it"}]`)
	if err != nil {
		t.Fatal(err)
	}
	if al, err := a.Resolve("medico chirurgo"); err != nil || al.Code != "MC" || al.Domain != "pec.omceo.it" {
		t.Errorf("%+v %v", al, err)
	}
	for _, bad := range []string{
		`not json`, `[]`, `[{"code":"M","name":"x","domain":"a.it"}]`, `[{"code":"MC","name":"","domain":"a.it"}]`,
		`[{"code":"MC","name":"x","domain":"not a domain"}]`,
		`[{"code":"MC","name":"Medici","domain":"a.it"},{"code":"OD","name":"medici","domain":"a.it"}]`,
	} {
		if _, err := ParseAlbi(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
