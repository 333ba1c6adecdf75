package app_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

var signLinkPattern = regexp.MustCompile(`https://pec\.example\.it/firma/[A-Za-z0-9_-]{43}`)

// signingFederation is a federation whose provider activates only with its form signed by
// the holder (Legalmail).
func signingFederation(t *testing.T) (*federation, *app.Signatures, *fake.Signing) {
	f := newFederation(t)
	g := &fake.Signing{}
	s := &app.Signatures{Store: f.store, Provider: g, Mail: f.memberMail, PublicURL: "https://pec.example.it",
		ProviderName: "Legalmail", Now: func() time.Time { return f.now }, Log: discard}
	f.provisioning.Signatures, f.provisioning.Status = s, f.provider
	return f, s, g
}

// signLinks returns the signing links e-mailed so far.
func (f *federation) signLinks() []string {
	var out []string
	for _, m := range f.memberMail.Sent() {
		if l := signLinkPattern.FindString(m.Text); l != "" {
			out = append(out, strings.TrimPrefix(l, "https://pec.example.it/firma/"))
		}
	}
	return out
}

func TestSigning_TheHolderIsAskedOnceAndTheDocumentsGoToTheProviderOnce(t *testing.T) {
	f, s, g := signingFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	for range 2 { // the workflow retries the step: one e-mail
		if err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1"); err != nil {
			t.Fatal(err)
		}
	}
	links := f.signLinks()
	if len(links) != 1 {
		t.Fatalf("%d signing e-mails, want 1", len(links))
	}
	mail := f.memberMail.Sent()[0]
	if mail.To != "mario.bianchi1@example.it" || !strings.Contains(mail.Subject, "Firmi il modulo del gestore") || strings.Contains(mail.Text, string(f.cf(1))) {
		t.Errorf("e-mail %+v", mail)
	}
	v, err := s.Page(f.ctx, links[0])
	if err != nil || !v.Open || v.Sent || v.Nome != "Mario" {
		t.Fatalf("page %+v %v", v, err)
	}
	if pdf, err := s.Form(f.ctx, links[0]); err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("form %q %v", pdf, err)
	}
	// Bad parts are refused naming the field; nothing reaches the provider.
	for field, tc := range map[string]struct {
		form, id []byte
	}{
		"modulo":    {png, jpeg},
		"documento": {pdf, []byte("testo")},
	} {
		var de *domain.Error
		if _, err := s.Send(f.ctx, links[0], tc.form, tc.id); !errors.As(err, &de) || de.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	for range 2 { // sent twice (a double click): once to the provider
		if v, err = s.Send(f.ctx, links[0], pdf, jpeg); err != nil || !v.Sent || v.Open {
			t.Fatalf("send %+v %v", v, err)
		}
	}
	if n := g.Sent("ref-mb-1"); n != 1 {
		t.Errorf("documents sent %d times", n)
	}

	// The provider refuses them: the member is asked again, once, with a new link; the old
	// one is gone.
	f.provider.SetStatus(f.get("mb-1").Address, app.ProviderStatus{State: "documenti_errati", DocumentsRefused: true})
	for range 2 {
		if out, err := f.provisioning.CheckProvider(f.ctx, "mb-1"); err != nil || out != app.CheckPending {
			t.Fatalf("check %s %v", out, err)
		}
	}
	links = f.signLinks()
	if len(links) != 2 || !strings.Contains(f.memberMail.Sent()[1].Subject, "Documenti non accettati") {
		t.Fatalf("after the refusal: %d links; mails %+v; mailbox %+v", len(links), f.memberMail.Sent(), f.get("mb-1").Signing)
	}
	if _, err := s.Page(f.ctx, links[0]); !errors.Is(err, app.ErrSignLinkGone) {
		t.Errorf("the first link: %v", err)
	}
	if _, err := s.Send(f.ctx, links[1], pdf, png); err != nil || g.Sent("ref-mb-1") != 2 {
		t.Fatalf("second round: %v, sent %d", err, g.Sent("ref-mb-1"))
	}

	// Once the provider activates, the page no longer takes documents; a link expires.
	f.provider.SetStatus(f.get("mb-1").Address, app.ProviderStatus{Outcome: app.ProviderCreated, State: "evasa"})
	if _, err := f.provisioning.CheckProvider(f.ctx, "mb-1"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Page(f.ctx, links[1]); err != nil || v.Open || v.Mailbox.State != domain.StateAbilitata {
		t.Errorf("after activation %+v %v", v, err)
	}
	f.now = f.now.Add(app.DefaultSignLinkTTL)
	if _, err := s.Page(f.ctx, links[1]); !errors.Is(err, app.ErrSignLinkGone) {
		t.Errorf("an expired link: %v", err)
	}
	if _, err := s.Page(f.ctx, strings.Repeat("x", 43)); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a made-up link: %v", err)
	}
}

func TestSigning_ALostEMailIsSentAgainByTheRetry(t *testing.T) {
	f, _, _ := signingFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.memberMail.Fail("Send", fake.ErrInjected)
	if err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1"); err == nil {
		t.Fatal("a failed e-mail did not fail the step")
	}
	if err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.signLinks()); n != 1 {
		t.Errorf("%d signing e-mails, want 1", n)
	}
	if g := f.get("mb-1").Signing; g == nil || g.Round != 1 || g.MailedAt.IsZero() {
		t.Errorf("signing %+v", g)
	}
}
