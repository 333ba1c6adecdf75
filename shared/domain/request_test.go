package domain_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

func TestRequestInput_MatchesIgnoringCaseAccentsApostrophesSpacingAndOmocodia(t *testing.T) {
	m := &domain.Member{CodiceFiscale: "ZRZCRL72R10H501D", Nome: "Niccolò Maria", Cognome: "D'Amico"}
	for _, tc := range []struct {
		cf, cognome, nome string
		want              bool
	}{
		{"ZRZCRL72R10H501D", "D'Amico", "Niccolò Maria", true},
		{"zrzcrl72r10h501d", "d amico", "NICCOLO MARIA", true},
		{"ZRZCRL72R10H501D", "DAMICO", "niccolòmaria", true},
		{omocodicZurzi(t), "D'Amico", "Niccolò Maria", true},
		{"ZRZCRL72R10H501D", "D'Amico", "Niccolò", false},
		{"ZRZCRL72R10H501D", "Amico", "Niccolò Maria", false},
		{"RSSMRA80A01H501U", "D'Amico", "Niccolò Maria", false},
		{"not a code", "D'Amico", "Niccolò Maria", false},
	} {
		in := domain.RequestInput{CodiceFiscale: tc.cf, Cognome: tc.cognome, Nome: tc.nome}
		if got := in.Matches(m); got != tc.want {
			t.Errorf("%+v: Matches = %v, want %v", in, got, tc.want)
		}
	}
	gone := *m
	gone.CancelledOn = "2025-01-01"
	if (domain.RequestInput{CodiceFiscale: "ZRZCRL72R10H501D", Cognome: "D'Amico", Nome: "Niccolò Maria"}).Matches(&gone) {
		t.Error("a member who left the albo matches")
	}
}

// omocodicZurzi is ZRZCRL72R10H501D with its 14th character (a digit) in omocodic form.
func omocodicZurzi(t *testing.T) string {
	for c := 'A'; c <= 'Z'; c++ {
		if cf := "ZRZCRL72R10H5L1" + string(c); validCF(cf) {
			return cf
		}
	}
	t.Fatal("no check character")
	return ""
}

func TestRequest_PaymentDocumentsAndSubmission(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	r := &domain.Request{AmountCents: 488}
	if r.State() != domain.RequestAwaitingPayment || !slices.Equal(r.Missing(), []string{"payment", "form", "identity"}) || r.Ready() {
		t.Fatalf("new request: %s %v", r.State(), r.Missing())
	}
	if _, err := r.Pay("PAY-1", 400, now); !errors.Is(err, domain.ErrPaymentMismatch) {
		t.Errorf("wrong amount: %v", err)
	}
	if _, err := r.Pay(" ", 488, now); err == nil {
		t.Error("an empty reference is accepted")
	}
	if changed, err := r.Pay("PAY-1", 488, now); !changed || err != nil {
		t.Fatalf("pay: %v %v", changed, err)
	}
	if changed, err := r.Pay("PAY-1", 488, now); changed || err != nil {
		t.Errorf("the same payment again: %v %v", changed, err)
	}
	if _, err := r.Pay("PAY-2", 488, now); !errors.Is(err, domain.ErrPaidOtherRef) {
		t.Errorf("another reference: %v", err)
	}
	if r.State() != domain.RequestAwaitingDocuments || r.Submit(now) {
		t.Fatalf("paid, without documents: %s", r.State())
	}
	for _, k := range domain.DocumentKinds {
		if err := r.AddDocument(k, domain.Document{Key: string(k), UploadedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if !r.Ready() || !r.Submit(now) || r.State() != domain.RequestSubmitted || r.Submit(now) {
		t.Fatalf("complete request: %s", r.State())
	}
	if err := r.AddDocument(domain.DocumentForm, domain.Document{}); !errors.Is(err, domain.ErrRequestSubmitted) {
		t.Errorf("a document after submission: %v", err)
	}
}

func TestSniffDocument_ByContentNotName(t *testing.T) {
	for _, tc := range []struct {
		head string
		want string
	}{
		{"%PDF-1.7\n", "application/pdf"},
		{"\xFF\xD8\xFF\xE0JFIF", "image/jpeg"},
		{"\x89PNG\r\n\x1a\n....", "image/png"},
		{"GIF89a", ""},
		{"PK\x03\x04", ""},
		{"<html>", ""},
		{"", ""},
	} {
		got, err := domain.SniffDocument("form", []byte(tc.head))
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("%q: %q, %v", tc.head, got, err)
		}
		var de *domain.Error
		if err != nil && (!errors.As(err, &de) || de.Field != "form" || de.Code != "unsupported_document_type") {
			t.Errorf("%q: error %v does not name the field", tc.head, err)
		}
	}
}

func validCF(s string) bool {
	_, err := domain.ParseCodiceFiscale(s)
	return err == nil
}
