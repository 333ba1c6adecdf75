package app_test

import (
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

func (f *federation) corrections() *app.Corrections {
	return &app.Corrections{Store: f.store, Domains: domain.MustAlbi(domain.DefaultAlbi()), Activations: f.activations,
		Revocations: f.revocations, Now: func() time.Time { return f.now }}
}

func str(s string) *string { return &s }

var segreteria = app.Caller{Role: app.RoleOrder, OrderID: "TO", Subject: "segreteria@ordine.example"}

func (f *federation) correct(n int, fix domain.Correction) (*domain.Member, *domain.Mailbox) {
	f.t.Helper()
	m, mb, err := f.corrections().Correct(f.ctx, segreteria, "TO", f.cf(n).Value(), fix)
	if err != nil {
		f.t.Fatal(err)
	}
	return m, mb
}

func TestCorrect_ANewEmailMovesTheActivationToIt(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata)
	old := f.sendActivation(1, "tok-1")

	m, mb := f.correct(1, domain.Correction{Email: str(" Mario.Rossi@Libero.it ")})
	if m.Email != "mario.rossi@libero.it" || mb.Activation.SentTo != "mario.rossi@libero.it" || mb.Activation.Sent != 2 {
		t.Fatalf("member %+v mailbox activation %+v", m, mb.Activation)
	}
	sent := f.memberMail.Sent()
	if last := sent[len(sent)-1]; last.To != "mario.rossi@libero.it" {
		t.Errorf("the fresh link went to %s", last.To)
	}
	if _, err := f.activations.ViewActivation(f.ctx, old); err == nil {
		t.Error("the old link still works")
	}
	if _, err := f.activations.ViewActivation(f.ctx, f.lastLink()); err != nil {
		t.Errorf("the new link: %v", err)
	}
	if mb.Park.Token != "tok-1" {
		t.Errorf("the workflow's step is no longer parked: %+v", mb.Park)
	}
	f.wantStrings("audit", f.audit()[1:], "order:TO/segreteria@ordine.example member.corrected")
	e := f.store.Audit("TO")[1]
	if len(e.Changes) != 1 || e.Changes[0] != (app.FieldChange{Field: "email", Before: "mario.bianchi1@example.it", After: "mario.rossi@libero.it"}) {
		t.Errorf("changes %+v", e.Changes)
	}

	// The same correction again changes nothing and sends nothing.
	before := len(f.memberMail.Sent())
	f.correct(1, domain.Correction{Email: str("mario.rossi@libero.it")})
	if len(f.memberMail.Sent()) != before || len(f.audit()) != 2 {
		t.Errorf("a repeated correction sent %d e-mails, audit %v", len(f.memberMail.Sent())-before, f.audit())
	}
}

func TestCorrect_ARetryAfterTheLinkWasLostSendsIt(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata)
	f.sendActivation(1, "tok-1")
	f.memberMail.Fail("Send", fake.ErrInjected)
	if _, _, err := f.corrections().Correct(f.ctx, segreteria, "TO", f.cf(1).Value(), domain.Correction{Email: str("nuovo@example.it")}); err == nil {
		t.Fatal("the send failed, the correction did not say so")
	}
	_, mb := f.correct(1, domain.Correction{Email: str("nuovo@example.it")})
	if mb.Activation.SentTo != "nuovo@example.it" {
		t.Errorf("the retry did not send the link: %+v", mb.Activation)
	}
}

func TestCorrect_NamesBeforeTheProviderMoveTheAddressAfterItOnlyTheRecord(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	m, mb := f.correct(1, domain.Correction{Cognome: str("Bianchini"), Albo: str("igienista dentale")})
	if m.Cognome != "Bianchini" || m.Albo != "IGD" || mb.Address != "mario.bianchini@pec.tsrm-pstrp.org" || mb.Albo != "IGD" {
		t.Fatalf("member %s %s, mailbox %s %s", m.Cognome, m.Albo, mb.Address, mb.Albo)
	}
	if taken, _ := f.store.TakenAddresses(f.ctx, []string{"mario.bianchi1@pec.tsrm.org"}); !taken["mario.bianchi1@pec.tsrm.org"] {
		t.Error("the old address was freed: it must never be given again")
	}
	f.wantStrings("audit", f.audit()[1:], "order:TO/segreteria@ordine.example member.corrected",
		"order:TO/segreteria@ordine.example mailbox.address_changed")

	f.mailbox(2, domain.StateRichiestaInviata)
	m, mb = f.correct(2, domain.Correction{Nome: str("Marco")})
	if m.Nome != "Marco" || mb.Address != "mario.verdi2@pec.tsrm.org" {
		t.Errorf("after submission: member %s, address %s (must stay)", m.Nome, mb.Address)
	}
}

func TestCorrect_AnOwnPECReplacesTheDomicilio(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateAbilitata, withPark("tok-1", domain.WaitingMember))
	f.mailbox(2, domain.StateAttivata)
	_, mb := f.correct(1, domain.Correction{PEC: str("mario@pec.altro.it")})
	if mb.State != domain.StateRevocata {
		t.Errorf("the pending mailbox is %s, want REVOCATA", mb.State)
	}
	_, mb = f.correct(2, domain.Correction{PEC: str("bianchi@pec.altro.it")})
	if mb.State != domain.StateAttivata {
		t.Errorf("the active mailbox is %s: it stays until it expires", mb.State)
	}
	f.wantStrings("outbox", f.outbox(), "insert mario@pec.altro.it", "update bianchi@pec.altro.it")

	// The active mailbox's revocation no longer reaches INI-PEC: the own PEC is the domicilio.
	if _, err := f.revocations.Revoke(f.ctx, staffOfTO, "mb-2", "closed"); err != nil {
		t.Fatal(err)
	}
	f.wantStrings("outbox", f.outbox(), "insert mario@pec.altro.it", "update bianchi@pec.altro.it")

	// Removing the own PEC: the member is left without a domicilio.
	f.correct(2, domain.Correction{ClearPEC: true})
	f.wantStrings("outbox", f.outbox(), "insert mario@pec.altro.it", "update bianchi@pec.altro.it", "delete bianchi@pec.altro.it")
}

func TestCorrect_RefusesWhatItCannotDo(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	k := f.corrections()
	for _, tc := range []struct {
		c    app.Caller
		fix  domain.Correction
		code string
	}{
		{staffOfMI, domain.Correction{Email: str("a@b.it")}, "forbidden"},
		{segreteria, domain.Correction{}, "empty_correction"},
		{segreteria, domain.Correction{Email: str("not an address")}, "invalid_email"},
		{segreteria, domain.Correction{Albo: str("TSMR")}, "invalid_albo"},
		{segreteria, domain.Correction{Cognome: str("  ")}, "invalid_cognome"},
		{segreteria, domain.Correction{DataIscrizione: str("2099-01-01")}, "invalid_data_iscrizione"},
	} {
		_, _, err := k.Correct(f.ctx, tc.c, "TO", f.cf(1).Value(), tc.fix)
		f.wantCode(err, tc.code)
	}
	if _, _, err := f.revocations.CancelMember(f.ctx, staffOfTO, "TO", f.cf(1).Value(), "2026-03-01", "trasferito"); err != nil {
		t.Fatal(err)
	}
	_, _, err := k.Correct(f.ctx, segreteria, "TO", f.cf(1).Value(), domain.Correction{Email: str("a@b.it")})
	f.wantCode(err, "member_cancelled")
}
