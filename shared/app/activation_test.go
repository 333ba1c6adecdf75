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

// sendActivation parks token on mailbox n and returns the link e-mailed.
func (f *federation) sendActivation(n int, token string) string {
	f.t.Helper()
	if err := f.activations.SendActivation(f.ctx, fmt.Sprintf("mb-%d", n), token, 0); err != nil {
		f.t.Fatal(err)
	}
	return f.lastLink()
}

func TestSendActivation_ParksAndEmailsAFreshLinkThatKillsTheOld(t *testing.T) {
	f := newFederation(t)
	mb := f.mailbox(1, domain.StateAbilitata)

	first := f.sendActivation(1, "tok-1")
	got := f.get("mb-1")
	if got.Park != (domain.Park{Token: "tok-1", Waiting: domain.WaitingMember}) || got.Activation.Sent != 1 ||
		got.Activation.Hash != app.HashLinkToken(first) || !got.Activation.ExpiresAt.Equal(f.now.Add(activationTTL)) {
		t.Fatalf("mailbox = %+v, want the step parked for the member and the link's hash, for 72 hours", got)
	}
	if id, err := f.store.ActivationMailbox(f.ctx, app.HashLinkToken(first)); err != nil || id != "mb-1" {
		t.Errorf("the link's record names %q, %v", id, err)
	}
	if err := f.activations.SendActivation(f.ctx, "mb-1", "tok-2", 1); err != nil {
		t.Fatal(err)
	}
	second := f.lastLink()

	f.wantStrings("e-mails to the member", f.mails(f.memberMail),
		"mario.bianchi1@example.it: Attivazione della casella PEC "+mb.Address,
		"mario.bianchi1@example.it: Promemoria: Attivazione della casella PEC "+mb.Address)
	f.wantContains("the e-mail", f.memberMail.Sent()[0].Text, "Gentile Mario Bianchi", "Ordine TSRM PSTRP di TO", "https://pec.example.it/activate/"+first)
	_, err := f.activations.ViewActivation(f.ctx, first)
	f.wantErr(err, app.ErrLinkGone)
	if _, err := f.activations.ViewActivation(f.ctx, second); err != nil {
		t.Errorf("the new link: %v", err)
	}
	if got := f.get("mb-1"); got.Park.Token != "tok-2" || got.Activation.Sent != 2 {
		t.Errorf("mailbox = %+v, want tok-2 parked after 2 links", got)
	}
}

func TestSendActivation_WhatHappenedMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		state   domain.State
		wantErr string
		resumed []string
	}{
		{domain.StateRevocata, "mailbox mb-1 is revoked", nil}, // MailboxRevoked, which the state machine catches
		{domain.StateAttivata, "", []string{"tok-1"}},          // a retried step after the member's click
		{domain.StateRichiestaInviata, "not_awaiting_activation", nil},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			f := newFederation(t)
			f.mailbox(1, tc.state)

			err := f.activations.SendActivation(f.ctx, "mb-1", "tok-1", 0)

			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.HasPrefix(err.Error(), tc.wantErr)) {
				t.Errorf("error = %v, want %q", err, tc.wantErr)
			}
			f.wantStrings("resumed", f.workflow.Resumed(), tc.resumed...)
			f.wantStrings("e-mails", f.mails(f.memberMail))
		})
	}
}

func TestSendActivation_AFailingMailerLeavesTheStepParkedForTheRetry(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata)
	f.memberMail.Fail("Send", fake.ErrInjected)

	f.wantErr(f.activations.SendActivation(f.ctx, "mb-1", "tok-1", 0), fake.ErrInjected)
	if got := f.get("mb-1"); got.State != domain.StateAbilitata || got.Park.Token != "tok-1" {
		t.Fatalf("mailbox = %+v, want ABILITATA and parked", got)
	}
	link := f.sendActivation(1, "tok-1") // the state machine's retry, with a fresh link

	if len(f.memberMail.Sent()) != 1 {
		t.Errorf("%d e-mails, want 1", len(f.memberMail.Sent()))
	}
	if _, err := f.activations.Activate(f.ctx, link, true, ""); err != nil {
		t.Errorf("the retried link: %v", err)
	}
}

func TestResendActivation_SendsAFreshLinkAndKillsTheOld(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata)
	old := f.sendActivation(1, "tok-1")

	mb, err := f.activations.ResendActivation(f.ctx, staffOfTO, "mb-1")
	if err != nil {
		t.Fatal(err)
	}

	if mb.Activation.Sent != 2 || mb.Park.Token != "tok-1" {
		t.Errorf("mailbox = %+v, want a second link, the step still parked", mb)
	}
	_, err = f.activations.ViewActivation(f.ctx, old)
	f.wantErr(err, app.ErrLinkGone)
	if _, err := f.activations.ViewActivation(f.ctx, f.lastLink()); err != nil {
		t.Errorf("the new link: %v", err)
	}
	f.wantContains("the second e-mail", f.memberMail.Sent()[1].Subject, "Promemoria:")
}

func TestResendActivation_Refuses(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata)
	f.mailbox(2, domain.StateAttivata)

	_, err := f.activations.ResendActivation(f.ctx, staffOfMI, "mb-1")
	f.wantCode(err, "mailbox_not_found")
	_, err = f.activations.ResendActivation(f.ctx, staffOfTO, "nope")
	f.wantCode(err, "mailbox_not_found")
	_, err = f.activations.ResendActivation(f.ctx, staffOfTO, "mb-2")
	f.wantCode(err, "not_awaiting_activation")
	f.wantStrings("e-mails", f.mails(f.memberMail))
}

func TestViewActivation_ResolvesOnlyALiveLink(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata)
	link := f.sendActivation(1, "tok-1")

	v, err := f.activations.ViewActivation(f.ctx, link)
	if err != nil || v.Mailbox.ID != "mb-1" || v.Member.Cognome != "Bianchi" || v.Order.ID != "TO" {
		t.Fatalf("view = %+v, %v", v, err)
	}
	_, err = f.activations.ViewActivation(f.ctx, "not-a-link")
	f.wantErr(err, app.ErrLinkUnknown)
	f.now = f.now.Add(activationTTL)
	_, err = f.activations.ViewActivation(f.ctx, link)
	f.wantErr(err, app.ErrLinkGone)
}

func TestActivate_ConfirmingActivatesPublishesAndResumesOnce(t *testing.T) {
	f := newFederation(t)
	mb := f.mailbox(1, domain.StateAbilitata)
	link := f.sendActivation(1, "tok-1")

	v, err := f.activations.Activate(f.ctx, link, true, "")
	if err != nil {
		t.Fatal(err)
	}

	got := f.get("mb-1")
	if v.Mailbox.State != domain.StateAttivata || f.lastTransition(got) != "ATTIVATA member confirmed" {
		t.Errorf("mailbox = %+v, want ATTIVATA, confirmed by the member", got)
	}
	if got.ExpiresOn != "2029-03-02" || got.ExpiryDueOn != "2028-03-02" {
		t.Errorf("validity until %s, looked at on %s; want 3 years from today, looked at a year before", got.ExpiresOn, got.ExpiryDueOn)
	}
	if got.Park != (domain.Park{}) || got.Activation.Hash != "" {
		t.Errorf("park %+v, link %q: want both gone once the step was told", got.Park, got.Activation.Hash)
	}
	f.wantStrings("outbox", f.outbox(), "insert "+mb.Address)
	f.wantStrings("resumed", f.workflow.Resumed(), "tok-1")
	f.wantStrings("PEC to the Order", f.mails(f.orderMail)) // the workflow's AfterActivation does what follows

	_, err = f.activations.Activate(f.ctx, link, true, "") // a second click
	f.wantErr(err, app.ErrLinkGone)
	f.wantStrings("resumed", f.workflow.Resumed(), "tok-1")
	f.wantStrings("outbox", f.outbox(), "insert "+mb.Address)
}

func TestActivate_DecliningRevokesAndFailsTheStep(t *testing.T) {
	for _, tc := range []struct {
		name, ownPEC string
		memberPEC    string
		outbox       []string
		audit        []string
	}{
		{name: "without a PEC of their own", audit: []string{"member mailbox.revocata"}},
		{name: "giving their own PEC", ownPEC: " Mario.Bianchi@PEC.Altro.it ", memberPEC: "mario.bianchi@pec.altro.it",
			outbox: []string{"insert mario.bianchi@pec.altro.it"}, audit: []string{"member mailbox.revocata", "member member.own_pec_given"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFederation(t)
			f.mailbox(1, domain.StateAbilitata)
			link := f.sendActivation(1, "tok-1")

			v, err := f.activations.Activate(f.ctx, link, false, tc.ownPEC)
			if err != nil {
				t.Fatal(err)
			}

			got := f.get("mb-1")
			if f.lastTransition(got) != "REVOCATA member declined" || got.Park != (domain.Park{}) || got.Activation.Hash != "" {
				t.Errorf("mailbox = %+v, want REVOCATA, declined by the member, nothing parked", got)
			}
			if v.Member.PEC != tc.memberPEC || f.member(got).PEC != tc.memberPEC {
				t.Errorf("member's PEC = %q, want %q", f.member(got).PEC, tc.memberPEC)
			}
			f.wantStrings("failed", f.failures(), "tok-1 MailboxDeclined")
			f.wantStrings("outbox", f.outbox(), tc.outbox...) // the mailbox was never a domicilio digitale
			f.wantStrings("audit", f.audit()[1:], tc.audit...)
			f.wantStrings("PEC to the Order", f.mails(f.orderMail)) // the workflow's Declined step tells the Order
		})
	}
}

func TestActivate_RefusesAnInvalidOwnPECAndChangesNothing(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata)
	link := f.sendActivation(1, "tok-1")

	_, err := f.activations.Activate(f.ctx, link, false, "not an address")

	f.wantCode(err, "invalid_pec")
	if got := f.get("mb-1"); got.State != domain.StateAbilitata {
		t.Errorf("state = %s", got.State)
	}
	if _, err := f.activations.ViewActivation(f.ctx, link); err != nil {
		t.Errorf("the link no longer works: %v", err)
	}
}

func TestActivate_AnExpiredLinkChangesNothing(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata)
	link := f.sendActivation(1, "tok-1")
	f.now = f.now.Add(activationTTL + time.Second)

	_, err := f.activations.Activate(f.ctx, link, true, "")

	f.wantErr(err, app.ErrLinkGone)
	if got := f.get("mb-1"); got.State != domain.StateAbilitata || len(f.workflow.Signals()) != 0 {
		t.Errorf("state = %s, signals %v", got.State, f.workflow.Signals())
	}
}

func TestActivate_ALateConfirmAfterTheWorkflowEndedRunsWhatFollows(t *testing.T) {
	f := newFederation(t)
	f.store.PutRequest(&domain.Request{ID: "req-1", OrderID: "TO", OfferCode: "OFFERTA-TO"})
	f.mailbox(1, domain.StateAbilitata, func(mb *domain.Mailbox) { mb.RequestID = "req-1" })
	link := f.sendActivation(1, "tok-1")
	f.workflow.Gone("tok-1") // every reminder went unanswered

	if _, err := f.activations.Activate(f.ctx, link, true, ""); err != nil {
		t.Fatal(err)
	}

	if got := f.get("mb-1"); got.State != domain.StateAttivata || got.Park != (domain.Park{}) {
		t.Errorf("mailbox = %+v, want ATTIVATA, nothing parked", got)
	}
	if s := f.workflow.Signals(); len(s) != 1 || !s[0].Gone {
		t.Errorf("signals = %v, want one resumption of a step gone", s)
	}
	f.wantStrings("PEC to the Order", f.mails(f.orderMail),
		"to@pec.ordine.example.it: Nuovo domicilio digitale in convenzione – Mario Bianchi (iscrizione n. 1001)")
	f.wantContains("the notice", f.orderMail.Sent()[0].Text, "OFFERTA-TO")
}

func TestActivate_ALateDeclineWithNothingParkedTellsTheOrder(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata)
	if _, err := f.activations.ResendActivation(f.ctx, staffOfTO, "mb-1"); err != nil { // no step parked
		t.Fatal(err)
	}

	if _, err := f.activations.Activate(f.ctx, f.lastLink(), false, ""); err != nil {
		t.Fatal(err)
	}

	f.wantStrings("PEC to the Order", f.mails(f.orderMail),
		"to@pec.ordine.example.it: Mancata conferma dell'attivazione della casella PEC – Mario Bianchi (iscrizione n. 1001)")
	if got := f.workflow.Signals(); len(got) != 0 {
		t.Errorf("signals = %v", got)
	}
}

func TestActivate_ClickingAgainFinishesAChoiceWhoseStepWasNeverTold(t *testing.T) {
	f := newFederation(t)
	mb := f.mailbox(1, domain.StateAbilitata)
	link := f.sendActivation(1, "tok-1")
	f.activations.Crash = func(point, _ string) {
		if point == app.CrashAfterClick {
			panic("crash")
		}
	}
	func() {
		defer func() { _ = recover() }()
		_, _ = f.activations.Activate(f.ctx, link, true, "")
		t.Fatal("did not crash")
	}()
	if got := f.get("mb-1"); got.State != domain.StateAttivata || got.Park.Token != "tok-1" {
		t.Fatalf("after the crash: %+v, want ATTIVATA and still parked", got)
	}

	f.activations.Crash = nil
	if _, err := f.activations.Activate(f.ctx, link, true, ""); err != nil {
		t.Fatal(err)
	}

	f.wantStrings("resumed", f.workflow.Resumed(), "tok-1")
	f.wantStrings("outbox", f.outbox(), "insert "+mb.Address)
	if got := f.get("mb-1"); got.Park != (domain.Park{}) {
		t.Errorf("park = %+v", got.Park)
	}
	_, err := f.activations.Activate(f.ctx, link, true, "")
	f.wantErr(err, app.ErrLinkGone)
}

func TestActivated_GivesTheValidityAMailboxLacks(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAttivata, func(mb *domain.Mailbox) { mb.ExpiresOn, mb.ExpiryDueOn = "", "" }) // activated 4 days ago

	if err := f.activations.Activated(f.ctx, "mb-1"); err != nil {
		t.Fatal(err)
	}

	if got := f.get("mb-1"); got.ExpiresOn != "2029-02-26" {
		t.Errorf("expires on %s, want 3 years from the day of activation", got.ExpiresOn)
	}
	f.wantStrings("PEC to the Order", f.mails(f.orderMail)) // not a self-service mailbox
}

func TestActivated_TellsTheOrderOfASelfServiceMailbox(t *testing.T) {
	f := newFederation(t)
	f.store.PutRequest(&domain.Request{ID: "req-1", OrderID: "TO", OfferCode: "OFFERTA-TO"})
	f.mailbox(1, domain.StateAttivata, func(mb *domain.Mailbox) { mb.RequestID = "req-1" })
	f.orderMail.Fail("Send", fake.ErrInjected)

	f.wantErr(f.activations.Activated(f.ctx, "mb-1"), fake.ErrInjected) // the workflow retries
	if err := f.activations.Activated(f.ctx, "mb-1"); err != nil {
		t.Fatal(err)
	}

	f.wantStrings("PEC to the Order", f.mails(f.orderMail),
		"to@pec.ordine.example.it: Nuovo domicilio digitale in convenzione – Mario Bianchi (iscrizione n. 1001)")
}

func TestActivated_DoesNothingForAMailboxNotActive(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRevocata, func(mb *domain.Mailbox) { mb.RequestID = "req-1" })

	if err := f.activations.Activated(f.ctx, "mb-1"); err != nil {
		t.Fatal(err)
	}
	f.wantStrings("PEC to the Order", f.mails(f.orderMail))
}

func TestActivate_ALateDeclineAfterTheWorkflowEndedTellsTheOrderAndTheProvider(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata)
	link := f.sendActivation(1, "tok-1")
	f.workflow.Gone("tok-1") // every reminder went unanswered: the step's token is dead

	if _, err := f.activations.Activate(f.ctx, link, false, ""); err != nil {
		t.Fatal(err)
	}

	if got := f.get("mb-1"); got.State != domain.StateRevocata || got.Park != (domain.Park{}) {
		t.Errorf("mailbox = %+v, want REVOCATA, nothing parked", got)
	}
	f.wantStrings("PEC to the Order", f.mails(f.orderMail),
		"to@pec.ordine.example.it: Mancata conferma dell'attivazione della casella PEC – Mario Bianchi (iscrizione n. 1001)")
	if got := f.provider.Deactivated(); len(got) != 1 || got[0].RequestID != "mb-1" {
		t.Errorf("provider told %+v, want mb-1 closed", got)
	}
}

func TestActivate_ConfirmingTellsTheMemberHowToReachTheMailboxOnce(t *testing.T) {
	f := newFederation(t)
	f.activations.WelcomeMail = f.memberMail
	f.activations.Access = app.FirstAccess{ProviderName: "Gestore", WebmailURL: "https://webmail.example", CredentialsBy: app.CredentialsByEmail,
		SupportURL: "https://aiuto.example"}
	f.mailbox(1, domain.StateAbilitata)
	link := f.sendActivation(1, "tok-1")
	if _, err := f.activations.Activate(f.ctx, link, true, ""); err != nil {
		t.Fatal(err)
	}
	f.activations.Activate(f.ctx, link, true, "") // the link again: used
	if err := f.activations.Activated(f.ctx, "mb-1"); err != nil {
		t.Fatal(err)
	}
	var welcome []string
	for _, m := range f.memberMail.Sent() {
		if strings.Contains(m.Subject, "Come accedere") {
			welcome = append(welcome, m.Text)
		}
	}
	if len(welcome) != 1 || !strings.Contains(welcome[0], "https://webmail.example") || !strings.Contains(welcome[0], "https://aiuto.example") {
		t.Fatalf("welcome e-mails %q", welcome)
	}
}
