package fake_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// cf completes a codice fiscale with its check character.
func cf(prefix string) domain.CodiceFiscale {
	for c := 'A'; c <= 'Z'; c++ {
		if v, err := domain.ParseCodiceFiscale(prefix + string(c)); err == nil {
			return v
		}
	}
	panic(prefix)
}

// threeMembers stores three members of TSRM-FI, in key order: one with a PEC of their own,
// one enrolled in the albo long ago, one enrolled yesterday; and one of TSRM-PI.
func threeMembers(s *fake.Store) {
	s.PutMember(&domain.Member{OrderID: "TSRM-FI", CodiceFiscale: cf("AAAAAA80A01H501"), DataIscrizione: "2020-01-01", PEC: "a@pec.it"})
	s.PutMember(&domain.Member{OrderID: "TSRM-FI", CodiceFiscale: cf("BBBBBB80A01H501"), DataIscrizione: "2020-01-01"})
	s.PutMember(&domain.Member{OrderID: "TSRM-FI", CodiceFiscale: cf("CCCCCC80A01H501"), DataIscrizione: "2026-03-01"})
	s.PutMember(&domain.Member{OrderID: "TSRM-PI", CodiceFiscale: cf("BBBBBB80A01H501"), DataIscrizione: "2020-01-01"})
}

func keys(ms []*domain.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Key()[:6])
	}
	return out
}

func TestMembersPage_AFullPageHandsOutACursorEvenAtTheEnd(t *testing.T) {
	s := fake.NewStore()
	threeMembers(s)
	var pages []string
	for cursor := ""; ; {
		ms, next, err := s.MembersPage(t.Context(), "TSRM-FI", 3, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, fmt.Sprint(keys(ms)))
		if cursor = next; cursor == "" {
			break
		}
	}
	if got := fmt.Sprint(pages); got != "[[AAAAAA BBBBBB CCCCCC] []]" {
		t.Errorf("pages %s, want a full page then an empty one, as DynamoDB's LastEvaluatedKey", got)
	}
	var de *domain.Error
	if _, _, err := s.MembersPage(t.Context(), "TSRM-PI", 3, "bad"); !errors.As(err, &de) || de.Code != "invalid_cursor" {
		t.Errorf("a forged cursor: %v", err)
	}
}

func TestWithoutOwnPEC_FiltersAndPagesWithoutAnEmptyLastPage(t *testing.T) {
	s := fake.NewStore()
	threeMembers(s)
	s.PutMember(&domain.Member{OrderID: "TSRM-FI", CodiceFiscale: cf("DDDDDD80A01H501"), DataIscrizione: "2019-05-05"})
	s.PutMember(&domain.Member{OrderID: "TSRM-FI", CodiceFiscale: cf("EEEEEE80A01H501"), DataIscrizione: "2019-05-05", CancelledOn: "2025-01-01"})
	ms, next, err := s.WithoutOwnPEC(t.Context(), "TSRM-FI", "2026-02-01", 1, "")
	if err != nil || fmt.Sprint(keys(ms)) != "[BBBBBB]" || next == "" {
		t.Fatalf("first page %v, %q, %v", keys(ms), next, err)
	}
	ms, next, err = s.WithoutOwnPEC(t.Context(), "TSRM-FI", "2026-02-01", 1, next)
	if err != nil || fmt.Sprint(keys(ms)) != "[DDDDDD]" || next != "" {
		t.Errorf("second page %v, %q, %v", keys(ms), next, err)
	}
	if ms, _, _ := s.WithoutOwnPEC(t.Context(), "TSRM-FI", "2026-03-02", 0, ""); len(ms) != 3 {
		t.Errorf("limit 0 takes all: %v", keys(ms))
	}
}

func TestListings_CursorsBelongToTheirListing(t *testing.T) {
	s := fake.NewStore()
	for i, st := range []domain.State{domain.StateRichiesta, domain.StateRichiesta, domain.StateAttivata} {
		mb := domain.NewMailbox(fmt.Sprintf("mb%d", i), fmt.Sprintf("a%d@pec.it", i), "TSRM-FI", "TSRM", cf("AAAAAA80A01H501"), t0.Add(time.Duration(i)*time.Minute), "x")
		mb.State = st
		s.PutMailbox(mb)
	}
	page, next, err := s.ListMailboxes(t.Context(), app.MailboxQuery{OrderID: "TSRM-FI", Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID != "mb0" || next == "" {
		t.Fatalf("%v, %q, %v", page, next, err)
	}
	for name, q := range map[string]app.MailboxQuery{
		"another state":  {OrderID: "TSRM-FI", State: "RICHIESTA", Limit: 1, Cursor: next},
		"another Order":  {OrderID: "TSRM-PI", Limit: 1, Cursor: next},
		"not base64 url": {OrderID: "TSRM-FI", Limit: 1, Cursor: "%%%"},
	} {
		if _, _, err := s.ListMailboxes(t.Context(), q); err == nil {
			t.Errorf("%s: the cursor was accepted", name)
		}
	}
	counts, _ := s.CountMailboxes(t.Context(), "TSRM-FI")
	if counts[domain.StateRichiesta] != 2 || counts[domain.StateAttivata] != 1 || len(counts) != len(domain.States) {
		t.Errorf("counts %v", counts)
	}
}

func TestINIPECStore_ChangesDeliveriesAndExports(t *testing.T) {
	s := fake.NewStore()
	m := &domain.Member{OrderID: "TSRM-FI", CodiceFiscale: cf("AAAAAA80A01H501"), PEC: "a@pec.it", EnrolledAt: t0, UpdatedAt: t0}
	if err := s.CreateMember(t.Context(), m, nil, "x"); err != nil {
		t.Fatal(err)
	}
	m2 := &domain.Member{OrderID: "TSRM-FI", CodiceFiscale: cf("BBBBBB80A01H501"), PEC: "b@pec.it", EnrolledAt: t0, UpdatedAt: t0.Add(time.Hour)}
	if err := s.CreateMember(t.Context(), m2, nil, "x"); err != nil {
		t.Fatal(err)
	}
	all, _ := s.Changes(t.Context(), "TSRM-FI", "", app.ChangeKeyBefore(t0.Add(2*time.Hour)), 10)
	if len(all) != 2 {
		t.Fatalf("changes %+v", all)
	}
	for _, tt := range []struct {
		after, upTo string
		limit, want int
	}{
		{"", app.ChangeKeyBefore(t0), 10, 1},
		{all[0].Key, app.ChangeKeyBefore(t0.Add(2 * time.Hour)), 10, 1},
		{"", app.ChangeKeyBefore(t0.Add(2 * time.Hour)), 1, 1},
		{all[1].Key, app.ChangeKeyBefore(t0.Add(2 * time.Hour)), 10, 0},
	} {
		if got, _ := s.Changes(t.Context(), "TSRM-FI", tt.after, tt.upTo, tt.limit); len(got) != tt.want {
			t.Errorf("after %q up to %q: %d changes, want %d", tt.after, tt.upTo, len(got), tt.want)
		}
	}

	d := &app.Delivery{OrderID: "TSRM-FI", N: 1, State: app.DeliveryPrepared, FromKey: "", ToKey: all[1].Key, PreparedAt: t0}
	if err := s.PrepareDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if err := s.PrepareDelivery(t.Context(), d); !errors.Is(err, domain.ErrConcurrentUpdate) {
		t.Errorf("the same number twice: %v", err)
	}
	done := *d
	done.State, done.Outcome = app.DeliveryDelivered, "accepted"
	if err := s.CompleteDelivery(t.Context(), &done); err != nil {
		t.Fatal(err)
	}
	late := *d
	late.Outcome = "late"
	if err := s.CompleteDelivery(t.Context(), &late); err != nil {
		t.Fatal(err)
	}
	last, _ := s.LastDelivery(t.Context(), "TSRM-FI")
	if last.State != app.DeliveryDelivered || last.Outcome != "accepted" || last.ToKey != all[1].Key || last.Kind != "delta" {
		t.Errorf("last delivery %+v: a completed delivery is completed once, with its key range", last)
	}
	if err := s.PutExport(t.Context(), &app.Delivery{OrderID: "TSRM-FI", N: 7, Kind: "full", PreparedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutExport(t.Context(), &app.Delivery{OrderID: "TSRM-FI", N: 8, Kind: "full", PreparedAt: t0}); err != nil {
		t.Fatal(err)
	}
	ex, _, _ := s.ListDeliveries(t.Context(), "TSRM-FI", "full", 10, "")
	ds, _, _ := s.ListDeliveries(t.Context(), "TSRM-FI", "delta", 10, "")
	if len(ex) != 1 || ex[0].N != 8 || len(ds) != 1 || ds[0].N != 1 {
		t.Errorf("exports %+v, deliveries %+v", ex, ds)
	}
	got, _ := s.MembersByKey(t.Context(), "TSRM-FI", []string{m.Key(), m.Key(), "nobody"})
	if len(got) != 1 || got[m.Key()].PEC != "a@pec.it" {
		t.Errorf("members by key %+v", got)
	}
}
