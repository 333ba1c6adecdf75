package app_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

// polled makes the federation's provider one that is asked, not one that calls back.
func (f *federation) polled() *app.ProviderPolls {
	f.provisioning.Status = f.provider
	return &app.ProviderPolls{Store: f.store, Provisioning: f.provisioning, Now: func() time.Time { return f.now }}
}

func TestCheckProvider_AppliesTheOutcomeOnceAsACallbackWould(t *testing.T) {
	f := newFederation(t)
	f.polled()
	mb := f.mailbox(1, domain.StateRichiestaInviata, withPark("tok-1", domain.WaitingProvider))

	if out, err := f.provisioning.CheckProvider(f.ctx, "mb-1"); err != nil || out != app.CheckPending {
		t.Fatalf("check = %q, %v; want pending while the provider has no outcome", out, err)
	}
	if got := f.get("mb-1"); got.State != domain.StateRichiestaInviata || len(f.workflow.Signals()) != 0 {
		t.Fatalf("pending moved the mailbox to %s or told the workflow %v", got.State, f.workflow.Signals())
	}

	f.provider.SetStatus(mb.Address, app.ProviderStatus{Outcome: app.ProviderCreated, ProviderRef: "acc-1", State: "CERTIFICATO"})
	for range 3 { // repeated and late polls
		if _, err := f.provisioning.CheckProvider(f.ctx, "mb-1"); err != nil {
			t.Fatal(err)
		}
	}
	got := f.get("mb-1")
	if got.State != domain.StateAbilitata || got.ProviderRef != "acc-1" {
		t.Errorf("mailbox %s ref %q, want ABILITATA with the provider's reference", got.State, got.ProviderRef)
	}
	f.wantStrings("resumed", f.workflow.Resumed(), "tok-1")
	f.wantStrings("history", f.transitions(got)[2:], "ABILITATA provider created")
	if n := f.provider.Calls("Status"); n != 2 {
		t.Errorf("%d status calls, want 2: a mailbox that waits on nothing is not asked about", n)
	}
}

func TestCheckProvider_ARejectionFailsTheParkedStep(t *testing.T) {
	f := newFederation(t)
	f.polled()
	mb := f.mailbox(1, domain.StateRichiestaInviata, withPark("tok-1", domain.WaitingProvider))
	f.provider.SetStatus(mb.Address, app.ProviderStatus{Outcome: app.ProviderRejected, State: "ANNULLATO", Reason: "invalid_owner"})

	if out, err := f.provisioning.CheckProvider(f.ctx, "mb-1"); err != nil || out != app.CheckApplied {
		t.Fatalf("check = %q, %v", out, err)
	}
	if got := f.lastTransition(f.get("mb-1")); got != "REVOCATA provider rejected: ANNULLATO: invalid_owner" {
		t.Errorf("last transition %q", got)
	}
	f.wantStrings("failed", f.failures(), "tok-1 MailboxRejected")
}

func TestCheckProvider_NeedsAStatusReader(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiestaInviata)
	if _, err := f.provisioning.CheckProvider(f.ctx, "mb-1"); err == nil {
		t.Fatal("checked without a way to ask the provider")
	}
}

func TestProviderPolls_AsksOnlyWhatWaitsAndIsDueWithBackoffAndABudget(t *testing.T) {
	f := newFederation(t)
	polls := f.polled()
	for n := 1; n <= 4; n++ {
		f.mailbox(n, domain.StateRichiestaInviata, withPark("tok", domain.WaitingProvider))
	}
	f.mailbox(5, domain.StateAttivata)
	f.mailbox(6, domain.StateRichiesta)
	fresh := f.mailbox(7, domain.StateRichiestaInviata, func(mb *domain.Mailbox) { mb.UpdatedAt = f.now }) // just submitted
	f.provider.SetStatus(f.get("mb-2").Address, app.ProviderStatus{Outcome: app.ProviderCreated})
	f.provider.Fail("Status", fake.ErrInjected) // the first question fails

	polls.Budget = 3
	rep, err := polls.Run(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep != (app.PollReport{Asked: 3, Applied: 1, Pending: 1, Failed: 1, NotDue: 1, LeftOver: 1}) {
		t.Errorf("report %+v", rep)
	}
	if got := f.get("mb-2"); got.State != domain.StateAbilitata {
		t.Errorf("mb-2 %s, want ABILITATA", got.State)
	}
	// A failed or pending question comes back later, each time later still.
	for _, id := range []string{"mb-1", "mb-3"} {
		if got := f.get(id); got.Poll != (domain.Poll{Attempts: 1, NextAt: f.now.Add(2 * time.Minute)}) {
			t.Errorf("%s poll %+v, want asked again in 2 minutes", id, got.Poll)
		}
	}
	if got := f.get(fresh.ID); got.Poll != (domain.Poll{}) {
		t.Errorf("a mailbox submitted this minute was asked about: %+v", got.Poll)
	}

	f.now = f.now.Add(time.Minute)
	polls.Budget = 0
	if rep, _ = polls.Run(f.ctx); rep.Asked != 2 || rep.NotDue != 2 { // mb-4 left over, mb-7 now due; mb-1, mb-3 wait
		t.Errorf("second run %+v, want mb-4 and mb-7 asked, mb-1 and mb-3 not yet due", rep)
	}
	f.now = f.now.Add(time.Minute)
	polls.Run(f.ctx)
	if got := f.get("mb-1"); got.Poll.Attempts != 2 || !got.Poll.NextAt.Equal(f.now.Add(4*time.Minute)) {
		t.Errorf("mb-1 poll %+v, want the wait doubled", got.Poll)
	}
	f.now = f.now.Add(48 * time.Hour)
	for range 12 {
		polls.Run(f.ctx)
		f.now = f.now.Add(2 * time.Hour)
	}
	if got := f.get("mb-1"); got.Poll.NextAt.Sub(f.now) > time.Hour {
		t.Errorf("mb-1 next poll in %s, want at most an hour", got.Poll.NextAt.Sub(f.now))
	}
}

func TestSubmitMailbox_AnAddressTakenAtTheProviderIsNeverOfferedAgain(t *testing.T) {
	f := newFederation(t)
	f.provisioning.Addresses = f.provider
	f.mailbox(1, domain.StateRichiesta) // mario.bianchi1
	f.provider.TakeOutside("mario.bianchi1@pec.tsrm.org")
	// mario.bianchi (homonym number 0) is free here, but taken at the provider as well.
	f.provider.TakeOutside("mario.bianchi@pec.tsrm.org")

	if err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1"); err != nil {
		t.Fatal(err)
	}

	got := f.get("mb-1")
	if got.Address != "mario.bianchi2@pec.tsrm.org" || got.State != domain.StateRichiestaInviata {
		t.Fatalf("mailbox %s at %s, want RICHIESTA_INVIATA on the next number free both here and at the provider", got.State, got.Address)
	}
	if sub := f.provider.Submitted(); len(sub) != 1 || sub[0].Address != got.Address {
		t.Errorf("submitted %+v, want the new address", sub)
	}
	f.wantStrings("taken at the provider", f.store.TakenAtProvider(), "mario.bianchi1@pec.tsrm.org", "mario.bianchi@pec.tsrm.org")
	f.wantContains("history", strings.Join(f.transitions(got), "\n"),
		"address mario.bianchi1@pec.tsrm.org is taken at the provider: now mario.bianchi@pec.tsrm.org",
		"address mario.bianchi@pec.tsrm.org is taken at the provider: now mario.bianchi2@pec.tsrm.org")
	// The given-up addresses stay reserved, for nobody.
	taken, _ := f.store.TakenAddresses(f.ctx, []string{"mario.bianchi@pec.tsrm.org", "mario.bianchi1@pec.tsrm.org"})
	if len(taken) != 2 {
		t.Errorf("taken %v: the addresses given up must never be offered again", taken)
	}
	if _, err := f.store.MailboxIDForAddress(f.ctx, "mario.bianchi1@pec.tsrm.org"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("the given-up address still leads to a mailbox: %v", err)
	}
	// A retried submission neither moves the address again nor asks for a second mailbox.
	f.store.PutMailbox(withState(f.get("mb-1"), domain.StateRichiesta))
	if err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1"); err != nil {
		t.Fatal(err)
	}
	if got := f.get("mb-1"); got.Address != "mario.bianchi2@pec.tsrm.org" {
		t.Errorf("retry moved the address to %s", got.Address)
	}
}

func TestSubmitMailbox_AnUnansweredAvailabilityCheckIsRetried(t *testing.T) {
	f := newFederation(t)
	f.provisioning.Addresses = f.provider
	f.mailbox(1, domain.StateRichiesta)
	f.provider.Fail("AddressAvailable", fake.ErrInjected)

	err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1")
	if !errors.Is(err, fake.ErrInjected) {
		t.Fatalf("err = %v, want the provider's unavailability for the state machine to retry", err)
	}
	if n := f.provider.Calls("Submit"); n != 0 {
		t.Errorf("%d submissions before the address was known to be free", n)
	}
	if err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1"); err != nil {
		t.Fatal(err)
	}
	if got := f.get("mb-1"); got.State != domain.StateRichiestaInviata || got.ProviderRef == "" {
		t.Errorf("mailbox %+v after the retry", got)
	}
}

// withState rewinds a seeded mailbox to a state, for a retry.
func withState(mb *domain.Mailbox, st domain.State) *domain.Mailbox {
	mb.State = st
	mb.ProviderRef = ""
	return mb
}
