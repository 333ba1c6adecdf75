package app_test

import (
	"strings"
	"testing"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

func TestNotifyOrder_TellsTheOrderByPEC(t *testing.T) {
	for _, tc := range []struct {
		kind    app.NoticeKind
		state   domain.State
		reason  string
		subject string
		words   []string
	}{
		{app.NoticeDeclined, domain.StateRevocata, "declined",
			"Mancata conferma dell'attivazione della casella PEC – Mario Bianchi (iscrizione n. 1001)",
			[]string{"numero di iscrizione 1001", "mario.bianchi1@pec.tsrm.org", "mario@pec.altro.it"}},
		{app.NoticeRejected, domain.StateRevocata, "rejected: dati non validi",
			"Mancata emissione della casella PEC – Mario Bianchi (iscrizione n. 1001)",
			[]string{"mario.bianchi1@pec.tsrm.org", "Motivazione indicata dal gestore: rejected: dati non validi"}},
		{app.NoticeUnactivated, domain.StateAbilitata, "created",
			"Casella PEC non attivata – Mario Bianchi (iscrizione n. 1001)",
			[]string{"e 2 promemoria successivi", "mario.bianchi1@pec.tsrm.org"}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			f := newFederation(t)
			mb := f.mailbox(1, tc.state, func(mb *domain.Mailbox) {
				mb.History[len(mb.History)-1].Reason = tc.reason
				mb.Activation.Sent = 3
			})
			if tc.kind == app.NoticeDeclined {
				m := f.member(mb)
				m.PEC = "mario@pec.altro.it"
				f.store.PutMember(m)
			}

			if err := f.notices.NotifyOrder(f.ctx, tc.kind, "mb-1"); err != nil {
				t.Fatal(err)
			}

			f.wantStrings("PEC to the Order", f.mails(f.orderMail), "to@pec.ordine.example.it: "+tc.subject)
			text := f.orderMail.Sent()[0].Text
			f.wantContains("the notice", text, append(tc.words, "Spett.le Ordine TSRM PSTRP di TO")...)
			if strings.Contains(text, f.cf(1).Value()) {
				t.Error("the notice names the codice fiscale")
			}
		})
	}
}

func TestNotifyOrder_Fails(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRevocata)

	if err := f.notices.NotifyOrder(f.ctx, "congratulations", "mb-1"); err == nil || !strings.Contains(err.Error(), "unknown notice") {
		t.Errorf("an unknown kind: %v", err)
	}
	f.wantErr(f.notices.NotifyOrder(f.ctx, app.NoticeDeclined, "nope"), domain.ErrNotFound)
	f.orderMail.Fail("Send", fake.ErrInjected)
	f.wantErr(f.notices.NotifyOrder(f.ctx, app.NoticeDeclined, "mb-1"), fake.ErrInjected) // the workflow retries
	f.wantStrings("PEC to the Order", f.mails(f.orderMail))
}

func TestSelfServiceActive_NamesTheOfferWhenTheRequestIsKnown(t *testing.T) {
	f := newFederation(t)
	f.store.PutRequest(&domain.Request{ID: "req-1", OrderID: "TO", OfferCode: "OFFERTA-TO"})
	withOffer := f.mailbox(1, domain.StateAttivata, func(mb *domain.Mailbox) { mb.RequestID = "req-1" })
	withoutOffer := f.mailbox(2, domain.StateAttivata, func(mb *domain.Mailbox) { mb.RequestID = "req-gone" })

	for _, mb := range []*domain.Mailbox{withOffer, withoutOffer} {
		if err := f.notices.SelfServiceActive(f.ctx, mb); err != nil {
			t.Fatal(err)
		}
	}

	sent := f.orderMail.Sent()
	f.wantContains("the first notice", sent[0].Text, "(codice offerta OFFERTA-TO)", withOffer.Address)
	if strings.Contains(sent[1].Text, "codice offerta") {
		t.Errorf("the second notice names an offer: %q", sent[1].Text)
	}
}
