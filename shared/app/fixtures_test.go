package app_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

// The use cases' tests run on shared/fake, whose Store keeps the DynamoDB store's promises
// (the DynamoDB store's own tests prove it on DynamoDB Local).

// t0 is the fixed time the tests start at.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var discard = slog.New(slog.DiscardHandler)

// Callers.
var (
	asFederation = app.Caller{Role: app.RoleFederation}
	asFI         = app.Caller{Role: app.RoleOrder, OrderID: "TSRM-FI"}
	asPI         = app.Caller{Role: app.RoleOrder, OrderID: "TSRM-PI"}
)

// clock is a fixed clock that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ids hands out deterministic identifiers: id-0001, id-0002, ...
type ids struct {
	mu sync.Mutex
	n  int
}

func (g *ids) Next() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return fmt.Sprintf("id-%04d", g.n)
}

// svcFixture is a Service on a fake store with the Orders TSRM-FI (in the convention) and
// TSRM-PI (not in it).
type svcFixture struct {
	store *fake.Store
	svc   *app.Service
	clock *clock
	ids   *ids // every use case of the fixture takes its ids from here
}

func newSvcFixture(t *testing.T) *svcFixture {
	t.Helper()
	f := &svcFixture{store: fake.NewStore(), clock: newClock(), ids: &ids{}}
	f.svc = &app.Service{Store: f.store, Domains: domain.MustAlbi(domain.DefaultAlbi()), Now: f.clock.Now, NewID: f.ids.Next}
	f.putOrder(t, &domain.Order{ID: "TSRM-FI", Name: "Ordine TSRM PSTRP di Firenze", PEC: "ordine@pec.tsrm-fi.it",
		Convention: domain.Convention{WebPEC: true, PriceCents: 400, VATPercent: 22}})
	f.putOrder(t, &domain.Order{ID: "TSRM-PI", Name: "Ordine TSRM PSTRP di Pisa", PEC: "ordine@pec.tsrm-pi.it"})
	return f
}

func (f *svcFixture) putOrder(t *testing.T, o *domain.Order) {
	t.Helper()
	if _, err := f.svc.PutOrder(t.Context(), asFederation, o); err != nil {
		t.Fatal(err)
	}
}

// enrol enrols a member who must be accepted.
func (f *svcFixture) enrol(t *testing.T, c app.Caller, orderID string, e domain.Enrolment) (*domain.Member, *domain.Mailbox) {
	t.Helper()
	m, mb, err := f.svc.Enrol(t.Context(), c, orderID, e)
	if err != nil {
		t.Fatalf("enrol %s %s: %v", e.Nome, e.Cognome, err)
	}
	return m, mb
}

// validCF completes the first 15 characters of a codice fiscale with its check character.
func validCF(prefix string) string {
	for c := 'A'; c <= 'Z'; c++ {
		if cf, err := domain.ParseCodiceFiscale(prefix + string(c)); err == nil {
			return string(cf)
		}
	}
	panic("no check character makes a codice fiscale of " + prefix)
}

// People of the tests. Two Mario Rossi are homonyms; marioOmocodic is the first Mario Rossi's
// code in an omocodic form.
var (
	mario         = validCF("RSSMRA80A01H501")
	mario2        = validCF("RSSMRA85B02F205")
	mario3        = validCF("RSSMRA70C03L219")
	marioOmocodic = validCF("RSSMRA80A01H50M")
	luigi         = validCF("VRDLGU75B02F205")
	anna          = validCF("BNCNNA90C41H501")
	giulia        = validCF("VRDGLI88D45D612")
	carlo         = "ZRZCRL72R10H501D"
)

// enrolment is a valid enrolment in the TSRM albo.
func enrolment(cf, nome, cognome string) domain.Enrolment {
	return domain.Enrolment{CodiceFiscale: cf, Nome: nome, Cognome: cognome, Albo: "TSRM", NumeroIscrizione: "100",
		DataIscrizione: "2020-01-15", Email: strings.ToLower(strings.ReplaceAll(nome, " ", "")) + "@example.it"}
}

// code returns the machine code of a *domain.Error, or the error's text.
func code(err error) string {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Code
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// field returns the field a *domain.Error names.
func field(err error) string {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Field
	}
	return ""
}

// actions lists the audit trail of the Order as "actor action" entries, for an entity prefix
// ("" for all).
func actions(s *fake.Store, orderID, entity string) []string {
	var out []string
	for _, e := range s.Audit(orderID) {
		if strings.HasPrefix(e.Entity, entity) {
			out = append(out, e.Actor+" "+e.Action)
		}
	}
	return out
}
