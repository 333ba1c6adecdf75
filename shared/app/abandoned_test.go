package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

func TestAbandonedRequests_TellOnceAWeekBeforeThenRevoke(t *testing.T) {
	f := newFederation(t)
	created := f.now
	f.store.PutRequest(&domain.Request{ID: "req-1", OrderID: "TO", OfferCode: "TO-1", MemberKey: string(f.cf(1)), MailboxID: "mb-1",
		Address: "mario.bianchi1@pec.tsrm.org", Email: "mario@example.it", AmountCents: 488, CreatedAt: created})
	f.mailbox(1, domain.StateRichiesta, func(mb *domain.Mailbox) { mb.RequestID = "req-1" })
	f.store.PutRequest(&domain.Request{ID: "req-2", OrderID: "TO", MemberKey: string(f.cf(2)), Email: "paid@example.it",
		CreatedAt: created, Payment: &domain.Payment{Reference: "P", AmountCents: 488}})
	ab := &app.AbandonedRequests{Store: f.store, Revocations: f.revocations, MemberMail: f.memberMail, Log: discard,
		Now: func() time.Time { return f.now }}
	run := func(day int) app.AbandonResult {
		t.Helper()
		f.now = created.Add(time.Duration(day) * 24 * time.Hour)
		res, err := ab.Run(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := run(22); res != (app.AbandonResult{}) {
		t.Errorf("day 22: %+v", res)
	}
	if res := run(23); res.Notified != 1 || res.Abandoned != 0 {
		t.Errorf("day 23: %+v", res)
	}
	if res := run(24); res != (app.AbandonResult{}) {
		t.Errorf("day 24, told already: %+v", res)
	}
	mails := f.memberMail.Sent()
	if len(mails) != 1 || mails[0].To != "mario@example.it" || !strings.Contains(mails[0].Subject, "scade") ||
		!strings.Contains(mails[0].Text, "mario.bianchi1@pec.tsrm.org") {
		t.Fatalf("notices %+v", mails)
	}
	if res := run(30); res.Abandoned != 1 {
		t.Errorf("day 30: %+v", res)
	}
	r, _ := f.store.GetRequest(f.ctx, "req-1")
	mb := f.get("mb-1")
	if r.State() != domain.RequestAbandoned || mb.State != domain.StateRevocata || f.lastTransition(mb) != "REVOCATA system abandoned" {
		t.Errorf("request %s, mailbox %s", r.State(), f.lastTransition(mb))
	}
	if _, err := r.Pay("P", 488, f.now); code(err) != "request_abandoned" {
		t.Errorf("paying an abandoned request: %v", err)
	}
	if res := run(31); res != (app.AbandonResult{}) {
		t.Errorf("day 31: %+v", res)
	}
}
