package app_test

import (
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// fiveMailboxes enrols five members of TSRM-FI a minute apart and sends the second and the
// fourth mailbox's request; it returns the mailbox ids in enrolment order.
func fiveMailboxes(t *testing.T, f *svcFixture) []string {
	t.Helper()
	var out []string
	for i, cf := range []string{mario, luigi, anna, mario2, mario3} {
		_, mb := f.enrol(t, asFI, "TSRM-FI", enrolment(cf, "Socio", "Numero"+string(rune('A'+i))))
		out = append(out, mb.ID)
		f.clock.Advance(time.Minute)
	}
	for _, id := range []string{out[1], out[3]} {
		_, _, err := f.store.UpdateMailbox(t.Context(), id, func(mb *domain.Mailbox) (bool, error) {
			return mb.Transition(domain.StateRichiestaInviata, f.clock.Now(), "system", "sent")
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// allPages lists every page of q, returning the ids page by page.
func allPages(t *testing.T, f *svcFixture, c app.Caller, q app.MailboxQuery) [][]string {
	t.Helper()
	var pages [][]string
	for {
		items, next, err := f.svc.ListMailboxes(t.Context(), c, q)
		if err != nil {
			t.Fatal(err)
		}
		var page []string
		for _, mb := range items {
			page = append(page, mb.ID)
		}
		pages = append(pages, page)
		if next == "" {
			return pages
		}
		q.Cursor = next
	}
}

func TestListMailboxes_PagesOldestFirstWithACursor(t *testing.T) {
	f := newSvcFixture(t)
	ids := fiveMailboxes(t, f)
	f.enrol(t, asPI, "TSRM-PI", enrolment(mario, "Mario", "Rossi")) // no mailbox, and another Order
	tests := []struct {
		name  string
		q     app.MailboxQuery
		pages [][]string
	}{
		{"pages of two", app.MailboxQuery{OrderID: "TSRM-FI", Limit: 2}, [][]string{{ids[0], ids[1]}, {ids[2], ids[3]}, {ids[4]}}},
		{"a full last page has no cursor", app.MailboxQuery{OrderID: "TSRM-FI", Limit: 5}, [][]string{ids}},
		{"the default limit", app.MailboxQuery{OrderID: "TSRM-FI"}, [][]string{ids}},
		{"one state", app.MailboxQuery{OrderID: "TSRM-FI", State: "RICHIESTA_INVIATA", Limit: 1}, [][]string{{ids[1]}, {ids[3]}}},
		{"a state with none", app.MailboxQuery{OrderID: "TSRM-FI", State: "ATTIVATA"}, [][]string{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := allPages(t, f, asFI, tt.q)
			if fmt.Sprint(got) != fmt.Sprint(tt.pages) {
				t.Errorf("pages %v, want %v", got, tt.pages)
			}
		})
	}
}

func TestListMailboxes_RefusesBadQueries(t *testing.T) {
	f := newSvcFixture(t)
	fiveMailboxes(t, f)
	_, stateCursor, err := f.svc.ListMailboxes(t.Context(), asFI, app.MailboxQuery{OrderID: "TSRM-FI", State: "RICHIESTA", Limit: 1})
	if err != nil || stateCursor == "" {
		t.Fatalf("cursor %q, %v", stateCursor, err)
	}
	tests := []struct {
		name   string
		caller app.Caller
		q      app.MailboxQuery
		code   string
	}{
		{"another Order", asPI, app.MailboxQuery{OrderID: "TSRM-FI"}, "forbidden"},
		{"unknown Order", asFederation, app.MailboxQuery{OrderID: "TSRM-XX"}, "order_not_found"},
		{"unknown state", asFI, app.MailboxQuery{OrderID: "TSRM-FI", State: "ACTIVE"}, "invalid_state"},
		{"limit too large", asFI, app.MailboxQuery{OrderID: "TSRM-FI", Limit: 1001}, "invalid_limit"},
		{"negative limit", asFI, app.MailboxQuery{OrderID: "TSRM-FI", Limit: -1}, "invalid_limit"},
		{"forged cursor", asFI, app.MailboxQuery{OrderID: "TSRM-FI", Cursor: "eyJ4IjoxfQ"}, "invalid_cursor"},
		{"another listing's cursor", asFI, app.MailboxQuery{OrderID: "TSRM-FI", Cursor: stateCursor}, "invalid_cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := f.svc.ListMailboxes(t.Context(), tt.caller, tt.q); code(err) != tt.code {
				t.Errorf("got %v, want %s", err, tt.code)
			}
		})
	}
}

func TestMailboxSummary_CountsEveryStateZeroIncluded(t *testing.T) {
	f := newSvcFixture(t)
	fiveMailboxes(t, f)
	got, err := f.svc.MailboxSummary(t.Context(), asFI, "TSRM-FI")
	if err != nil {
		t.Fatal(err)
	}
	want := map[domain.State]int{domain.StateRichiesta: 3, domain.StateRichiestaInviata: 2, domain.StateAbilitata: 0, domain.StateAttivata: 0, domain.StateRevocata: 0}
	if !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	if _, err := f.svc.MailboxSummary(t.Context(), asPI, "TSRM-FI"); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("another Order: %v", err)
	}
	if _, err := f.svc.MailboxSummary(t.Context(), asFederation, "TSRM-XX"); !errors.Is(err, domain.ErrOrderNotFound) {
		t.Errorf("unknown Order: %v", err)
	}
}

func TestGetMailbox_AnotherOrderCannotTellItExists(t *testing.T) {
	f := newSvcFixture(t)
	ids := fiveMailboxes(t, f)
	tests := []struct {
		name   string
		caller app.Caller
		id     string
		code   string
	}{
		{"its Order", asFI, ids[0], ""},
		{"the federation", asFederation, ids[0], ""},
		{"another Order", asPI, ids[0], "mailbox_not_found"},
		{"no such mailbox", asFI, "nope", "mailbox_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mb, err := f.svc.GetMailbox(t.Context(), tt.caller, tt.id)
			if code(err) != tt.code || (err == nil && mb.ID != tt.id) {
				t.Errorf("got %+v, %v; want %q", mb, err, tt.code)
			}
		})
	}
}
