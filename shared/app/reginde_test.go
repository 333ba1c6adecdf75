package app_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

type regindeFixture struct {
	r     *app.Reginde
	store *fake.Store
	mail  *fake.MailLog
	now   time.Time
	mb    *domain.Mailbox
}

// newRegindeFixture has one Order with Carlo Zurzi, CTU when ctu, whose convention mailbox is
// ATTIVATA.
func newRegindeFixture(t *testing.T, ctu bool) *regindeFixture {
	t.Helper()
	f := &regindeFixture{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), mail: &fake.MailLog{}, store: fake.NewStore()}
	cf, err := domain.ParseCodiceFiscale(carlo)
	if err != nil {
		t.Fatal(err)
	}
	f.mb = domain.NewMailbox("mb1", "carlo.zurzi@pec.tsrm.org", "TSRM-FI", "TSRM", cf, f.now, "order:TSRM-FI")
	f.mb.State = domain.StateAttivata
	if _, err := f.store.PutOrder(t.Context(), &domain.Order{ID: "TSRM-FI", Name: "Ordine TSRM PSTRP di Firenze"}, "federation"); err != nil {
		t.Fatal(err)
	}
	f.store.PutMember(&domain.Member{OrderID: "TSRM-FI", CodiceFiscale: cf, Nome: "Carlo", Cognome: "Zurzi", Email: "carlo@example.it", CTU: ctu, MailboxID: "mb1"})
	f.store.PutMailbox(f.mb)
	f.r = &app.Reginde{Store: f.store, Mail: f.mail, Now: func() time.Time { return f.now }, PublicURL: "https://pec.example.it", LinkTTL: 365 * 24 * time.Hour}
	return f
}

func (f *regindeFixture) member(t *testing.T) *domain.Member {
	t.Helper()
	m, err := f.store.GetMember(t.Context(), "TSRM-FI", domain.CodiceFiscale(carlo))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// setMailbox changes Carlo's mailbox behind the use case's back.
func (f *regindeFixture) setMailbox(state domain.State) {
	mb := *f.mb
	mb.State = state
	f.store.PutMailbox(&mb)
}

func (f *regindeFixture) sent() []fake.LoggedMail { return f.mail.Sent() }

var regindeLink = regexp.MustCompile(`https://pec\.example\.it/reginde/([A-Za-z0-9_-]{43})`)

func (f *regindeFixture) lastToken(t *testing.T) string {
	t.Helper()
	sent := f.sent()
	if len(sent) == 0 {
		t.Fatal("no e-mail sent")
	}
	m := regindeLink.FindStringSubmatch(sent[len(sent)-1].Message.Text)
	if m == nil {
		t.Fatalf("no link in %q", sent[len(sent)-1].Message.Text)
	}
	return m[1]
}

func TestReginde_ActivatedCTUIsNotifiedOnceEvenWhenRetried(t *testing.T) {
	f := newRegindeFixture(t, true)
	for range 3 {
		if err := f.r.NotifyActivated(t.Context(), f.mb); err != nil {
			t.Fatal(err)
		}
	}
	sent := f.sent()
	if len(sent) != 1 || sent[0].To != "carlo@example.it" {
		t.Fatalf("sent %+v, want 1 e-mail to the member", sent)
	}
	if s := sent[0].Message.Text; !strings.Contains(s, "carlo.zurzi@pec.tsrm.org") || strings.Contains(s, carlo) {
		t.Errorf("e-mail text:\n%s", s)
	}
	r := f.member(t).Reginde
	if r.NotifiedFor != "mb1" || r.Notices != 1 || !r.NotifiedAt.Equal(f.now) || r.Address != "carlo.zurzi@pec.tsrm.org" {
		t.Errorf("recorded %+v", r)
	}
	if r.LinkHash != app.HashLinkToken(f.lastToken(t)) || strings.Contains(r.LinkHash, f.lastToken(t)) {
		t.Error("the member must keep the link's hash, not the link")
	}
	if !r.LinkExpiresAt.Equal(f.now.Add(365 * 24 * time.Hour)) {
		t.Errorf("link expires %s", r.LinkExpiresAt)
	}
}

func TestReginde_ALostSendIsSentAgainWithANewLink(t *testing.T) {
	f := newRegindeFixture(t, true)
	f.mail.Fail("Send", errors.New("SES is down"))
	if err := f.r.NotifyActivated(t.Context(), f.mb); err == nil {
		t.Fatal("a failed send must fail the step, so that the workflow retries it")
	}
	if f.member(t).Reginde.NotifiedFor != "" {
		t.Fatal("a failed send was recorded as sent")
	}
	firstHash := f.member(t).Reginde.LinkHash
	if err := f.r.NotifyActivated(t.Context(), f.mb); err != nil {
		t.Fatal(err)
	}
	if len(f.sent()) != 1 || f.member(t).Reginde.NotifiedFor != "mb1" || f.member(t).Reginde.LinkHash == firstHash {
		t.Errorf("after the retry: %d sent, %+v", len(f.sent()), f.member(t).Reginde)
	}
}

func TestReginde_NoNoticeForANonCTUOrAMailboxNotActive(t *testing.T) {
	f := newRegindeFixture(t, false)
	if err := f.r.NotifyActivated(t.Context(), f.mb); err != nil || len(f.sent()) != 0 {
		t.Fatalf("non-CTU: err %v, %d sent", err, len(f.sent()))
	}
	f = newRegindeFixture(t, true)
	f.mb.State = domain.StateRevocata
	if err := f.r.NotifyActivated(t.Context(), f.mb); err != nil || len(f.sent()) != 0 {
		t.Fatalf("revoked: err %v, %d sent", err, len(f.sent()))
	}
}

func TestReginde_ConfirmIsRecordedOnceAndAuditedThenSaysAlready(t *testing.T) {
	f := newRegindeFixture(t, true)
	if err := f.r.NotifyActivated(t.Context(), f.mb); err != nil {
		t.Fatal(err)
	}
	tok := f.lastToken(t)
	v, err := f.r.ViewConfirmation(t.Context(), tok)
	if err != nil || v.Address != "carlo.zurzi@pec.tsrm.org" || v.Order.Name == "" {
		t.Fatalf("view: %+v, %v", v, err)
	}
	f.now = f.now.Add(time.Hour)
	v, already, err := f.r.Confirm(t.Context(), tok)
	if err != nil || already || !v.Member.Reginde.ConfirmedAt.Equal(f.now) {
		t.Fatalf("confirm: already %v, err %v, %+v", already, err, v)
	}
	f.now = f.now.Add(time.Hour)
	v, already, err = f.r.Confirm(t.Context(), tok)
	if err != nil || !already || !v.Member.Reginde.ConfirmedAt.Equal(f.now.Add(-time.Hour)) {
		t.Fatalf("second confirm: already %v, err %v", already, err)
	}
	if got := actions(f.store, "TSRM-FI", "member:"); !slices.Equal(got, []string{"system member.reginde_notified", "member member.reginde_confirmed"}) {
		t.Errorf("audit trail: %v", got)
	}
}

func TestReginde_UnknownExpiredAndReplacedLinks(t *testing.T) {
	f := newRegindeFixture(t, true)
	ctx := t.Context()
	if _, err := f.r.ViewConfirmation(ctx, strings.Repeat("A", 43)); !errors.Is(err, app.ErrRegindeLinkUnknown) {
		t.Errorf("forged: %v", err)
	}
	if err := f.r.NotifyActivated(ctx, f.mb); err != nil {
		t.Fatal(err)
	}
	old := f.lastToken(t)
	if _, err := f.r.SendReminder(ctx, asFI, "TSRM-FI", carlo); err != nil {
		t.Fatal(err)
	}
	if s := f.sent()[1].Message.Subject; !strings.HasPrefix(s, "Promemoria:") {
		t.Errorf("the second notice is a reminder: %q", s)
	}
	if _, _, err := f.r.Confirm(ctx, old); !errors.Is(err, app.ErrRegindeLinkGone) {
		t.Errorf("the replaced link: %v", err)
	}
	fresh := f.lastToken(t)
	f.now = f.now.Add(366 * 24 * time.Hour)
	if _, err := f.r.ViewConfirmation(ctx, fresh); !errors.Is(err, app.ErrRegindeLinkGone) {
		t.Errorf("the expired link: %v", err)
	}
	if f.member(t).Reginde.Confirmed() {
		t.Error("nothing was confirmed")
	}
}

func TestReginde_LinkDiesWhenTheAddressIsNoLongerTheDomicilio(t *testing.T) {
	f := newRegindeFixture(t, true)
	if err := f.r.NotifyActivated(t.Context(), f.mb); err != nil {
		t.Fatal(err)
	}
	f.setMailbox(domain.StateRevocata)
	if _, err := f.r.ViewConfirmation(t.Context(), f.lastToken(t)); !errors.Is(err, app.ErrRegindeLinkGone) {
		t.Errorf("revoked mailbox: %v", err)
	}
}

func TestReginde_ReminderRefusals(t *testing.T) {
	ctx := t.Context()
	f := newRegindeFixture(t, false)
	if _, err := f.r.SendReminder(ctx, asFI, "TSRM-FI", carlo); !errors.Is(err, app.ErrNotCTU) {
		t.Errorf("not CTU: %v", err)
	}
	f = newRegindeFixture(t, true)
	f.setMailbox(domain.StateAbilitata)
	if _, err := f.r.SendReminder(ctx, asFI, "TSRM-FI", carlo); !errors.Is(err, app.ErrNoActiveDomicilio) {
		t.Errorf("mailbox not active: %v", err)
	}
	f = newRegindeFixture(t, true)
	if err := f.r.NotifyActivated(ctx, f.mb); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.r.Confirm(ctx, f.lastToken(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.SendReminder(ctx, asFI, "TSRM-FI", carlo); !errors.Is(err, app.ErrRegindeConfirmed) {
		t.Errorf("confirmed: %v", err)
	}
	if _, err := f.r.SendReminder(ctx, asPI, "TSRM-FI", carlo); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("another Order: %v", err)
	}
	if len(f.sent()) != 1 {
		t.Errorf("%d e-mails, want only the first notice", len(f.sent()))
	}
}

func TestReginde_OwnPECIsAskedOnlyOnTheOrdersRequest(t *testing.T) {
	f := newRegindeFixture(t, true)
	m := f.member(t)
	m.MailboxID, m.PEC = "", "carlo.zurzi@legalmail.it"
	f.store.PutMember(m)
	e, err := f.r.SendReminder(t.Context(), asFI, "TSRM-FI", carlo)
	if err != nil || e.Address != "carlo.zurzi@legalmail.it" {
		t.Fatalf("%+v, %v", e, err)
	}
	if r := f.member(t).Reginde; r.NotifiedFor != "own:carlo.zurzi@legalmail.it" || strings.HasPrefix(f.sent()[0].Message.Subject, "Promemoria") {
		t.Errorf("recorded %+v; subject %q", r, f.sent()[0].Message.Subject)
	}
}

func TestReginde_ListValidatesItsParameters(t *testing.T) {
	f := newRegindeFixture(t, true)
	ctx := t.Context()
	if _, _, err := f.r.ListCTU(ctx, asFI, "TSRM-FI", "yes", 0, ""); code(err) != "invalid_confirmed" || field(err) != "confirmed" {
		t.Errorf("confirmed=yes: %v", err)
	}
	if _, _, err := f.r.ListCTU(ctx, asFI, "TSRM-FI", "", 1001, ""); err == nil {
		t.Error("limit 1001 accepted")
	}
	if _, _, err := f.r.ListCTU(ctx, asPI, "TSRM-FI", "", 0, ""); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("another Order: %v", err)
	}
	items, _, err := f.r.ListCTU(ctx, asFI, "TSRM-FI", "false", 0, "")
	if err != nil || len(items) != 1 || items[0].Address != "carlo.zurzi@pec.tsrm.org" {
		t.Errorf("list: %+v, %v", items, err)
	}
}

func TestReginde_ListFiltersByConfirmationAndPagesBySurname(t *testing.T) {
	f := newRegindeFixture(t, true)
	for _, m := range []*domain.Member{
		{CodiceFiscale: domain.CodiceFiscale(anna), Nome: "Anna", Cognome: "Bianchi", PEC: "anna@legalmail.it", CTU: true},
		{CodiceFiscale: domain.CodiceFiscale(luigi), Nome: "Luigi", Cognome: "Verdi", CTU: true, CancelledOn: "2026-01-01"},
		{CodiceFiscale: domain.CodiceFiscale(mario), Nome: "Mario", Cognome: "Rossi"},
		{CodiceFiscale: domain.CodiceFiscale(giulia), Nome: "Giulia", Cognome: "Abate", CTU: true,
			Reginde: domain.Reginde{Address: "giulia@legalmail.it", ConfirmedAt: f.now}, PEC: "giulia@legalmail.it"},
	} {
		m.OrderID = "TSRM-FI"
		f.store.PutMember(m)
	}
	list := func(confirmed string, limit int) (pages [][]string) {
		cursor := ""
		for {
			items, next, err := f.r.ListCTU(t.Context(), asFI, "TSRM-FI", confirmed, limit, cursor)
			if err != nil {
				t.Fatal(err)
			}
			var page []string
			for _, e := range items {
				page = append(page, e.Member.Cognome+" "+e.Address)
			}
			pages = append(pages, page)
			if cursor = next; cursor == "" {
				return pages
			}
		}
	}
	tests := []struct {
		confirmed string
		limit     int
		want      string
	}{
		{"", 0, "[[Abate giulia@legalmail.it Bianchi anna@legalmail.it Zurzi carlo.zurzi@pec.tsrm.org]]"},
		{"", 2, "[[Abate giulia@legalmail.it Bianchi anna@legalmail.it] [Zurzi carlo.zurzi@pec.tsrm.org]]"},
		{"true", 0, "[[Abate giulia@legalmail.it]]"},
		{"false", 1, "[[Bianchi anna@legalmail.it] [Zurzi carlo.zurzi@pec.tsrm.org]]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(list(tt.confirmed, tt.limit)); got != tt.want {
			t.Errorf("confirmed=%q limit %d: %s, want %s", tt.confirmed, tt.limit, got, tt.want)
		}
	}
	_, next, _ := f.r.ListCTU(t.Context(), asFI, "TSRM-FI", "false", 1, "")
	if _, _, err := f.r.ListCTU(t.Context(), asFI, "TSRM-FI", "", 1, next); code(err) != "invalid_cursor" {
		t.Errorf("another listing's cursor: %v", err)
	}
}
