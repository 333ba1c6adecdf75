package app_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

// federation is one Order's mailbox lifecycle on the fakes: every lifecycle use case wired to
// one in-memory store and one set of fake adapters, on a clock that moves only when a test
// moves it. Its helpers are methods, so that the tests of other use cases in this package can
// have helpers of their own.
type federation struct {
	t          *testing.T
	ctx        context.Context
	now        time.Time
	ids        int
	store      *fake.Store
	workflow   *fake.Workflow
	orderMail  *fake.Mailer // PEC to the Order
	memberMail *fake.Mailer // ordinary e-mail to members
	provider   *fake.Provider
	documents  *fake.DocumentLinks
	order      *domain.Order

	batches      *app.Batches
	renewals     *app.Renewals
	provisioning *app.Provisioning
	notices      *app.OrderNotices
	activations  *app.Activations
	revocations  *app.Revocations
	expiry       *app.Expiry
}

// The callers: the staff of the federation's Order (TO), of another Order, the federation.
var (
	staffOfTO     = app.Caller{Role: app.RoleOrder, OrderID: "TO"}
	staffOfMI     = app.Caller{Role: app.RoleOrder, OrderID: "MI"}
	theFederation = app.Caller{Role: app.RoleFederation}
)

const activationTTL = 72 * time.Hour

func newFederation(t *testing.T) *federation {
	t.Helper()
	f := &federation{
		t: t, ctx: t.Context(), now: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC),
		store: fake.NewStore(), workflow: &fake.Workflow{}, orderMail: &fake.Mailer{}, memberMail: &fake.Mailer{},
		provider: &fake.Provider{}, documents: &fake.DocumentLinks{},
	}
	log := slog.New(slog.DiscardHandler)
	clock := func() time.Time { return f.now }
	f.notices = &app.OrderNotices{Store: f.store, OrderMail: f.orderMail}
	f.renewals = &app.Renewals{Store: f.store, Workflow: f.workflow, Provider: f.provider, Log: log, Now: clock, NewID: f.newID, StartPage: 2}
	f.batches = &app.Batches{Store: f.store, Workflow: f.workflow, OrderMail: f.orderMail, Renewals: f.renewals, Log: log,
		Now: clock, NewID: f.newID, StartPage: 2, RepairAfter: time.Hour}
	f.provisioning = &app.Provisioning{Store: f.store, Workflow: f.workflow, Provider: f.provider, Now: clock,
		Documents: &app.ProviderDocumentLinks{Store: f.store, BaseURL: "https://pec.example.it", Now: clock}}
	f.revocations = &app.Revocations{Store: f.store, Workflow: f.workflow, Provider: f.provider, Now: clock}
	f.activations = &app.Activations{Revocations: f.revocations, Store: f.store, Workflow: f.workflow, ActivationMail: f.memberMail, Notices: f.notices,
		Log: log, Now: clock, PublicURL: "https://pec.example.it", ActivationTTL: activationTTL}
	f.expiry = &app.Expiry{Store: f.store, Renewals: f.renewals, Revocations: f.revocations, MemberMail: f.memberMail,
		Log: log, ReminderDays: []int{30, 7}, Page: 2}
	f.order = f.putOrder("TO", true)
	return f
}

func (f *federation) newID() string {
	f.ids++
	return fmt.Sprintf("id-%d", f.ids)
}

// putOrder stores an Order with a price of 5 euro plus 22% VAT; webPEC says whether it
// adheres to the convention.
func (f *federation) putOrder(id string, webPEC bool) *domain.Order {
	f.t.Helper()
	o := &domain.Order{ID: id, Name: "Ordine TSRM PSTRP di " + id, PEC: strings.ToLower(id) + "@pec.ordine.example.it",
		Convention: domain.Convention{WebPEC: webPEC, PriceCents: 500, VATPercent: 22}, CreatedAt: f.now, UpdatedAt: f.now}
	if _, err := f.store.PutOrder(f.ctx, o, "federation"); err != nil {
		f.t.Fatal(err)
	}
	o, err := f.store.GetOrder(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

// mailbox enrols member n of the federation's Order with a mailbox "mb-<n>" that has come the
// whole way to state st (REVOCATA straight from RICHIESTA), an hour per step; an ATTIVATA one
// has its validity from today. change, if given, finishes the mailbox.
func (f *federation) mailbox(n int, st domain.State, change ...func(*domain.Mailbox)) *domain.Mailbox {
	f.t.Helper()
	return f.mailboxOf(f.order, n, st, change...)
}

func (f *federation) mailboxOf(o *domain.Order, n int, st domain.State, change ...func(*domain.Mailbox)) *domain.Mailbox {
	f.t.Helper()
	surnames := []string{"Rossi", "Bianchi", "Verdi", "Neri", "Gallo", "Conti", "Costa", "Fontana", "Greco", "Marino"}
	surname := surnames[n%len(surnames)]
	cf, id := f.cf(n), fmt.Sprintf("mb-%d", n)
	at := f.now.Add(-time.Duration(100-n) * time.Hour) // the lower n, the older
	mb := domain.NewMailbox(id, fmt.Sprintf("mario.%s%d@pec.tsrm.org", strings.ToLower(surname), n), o.ID, "TSRM", cf, at, "order:"+o.ID)
	mb.BatchSeq = o.BatchSeq
	var steps []domain.State
	switch forward := []domain.State{domain.StateRichiestaInviata, domain.StateAbilitata, domain.StateAttivata}; st {
	case domain.StateRichiesta:
	case domain.StateRevocata:
		steps = []domain.State{domain.StateRevocata}
	default:
		steps = forward[:slices.Index(forward, st)+1]
	}
	for _, s := range steps {
		at = at.Add(time.Hour)
		actor := "system"
		if s == domain.StateRevocata {
			actor = "order:" + o.ID
		}
		if _, err := mb.Transition(s, at, actor, "seeded"); err != nil {
			f.t.Fatal(err)
		}
		if s == domain.StateRichiestaInviata {
			mb.ProviderRef = "ref-" + id
		}
	}
	if st == domain.StateAttivata {
		mb.StartValidity(domain.Today(f.now), o.Convention.Validity())
	}
	for _, c := range change {
		c(mb)
	}
	f.store.PutMember(&domain.Member{OrderID: o.ID, CodiceFiscale: cf, Nome: "Mario", Cognome: surname, Albo: "TSRM",
		NumeroIscrizione: fmt.Sprint(1000 + n), DataIscrizione: "2020-01-15", Email: fmt.Sprintf("mario.%s%d@example.it", strings.ToLower(surname), n),
		MailboxID: id, EnrolledAt: mb.CreatedAt, UpdatedAt: mb.CreatedAt})
	f.store.PutMailbox(mb)
	return mb
}

// cf returns the n-th of a family of valid codici fiscali (n < 1000).
func (f *federation) cf(n int) domain.CodiceFiscale {
	f.t.Helper()
	for c := 'A'; c <= 'Z'; c++ {
		if cf, err := domain.ParseCodiceFiscale(fmt.Sprintf("RSSMRA80A01H%03d%c", n, c)); err == nil {
			return cf
		}
	}
	f.t.Fatalf("no codice fiscale %d", n)
	return ""
}

// withPark parks a workflow step on the mailbox.
func withPark(token string, w domain.Waiting) func(*domain.Mailbox) {
	return func(mb *domain.Mailbox) { mb.Park = domain.Park{Token: token, Waiting: w} }
}

func (f *federation) get(id string) *domain.Mailbox {
	f.t.Helper()
	mb, err := f.store.GetMailbox(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return mb
}

func (f *federation) member(mb *domain.Mailbox) *domain.Member {
	f.t.Helper()
	m, err := f.store.GetMember(f.ctx, mb.OrderID, domain.CodiceFiscale(mb.MemberKey))
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *federation) batch(id string) (*domain.Batch, app.BatchPark) {
	f.t.Helper()
	b, park, err := f.store.GetBatch(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return b, park
}

// outbox returns the federation Order's INI-PEC changes, as "kind address".
func (f *federation) outbox() []string {
	var out []string
	for _, c := range f.store.Outbox(f.order.ID) {
		out = append(out, string(c.Kind)+" "+c.Address)
	}
	return out
}

// audit returns the federation Order's audit trail, as "actor action".
func (f *federation) audit() []string {
	var out []string
	for _, e := range f.store.Audit(f.order.ID) {
		out = append(out, e.Actor+" "+e.Action)
	}
	return out
}

// mails returns what a mailer delivered, as "to: subject".
func (f *federation) mails(m *fake.Mailer) []string {
	var out []string
	for _, s := range m.Sent() {
		out = append(out, s.To+": "+s.Subject)
	}
	return out
}

// failures returns the workflow's Fail calls, as "token errorName".
func (f *federation) failures() []string {
	var out []string
	for _, s := range f.workflow.Failed() {
		out = append(out, s.Token+" "+s.Error)
	}
	return out
}

var activationLinkRE = regexp.MustCompile(`https://pec\.example\.it/activate/([A-Za-z0-9_-]+)`)

// lastLink returns the raw token of the last activation link e-mailed.
func (f *federation) lastLink() string {
	f.t.Helper()
	sent := f.memberMail.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if m := activationLinkRE.FindStringSubmatch(sent[i].Text); m != nil {
			return m[1]
		}
	}
	f.t.Fatal("no activation link was e-mailed")
	return ""
}

// transitions returns the mailbox's history, as "STATE actor reason".
func (f *federation) transitions(mb *domain.Mailbox) []string {
	var out []string
	for _, h := range mb.History {
		out = append(out, string(h.State)+" "+h.Actor+" "+h.Reason)
	}
	return out
}

// lastTransition returns the mailbox's latest transition, as "STATE actor reason".
func (f *federation) lastTransition(mb *domain.Mailbox) string {
	h := f.transitions(mb)
	return h[len(h)-1]
}

func (f *federation) wantErr(got, want error) {
	f.t.Helper()
	if !errors.Is(got, want) {
		f.t.Fatalf("error = %v, want %v", got, want)
	}
}

func (f *federation) wantCode(err error, code string) {
	f.t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != code {
		f.t.Fatalf("error = %v, want code %s", err, code)
	}
}

func (f *federation) wantStrings(what string, got []string, want ...string) {
	f.t.Helper()
	if !slices.Equal(got, want) {
		f.t.Errorf("%s =\n  %q\nwant\n  %q", what, got, want)
	}
}

func (f *federation) wantContains(what, s string, words ...string) {
	f.t.Helper()
	for _, w := range words {
		if !strings.Contains(s, w) {
			f.t.Errorf("%s = %q, want it to contain %q", what, s, w)
		}
	}
}
