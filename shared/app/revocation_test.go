package app_test

import (
	"testing"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

func TestRevoke_FromEachStateTellsWhoeverMustKnow(t *testing.T) {
	for _, tc := range []struct {
		name        string
		state       domain.State
		park        domain.Park
		failures    []string // the parked step, told
		deactivated bool     // else the provider is told by the workflow, or never knew
		outbox      bool     // a domicilio digitale withdrawn
	}{
		{name: "RICHIESTA, unknown to the provider", state: domain.StateRichiesta},
		{name: "RICHIESTA_INVIATA, waiting for the provider", state: domain.StateRichiestaInviata,
			park: domain.Park{Token: "tok-1", Waiting: domain.WaitingProvider}, failures: []string{"tok-1 MailboxRevoked"}},
		{name: "ABILITATA, waiting for the member", state: domain.StateAbilitata,
			park: domain.Park{Token: "tok-2", Waiting: domain.WaitingMember}, failures: []string{"tok-2 MailboxRevoked"}},
		{name: "ABILITATA, nothing parked", state: domain.StateAbilitata, deactivated: true},
		{name: "ATTIVATA", state: domain.StateAttivata, deactivated: true, outbox: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFederation(t)
			mb := f.mailbox(1, tc.state, func(mb *domain.Mailbox) {
				mb.Park = tc.park
				mb.Activation.Hash = "h"
			})

			got, err := f.revocations.Revoke(f.ctx, staffOfTO, "mb-1", "  left   the Order ")
			if err != nil {
				t.Fatal(err)
			}

			if f.lastTransition(got) != "REVOCATA order:TO left the Order" || got.Park != (domain.Park{}) || got.Activation.Hash != "" {
				t.Errorf("mailbox = %+v, want REVOCATA by the Order, nothing parked, no link", got)
			}
			f.wantStrings("failed", f.failures(), tc.failures...)
			var want []fake.Deactivation
			if tc.deactivated {
				want = append(want, fake.Deactivation{RequestID: "mb-1", Address: mb.Address, Reason: "left the Order"})
			}
			if d := f.provider.Deactivated(); len(d) != len(want) || (len(d) == 1 && d[0] != want[0]) {
				t.Errorf("deactivated %v, want %v", d, want)
			}
			if tc.outbox {
				f.wantStrings("outbox", f.outbox(), "delete "+mb.Address)
			} else {
				f.wantStrings("outbox", f.outbox())
			}

			again, err := f.revocations.Revoke(f.ctx, theFederation, "mb-1", "again")
			if err != nil || again.Version != got.Version || f.lastTransition(again) != f.lastTransition(got) {
				t.Errorf("revoking again = %+v, %v; want a success that changes nothing", again, err)
			}
			f.wantStrings("failed", f.failures(), tc.failures...)
		})
	}
}

func TestRevoke_Refuses(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata)

	_, err := f.revocations.Revoke(f.ctx, staffOfTO, "mb-1", " ")
	f.wantCode(err, "invalid_reason")
	_, err = f.revocations.Revoke(f.ctx, staffOfMI, "mb-1", "not yours")
	f.wantCode(err, "mailbox_not_found")
	_, err = f.revocations.Revoke(f.ctx, staffOfTO, "nope", "no such mailbox")
	f.wantCode(err, "mailbox_not_found")

	if got := f.get("mb-1"); got.State != domain.StateAttivata {
		t.Errorf("state = %s", got.State)
	}
}

func TestRevoke_AnUnavailableProviderIsToldAgainOnTheRetry(t *testing.T) {
	f := newFederation(t)
	mb := f.mailbox(1, domain.StateAttivata)
	f.provider.Fail("Deactivate", fake.ErrUnavailable)

	_, err := f.revocations.Revoke(f.ctx, staffOfTO, "mb-1", "left")
	f.wantErr(err, fake.ErrUnavailable)
	if got := f.get("mb-1"); got.State != domain.StateRevocata {
		t.Fatalf("state = %s, want REVOCATA: the provider is told after", got.State)
	}
	if _, err := f.revocations.Revoke(f.ctx, staffOfTO, "mb-1", "left"); err != nil {
		t.Fatal(err)
	}

	if d := f.provider.Deactivated(); len(d) != 1 {
		t.Errorf("deactivated %v, want mb-1", d)
	}
	f.wantStrings("outbox", f.outbox(), "delete "+mb.Address)
}

func TestCancelMember_RecordsTheCancellationAndRevokesTheMailbox(t *testing.T) {
	f := newFederation(t)
	mb := f.mailbox(1, domain.StateAttivata)

	m, got, err := f.revocations.CancelMember(f.ctx, staffOfTO, "TO", f.cf(1).Value(), "2026-03-01", "trasferito")
	if err != nil {
		t.Fatal(err)
	}

	if m.CancelledOn != "2026-03-01" || m.CancelReason != "trasferito" {
		t.Errorf("member = %+v, want cancelled on 2026-03-01", m)
	}
	if f.lastTransition(got) != "REVOCATA order:TO member cancelled from the albo: trasferito" {
		t.Errorf("last transition = %q", f.lastTransition(got))
	}
	f.wantStrings("outbox", f.outbox(), "delete "+mb.Address)
	if d := f.provider.Deactivated(); len(d) != 1 || d[0].RequestID != "mb-1" {
		t.Errorf("deactivated %v, want mb-1", d)
	}
	f.wantStrings("audit", f.audit(), "federation order.created", "order:TO member.cancelled", "order:TO mailbox.revocata")

	if _, _, err := f.revocations.CancelMember(f.ctx, staffOfTO, "TO", f.cf(1).Value(), "2026-03-02", "again"); err != nil {
		t.Fatal(err)
	}
	if m := f.member(mb); m.CancelledOn != "2026-03-01" {
		t.Errorf("cancelled on %s after a repeat, want the first date", m.CancelledOn)
	}
	f.wantStrings("audit", f.audit(), "federation order.created", "order:TO member.cancelled", "order:TO mailbox.revocata")
	f.wantStrings("outbox", f.outbox(), "delete "+mb.Address)
}

func TestCancelMember_WithdrawsAnOwnPECFromINIPEC(t *testing.T) {
	f := newFederation(t)
	f.store.PutMember(&domain.Member{OrderID: "TO", CodiceFiscale: f.cf(1), Nome: "Mario", Cognome: "Bianchi", PEC: "mario@pec.altro.it"})

	m, mb, err := f.revocations.CancelMember(f.ctx, staffOfTO, "TO", f.cf(1).Value(), "2026-03-01", "deceduto")

	if err != nil || mb != nil || !m.Cancelled() {
		t.Fatalf("CancelMember = %+v, %+v, %v; want the member cancelled and no mailbox", m, mb, err)
	}
	f.wantStrings("outbox", f.outbox(), "delete mario@pec.altro.it")
}

func TestCancelMember_Refuses(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata)
	for _, tc := range []struct {
		name, cf, date string
		code           string
	}{
		{"a date in the future", f.cf(1).Value(), "2026-03-04", "invalid_date"},
		{"a malformed codice fiscale", "RSSMRA80A01H001X", "2026-03-01", "invalid_codice_fiscale"},
		{"a member not enrolled", f.cf(2).Value(), "2026-03-01", "member_not_found"},
	} {
		_, _, err := f.revocations.CancelMember(f.ctx, staffOfTO, "TO", tc.cf, tc.date, "trasferito")
		f.wantCode(err, tc.code)
	}
	_, _, err := f.revocations.CancelMember(f.ctx, staffOfMI, "TO", f.cf(1).Value(), "2026-03-01", "trasferito")
	f.wantErr(err, domain.ErrForbidden)

	if got := f.get("mb-1"); got.State != domain.StateAttivata || f.member(got).Cancelled() {
		t.Errorf("the member or the mailbox changed: %+v", got)
	}
}

func TestRevoke_AMailboxWhoseWorkflowEndedTellsTheProviderItself(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata)
	f.sendActivation(1, "tok-1")
	f.workflow.Gone("tok-1") // the reminders were exhausted; the mailbox still waits for its member

	if _, err := f.revocations.Revoke(f.ctx, staffOfTO, "mb-1", "left the Order"); err != nil {
		t.Fatal(err)
	}

	if got := f.provider.Deactivated(); len(got) != 1 || got[0].RequestID != "mb-1" {
		t.Errorf("provider told %+v, want mb-1 closed", got)
	}
	if s := f.workflow.Failed(); len(s) != 1 || s[0].Error != "MailboxRevoked" || !s[0].Gone {
		t.Errorf("failed %v, want the gone step failed with MailboxRevoked", s)
	}
}
