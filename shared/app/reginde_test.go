package app

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// regindeStore is an in-memory RegindeStore: simpler than the emulator for the rules here
// (the DynamoDB store has its own tests in infra/localcloud).
type regindeStore struct {
	orders    map[string]*domain.Order
	members   map[string]domain.Member // by canonical codice fiscale
	mailboxes map[string]domain.Mailbox
	links     map[string]string // hash -> canonical codice fiscale
	audits    []string
}

func (s *regindeStore) GetOrder(_ context.Context, id string) (*domain.Order, error) {
	if o, ok := s.orders[id]; ok {
		return o, nil
	}
	return nil, domain.ErrOrderNotFound
}

func (s *regindeStore) GetMember(_ context.Context, orderID string, cf domain.CodiceFiscale) (*domain.Member, error) {
	m, ok := s.members[string(cf.Canonical())]
	if !ok || m.OrderID != orderID {
		return nil, domain.ErrMemberNotFound
	}
	return &m, nil
}

func (s *regindeStore) GetMailbox(_ context.Context, id string) (*domain.Mailbox, error) {
	if mb, ok := s.mailboxes[id]; ok {
		return &mb, nil
	}
	return nil, domain.ErrNotFound
}

func (s *regindeStore) MailboxesByID(ctx context.Context, ids []string) (map[string]*domain.Mailbox, error) {
	out := map[string]*domain.Mailbox{}
	for _, id := range ids {
		if mb, err := s.GetMailbox(ctx, id); err == nil {
			out[id] = mb
		}
	}
	return out, nil
}

func (s *regindeStore) UpdateMember(ctx context.Context, orderID string, cf domain.CodiceFiscale, audit Audit, change func(*domain.Member) (bool, error)) (*domain.Member, error) {
	m, err := s.GetMember(ctx, orderID, cf)
	if err != nil {
		return nil, err
	}
	changed, err := change(m)
	if err != nil || !changed {
		return m, err
	}
	s.members[m.Key()] = *m
	if audit.Action != "" {
		s.audits = append(s.audits, audit.Actor+" "+audit.Action)
	}
	return m, nil
}

func (s *regindeStore) PutRegindeLink(_ context.Context, hash, _ string, cf domain.CodiceFiscale, _ time.Time) error {
	s.links[hash] = string(cf.Canonical())
	return nil
}

func (s *regindeStore) RegindeLink(_ context.Context, hash string) (string, domain.CodiceFiscale, error) {
	key, ok := s.links[hash]
	if !ok {
		return "", "", domain.ErrNotFound
	}
	return s.members[key].OrderID, domain.CodiceFiscale(key), nil
}

func (s *regindeStore) ListCTU(context.Context, CTUQuery) ([]*domain.Member, string, error) {
	var out []*domain.Member
	for _, m := range s.members {
		if m.CTU && !m.Cancelled() {
			out = append(out, &m)
		}
	}
	return out, "", nil
}

// mailer records what it sends; fail makes the next sends fail.
type mailer struct {
	sent []notice.Message
	to   []string
	fail int
}

func (m *mailer) Send(_ context.Context, to string, msg notice.Message) (string, error) {
	if m.fail > 0 {
		m.fail--
		return "", errors.New("SES is down")
	}
	m.sent, m.to = append(m.sent, msg), append(m.to, to)
	return "id", nil
}

const carlo = "ZRZCRL72R10H501D"

type regindeFixture struct {
	r     *Reginde
	store *regindeStore
	mail  *mailer
	now   time.Time
	mb    *domain.Mailbox
}

// newRegindeFixture has one Order with Carlo Zurzi, CTU when ctu, whose convention mailbox is
// ATTIVATA.
func newRegindeFixture(t *testing.T, ctu bool) *regindeFixture {
	t.Helper()
	f := &regindeFixture{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), mail: &mailer{}}
	cf, err := domain.ParseCodiceFiscale(carlo)
	if err != nil {
		t.Fatal(err)
	}
	f.mb = domain.NewMailbox("mb1", "carlo.zurzi@pec.tsrm.org", "TSRM-FI", "TSRM", cf, f.now, "order:TSRM-FI")
	f.mb.State = domain.StateAttivata
	f.store = &regindeStore{
		orders:    map[string]*domain.Order{"TSRM-FI": {ID: "TSRM-FI", Name: "Ordine TSRM PSTRP di Firenze"}},
		members:   map[string]domain.Member{carlo: {OrderID: "TSRM-FI", CodiceFiscale: cf, Nome: "Carlo", Cognome: "Zurzi", Email: "carlo@example.it", CTU: ctu, MailboxID: "mb1"}},
		mailboxes: map[string]domain.Mailbox{"mb1": *f.mb},
		links:     map[string]string{},
	}
	f.r = &Reginde{Store: f.store, Mail: f.mail, Now: func() time.Time { return f.now }, PublicURL: "https://pec.example.it", LinkTTL: 365 * 24 * time.Hour}
	return f
}

func (f *regindeFixture) member() domain.Member { return f.store.members[carlo] }

var regindeLink = regexp.MustCompile(`https://pec\.example\.it/reginde/([A-Za-z0-9_-]{43})`)

func (f *regindeFixture) lastToken(t *testing.T) string {
	t.Helper()
	if len(f.mail.sent) == 0 {
		t.Fatal("no e-mail sent")
	}
	m := regindeLink.FindStringSubmatch(f.mail.sent[len(f.mail.sent)-1].Text)
	if m == nil {
		t.Fatalf("no link in %q", f.mail.sent[len(f.mail.sent)-1].Text)
	}
	return m[1]
}

var orderCaller = Caller{Role: RoleOrder, OrderID: "TSRM-FI"}

func TestReginde_ActivatedCTUIsNotifiedOnceEvenWhenRetried(t *testing.T) {
	f := newRegindeFixture(t, true)
	for range 3 {
		if err := f.r.NotifyActivated(context.Background(), f.mb); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.mail.sent) != 1 || f.mail.to[0] != "carlo@example.it" {
		t.Fatalf("sent %d e-mails to %v, want 1 to the member", len(f.mail.sent), f.mail.to)
	}
	if s := f.mail.sent[0].Text; !strings.Contains(s, "carlo.zurzi@pec.tsrm.org") || strings.Contains(s, carlo) {
		t.Errorf("e-mail text:\n%s", s)
	}
	r := f.member().Reginde
	if r.NotifiedFor != "mb1" || r.Notices != 1 || !r.NotifiedAt.Equal(f.now) || r.Address != "carlo.zurzi@pec.tsrm.org" {
		t.Errorf("recorded %+v", r)
	}
	if r.LinkHash != HashLinkToken(f.lastToken(t)) || strings.Contains(r.LinkHash, f.lastToken(t)) {
		t.Error("the member must keep the link's hash, not the link")
	}
	if !r.LinkExpiresAt.Equal(f.now.Add(365 * 24 * time.Hour)) {
		t.Errorf("link expires %s", r.LinkExpiresAt)
	}
}

func TestReginde_ALostSendIsSentAgainWithANewLink(t *testing.T) {
	f := newRegindeFixture(t, true)
	f.mail.fail = 1
	if err := f.r.NotifyActivated(context.Background(), f.mb); err == nil {
		t.Fatal("a failed send must fail the step, so that the workflow retries it")
	}
	if f.member().Reginde.NotifiedFor != "" {
		t.Fatal("a failed send was recorded as sent")
	}
	firstHash := f.member().Reginde.LinkHash
	if err := f.r.NotifyActivated(context.Background(), f.mb); err != nil {
		t.Fatal(err)
	}
	if len(f.mail.sent) != 1 || f.member().Reginde.NotifiedFor != "mb1" || f.member().Reginde.LinkHash == firstHash {
		t.Errorf("after the retry: %d sent, %+v", len(f.mail.sent), f.member().Reginde)
	}
}

func TestReginde_NoNoticeForANonCTUOrAMailboxNotActive(t *testing.T) {
	f := newRegindeFixture(t, false)
	if err := f.r.NotifyActivated(context.Background(), f.mb); err != nil || len(f.mail.sent) != 0 {
		t.Fatalf("non-CTU: err %v, %d sent", err, len(f.mail.sent))
	}
	f = newRegindeFixture(t, true)
	f.mb.State = domain.StateRevocata
	if err := f.r.NotifyActivated(context.Background(), f.mb); err != nil || len(f.mail.sent) != 0 {
		t.Fatalf("revoked: err %v, %d sent", err, len(f.mail.sent))
	}
}

func TestReginde_ConfirmIsRecordedOnceAndAuditedThenSaysAlready(t *testing.T) {
	f := newRegindeFixture(t, true)
	if err := f.r.NotifyActivated(context.Background(), f.mb); err != nil {
		t.Fatal(err)
	}
	tok := f.lastToken(t)
	v, err := f.r.ViewConfirmation(context.Background(), tok)
	if err != nil || v.Address != "carlo.zurzi@pec.tsrm.org" || v.Order.Name == "" {
		t.Fatalf("view: %+v, %v", v, err)
	}
	f.now = f.now.Add(time.Hour)
	v, already, err := f.r.Confirm(context.Background(), tok)
	if err != nil || already || !v.Member.Reginde.ConfirmedAt.Equal(f.now) {
		t.Fatalf("confirm: already %v, err %v, %+v", already, err, v)
	}
	f.now = f.now.Add(time.Hour)
	v, already, err = f.r.Confirm(context.Background(), tok)
	if err != nil || !already || !v.Member.Reginde.ConfirmedAt.Equal(f.now.Add(-time.Hour)) {
		t.Fatalf("second confirm: already %v, err %v", already, err)
	}
	if got := strings.Join(f.store.audits, ","); got != "system member.reginde_notified,member member.reginde_confirmed" {
		t.Errorf("audit trail: %s", got)
	}
}

func TestReginde_UnknownExpiredAndReplacedLinks(t *testing.T) {
	f := newRegindeFixture(t, true)
	ctx := context.Background()
	if _, err := f.r.ViewConfirmation(ctx, strings.Repeat("A", 43)); !errors.Is(err, ErrRegindeLinkUnknown) {
		t.Errorf("forged: %v", err)
	}
	if err := f.r.NotifyActivated(ctx, f.mb); err != nil {
		t.Fatal(err)
	}
	old := f.lastToken(t)
	if _, err := f.r.SendReminder(ctx, orderCaller, "TSRM-FI", carlo); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.mail.sent[1].Subject, "Promemoria:") {
		t.Errorf("the second notice is a reminder: %q", f.mail.sent[1].Subject)
	}
	if _, _, err := f.r.Confirm(ctx, old); !errors.Is(err, ErrRegindeLinkGone) {
		t.Errorf("the replaced link: %v", err)
	}
	fresh := f.lastToken(t)
	f.now = f.now.Add(366 * 24 * time.Hour)
	if _, err := f.r.ViewConfirmation(ctx, fresh); !errors.Is(err, ErrRegindeLinkGone) {
		t.Errorf("the expired link: %v", err)
	}
	if f.member().Reginde.Confirmed() {
		t.Error("nothing was confirmed")
	}
}

func TestReginde_LinkDiesWhenTheAddressIsNoLongerTheDomicilio(t *testing.T) {
	f := newRegindeFixture(t, true)
	if err := f.r.NotifyActivated(context.Background(), f.mb); err != nil {
		t.Fatal(err)
	}
	mb := f.store.mailboxes["mb1"]
	mb.State = domain.StateRevocata
	f.store.mailboxes["mb1"] = mb
	if _, err := f.r.ViewConfirmation(context.Background(), f.lastToken(t)); !errors.Is(err, ErrRegindeLinkGone) {
		t.Errorf("revoked mailbox: %v", err)
	}
}

func TestReginde_ReminderRefusals(t *testing.T) {
	ctx := context.Background()
	f := newRegindeFixture(t, false)
	if _, err := f.r.SendReminder(ctx, orderCaller, "TSRM-FI", carlo); !errors.Is(err, ErrNotCTU) {
		t.Errorf("not CTU: %v", err)
	}
	f = newRegindeFixture(t, true)
	mb := f.store.mailboxes["mb1"]
	mb.State = domain.StateAbilitata
	f.store.mailboxes["mb1"] = mb
	if _, err := f.r.SendReminder(ctx, orderCaller, "TSRM-FI", carlo); !errors.Is(err, ErrNoActiveDomicilio) {
		t.Errorf("mailbox not active: %v", err)
	}
	f = newRegindeFixture(t, true)
	if err := f.r.NotifyActivated(ctx, f.mb); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.r.Confirm(ctx, f.lastToken(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.SendReminder(ctx, orderCaller, "TSRM-FI", carlo); !errors.Is(err, ErrRegindeConfirmed) {
		t.Errorf("confirmed: %v", err)
	}
	if _, err := f.r.SendReminder(ctx, Caller{Role: RoleOrder, OrderID: "TSRM-PI"}, "TSRM-FI", carlo); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("another Order: %v", err)
	}
	if len(f.mail.sent) != 1 {
		t.Errorf("%d e-mails, want only the first notice", len(f.mail.sent))
	}
}

func TestReginde_OwnPECIsAskedOnlyOnTheOrdersRequest(t *testing.T) {
	f := newRegindeFixture(t, true)
	m := f.member()
	m.MailboxID, m.PEC = "", "carlo.zurzi@legalmail.it"
	f.store.members[carlo] = m
	e, err := f.r.SendReminder(context.Background(), orderCaller, "TSRM-FI", carlo)
	if err != nil || e.Address != "carlo.zurzi@legalmail.it" {
		t.Fatalf("%+v, %v", e, err)
	}
	if r := f.member().Reginde; r.NotifiedFor != "own:carlo.zurzi@legalmail.it" || strings.HasPrefix(f.mail.sent[0].Subject, "Promemoria") {
		t.Errorf("recorded %+v; subject %q", r, f.mail.sent[0].Subject)
	}
}

func TestReginde_ListValidatesItsParameters(t *testing.T) {
	f := newRegindeFixture(t, true)
	ctx := context.Background()
	if _, _, err := f.r.ListCTU(ctx, orderCaller, "TSRM-FI", "yes", 0, ""); !errors.Is(err, errInvalidConfirmed) {
		t.Errorf("confirmed=yes: %v", err)
	}
	if _, _, err := f.r.ListCTU(ctx, orderCaller, "TSRM-FI", "", 1001, ""); err == nil {
		t.Error("limit 1001 accepted")
	}
	if _, _, err := f.r.ListCTU(ctx, Caller{Role: RoleOrder, OrderID: "TSRM-PI"}, "TSRM-FI", "", 0, ""); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("another Order: %v", err)
	}
	items, _, err := f.r.ListCTU(ctx, orderCaller, "TSRM-FI", "false", 0, "")
	if err != nil || len(items) != 1 || items[0].Address != "carlo.zurzi@pec.tsrm.org" {
		t.Errorf("list: %+v, %v", items, err)
	}
}
