package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

func TestCodiceFiscale_BirthReadsDateSexAndPlace(t *testing.T) {
	today := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		cf     string
		date   string
		female bool
		place  string
	}{
		{"RSSMRA80A01H501U", "1980-01-01", false, "H501"},
		{"RSSMRA80A41H501Y", "1980-01-01", true, "H501"},
		{"ZRZCRL72R10H501D", "1972-10-10", false, "H501"},
	} {
		cf, err := domain.ParseCodiceFiscale(tc.cf)
		if err != nil {
			t.Fatal(err)
		}
		b, ok := cf.Birth(today)
		if !ok || b.Date.Format(time.DateOnly) != tc.date || b.Female != tc.female || b.Place != tc.place || b.Abroad() {
			t.Errorf("%s: %+v %v", cf.Masked(), b, ok)
		}
	}
}

func TestResidence_ValidateNamesTheField(t *testing.T) {
	ok, err := domain.Residence{Address: " Via  Roma 1 ", City: "Lucca", PostCode: "55100", Province: "lu"}.Validate()
	if err != nil || ok.Address != "Via Roma 1" || ok.Province != "LU" || ok.Country != "IT" {
		t.Fatalf("%+v %v", ok, err)
	}
	abroad, err := domain.Residence{Address: "Rue de Rivoli 1", City: "Paris", PostCode: "75001", Country: "fr"}.Validate()
	if err != nil || abroad.Province != "EE" || abroad.Country != "FR" {
		t.Fatalf("%+v %v", abroad, err)
	}
	for field, r := range map[string]domain.Residence{
		"residenza.indirizzo": {City: "Lucca", PostCode: "55100", Province: "LU"},
		"residenza.cap":       {Address: "Via Roma 1", City: "Lucca", PostCode: "551", Province: "LU"},
		"residenza.provincia": {Address: "Via Roma 1", City: "Lucca", PostCode: "55100", Province: "Lucca"},
		"residenza.nazione":   {Address: "Via Roma 1", City: "Lucca", PostCode: "55100", Province: "LU", Country: "Italia"},
	} {
		var de *domain.Error
		if _, err := r.Validate(); err == nil || !errors.As(err, &de) || de.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func TestParsePhone_NormalisesOrNamesTheField(t *testing.T) {
	for in, want := range map[string]string{"0583 123456": "0583123456", "+39 333-123.4567": "+393331234567", "0039 333 1234567": "+393331234567"} {
		if got, err := domain.ParsePhone("telefono", in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, in := range []string{"", "12", "chiamami", "+39 333 1234567 8888888"} {
		if _, err := domain.ParsePhone("telefono", in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestEnrolment_TelephoneAndResidenceAreOptionalButChecked(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	e := domain.Enrolment{CodiceFiscale: "RSSMRA80A01H501U", Nome: "Mario", Cognome: "Rossi", Albo: "TSRM", NumeroIscrizione: "1",
		DataIscrizione: "2010-01-01", Email: "mario@example.it"}
	m, err := e.Member("TSRM-LU", now)
	if err != nil || m.Phone != "" || m.Residence != nil {
		t.Fatalf("%+v %v", m, err)
	}
	e.Telefono, e.Residenza = "+39 0583 123456", &domain.Residence{Address: "Via Roma 1", City: "Lucca", PostCode: "55100", Province: "LU"}
	if m, err = e.Member("TSRM-LU", now); err != nil || m.Phone != "+390583123456" || m.Residence.Country != "IT" {
		t.Fatalf("%+v %v", m, err)
	}
	// A correction replaces them, or removes them; the audit's text names the residence.
	empty := ""
	c, err := domain.Correction{Telefono: &empty, ClearResidenza: true}.Apply(m, now)
	if err != nil || c.Phone != "" || c.Residence != nil || domain.SameRecord(c, m) {
		t.Fatalf("%+v %v", c, err)
	}
	if got := domain.ResidenceText(m.Residence); got != "Via Roma 1, 55100 Lucca (LU), IT" {
		t.Errorf("ResidenceText = %q", got)
	}
	for field, bad := range map[string]domain.Enrolment{
		"telefono": func() domain.Enrolment { b := e; b.Telefono = "chiamare"; return b }(),
		"residenza.cap": func() domain.Enrolment {
			b := e
			b.Residenza = &domain.Residence{Address: "Via Roma 1", City: "Lucca", Province: "LU"}
			return b
		}(),
	} {
		var de *domain.Error
		if _, err := bad.Member("TSRM-LU", now); !errors.As(err, &de) || de.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}
