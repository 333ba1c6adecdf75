package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/dynamo"
)

func TestMain(m *testing.M) { os.Exit(localcloud.RunTests(m)) }

// newStore returns a store on the local cloud's table in DynamoDB Local. Tests isolate
// themselves with fresh Order ids and surnames rather than fresh tables.
func newStore(t *testing.T) *dynamo.Store {
	t.Helper()
	c := localcloud.ForTests(t)
	db := dynamodb.New(dynamodb.Options{
		BaseEndpoint:                    aws.String(c.DynamoDBURL),
		Region:                          localcloud.Region,
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		DisableValidateResponseChecksum: true,
	})
	return dynamo.New(db, c.Host.Tables()[0])
}

var seq struct {
	sync.Mutex
	n int
}

// uniq returns a string of letters unique within the test run, for Order ids and surnames.
func uniq() string {
	seq.Lock()
	defer seq.Unlock()
	seq.n++
	n, s := time.Now().UnixNano()/1000+int64(seq.n), ""
	for ; n > 0; n /= 26 {
		s = string(rune('A'+n%26)) + s
	}
	return s
}

var federation = app.Caller{Role: app.RoleFederation}

func newOrder(t *testing.T, svc *app.Service) string {
	t.Helper()
	id := "T-" + uniq()
	o := &domain.Order{ID: id, Name: "Ordine TSRM PSTRP di Prova", PEC: "ordine@pec.example.it", Convention: domain.Convention{WebPEC: true, PriceCents: 400, VATPercent: 22}}
	if _, err := svc.PutOrder(context.Background(), federation, o); err != nil {
		t.Fatalf("put order: %v", err)
	}
	return id
}

// Valid codici fiscali (check characters verified by the domain tests).
var cfs = []string{"ZRZCRL72R10H501D", "RSSMRA80A01H501U"}

func enrolment(cf, nome, cognome string) domain.Enrolment {
	return domain.Enrolment{CodiceFiscale: cf, Nome: nome, Cognome: cognome, Albo: "TSRM", NumeroIscrizione: "123",
		DataIscrizione: "2024-05-02", Email: "iscritto@example.it"}
}

// cfFor returns a distinct valid codice fiscale for every i: omocodic letters are not used,
// only the birth day and the check character vary.
func cfFor(i int) string {
	base := fmt.Sprintf("BNCGNN80A%02dH501", 1+i%28)
	if i >= 28 {
		base = fmt.Sprintf("BNCGNN%02dA%02dH501", 50+i/28, 1+i%28)
	}
	return base + string(checkChar(base))
}

func checkChar(s string) byte {
	odd := []int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}
	sum := 0
	for i := 0; i < 15; i++ {
		v := int(s[i] - 'A')
		if s[i] >= '0' && s[i] <= '9' {
			v = int(s[i] - '0')
		}
		if i%2 == 0 {
			sum += odd[v]
		} else {
			sum += v
		}
	}
	return byte('A' + sum%26)
}

func TestEnrol_FiftyConcurrentHomonymsGetFiftyDistinctAddresses(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	orderID := newOrder(t, svc)
	surname := "Rossi" + uniq()
	caller := app.Caller{Role: app.RoleOrder, OrderID: orderID}

	const n = 50
	addrs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, mb, err := svc.Enrol(context.Background(), caller, orderID, enrolment(cfFor(i), "Mario", surname))
			errs[i] = err
			if mb != nil {
				addrs[i] = mb.Address
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("enrolment %d: %v", i, errs[i])
		}
		if seen[addrs[i]] {
			t.Fatalf("address %s assigned twice", addrs[i])
		}
		seen[addrs[i]] = true
	}
	local := "mario." + domain.FoldNamePart(surname)
	for i := range n {
		want := local + "@pec.tsrm.org"
		if i > 0 {
			want = fmt.Sprintf("%s%d@pec.tsrm.org", local, i)
		}
		if !seen[want] {
			t.Errorf("numbering has a gap: %s not assigned", want)
		}
	}
}

func TestEnrol_RevokedAddressIsNeverReassigned(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	orderID := newOrder(t, svc)
	surname := "Verdi" + uniq()
	ctx := context.Background()
	_, first, err := svc.Enrol(ctx, federation, orderID, enrolment(cfFor(1), "Anna", surname))
	if err != nil {
		t.Fatal(err)
	}
	_, changed, err := store.UpdateMailbox(ctx, first.ID, func(m *domain.Mailbox) (bool, error) {
		return m.Transition(domain.StateRevocata, time.Now(), "federation", "cancelled")
	})
	if err != nil || !changed {
		t.Fatalf("revoke: changed=%v err=%v", changed, err)
	}
	_, second, err := svc.Enrol(ctx, federation, orderID, enrolment(cfFor(2), "Anna", surname))
	if err != nil {
		t.Fatal(err)
	}
	if second.Address == first.Address {
		t.Fatalf("revoked address %s was assigned again", first.Address)
	}
	if want := "anna." + domain.FoldNamePart(surname) + "1@pec.tsrm.org"; second.Address != want {
		t.Errorf("second address = %s, want %s", second.Address, want)
	}
}

func TestEnrol_SameCodiceFiscaleTwiceIsMemberExists_EvenInOmocodicForm(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	orderID := newOrder(t, svc)
	ctx := context.Background()
	surname := "Zurzi" + uniq()
	if _, _, err := svc.Enrol(ctx, federation, orderID, enrolment("ZRZCRL72R10H501D", "Carlo", surname)); err != nil {
		t.Fatal(err)
	}
	// ZRZCRL72R10H50MQ: the last digit of the municipality code written as its omocodia letter.
	omocodic := "ZRZCRL72R10H50" + "M"
	omocodic += string(checkChar(omocodic + "X"))
	_, _, err := svc.Enrol(ctx, federation, orderID, enrolment(omocodic, "Carlo", surname))
	if !errors.Is(err, domain.ErrMemberExists) {
		t.Fatalf("second enrolment: err = %v, want member_exists", err)
	}
	// Nothing of the refused enrolment was written: the next homonym still gets number 1.
	_, mb, err := svc.Enrol(ctx, federation, orderID, enrolment(cfFor(3), "Carlo", surname))
	if err != nil {
		t.Fatal(err)
	}
	if want := "carlo." + domain.FoldNamePart(surname) + "1@pec.tsrm.org"; mb.Address != want {
		t.Errorf("address = %s, want %s (a refused enrolment reserved an address)", mb.Address, want)
	}
	f, err := svc.GetMember(ctx, federation, orderID, omocodic)
	if err != nil || f.Member.CodiceFiscale.Value() != "ZRZCRL72R10H501D" {
		t.Fatalf("lookup by omocodic form: %v %v", f, err)
	}
}

func TestEnrol_OwnPECIssuesNoMailbox(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	orderID := newOrder(t, svc)
	e := enrolment(cfFor(4), "Lucia", "Neri"+uniq())
	e.PEC = "Lucia.Neri@PEC.example.it"
	m, mb, err := svc.Enrol(context.Background(), federation, orderID, e)
	if err != nil || mb != nil {
		t.Fatalf("mailbox=%v err=%v", mb, err)
	}
	d := m.DomicilioDigitale(nil)
	if d == nil || d.Source != domain.SourceOwn || d.Address != "lucia.neri@pec.example.it" {
		t.Fatalf("domicilio = %+v", d)
	}
}

func TestUpdateMailbox_StaleWriterLosesAndDecidesAgain(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	orderID := newOrder(t, svc)
	ctx := context.Background()
	_, mb, err := svc.Enrol(ctx, federation, orderID, enrolment(cfFor(5), "Paolo", "Gialli"+uniq()))
	if err != nil {
		t.Fatal(err)
	}
	// Two writers read the same version; both decide RICHIESTA -> RICHIESTA_INVIATA. Exactly one
	// write lands; the other re-reads, sees the move already made, and writes nothing.
	var ready sync.WaitGroup
	ready.Add(2)
	results := make([]bool, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			first := true
			_, changed, err := store.UpdateMailbox(ctx, mb.ID, func(m *domain.Mailbox) (bool, error) {
				if first {
					first = false
					ready.Done()
					ready.Wait()
				}
				return m.Transition(domain.StateRichiestaInviata, time.Now(), fmt.Sprint("writer", i), "")
			})
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
			results[i] = changed
		})
	}
	wg.Wait()
	if results[0] == results[1] {
		t.Fatalf("changed = %v: exactly one writer must win", results)
	}
	got, err := store.GetMailbox(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != domain.StateRichiestaInviata || len(got.History) != 2 || got.Version != 1 {
		t.Fatalf("state %s, %d history entries, version %d", got.State, len(got.History), got.Version)
	}
}

func TestListMailboxes_PagesByStateWithoutGapsOrRepeats(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	orderID := newOrder(t, svc)
	ctx := context.Background()
	surname := "Bruni" + uniq()
	var ids []string
	for i := range 23 {
		_, mb, err := svc.Enrol(ctx, federation, orderID, enrolment(cfFor(i), "Sara", surname))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, mb.ID)
	}
	for _, id := range ids[:5] {
		if _, _, err := store.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
			return m.Transition(domain.StateRevocata, time.Now(), "federation", "test")
		}); err != nil {
			t.Fatal(err)
		}
	}
	collect := func(state domain.State) []string {
		var got []string
		cursor, pages := "", 0
		for {
			items, next, err := svc.ListMailboxes(ctx, federation, app.MailboxQuery{OrderID: orderID, State: string(state), Limit: 6, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, m := range items {
				if state != "" && m.State != state {
					t.Errorf("state filter %s returned %s", state, m.State)
				}
				got = append(got, m.ID)
			}
			if next == "" {
				break
			}
			if len(items) == 0 {
				t.Fatal("an empty page came with a cursor")
			}
			cursor = next
		}
		return got
	}
	all := collect("")
	if len(all) != 23 || fmt.Sprint(all) != fmt.Sprint(ids) {
		t.Fatalf("all: got %d items in order %v, want %v", len(all), all, ids)
	}
	if got := collect(domain.StateRichiesta); len(got) != 18 {
		t.Errorf("RICHIESTA: %d items, want 18", len(got))
	}
	if got := collect(domain.StateRevocata); fmt.Sprint(got) != fmt.Sprint(ids[:5]) {
		t.Errorf("REVOCATA: %v, want %v", got, ids[:5])
	}
	counts, err := svc.MailboxSummary(ctx, federation, orderID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[domain.State]int{domain.StateRichiesta: 18, domain.StateRevocata: 5, domain.StateRichiestaInviata: 0, domain.StateAbilitata: 0, domain.StateAttivata: 0}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("summary = %v, want %v", counts, want)
	}
}

func TestListMailboxes_ForeignOrForgedCursorIsRefused(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	ctx := context.Background()
	a, b := newOrder(t, svc), newOrder(t, svc)
	surname := "Conti" + uniq()
	for i := range 3 {
		if _, _, err := svc.Enrol(ctx, federation, a, enrolment(cfFor(i), "Ugo", surname)); err != nil {
			t.Fatal(err)
		}
	}
	_, next, err := svc.ListMailboxes(ctx, federation, app.MailboxQuery{OrderID: a, Limit: 1})
	if err != nil || next == "" {
		t.Fatalf("next=%q err=%v", next, err)
	}
	for _, cursor := range []string{next, "not-base64!", "e30"} {
		_, _, err := svc.ListMailboxes(ctx, federation, app.MailboxQuery{OrderID: b, Limit: 1, Cursor: cursor})
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != "invalid_cursor" {
			t.Errorf("cursor %q on another Order: err = %v, want invalid_cursor", cursor, err)
		}
	}
}

func TestPutOrder_OfferCodeBelongsToOneOrder(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	ctx := context.Background()
	code := "OMCEO-" + uniq()
	mk := func(id string, code *string) *domain.Order {
		return &domain.Order{ID: id, Name: "OMCeO", PEC: "omceo@pec.example.it", Convention: domain.Convention{WebPEC: true, OfferCode: code, PriceCents: 488}}
	}
	a, b := "A-"+uniq(), "B-"+uniq()
	if created, err := svc.PutOrder(ctx, federation, mk(a, &code)); err != nil || !created {
		t.Fatalf("create a: %v %v", created, err)
	}
	if _, err := svc.PutOrder(ctx, federation, mk(b, &code)); !errors.Is(err, domain.ErrOfferCodeTaken) {
		t.Fatalf("b with a's code: %v", err)
	}
	if created, err := svc.PutOrder(ctx, federation, mk(a, &code)); err != nil || created {
		t.Fatalf("update a: created=%v err=%v", created, err)
	}
	if id, err := store.OrderIDForOfferCode(ctx, code); err != nil || id != a {
		t.Fatalf("owner = %q, %v", id, err)
	}
	// a gives the code up; b can take it.
	if _, err := svc.PutOrder(ctx, federation, mk(a, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutOrder(ctx, federation, mk(b, &code)); err != nil {
		t.Fatalf("b after a released the code: %v", err)
	}
	got, err := svc.GetOrder(ctx, federation, a)
	if err != nil || got.Version != 2 || got.Convention.OfferCode != nil {
		t.Fatalf("a = %+v, %v", got, err)
	}
}

func TestIdempotency_ClaimCompleteReplayRelease(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	k := "k-" + uniq()
	if prev, err := store.Claim(ctx, k, "f1", time.Minute); err != nil || prev != nil {
		t.Fatalf("first claim: %v %v", prev, err)
	}
	if prev, err := store.Claim(ctx, k, "f1", time.Minute); err != nil || prev == nil || prev.Done {
		t.Fatalf("claim while in progress: %+v %v", prev, err)
	}
	if err := store.Complete(ctx, k, app.IdempotentResponse{Fingerprint: "f1", Status: 201, Body: `{"ok":true}`}, time.Hour); err != nil {
		t.Fatal(err)
	}
	prev, err := store.Claim(ctx, k, "f2", time.Minute)
	if err != nil || prev == nil || !prev.Done || prev.Status != 201 || prev.Fingerprint != "f1" {
		t.Fatalf("claim after completion: %+v %v", prev, err)
	}
	if err := store.Release(ctx, k); err != nil {
		t.Fatal(err)
	}
	if prev, _ := store.Claim(ctx, k, "f1", time.Minute); prev == nil || !prev.Done {
		t.Fatal("a completed answer was released")
	}
	k2 := "k-" + uniq()
	store.Claim(ctx, k2, "f1", time.Minute)
	if err := store.Release(ctx, k2); err != nil {
		t.Fatal(err)
	}
	if prev, err := store.Claim(ctx, k2, "f1", time.Minute); err != nil || prev != nil {
		t.Fatalf("claim after release: %+v %v", prev, err)
	}
}
