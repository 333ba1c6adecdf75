package dynamo_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// activate moves a fresh mailbox to ATTIVATA with a validity starting on the given day.
func activate(t *testing.T, store interface {
	UpdateMailbox(context.Context, string, func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, bool, error)
}, id, on string) {
	t.Helper()
	d, _ := domain.ParseDate(on)
	_, _, err := store.UpdateMailbox(context.Background(), id, func(m *domain.Mailbox) (bool, error) {
		for _, s := range []domain.State{domain.StateRichiestaInviata, domain.StateAbilitata, domain.StateAttivata} {
			if _, err := m.Transition(s, time.Now(), "test", "test"); err != nil {
				return false, err
			}
		}
		m.StartValidity(d, 3)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDueMailboxIDs_OnlyAttivataMailboxesDueByThatDay(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	orderID := newOrder(t, svc)
	ctx := context.Background()
	surname := "Neri" + uniq()
	var ids []string
	for i := 1; i <= 4; i++ {
		_, mb, err := svc.Enrol(ctx, federation, orderID, enrolment(cfFor(i), "Anna", surname))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, mb.ID)
	}
	activate(t, store, ids[0], "2024-01-10") // due 2026-01-10
	activate(t, store, ids[1], "2024-02-29") // due 2026-02-28
	activate(t, store, ids[2], "2024-06-01") // due 2026-06-01, then revoked: out of the index
	if _, _, err := store.UpdateMailbox(ctx, ids[2], func(m *domain.Mailbox) (bool, error) {
		return m.Transition(domain.StateRevocata, time.Now(), "test", "test")
	}); err != nil {
		t.Fatal(err)
	}
	// ids[3] stays RICHIESTA: never due.
	due := func(day string) []string {
		var all []string
		for cursor := ""; ; {
			got, next, err := store.DueMailboxIDs(ctx, orderID, day, 1, cursor)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, got...)
			if cursor = next; cursor == "" {
				return all
			}
		}
	}
	if got := due("2026-01-09"); len(got) != 0 {
		t.Errorf("due on 2026-01-09: %v", got)
	}
	if got := due("2026-01-10"); !slices.Equal(got, ids[:1]) {
		t.Errorf("due on 2026-01-10: %v, want %v", got, ids[:1])
	}
	if got := due("2030-01-01"); !slices.Equal(got, ids[:2]) {
		t.Errorf("due on 2030-01-01: %v, want %v", got, ids[:2])
	}

	// A renewal batch lists exactly the mailboxes that joined it; RenewalCandidates reads the
	// Order's ATTIVATA mailboxes expiring before a day.
	var cands []string
	if err := store.RenewalCandidates(ctx, orderID, "2027-02-28", func(id, _ string) error { cands = append(cands, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cands, ids[:1]) {
		t.Errorf("candidates before 2027-02-28: %v, want %v", cands, ids[:1])
	}
	for range 2 {
		for _, id := range ids {
			if _, err := store.AddToRenewal(ctx, "B-"+orderID, id, func(m *domain.Mailbox) (bool, error) {
				return m.JoinRenewal("B-"+orderID, false), nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, next, err := store.RenewalMailboxIDs(ctx, "B-"+orderID, 10, "")
	want := slices.Sorted(slices.Values(ids[:2]))
	if err != nil || next != "" || !slices.Equal(got, want) {
		t.Errorf("renewal lines %v %q %v, want %v", got, next, err, want)
	}
}
