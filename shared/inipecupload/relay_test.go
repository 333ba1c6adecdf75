package inipecupload_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
	"github.com/pecplatform/pec/shared/inipecupload"
)

func TestOrderRelay_SendsTheOrderItsFileAndWhatToDoWithIt(t *testing.T) {
	store, mail := fake.NewStore(), &fake.Mailer{}
	if _, err := store.PutOrder(t.Context(), &domain.Order{ID: "TSRM-FI", Name: "Ordine TSRM PSTRP di Firenze", PEC: "firenze@pec.tsrm.org"}, "federation"); err != nil {
		t.Fatal(err)
	}
	r := inipecupload.OrderRelay{Mail: mail, Orders: store, INIPEC: "aggiornamento@cert.inipec.gov.it"}
	csv := "anna.neri@pec.example.it;Anna;Neri;12;RSSMRA80A01H501U;2;15/01/2020;\r\n"
	name := "INIPEC_TSRM-FI_20261205_000001.csv"
	if err := r.Deliver(t.Context(), name, int64(len(csv)), func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(csv)), nil }); err != nil {
		t.Fatal(err)
	}
	if err := r.Confirm(context.Background(), "TSRM-FI", "INIPEC_TSRM-FI_20261206_000002.csv", time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	sent := mail.Sent()
	if len(sent) != 2 || sent[0].To != "firenze@pec.tsrm.org" || !strings.Contains(sent[0].Subject, name) ||
		!strings.Contains(sent[0].Text, "inoltrare il file, senza modificarlo, dalla casella PEC dell'Ordine all'indirizzo aggiornamento@cert.inipec.gov.it") {
		t.Fatalf("sent %+v", sent)
	}
	if !strings.Contains(sent[1].Text, "in data 6 dicembre 2026") || !strings.Contains(sent[1].Text, "confermare a INI-PEC l'assenza di aggiornamenti") {
		t.Errorf("confirmation %q", sent[1].Text)
	}
	if err := r.Deliver(t.Context(), "INIPEC_NOBODY_20261205_000001.csv", 1, nil); err == nil {
		t.Error("a file of an unknown Order was relayed")
	}
}
