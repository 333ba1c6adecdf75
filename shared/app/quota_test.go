package app_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

func (f *federation) quotaWatch() *app.QuotaWatch {
	return &app.QuotaWatch{Store: f.store, Status: f.provider, MemberMail: f.memberMail, OrderMail: f.orderMail,
		Now: func() time.Time { return f.now }, Log: slog.New(slog.DiscardHandler)}
}

// uses makes the provider report the mailbox's storage as pct per cent of 100 MiB.
func (f *federation) uses(mb *domain.Mailbox, pct int64) {
	f.provider.SetStatus(mb.Address, app.ProviderStatus{Outcome: app.ProviderCreated, Quota: &app.Quota{UsedBytes: pct << 20, LimitBytes: 100 << 20}})
}

func TestQuotaWatch_WarnsAt90AndTellsTheOrderAt100OncePerCrossing(t *testing.T) {
	f := newFederation(t)
	w := f.quotaWatch()
	a, b := f.mailbox(1, domain.StateAttivata), f.mailbox(2, domain.StateAttivata)
	f.mailbox(3, domain.StateAbilitata) // not active: not asked
	f.uses(a, 89)
	f.uses(b, 10)

	run := func() app.QuotaReport { // a week later each time
		t.Helper()
		f.now = f.now.Add(7 * 24 * time.Hour)
		rep, err := w.Run(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := run(); rep.Asked != 2 || rep.Warned != 0 || rep.Full != 0 {
		t.Fatalf("89%%: %+v", rep)
	}
	f.uses(a, 90)
	if rep := run(); rep.Warned != 1 {
		t.Fatalf("90%%: %+v", rep)
	}
	f.wantStrings("member e-mails", f.mails(f.memberMail), "mario.bianchi1@example.it: La casella PEC mario.bianchi1@pec.tsrm.org è quasi piena")
	f.uses(a, 95)
	run()
	if n := len(f.memberMail.Sent()); n != 1 {
		t.Errorf("95%% after 90%%: %d e-mails, want still 1", n)
	}
	if got := f.get(a.ID); got.QuotaAlert != 90 || got.Quota.UsedBytes != 95<<20 || !got.Quota.At.Equal(f.now) {
		t.Errorf("mailbox quota %+v alert %d", got.Quota, got.QuotaAlert)
	}

	// Both full at once: one PEC to the Order lists them; b's member, never warned, is warned now.
	f.uses(a, 100)
	f.uses(b, 100)
	rep := run()
	if rep.Full != 2 || rep.Orders != 1 || rep.Warned != 1 {
		t.Fatalf("100%%: %+v", rep)
	}
	pecs := f.orderMail.Sent()
	if len(pecs) != 1 || pecs[0].To != f.order.PEC || !strings.Contains(pecs[0].Subject, "2 caselle PEC piene") ||
		!strings.Contains(pecs[0].Text, a.Address) || !strings.Contains(pecs[0].Text, b.Address) {
		t.Fatalf("Order PECs %+v", pecs)
	}
	run()
	if n := len(f.orderMail.Sent()); n != 1 {
		t.Errorf("full again: %d PECs, want still 1", n)
	}
	// Freed, then full again: a new crossing, told again.
	f.uses(a, 40)
	run()
	if got := f.get(a.ID); got.QuotaAlert != 0 {
		t.Errorf("alert after freeing space: %d", got.QuotaAlert)
	}
	f.uses(a, 91)
	run()
	f.uses(a, 100)
	run()
	if m, p := len(f.memberMail.Sent()), len(f.orderMail.Sent()); m != 3 || p != 2 {
		t.Errorf("after a second crossing: %d e-mails and %d PECs, want 3 (warned at 91%%, not again at 100%%) and 2", m, p)
	}
	for _, m := range append(f.memberMail.Sent(), f.orderMail.Sent()...) {
		if strings.Contains(m.Text, string(f.cf(1))) || strings.Contains(m.Text, string(f.cf(2))) {
			t.Errorf("a codice fiscale in %q", m.Subject)
		}
	}
}

func TestQuotaWatch_AFailureOnOneMailboxLeavesTheOthersAndTheBudgetHolds(t *testing.T) {
	f := newFederation(t)
	w := f.quotaWatch()
	for n := 1; n <= 3; n++ {
		f.uses(f.mailbox(n, domain.StateAttivata), 92)
	}
	f.provider.Fail("Status", fake.ErrInjected) // the first question fails
	w.Budget = 2
	rep, err := w.Run(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Asked != 2 || rep.Failed != 1 || rep.Warned != 1 || rep.LeftOver != 1 {
		t.Errorf("report %+v", rep)
	}
	w.Budget = 0
	rep, _ = w.Run(f.ctx) // the same day: the mailbox read is fresh, the others are asked
	if rep.Warned != 2 || rep.Fresh != 1 || len(f.memberMail.Sent()) != 3 {
		t.Errorf("the next run %+v, %d e-mails: want the two not yet warned", rep, len(f.memberMail.Sent()))
	}
}

func TestQuotaWatch_AProviderThatDoesNotTellIsLeftAlone(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata)
	rep, err := f.quotaWatch().Run(f.ctx)
	if err != nil || rep.Unknown != 1 || len(f.memberMail.Sent()) != 0 {
		t.Errorf("report %+v, %v", rep, err)
	}
}

func TestQuotaWatch_AFailedWarningIsNotSentTwice(t *testing.T) {
	f := newFederation(t)
	f.uses(f.mailbox(1, domain.StateAttivata), 93)
	f.memberMail.Fail("Send", fake.ErrInjected)
	w := f.quotaWatch()
	if rep, _ := w.Run(f.ctx); rep.Failed != 1 || rep.Warned != 0 {
		t.Fatalf("report %+v", rep)
	}
	f.now = f.now.Add(7 * 24 * time.Hour)
	w.Run(f.ctx)
	if n := len(f.memberMail.Sent()); n != 0 {
		t.Errorf("%d e-mails: the threshold was recorded before the send, at most once", n)
	}
}
