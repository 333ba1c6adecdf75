package domain

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newTestMailbox() *Mailbox {
	return NewMailbox("mbx1", "mario.rossi@pec.tsrm.org", "TSRM-FI", "TSRM", "ZRZCRL72R10H501D", t0, "order:TSRM-FI")
}

func TestMailbox_ForwardPathRecordsEveryStep(t *testing.T) {
	m := newTestMailbox()
	for i, s := range []State{StateRichiestaInviata, StateAbilitata, StateAttivata} {
		changed, err := m.Transition(s, t0.Add(time.Duration(i+1)*time.Hour), "system", "")
		if err != nil || !changed {
			t.Fatalf("to %s: changed=%v err=%v", s, changed, err)
		}
	}
	if m.State != StateAttivata || len(m.History) != 4 {
		t.Fatalf("state %s, history %d entries", m.State, len(m.History))
	}
	if !m.UpdatedAt.Equal(t0.Add(3 * time.Hour)) {
		t.Errorf("UpdatedAt = %v", m.UpdatedAt)
	}
}

func TestMailbox_LateOrRepeatedEventIsNoOp(t *testing.T) {
	m := newTestMailbox()
	mustMove(t, m, StateRichiestaInviata)
	mustMove(t, m, StateAbilitata)
	for _, s := range []State{StateAbilitata, StateRichiestaInviata, StateRichiesta} {
		changed, err := m.Transition(s, t0, "provider", "")
		if err != nil || changed {
			t.Errorf("to %s from ABILITATA: changed=%v err=%v, want a silent no-op", s, changed, err)
		}
	}
	if len(m.History) != 3 {
		t.Errorf("history grew on no-ops: %d", len(m.History))
	}
}

func TestMailbox_SkippingAStepIsAnError(t *testing.T) {
	m := newTestMailbox()
	if _, err := m.Transition(StateAttivata, t0, "member", ""); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("RICHIESTA -> ATTIVATA: err = %v", err)
	}
	if m.State != StateRichiesta || len(m.History) != 1 {
		t.Fatalf("a refused transition changed the mailbox")
	}
}

func TestMailbox_RevocationFromAnyStateIsTerminal(t *testing.T) {
	for _, from := range []State{StateRichiesta, StateRichiestaInviata, StateAbilitata, StateAttivata} {
		m := newTestMailbox()
		for m.State != from {
			mustMove(t, m, forward[indexOf(m.State)+1])
		}
		changed, err := m.Transition(StateRevocata, t0, "order:TSRM-FI", "cancelled")
		if err != nil || !changed || m.State != StateRevocata {
			t.Fatalf("revoke from %s: changed=%v err=%v", from, changed, err)
		}
		last := m.History[len(m.History)-1]
		if last.Reason != "cancelled" || last.Actor != "order:TSRM-FI" {
			t.Errorf("audit entry %+v", last)
		}
		for _, s := range States {
			if changed, err := m.Transition(s, t0, "x", ""); changed || err != nil {
				t.Errorf("after REVOCATA, to %s: changed=%v err=%v", s, changed, err)
			}
		}
	}
}

func TestParseState(t *testing.T) {
	for _, s := range States {
		if got, err := ParseState(string(s)); err != nil || got != s {
			t.Errorf("ParseState(%s) = %v, %v", s, got, err)
		}
	}
	var e *Error
	if _, err := ParseState("attivata"); !errors.As(err, &e) || e.Field != "state" {
		t.Errorf("lower case accepted or field not named: %v", err)
	}
}

func mustMove(t *testing.T, m *Mailbox, to State) {
	t.Helper()
	if changed, err := m.Transition(to, t0, "system", ""); err != nil || !changed {
		t.Fatalf("to %s: changed=%v err=%v", to, changed, err)
	}
}

func indexOf(s State) int {
	for i, f := range forward {
		if f == s {
			return i
		}
	}
	return -1
}

func TestMailbox_ActivationLinkWorksOnlyWhileCurrentUnexpiredAndAbilitata(t *testing.T) {
	m := newTestMailbox()
	mustMove(t, m, StateRichiestaInviata)
	mustMove(t, m, StateAbilitata)
	m.Activation = Activation{Hash: "h1", ExpiresAt: t0.Add(time.Hour)}
	if !m.ActivationUsable("h1", t0) {
		t.Fatal("current link refused")
	}
	if m.ActivationUsable("h0", t0) {
		t.Error("a superseded link works")
	}
	if m.ActivationUsable("h1", t0.Add(time.Hour)) {
		t.Error("an expired link works")
	}
	mustMove(t, m, StateAttivata)
	if m.ActivationUsable("h1", t0) {
		t.Error("a link works after activation")
	}
}

func TestMailbox_UnparkOnlyWhatWaitsForThatOutcome(t *testing.T) {
	m := newTestMailbox()
	m.Park = Park{Token: "tok", Waiting: WaitingProvider}
	if _, ok := m.Unpark(WaitingMember); ok || m.Park.Token == "" {
		t.Fatal("a member outcome unparked the provider's step")
	}
	if tok, ok := m.Unpark(WaitingProvider); !ok || tok != "tok" || m.Park.Token != "" {
		t.Fatalf("unpark = %q %v, park now %+v", tok, ok, m.Park)
	}
	if m.KnownToProvider() {
		t.Error("a RICHIESTA mailbox is known to the provider")
	}
	mustMove(t, m, StateRichiestaInviata)
	if _, err := m.Transition(StateRevocata, t0, "x", "y"); err != nil || !m.KnownToProvider() {
		t.Error("a submitted then revoked mailbox is not known to the provider")
	}
}
