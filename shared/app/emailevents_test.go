package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

// emailFixture sends the members' e-mails through TrackedMail, as the functions do.
func emailFixture(t *testing.T) (*federation, *app.EmailEvents) {
	f := newFederation(t)
	clock := func() time.Time { return f.now }
	f.activations.ActivationMail = &app.TrackedMail{Next: f.memberMail, Store: f.store, Log: discard, Now: clock}
	return f, &app.EmailEvents{Store: f.store, OrderMail: f.orderMail, Metrics: &fake.Metrics{}, Log: discard, Now: clock}
}

// lastMessageID is the id the fake mailer gave its last message.
func lastMessageID(m *fake.Mailer) string {
	return fmt.Sprintf("fake-message-%d", len(m.Sent()))
}

func TestEmailEvents_ABounceAndAComplaintReachTheDigestOnce(t *testing.T) {
	f, ev := emailFixture(t)
	f.mailbox(1, domain.StateAbilitata)
	f.mailbox(2, domain.StateAbilitata)
	f.sendActivation(1, "tok-1")
	first := lastMessageID(f.memberMail)
	f.sendActivation(2, "tok-2")
	second := lastMessageID(f.memberMail)

	// A soft bounce says nothing; a permanent one marks the address.
	if err := ev.Apply(f.ctx, app.EmailEvent{MessageID: first, Tags: map[string][]string{app.TagMailbox: {"mb-1"}}, Kind: domain.EmailBounced, Recipients: []string{"mario.bianchi1@example.it"}}); err != nil {
		t.Fatal(err)
	}
	if m := f.member(f.get("mb-1")); m.EmailProblem != nil {
		t.Fatalf("a transient bounce marked the address: %+v", m.EmailProblem)
	}
	for range 2 { // EventBridge may deliver an event twice
		if err := ev.Apply(f.ctx, app.EmailEvent{MessageID: first, Tags: map[string][]string{app.TagMailbox: {"mb-1"}}, Kind: domain.EmailBounced, Permanent: true, Recipients: []string{"Mario.Bianchi1@example.it"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ev.Apply(f.ctx, app.EmailEvent{MessageID: second, Tags: map[string][]string{app.TagMailbox: {"mb-2"}}, Kind: domain.EmailComplained, Recipients: []string{"mario.verdi2@example.it"}}); err != nil {
		t.Fatal(err)
	}
	if n := ev.Metrics.(*fake.Metrics).Counts()[app.MetricBounces]; n != 1 {
		t.Errorf("Bounces metric = %v, want 1 (the duplicate event and the complaint count nothing)", n)
	}
	m1, mb1 := f.member(f.get("mb-1")), f.get("mb-1")
	if m1.EmailProblem == nil || m1.EmailProblem.Kind != domain.EmailBounced || mb1.MemberEmail != domain.EmailBounced {
		t.Errorf("member 1: %+v, mailbox %q", m1.EmailProblem, mb1.MemberEmail)
	}
	if m2 := f.member(f.get("mb-2")); m2.EmailProblem == nil || m2.EmailProblem.Kind != domain.EmailComplained {
		t.Errorf("member 2: %+v", m2.EmailProblem)
	}

	// Nothing more goes to those addresses: a reminder is withheld, not an error.
	before := len(f.memberMail.Sent())
	if err := f.activations.SendActivation(f.ctx, "mb-1", "tok-1", 1); err != nil {
		t.Fatal(err)
	}
	if len(f.memberMail.Sent()) != before {
		t.Error("a reminder went to a bounced address")
	}

	for range 2 {
		if _, err := ev.Digest(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	pecs := f.orderMail.Sent()
	if len(pecs) != 1 || pecs[0].To != f.order.PEC || !strings.Contains(pecs[0].Text, "Mario Bianchi") ||
		!strings.Contains(pecs[0].Text, "Mario Verdi") || !strings.Contains(pecs[0].Text, "non recapitato") ||
		!strings.Contains(pecs[0].Text, "indesiderato") || strings.Contains(pecs[0].Text, "mario.bianchi1@example.it") {
		t.Fatalf("digests %+v", pecs)
	}
	if strings.Contains(pecs[0].Text, string(f.cf(1))) {
		t.Error("the digest names a codice fiscale")
	}
	f.wantStrings("audit", f.audit()[len(f.audit())-2:], "ses member.email_bounced", "ses member.email_complained")

	// Corrected, the address has no problem and the link goes to it.
	_, mb := f.correct(1, domain.Correction{Email: str("mario.bianchi@libero.it")})
	if m := f.member(mb); m.EmailProblem != nil || mb.MemberEmail != "" || mb.Activation.SentTo != "mario.bianchi@libero.it" {
		t.Errorf("after correction: %+v %q %q", m.EmailProblem, mb.MemberEmail, mb.Activation.SentTo)
	}
	// A late bounce of the old address changes nothing.
	if err := ev.Apply(f.ctx, app.EmailEvent{MessageID: first, Tags: map[string][]string{app.TagMailbox: {"mb-1"}}, Kind: domain.EmailBounced, Permanent: true, Recipients: []string{"mario.bianchi1@example.it"}}); err != nil {
		t.Fatal(err)
	}
	if m := f.member(f.get("mb-1")); m.EmailProblem != nil {
		t.Errorf("a late bounce of the old address marked the new one: %+v", m.EmailProblem)
	}
	if err := ev.Apply(f.ctx, app.EmailEvent{MessageID: "unknown", Kind: domain.EmailComplained, Recipients: []string{"x@y.it"}}); err != nil {
		t.Errorf("an unknown message: %v", err)
	}
}
