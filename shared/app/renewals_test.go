package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

func expiringOn(day string) func(*domain.Mailbox) {
	return func(mb *domain.Mailbox) { mb.ExpiresOn = day }
}

func inRenewal(batchID string) func(*domain.Mailbox) {
	return func(mb *domain.Mailbox) { mb.RenewalBatchID = batchID }
}

// renewalIDs returns the mailboxes of a renewal batch, as the store lists them.
func (f *federation) renewalIDs(batchID string) []string {
	f.t.Helper()
	ids, _, err := f.store.RenewalMailboxIDs(f.ctx, batchID, 100, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// runBatch runs a submitted batch's pages as its workflow does.
func (f *federation) runBatch(id string) {
	f.t.Helper()
	for cursor := ""; ; {
		next, err := f.batches.StartMailboxes(f.ctx, id, cursor)
		if err != nil {
			f.t.Fatal(err)
		}
		if cursor = next; cursor == "" {
			return
		}
	}
}

func (f *federation) createRenewal(sel domain.RenewalSelection) *domain.Batch {
	f.t.Helper()
	b, err := f.renewals.CreateRenewal(f.ctx, staffOfTO, "TO", sel)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func TestCreateRenewal_ByIDsGathersTheActiveMailboxes(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata)
	f.mailbox(2, domain.StateAttivata)
	f.mailbox(3, domain.StateAbilitata) // nothing to renew yet

	b := f.createRenewal(domain.RenewalSelection{MailboxIDs: []string{"mb-2", "mb-1", "mb-3", "mb-1"}})

	if !b.IsRenewal() || b.MailboxCount != 2 || b.AmountCents != 1220 || b.State != domain.BatchAwaitingAuthorization {
		t.Errorf("batch = %+v, want a renewal of 2 mailboxes for 12.20 euro, awaiting authorisation", b)
	}
	f.wantStrings("the batch's mailboxes", f.renewalIDs(b.ID), "mb-1", "mb-2")
	for id, want := range map[string]string{"mb-1": b.ID, "mb-2": b.ID, "mb-3": ""} {
		if got := f.get(id).RenewalBatchID; got != want {
			t.Errorf("%s is in renewal batch %q, want %q", id, got, want)
		}
	}
	f.wantStrings("batch workflows started", f.workflow.StartedBatches(), b.ID)
	f.wantStrings("audit", f.audit(), "federation order.created", "system batch.created", "order:TO batch.renewal_gathered")
	if o, _ := f.store.GetOrder(f.ctx, "TO"); o.BatchSeq != 0 {
		t.Errorf("the Order's issuance sequence moved to %d", o.BatchSeq)
	}

	if err := f.batches.AwaitAuthorization(f.ctx, b.ID, "tok-1"); err != nil {
		t.Fatal(err)
	}
	f.wantStrings("PEC to the Order", f.mails(f.orderMail),
		"to@pec.ordine.example.it: Richiesta di autorizzazione al rinnovo di 2 caselle PEC – lotto "+b.ID+" – Ordine TSRM PSTRP di TO")
}

func TestCreateRenewal_ByExpiryTakesTheMailboxesFreeToRenew(t *testing.T) {
	f := newFederation(t)
	for _, b := range []*domain.Batch{
		{ID: "open", OrderID: "TO", Kind: domain.BatchRenewal, MailboxCount: 1, CreatedAt: f.now.Add(-24 * time.Hour)},
		{ID: "abandoned", OrderID: "TO", Kind: domain.BatchRenewal, CreatedAt: f.now.Add(-11 * time.Minute)},
	} {
		if err := f.store.PutRenewalBatch(f.ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	f.mailbox(1, domain.StateAttivata, expiringOn("2026-04-01"))
	f.mailbox(2, domain.StateAttivata, expiringOn("2026-06-01"))                         // after the date
	f.mailbox(3, domain.StateAttivata, expiringOn("2026-05-01"), inRenewal("open"))      // taken
	f.mailbox(4, domain.StateAttivata, expiringOn("2026-04-15"), inRenewal("abandoned")) // cut off while gathering
	f.mailbox(5, domain.StateAttivata, expiringOn("2026-04-20"), inRenewal("deleted"))
	f.mailbox(6, domain.StateRevocata, expiringOn("2026-04-01"))
	f.mailboxOf(f.putOrder("MI", true), 7, domain.StateAttivata, expiringOn("2026-04-01"))

	b := f.createRenewal(domain.RenewalSelection{ExpiringBefore: "2026-05-15"})

	f.wantStrings("the batch's mailboxes", f.renewalIDs(b.ID), "mb-1", "mb-4", "mb-5")
	if b.MailboxCount != 3 || f.get("mb-3").RenewalBatchID != "open" {
		t.Errorf("batch of %d, mb-3 in %q; want 3, and mb-3 left in its open batch", b.MailboxCount, f.get("mb-3").RenewalBatchID)
	}
}

func TestCreateRenewal_NothingToRenewCreatesNoBatch(t *testing.T) {
	for name, sel := range map[string]domain.RenewalSelection{
		"ids of mailboxes not active":   {MailboxIDs: []string{"mb-1", "mb-2"}},
		"no mailbox expiring before":    {ExpiringBefore: "2026-01-01"},
		"ids of mailboxes in a renewal": {MailboxIDs: []string{"mb-3"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFederation(t)
			f.mailbox(1, domain.StateAbilitata)
			f.mailbox(2, domain.StateRevocata)
			f.mailbox(3, domain.StateAttivata)
			taken := f.createRenewal(domain.RenewalSelection{MailboxIDs: []string{"mb-3"}})

			_, err := f.renewals.CreateRenewal(f.ctx, staffOfTO, "TO", sel)

			f.wantErr(err, domain.ErrNothingToRenew)
			if page, _, _ := f.store.ListBatches(f.ctx, "TO", 10, ""); len(page) != 1 {
				t.Errorf("batches %v, want only the first renewal", page)
			}
			f.wantStrings("batch workflows started", f.workflow.StartedBatches(), taken.ID)
		})
	}
}

func TestCreateRenewal_Refuses(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata)
	f.mailboxOf(f.putOrder("MI", true), 2, domain.StateAttivata)

	_, err := f.renewals.CreateRenewal(f.ctx, staffOfTO, "TO", domain.RenewalSelection{MailboxIDs: []string{"mb-1", "nope"}})
	f.wantErr(err, domain.ErrUnknownMailbox)
	_, err = f.renewals.CreateRenewal(f.ctx, staffOfTO, "TO", domain.RenewalSelection{MailboxIDs: []string{"mb-1", "mb-2"}})
	f.wantErr(err, domain.ErrUnknownMailbox) // another Order's: not told apart from none
	_, err = f.renewals.CreateRenewal(f.ctx, staffOfTO, "TO", domain.RenewalSelection{MailboxIDs: []string{"mb-1"}, ExpiringBefore: "2030-01-01"})
	f.wantCode(err, "invalid_selection")
	_, err = f.renewals.CreateRenewal(f.ctx, staffOfMI, "TO", domain.RenewalSelection{MailboxIDs: []string{"mb-1"}})
	f.wantErr(err, domain.ErrForbidden)

	if page, _, _ := f.store.ListBatches(f.ctx, "TO", 10, ""); len(page) != 0 {
		t.Errorf("batches %v", page)
	}
	if got := f.get("mb-1"); got.RenewalBatchID != "" {
		t.Errorf("mb-1 marked for renewal %s", got.RenewalBatchID)
	}
}

func TestRenewMailboxes_RenewsAtTheProviderThenExtendsOnce(t *testing.T) {
	f := newFederation(t)
	var addresses []string
	for n := 1; n <= 3; n++ {
		addresses = append(addresses, f.mailbox(n, domain.StateAttivata).Address)
	}
	b := f.submit(f.createRenewal(domain.RenewalSelection{ExpiringBefore: "2030-01-01"}))

	f.runBatch(b.ID)
	f.runBatch(b.ID) // a repeated run renews nothing twice

	renewed := f.provider.Renewed()
	if len(renewed) != 3 || f.provider.Calls("Renew") != 3 {
		t.Fatalf("renewed %v in %d calls, want the 3 mailboxes once each", renewed, f.provider.Calls("Renew"))
	}
	for i, r := range renewed {
		if want := (app.RenewRequest{RequestID: fmt.Sprintf("mb-%d", i+1), ProviderRef: fmt.Sprintf("ref-mb-%d", i+1), RenewalID: b.ID, Address: addresses[i], ValidUntil: "2032-03-02"}); r != want {
			t.Errorf("renewal %d = %+v, want %+v", i, r, want)
		}
	}
	for n := 1; n <= 3; n++ {
		got := f.get(renewed[n-1].RequestID)
		if got.ExpiresOn != "2032-03-02" || got.RenewalBatchID != "" || got.LastReminder != 0 {
			t.Errorf("%s = %+v, want valid until 2032-03-02, out of the batch", got.ID, got)
		}
		if want := "ATTIVATA order:TO renewed until 2032-03-02 (batch " + b.ID + ")"; f.lastTransition(got) != want {
			t.Errorf("last transition = %q, want %q", f.lastTransition(got), want)
		}
	}
	f.wantStrings("outbox", f.outbox()) // the domicilio digitale does not change
	if got := f.workflow.StartedMailboxes(); len(got) != 0 {
		t.Errorf("a renewal started mailbox lifecycles %v", got)
	}
}

func TestRenewMailboxes_ARefusalIsLoggedAndSkipped(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata)
	f.mailbox(2, domain.StateAttivata)
	b := f.submit(f.createRenewal(domain.RenewalSelection{MailboxIDs: []string{"mb-1", "mb-2"}}))
	f.provider.Refuse("mb-1")

	f.runBatch(b.ID)

	if got := f.get("mb-1"); got.ExpiresOn != "2029-03-02" || got.RenewalBatchID != b.ID {
		t.Errorf("mb-1 = %+v, want unchanged and still in the batch, for operators", got)
	}
	if got := f.get("mb-2"); got.ExpiresOn != "2032-03-02" {
		t.Errorf("mb-2 expires on %s, want renewed", got.ExpiresOn)
	}
}

func TestRenewMailboxes_AnUnavailableProviderFailsThePageForTheRetry(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata)
	b := f.submit(f.createRenewal(domain.RenewalSelection{MailboxIDs: []string{"mb-1"}}))
	f.provider.Fail("Renew", fake.ErrUnavailable)

	_, err := f.batches.StartMailboxes(f.ctx, b.ID, "")
	f.wantErr(err, fake.ErrUnavailable)
	if got := f.get("mb-1"); got.ExpiresOn != "2029-03-02" {
		t.Fatalf("extended to %s though the provider was not told", got.ExpiresOn)
	}
	f.runBatch(b.ID)

	if got := f.get("mb-1"); got.ExpiresOn != "2032-03-02" {
		t.Errorf("expires on %s after the retry", got.ExpiresOn)
	}
}

func TestRenewMailboxes_SkipsAMailboxRevokedMeanwhile(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata)
	f.mailbox(2, domain.StateAttivata)
	b := f.submit(f.createRenewal(domain.RenewalSelection{MailboxIDs: []string{"mb-1", "mb-2"}}))
	if _, err := f.revocations.Revoke(f.ctx, staffOfTO, "mb-1", "left"); err != nil {
		t.Fatal(err)
	}

	f.runBatch(b.ID)

	if r := f.provider.Renewed(); len(r) != 1 || r[0].RequestID != "mb-2" {
		t.Errorf("renewed %v, want only mb-2", r)
	}
}

func TestRenewMailboxes_OnlyOnceConfirmedAndPaid(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata)
	b := f.createRenewal(domain.RenewalSelection{MailboxIDs: []string{"mb-1"}})

	if _, err := f.batches.StartMailboxes(f.ctx, b.ID, ""); err == nil {
		t.Fatal("renewed an unpaid batch")
	}
	if n := f.provider.Calls("Renew"); n != 0 {
		t.Errorf("%d renewals", n)
	}
}
