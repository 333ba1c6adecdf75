package app_test

import (
	"fmt"
	"testing"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

// expiresOn gives an ATTIVATA mailbox a validity ending on day, not yet looked at.
func expiresOn(day string) func(*domain.Mailbox) {
	return func(mb *domain.Mailbox) {
		exp, _ := domain.ParseDate(day)
		mb.StartValidity(domain.AddYears(exp, -3), 3)
	}
}

// runExpiry runs the expiry on day.
func (f *federation) runExpiry(day string) (*app.ExpiryResult, error) {
	f.t.Helper()
	d, err := domain.ParseDate(day)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.expiry.Run(f.ctx, d)
}

func TestExpiryRun_RemindsAtEachThresholdOnceThenRevokes(t *testing.T) {
	f := newFederation(t)
	mb := f.mailbox(1, domain.StateAttivata, expiresOn("2026-04-01"))
	for _, tc := range []struct {
		day  string
		want app.ExpiryResult
		mail string // the reminder's subject, if one is sent
	}{
		{day: "2026-03-01"},
		{day: "2026-03-02", want: app.ExpiryResult{Reminded: 1}, mail: "La casella PEC " + mb.Address + " scade il 1° aprile 2026"},
		{day: "2026-03-02"}, // the run repeated
		{day: "2026-03-24"},
		{day: "2026-03-25", want: app.ExpiryResult{Reminded: 1}, mail: "La casella PEC " + mb.Address + " scade il 1° aprile 2026"},
		{day: "2026-04-01"}, // the last day of validity
		{day: "2026-04-02", want: app.ExpiryResult{Revoked: 1}},
		{day: "2026-04-03"},
	} {
		sent := len(f.memberMail.Sent())

		got, err := f.runExpiry(tc.day)

		tc.want.Day = tc.day
		if err != nil || *got != tc.want {
			t.Errorf("%s: Run = %+v, %v; want %+v", tc.day, got, err, tc.want)
		}
		var mails []string
		for _, m := range f.memberMail.Sent()[sent:] {
			mails = append(mails, m.Subject)
		}
		if tc.mail == "" {
			f.wantStrings(tc.day+": reminders", mails)
		} else {
			f.wantStrings(tc.day+": reminders", mails, tc.mail)
		}
	}

	got := f.get("mb-1")
	if f.lastTransition(got) != "REVOCATA system expired" {
		t.Errorf("last transition = %q, want revoked as expired", f.lastTransition(got))
	}
	f.wantStrings("outbox", f.outbox(), "delete "+mb.Address)
	if d := f.provider.Deactivated(); len(d) != 1 || d[0] != (fake.Deactivation{RequestID: "mb-1", Address: mb.Address, Reason: "expired"}) {
		t.Errorf("deactivated %v, want mb-1, expired", d)
	}
	to := f.memberMail.Sent()
	f.wantContains("the first reminder", to[0].Text, "30 giorni da oggi", "Ordine TSRM PSTRP di TO", "to@pec.ordine.example.it")
	f.wantContains("the second reminder", to[1].Text, "7 giorni da oggi")
	if to[0].To != "mario.bianchi1@example.it" {
		t.Errorf("reminded %s", to[0].To)
	}
}

func TestExpiryRun_ALateRunSendsOnlyTheNearestReminder(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata, expiresOn("2026-03-05"))

	if _, err := f.runExpiry("2026-03-02"); err != nil {
		t.Fatal(err)
	}

	if sent := f.memberMail.Sent(); len(sent) != 1 {
		t.Fatalf("%d reminders, want 1", len(sent))
	}
	f.wantContains("the reminder", f.memberMail.Sent()[0].Text, "3 giorni da oggi")
	if got := f.get("mb-1"); got.LastReminder != 7 {
		t.Errorf("last reminder = %d, want 7: the 30-day one is skipped, not sent late", got.LastReminder)
	}
}

func TestExpiryRun_AppliesAPaidRenewalTheWorkflowHasNotApplied(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata, expiresOn("2026-03-10"))
	f.mailbox(2, domain.StateAttivata, expiresOn("2026-03-01"))
	paid := f.submit(f.createRenewal(domain.RenewalSelection{MailboxIDs: []string{"mb-1"}}))
	f.createRenewal(domain.RenewalSelection{MailboxIDs: []string{"mb-2"}}) // never paid

	got, err := f.runExpiry("2026-03-02")

	if err != nil || got.Renewed != 1 || got.Revoked != 1 || got.Reminded != 0 {
		t.Fatalf("Run = %+v, %v; want mb-1 renewed and mb-2 revoked", got, err)
	}
	if mb := f.get("mb-1"); mb.ExpiresOn != "2029-03-10" || mb.RenewalBatchID != "" {
		t.Errorf("mb-1 = %+v, want valid until 2029-03-10", mb)
	}
	if r := f.provider.Renewed(); len(r) != 1 || r[0].RenewalID != paid.ID {
		t.Errorf("renewed %v, want mb-1 in %s", r, paid.ID)
	}
	if mb := f.get("mb-2"); mb.State != domain.StateRevocata {
		t.Errorf("mb-2 is %s, want REVOCATA: its renewal was never paid", mb.State)
	}
}

func TestExpiryRun_AFailedReminderIsSentByTheNextRun(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata, expiresOn("2026-04-01"))
	f.memberMail.Fail("Send", fake.ErrInjected)

	got, err := f.runExpiry("2026-03-02")
	if err == nil || got.Failed != 1 || got.Reminded != 0 {
		t.Fatalf("Run = %+v, %v; want one failure, reported", got, err)
	}
	if mb := f.get("mb-1"); mb.LastReminder != 0 || mb.ExpiryDueOn != "2026-03-02" {
		t.Fatalf("mb-1 = %+v, want the reminder given back, due today", mb)
	}

	got, err = f.runExpiry("2026-03-03")

	if err != nil || got.Reminded != 1 {
		t.Errorf("the next run = %+v, %v; want the reminder sent", got, err)
	}
}

func TestExpiryRun_PagesThroughEveryOrdersDueMailboxes(t *testing.T) {
	f := newFederation(t)
	mi := f.putOrder("MI", true)
	for n := 1; n <= 5; n++ {
		f.mailbox(n, domain.StateAttivata, expiresOn(fmt.Sprintf("2026-03-%02d", 10+n)))
		f.mailboxOf(mi, 10+n, domain.StateAttivata, expiresOn(fmt.Sprintf("2026-03-%02d", 10+n)))
	}
	f.mailbox(6, domain.StateAttivata, expiresOn("2026-09-01"))                                     // not due
	f.mailbox(7, domain.StateAbilitata, func(mb *domain.Mailbox) { mb.ExpiryDueOn = "2026-01-01" }) // never active

	got, err := f.runExpiry("2026-03-02")

	if err != nil || got.Reminded != 10 {
		t.Errorf("Run = %+v, %v; want 10 reminders, in pages of 2", got, err)
	}
}
