package domain

import "testing"

func TestMailboxPublication_OnlyActivationAndItsRevocationReachINIPEC(t *testing.T) {
	m := newTestMailbox()
	step := func(to State) (*Mailbox, *Mailbox) {
		before := *m
		mustMove(t, m, to)
		return &before, m
	}
	for _, to := range []State{StateRichiestaInviata, StateAbilitata} {
		if p := MailboxPublication(step(to)); p != nil {
			t.Fatalf("to %s published %+v", to, p)
		}
	}
	if p := MailboxPublication(step(StateAttivata)); p == nil || p.Kind != PublishInsert || p.Address != m.Address {
		t.Fatalf("activation: %+v", p)
	}
	if p := MailboxPublication(step(StateRevocata)); p == nil || p.Kind != PublishDelete {
		t.Fatalf("revocation after activation: %+v", p)
	}
	never := newTestMailbox()
	before := *never
	never.Transition(StateRevocata, t0, "x", "y")
	if p := MailboxPublication(&before, never); p != nil {
		t.Errorf("a mailbox never activated published %+v", p)
	}
}

func TestMemberPublication(t *testing.T) {
	base := Member{OrderID: "O", CodiceFiscale: "ZRZCRL72R10H501D"}
	withPEC := base
	withPEC.PEC = "a@pec.it"
	other := base
	other.PEC = "b@pec.it"
	cancelled := withPEC
	cancelled.CancelledOn = "2026-11-20"
	for _, tc := range []struct {
		name          string
		before, after *Member
		want          PublicationKind
		addr          string
	}{
		{"enrolled with own PEC", nil, &withPEC, PublishInsert, "a@pec.it"},
		{"enrolled without", nil, &base, "", ""},
		{"own PEC given later", &base, &withPEC, PublishInsert, "a@pec.it"},
		{"own PEC changed", &withPEC, &other, PublishUpdate, "b@pec.it"},
		{"left the albo", &withPEC, &cancelled, PublishDelete, "a@pec.it"},
		{"nothing changed", &withPEC, &withPEC, "", ""},
	} {
		p := MemberPublication(tc.before, tc.after)
		switch {
		case tc.want == "" && p != nil:
			t.Errorf("%s: published %+v", tc.name, p)
		case tc.want != "" && (p == nil || p.Kind != tc.want || p.Address != tc.addr):
			t.Errorf("%s: %+v, want %s %s", tc.name, p, tc.want, tc.addr)
		}
	}
}
