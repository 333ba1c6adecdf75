package fake_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
	"github.com/pecplatform/pec/shared/notice"
)

// seededAt is when the records of these tests are made.
var seededAt = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// storeOfTO returns a store with the Order TO and its mailboxes mb-1..mb-n in RICHIESTA,
// a minute apart.
func storeOfTO(t *testing.T, n int) *fake.Store {
	t.Helper()
	s := fake.NewStore()
	if _, err := s.PutOrder(t.Context(), &domain.Order{ID: "TO", Name: "Ordine di TO", CreatedAt: seededAt, UpdatedAt: seededAt}, "federation"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		s.PutMailbox(mailboxOfTO(i, domain.StateRichiesta))
	}
	return s
}

func mailboxOfTO(n int, st domain.State) *domain.Mailbox {
	mb := domain.NewMailbox(fmt.Sprintf("mb-%d", n), fmt.Sprintf("m%d@pec.tsrm.org", n), "TO", "TSRM", domain.CodiceFiscale(fmt.Sprint(n)), seededAt.Add(time.Duration(n)*time.Minute), "order:TO")
	mb.State = st
	return mb
}

func TestCreateBatch_ClosesTheOrdersSequenceOnce(t *testing.T) {
	s := storeOfTO(t, 1)

	if err := s.CreateBatch(t.Context(), &domain.Batch{ID: "b1", OrderID: "TO", Seq: 0, CreatedAt: seededAt}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBatch(t.Context(), &domain.Batch{ID: "b2", OrderID: "TO", Seq: 0, CreatedAt: seededAt}); !errors.Is(err, domain.ErrConcurrentUpdate) {
		t.Errorf("a second batch of sequence 0: %v, want ErrConcurrentUpdate", err)
	}
	late := mailboxOfTO(2, domain.StateRichiesta)
	if err := s.CreateMember(t.Context(), &domain.Member{OrderID: "TO", CodiceFiscale: "2"}, late, "order:TO"); !errors.Is(err, domain.ErrConcurrentUpdate) {
		t.Errorf("an enrolment under the closed sequence: %v, want ErrConcurrentUpdate", err)
	}
	late.BatchSeq = 1
	if err := s.CreateMember(t.Context(), &domain.Member{OrderID: "TO", CodiceFiscale: "2"}, late, "order:TO"); err != nil {
		t.Fatal(err)
	}
	for seq, want := range []int{1, 1} {
		if n, _ := s.CountOpen(t.Context(), "TO", seq); n != want {
			t.Errorf("CountOpen(seq %d) = %d, want %d", seq, n, want)
		}
	}
	if o, _ := s.GetOrder(t.Context(), "TO"); o.BatchSeq != 1 {
		t.Errorf("BatchSeq = %d, want 1", o.BatchSeq)
	}
}

func TestOpenMailboxIDs_PagesAsDynamoDBDoes(t *testing.T) {
	s := storeOfTO(t, 4)
	self := mailboxOfTO(5, domain.StateRichiesta)
	self.RequestID = "req-5" // self-service: never in a batch
	s.PutMailbox(self)

	ids, next, err := s.OpenMailboxIDs(t.Context(), "TO", 0, 2, "")
	if err != nil || !slices.Equal(ids, []string{"mb-1", "mb-2"}) || next == "" {
		t.Fatalf("first page = %q, %q, %v", ids, next, err)
	}
	// A mailbox that leaves the index between two pages moves nobody to another page.
	if _, _, err := s.UpdateMailbox(t.Context(), "mb-2", func(m *domain.Mailbox) (bool, error) {
		return m.Transition(domain.StateRichiestaInviata, seededAt, "system", "")
	}); err != nil {
		t.Fatal(err)
	}
	ids, next, err = s.OpenMailboxIDs(t.Context(), "TO", 0, 2, next)
	if err != nil || !slices.Equal(ids, []string{"mb-3", "mb-4"}) || next == "" {
		t.Fatalf("second page = %q, %q, %v; want a full page, and a cursor as DynamoDB gives", ids, next, err)
	}
	ids, next, err = s.OpenMailboxIDs(t.Context(), "TO", 0, 2, next)
	if err != nil || len(ids) != 0 || next != "" {
		t.Fatalf("third page = %q, %q, %v; want the end", ids, next, err)
	}

	_, cursor, _ := s.OpenMailboxIDs(t.Context(), "TO", 0, 1, "")
	for _, bad := range []struct {
		seq    int
		cursor string
	}{{1, cursor}, {0, "bm90IGEgY3Vyc29y"}, {0, "%%%"}} {
		_, _, err := s.OpenMailboxIDs(t.Context(), "TO", bad.seq, 1, bad.cursor)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != "invalid_cursor" {
			t.Errorf("cursor %q for sequence %d: %v, want invalid_cursor", bad.cursor, bad.seq, err)
		}
	}
}

func TestListBatches_NewestFirstWithACursorOnlyWhenMoreFollow(t *testing.T) {
	s := storeOfTO(t, 0)
	for i := range 3 {
		b := &domain.Batch{ID: fmt.Sprintf("b%d", i), OrderID: "TO", Kind: domain.BatchRenewal, CreatedAt: seededAt.Add(time.Duration(i) * time.Hour)}
		if err := s.PutRenewalBatch(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}

	var got []string
	pages := 0
	for cursor := ""; ; pages++ {
		page, next, err := s.ListBatches(t.Context(), "TO", 3, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page {
			got = append(got, b.ID)
		}
		if cursor = next; cursor == "" {
			break
		}
	}

	if !slices.Equal(got, []string{"b2", "b1", "b0"}) || pages != 0 {
		t.Errorf("batches = %q in %d more pages, want newest first in one page", got, pages)
	}
	if page, _, _ := s.ListBatches(t.Context(), "MI", 3, ""); len(page) != 0 {
		t.Errorf("another Order's batches: %v", page)
	}
}

func TestUpdateBatch_DecidesAgainAfterLosingARace(t *testing.T) {
	s := storeOfTO(t, 1)
	if err := s.CreateBatch(t.Context(), &domain.Batch{ID: "b1", OrderID: "TO", MailboxCount: 1, CreatedAt: seededAt}); err != nil {
		t.Fatal(err)
	}
	calls := 0

	b, park, changed, err := s.UpdateBatch(t.Context(), "b1", app.Audit{Actor: "order:TO", Action: "batch.confirmed"}, func(b *domain.Batch, p *app.BatchPark) (bool, error) {
		if calls++; calls == 1 { // somebody parks a step meanwhile
			if _, _, _, err := s.UpdateBatch(t.Context(), "b1", app.Audit{}, func(_ *domain.Batch, p *app.BatchPark) (bool, error) {
				p.Token = "tok-1"
				return true, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		b.Confirmed = true
		return true, nil
	})

	if err != nil || !changed || calls != 2 || !b.Confirmed || park.Token != "tok-1" || b.Version != 2 {
		t.Errorf("UpdateBatch = %+v, %+v, %v, %v after %d calls; want both changes, version 2", b, park, changed, err, calls)
	}
	var actions []string
	for _, e := range s.Audit("TO") {
		actions = append(actions, e.Action)
	}
	if !slices.Equal(actions, []string{"order.created", "batch.created", "batch.confirmed"}) {
		t.Errorf("audit = %q", actions)
	}
	if _, _, _, err := s.UpdateBatch(t.Context(), "nope", app.Audit{}, nil); !errors.Is(err, domain.ErrBatchNotFound) {
		t.Errorf("an unknown batch: %v", err)
	}
}

func TestUpdateActivation_RecordsTheLinkOnlyWithTheChange(t *testing.T) {
	s := storeOfTO(t, 1)
	for _, tc := range []struct {
		hash    string
		changed bool
	}{{"h1", false}, {"h2", true}} {
		_, _, err := s.UpdateActivation(t.Context(), "mb-1", tc.hash, seededAt.Add(time.Hour), func(m *domain.Mailbox) (bool, error) {
			m.Activation.Hash = tc.hash
			return tc.changed, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		id, err := s.ActivationMailbox(t.Context(), tc.hash)
		if tc.changed != (err == nil && id == "mb-1") {
			t.Errorf("link %s after a change %v: %q, %v", tc.hash, tc.changed, id, err)
		}
	}
}

func TestRenewalLines_ListedByMailboxID(t *testing.T) {
	s := storeOfTO(t, 0)
	for _, n := range []int{3, 1, 2} {
		s.PutMailbox(mailboxOfTO(n, domain.StateAttivata))
		joined, err := s.AddToRenewal(t.Context(), "r1", fmt.Sprintf("mb-%d", n), func(m *domain.Mailbox) (bool, error) {
			m.RenewalBatchID = "r1"
			return true, nil
		})
		if err != nil || !joined {
			t.Fatalf("AddToRenewal(mb-%d) = %v, %v", n, joined, err)
		}
	}
	if joined, err := s.AddToRenewal(t.Context(), "r1", "mb-1", func(*domain.Mailbox) (bool, error) { return false, nil }); joined || err != nil {
		t.Errorf("a mailbox that does not join: %v, %v", joined, err)
	}

	ids, next, err := s.RenewalMailboxIDs(t.Context(), "r1", 10, "")

	if err != nil || !slices.Equal(ids, []string{"mb-1", "mb-2", "mb-3"}) || next != "" {
		t.Errorf("RenewalMailboxIDs = %q, %q, %v", ids, next, err)
	}
}

func TestRenewalCandidatesAndDueMailboxes_OnlyActiveOnes(t *testing.T) {
	s := storeOfTO(t, 0)
	for n, c := range []struct {
		state   domain.State
		expires string
		due     string
		renewal string
	}{
		{domain.StateAttivata, "2026-04-01", "2026-03-02", ""},
		{domain.StateAttivata, "2026-05-01", "2026-03-03", "r1"},
		{domain.StateAttivata, "2026-03-15", "", ""},
		{domain.StateRevocata, "2026-04-01", "2026-03-01", ""},
		{domain.StateAbilitata, "2026-04-01", "2026-03-01", ""},
	} {
		mb := mailboxOfTO(n+1, c.state)
		mb.ExpiresOn, mb.ExpiryDueOn, mb.RenewalBatchID = c.expires, c.due, c.renewal
		s.PutMailbox(mb)
	}

	var candidates []string
	err := s.RenewalCandidates(t.Context(), "TO", "2026-05-01", func(id, batch string) error {
		candidates = append(candidates, id+"/"+batch)
		return nil
	})
	if err != nil || !slices.Equal(candidates, []string{"mb-1/", "mb-3/"}) {
		t.Errorf("renewal candidates before 2026-05-01 = %q, %v", candidates, err)
	}
	due, _, err := s.DueMailboxIDs(t.Context(), "TO", "2026-03-02", 10, "")
	if err != nil || !slices.Equal(due, []string{"mb-1"}) {
		t.Errorf("due on 2026-03-02 = %q, %v", due, err)
	}
}

func TestProviderEvents_RecordedOnce(t *testing.T) {
	s := fake.NewStore()
	if seen, _ := s.SeenEvent(t.Context(), "ev-1"); seen {
		t.Fatal("seen before recorded")
	}
	if err := s.RecordEvent(t.Context(), "ev-1", "mb-1"); err != nil {
		t.Fatal(err)
	}
	if seen, _ := s.SeenEvent(t.Context(), "ev-1"); !seen {
		t.Error("not seen once recorded")
	}
	s.Fail("SeenEvent", fake.ErrInjected)
	if _, err := s.SeenEvent(t.Context(), "ev-1"); !errors.Is(err, fake.ErrInjected) {
		t.Errorf("an injected failure: %v", err)
	}
}

func TestWorkflow_StartsOnceAndTakesATokenOnce(t *testing.T) {
	w := &fake.Workflow{}
	for range 2 {
		_ = w.StartBatch(t.Context(), "b1")
		_ = w.StartMailbox(t.Context(), "mb-1", "b1")
	}
	w.Faults.Fail("Resume", fake.ErrInjected)
	if err := w.Resume(t.Context(), "tok-1"); !errors.Is(err, fake.ErrInjected) {
		t.Fatalf("an injected failure: %v", err)
	}
	w.Gone("tok-3")

	first, _ := w.ResumeOrGone(t.Context(), "tok-1")
	second, _ := w.ResumeOrGone(t.Context(), "tok-1")
	_ = w.Fail(t.Context(), "tok-2", app.ErrNameRevoked, "revoked")
	third, _ := w.ResumeOrGone(t.Context(), "tok-2")
	timedOut, _ := w.ResumeOrGone(t.Context(), "tok-3")

	if first || !second || !third || !timedOut {
		t.Errorf("gone = %v %v %v %v, want a token to work once, and a step marked gone gone", first, second, third, timedOut)
	}
	if got := w.StartedBatches(); !slices.Equal(got, []string{"b1"}) {
		t.Errorf("batches started = %q", got)
	}
	if got := w.StartedMailboxes(); len(got) != 1 {
		t.Errorf("mailboxes started = %v", got)
	}
	if got := w.Resumed(); !slices.Equal(got, []string{"tok-1", "tok-1", "tok-2", "tok-3"}) {
		t.Errorf("resumed = %q (the injected failure reached nobody)", got)
	}
	if got := w.Failed(); len(got) != 1 || got[0] != (fake.Signal{Token: "tok-2", Error: "MailboxRevoked", Cause: "revoked"}) {
		t.Errorf("failed = %v", got)
	}
}

func TestProvider_DeduplicatesAndRefuses(t *testing.T) {
	p := &fake.Provider{}
	p.Refuse("mb-2")
	for range 2 {
		if ref, err := p.Submit(t.Context(), app.SubmitRequest{RequestID: "mb-1", Address: "a@pec.tsrm.org"}); err != nil || ref != "ref-mb-1" {
			t.Fatalf("Submit = %q, %v", ref, err)
		}
		_ = p.Deactivate(t.Context(), app.ProviderMailbox{RequestID: "mb-1", Address: "a@pec.tsrm.org"}, "left")
		_ = p.Renew(t.Context(), app.RenewRequest{RequestID: "mb-1", RenewalID: "r1"})
	}
	_, err := p.Submit(t.Context(), app.SubmitRequest{RequestID: "mb-2"})
	if !errors.Is(err, app.ErrProviderRefused) {
		t.Errorf("a refused request: %v, want it to wrap app.ErrProviderRefused", err)
	}
	p.Fail("Renew", fake.ErrUnavailable)
	if err := p.Renew(t.Context(), app.RenewRequest{RequestID: "mb-1", RenewalID: "r2"}); !errors.Is(err, fake.ErrUnavailable) || errors.Is(err, app.ErrProviderRefused) {
		t.Errorf("an unavailable provider: %v", err)
	}

	if len(p.Submitted()) != 1 || len(p.Deactivated()) != 1 || len(p.Renewed()) != 1 {
		t.Errorf("submitted %v, deactivated %v, renewed %v: want each once", p.Submitted(), p.Deactivated(), p.Renewed())
	}
	if p.Calls("Submit") != 3 || p.Calls("Renew") != 2 {
		t.Errorf("calls: %d submissions, %d renewals; want 3 and 2", p.Calls("Submit"), p.Calls("Renew"))
	}
}

func TestMailer_RecordsWhatItDelivers(t *testing.T) {
	m := &fake.Mailer{}
	m.Fail("Send", fake.ErrInjected)
	if _, err := m.Send(t.Context(), "a@example.it", notice.Message{Subject: "lost"}); !errors.Is(err, fake.ErrInjected) {
		t.Fatalf("an injected failure: %v", err)
	}
	if _, err := m.Send(t.Context(), "b@example.it", notice.Message{Subject: "Oggetto", Text: "Testo"}); err != nil {
		t.Fatal(err)
	}
	if got := m.Sent(); len(got) != 1 || got[0].To != "b@example.it" || got[0].Subject != "Oggetto" || got[0].Text != "Testo" || got[0].HTML != "" || got[0].Attachments != nil {
		t.Errorf("sent = %v", got)
	}
}

func TestDocumentLinks_AreDeterministic(t *testing.T) {
	url, err := (&fake.DocumentLinks{}).PresignGet(t.Context(), "requests/r 1/form.pdf", time.Hour)
	if err != nil || url != "https://documents.example.test/requests/r%201/form.pdf?expires=3600" {
		t.Errorf("PresignGet = %q, %v", url, err)
	}
}
