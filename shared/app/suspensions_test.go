package app_test

import (
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

func (f *federation) suspensions(p domain.SuspensionPolicy) *app.Suspensions {
	return &app.Suspensions{Store: f.store, Revocations: f.revocations, Policy: p, Now: func() time.Time { return f.now }}
}

var disciplinary = domain.SuspensionInput{From: "2026-03-01", To: "2026-06-30", Kind: domain.SuspensionDisciplinary, Reason: "delibera n. 4"}

func TestSuspend_UnderEachPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy          domain.SuspensionPolicy
		state           domain.State // of the active mailbox, after the suspension
		afterSuspension []string     // INI-PEC changes
		afterReinstate  []string
	}{
		{domain.SuspendKeep, domain.StateAttivata, nil, nil},
		{domain.SuspendUnpublish, domain.StateAttivata, []string{"delete mario.bianchi1@pec.tsrm.org"},
			[]string{"delete mario.bianchi1@pec.tsrm.org", "insert mario.bianchi1@pec.tsrm.org"}},
		{domain.SuspendRevoke, domain.StateRevocata, []string{"delete mario.bianchi1@pec.tsrm.org"}, []string{"delete mario.bianchi1@pec.tsrm.org"}},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			f := newFederation(t)
			f.mailbox(1, domain.StateAttivata)
			su := f.suspensions(tc.policy)
			m, mb, err := su.Suspend(f.ctx, segreteria, "TO", f.cf(1).Value(), disciplinary)
			if err != nil {
				t.Fatal(err)
			}
			if m.Suspension == nil || !m.Suspension.InForce("2026-03-02") || m.Suspension.InForce("2026-07-01") || mb.State != tc.state {
				t.Errorf("member %+v, mailbox %s", m.Suspension, mb.State)
			}
			f.wantStrings("outbox", f.outbox(), tc.afterSuspension...)
			// The same suspension again: nothing new. Another one: refused.
			if _, _, err := su.Suspend(f.ctx, segreteria, "TO", f.cf(1).Value(), disciplinary); err != nil {
				t.Errorf("the same suspension again: %v", err)
			}
			other := disciplinary
			other.Reason = "delibera n. 5"
			_, _, err = su.Suspend(f.ctx, segreteria, "TO", f.cf(1).Value(), other)
			f.wantCode(err, "already_suspended")

			m, _, err = su.Reinstate(f.ctx, segreteria, "TO", f.cf(1).Value())
			if err != nil || m.Suspension != nil {
				t.Fatalf("reinstated %+v %v", m, err)
			}
			f.wantStrings("outbox", f.outbox(), tc.afterReinstate...)
			_, _, err = su.Reinstate(f.ctx, segreteria, "TO", f.cf(1).Value())
			f.wantCode(err, "not_suspended")
			wantAudit := []string{"order:TO/segreteria@ordine.example member.suspended", "order:TO/segreteria@ordine.example member.reinstated"}
			if tc.policy == domain.SuspendRevoke {
				wantAudit = []string{"order:TO/segreteria@ordine.example member.suspended", "order:TO/segreteria@ordine.example mailbox.revocata",
					"order:TO/segreteria@ordine.example member.reinstated"}
			}
			f.wantStrings("audit", f.audit()[1:], wantAudit...)
		})
	}
}

func TestSuspend_Art37EndsWhenTheMemberGivesADomicilio(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRevocata)
	su := f.suspensions(domain.SuspendUnpublish)
	in := domain.SuspensionInput{From: "2026-03-01", Kind: domain.SuspensionArt37, Reason: "diffida del 1 febbraio 2026 senza risposta"}
	if _, _, err := su.Suspend(f.ctx, segreteria, "TO", f.cf(1).Value(), in); err != nil {
		t.Fatal(err)
	}
	k := f.corrections()
	k.Suspensions = su
	m, _, err := k.Correct(f.ctx, segreteria, "TO", f.cf(1).Value(), domain.Correction{PEC: str("mario@pec.altro.it")})
	if err != nil || m.Suspension != nil {
		t.Fatalf("after the own PEC: %+v %v", m.Suspension, err)
	}
	// Given while suspended and unpublished, the PEC reaches INI-PEC at the reinstatement.
	f.wantStrings("outbox", f.outbox(), "insert mario@pec.altro.it")
	f.wantStrings("audit", f.audit()[len(f.audit())-1:], "system member.reinstated")
}

func TestSuspend_RefusesWhatItShould(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata)
	su := f.suspensions(domain.SuspendKeep)
	for _, tc := range []struct {
		in   domain.SuspensionInput
		code string
	}{
		{domain.SuspensionInput{From: "ieri", Kind: domain.SuspensionDisciplinary, Reason: "x"}, "invalid_from"},
		{domain.SuspensionInput{From: "2026-04-01", Kind: domain.SuspensionDisciplinary, Reason: "x"}, "invalid_from"}, // after today
		{domain.SuspensionInput{From: "2026-03-01", To: "2026-02-01", Kind: domain.SuspensionDisciplinary, Reason: "x"}, "invalid_to"},
		{domain.SuspensionInput{From: "2026-03-01", Kind: "other", Reason: "x"}, "invalid_kind"},
		{domain.SuspensionInput{From: "2026-03-01", Kind: domain.SuspensionDisciplinary}, "invalid_reason"},
	} {
		_, _, err := su.Suspend(f.ctx, segreteria, "TO", f.cf(1).Value(), tc.in)
		f.wantCode(err, tc.code)
	}
	_, _, err := su.Suspend(f.ctx, staffOfMI, "TO", f.cf(1).Value(), disciplinary)
	f.wantCode(err, "forbidden")
}

func TestSuspend_ASuspensionWithAnEndEndsByItself(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata)
	f.mailbox(2, domain.StateAttivata)
	su := f.suspensions(domain.SuspendUnpublish)
	ending := domain.SuspensionInput{From: "2026-03-01", To: "2026-03-10", Kind: domain.SuspensionDisciplinary, Reason: "delibera n. 4"}
	open := domain.SuspensionInput{From: "2026-03-01", Kind: domain.SuspensionDisciplinary, Reason: "delibera n. 5"}
	for n, in := range []domain.SuspensionInput{1: ending, 2: open} {
		if n == 0 {
			continue
		}
		if _, _, err := su.Suspend(f.ctx, segreteria, "TO", f.cf(n).Value(), in); err != nil {
			t.Fatal(err)
		}
	}
	for day, want := range map[string]int{"2026-03-10": 0, "2026-03-11": 1} {
		today, _ := time.Parse(time.DateOnly, day)
		n, err := su.EndDue(f.ctx, f.store, today)
		if err != nil || n != want {
			t.Errorf("as of %s: %d reinstated, %v; want %d", day, n, err, want)
		}
	}
	if m := f.member(f.get("mb-1")); m.Suspension != nil {
		t.Errorf("the suspension with an end is still there: %+v", m.Suspension)
	}
	if m := f.member(f.get("mb-2")); m.Suspension == nil {
		t.Error("the open-ended suspension ended")
	}
	f.wantStrings("outbox", f.outbox(), "delete mario.bianchi1@pec.tsrm.org", "delete mario.verdi2@pec.tsrm.org", "insert mario.bianchi1@pec.tsrm.org")
}
