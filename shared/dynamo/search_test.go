package dynamo_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// The search's indexes on DynamoDB Local: GSI4 in cognome-nome order, GSI5 for the nome, the
// cursor across pages, the filters that skip members, the member's audit partition.

func found(files []app.MemberFile) []string {
	out := []string{}
	for _, f := range files {
		out = append(out, f.Member.Cognome+" "+f.Member.Nome)
	}
	return out
}

func TestSearchMembers_IndexesServeNamesCodesFiltersAndPages(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	order := newOrder(t, svc)
	staff := app.Caller{Role: app.RoleOrder, OrderID: order, Subject: "segreteria@ordine.example"}
	people := []struct{ nome, cognome, albo string }{
		{"Mario", "D'Alessandro", "TSRM"}, {"Mario", "Rossi", "FISIO"}, {"Luigi", "De Luca", "TSRM"},
		{"Anna", "Dàlì", "TSRM"}, {"Giulia", "Rossetti", "TSRM"}, {"Marta", "Bianchi", "TSRM"},
	}
	for i, p := range people {
		e := enrolment(cfFor(i), p.nome, p.cognome)
		e.Albo = p.albo
		if _, _, err := svc.Enrol(t.Context(), staff, order, e); err != nil {
			t.Fatal(err)
		}
	}
	// Thirty more, for pages and filters that skip.
	for i := range 30 {
		e := enrolment(cfFor(10+i), fmt.Sprintf("Nome%02d", i), fmt.Sprintf("Zeta%02d", i))
		e.Albo = "FISIO"
		if i == 29 {
			e.Albo = "TSRM"
		}
		if _, _, err := svc.Enrol(t.Context(), staff, order, e); err != nil {
			t.Fatal(err)
		}
	}
	find := func(f app.MemberFilter) ([]string, string) {
		t.Helper()
		got, next, err := svc.FindMembers(t.Context(), staff, order, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		return found(got), next
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"d'ales", []string{"D'Alessandro Mario"}},
		{"dal", []string{"D'Alessandro Mario", "Dàlì Anna"}},
		{"de luca lu", []string{"De Luca Luigi"}},
		{"mar", []string{"Bianchi Marta", "D'Alessandro Mario", "Rossi Mario"}},
		{"mario rossi", []string{"Rossi Mario"}},
		{"rossi m", []string{"Rossi Mario"}},
		{cfFor(1), []string{"Rossi Mario"}},
	} {
		if got, next := find(app.MemberFilter{Q: tc.q}); !slices.Equal(got, tc.want) || next != "" {
			t.Errorf("q=%q: %v %q, want %v", tc.q, got, next, tc.want)
		}
	}
	// Pages of 4 in order, to the end, each member once.
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		got, next := find(app.MemberFilter{Limit: 4, Cursor: cursor})
		all = append(all, got...)
		if next == "" || pages > 20 {
			break
		}
		cursor = next
	}
	if len(all) != 36 || all[0] != "Bianchi Marta" || all[35] != "Zeta29 Nome29" || !slices.IsSorted(all[6:]) {
		t.Errorf("pages gave %d members: %v", len(all), all)
	}
	// A filter that skips the thirty FISIO Zeta before the last one.
	if got, _ := find(app.MemberFilter{Q: "zeta", Albo: "TSRM"}); !slices.Equal(got, []string{"Zeta29 Nome29"}) {
		t.Errorf("zeta in TSRM: %v", got)
	}
	if got, _ := find(app.MemberFilter{State: "RICHIESTA", Q: "ross"}); !slices.Equal(got, []string{"Rossetti Giulia", "Rossi Mario"}) {
		t.Errorf("RICHIESTA ross: %v", got)
	}
	if got, _ := find(app.MemberFilter{State: "ATTIVATA"}); len(got) != 0 {
		t.Errorf("nobody's domicilio is ATTIVATA, found %v", got)
	}
	if _, _, err := svc.FindMembers(t.Context(), staff, order, app.MemberFilter{Cursor: "eyJwIjoiT1JERVIjWCJ9"}); err == nil {
		t.Error("a forged cursor was accepted")
	}

	// The audit trail: newest first, the person named, the member's own partition.
	trail := &app.AuditTrail{Store: store}
	lines, _, err := trail.List(t.Context(), staff, app.AuditQuery{OrderID: order, Member: cfFor(1)})
	if err != nil || len(lines) != 1 || lines[0].Action != "member.enrolled" || lines[0].Subject != "segreteria@ordine.example" ||
		lines[0].CodiceFiscale != cfFor(1) {
		t.Fatalf("member's trail %+v %v", lines, err)
	}
	page, next, err := trail.List(t.Context(), staff, app.AuditQuery{OrderID: order, Limit: 30})
	if err != nil || len(page) != 30 || next == "" || !page[0].At.After(page[29].At) && !page[0].At.Equal(page[29].At) {
		t.Fatalf("first page of the trail: %d %q %v", len(page), next, err)
	}
	rest, next, err := trail.List(t.Context(), staff, app.AuditQuery{OrderID: order, Limit: 30, Cursor: next})
	if err != nil || next != "" || len(rest) != 7 { // 36 enrolments and the Order's creation
		t.Errorf("second page of the trail: %d %q %v", len(rest), next, err)
	}
}

func TestFederationLists_OrdersAndBatchesAcrossOrders(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	order := newOrder(t, svc)
	if _, _, err := svc.Enrol(t.Context(), federation, order, enrolment(cfFor(3), "Mario", "Rossi")); err != nil {
		t.Fatal(err)
	}
	fed := &app.Federation{Store: store}
	var counts map[domain.State]int
	cursor := ""
	for pages := 0; pages < 100; pages++ {
		items, next, err := fed.Orders(t.Context(), federation, 50, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range items {
			if o.Order.ID == order {
				counts = o.Mailboxes
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if counts[domain.StateRichiesta] != 1 || len(counts) != len(domain.States) {
		t.Errorf("the Order's counts: %v", counts)
	}
	if _, _, err := fed.Batches(t.Context(), federation, "AWAITING_AUTHORIZATION", 10, ""); err != nil {
		t.Error(err)
	}
}

func TestTransferMember_MovesTheRecordsAtomicallyWithBothOrdersINIPECChanges(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	from, to := newOrder(t, svc), newOrder(t, svc)
	e := enrolment(cfFor(5), "Giovanna", "Bianchi")
	e.PEC = "giovanna.bianchi@pec.example.it"
	if _, _, err := svc.Enrol(t.Context(), federation, from, e); err != nil {
		t.Fatal(err)
	}
	tr := &app.Transfers{Store: store, Now: time.Now}
	m, mb, err := tr.Transfer(t.Context(), federation, from, cfFor(5), to, "2026-01-02", "77")
	if err != nil || m.OrderID != to || m.TransferredFrom != from || mb != nil {
		t.Fatalf("%+v %+v %v", m, mb, err)
	}
	left, err := store.GetMember(t.Context(), from, domain.CodiceFiscale(cfFor(5)))
	if err != nil || left.TransferredTo != to || !left.Cancelled() {
		t.Errorf("left behind %+v %v", left, err)
	}
	kinds := func(orderID string) []string {
		changes, err := store.Changes(t.Context(), orderID, "", "~", 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range changes {
			out = append(out, string(c.Kind)+" "+c.Address)
		}
		return out
	}
	if got := kinds(from); !slices.Equal(got, []string{"insert giovanna.bianchi@pec.example.it", "delete giovanna.bianchi@pec.example.it"}) {
		t.Errorf("the old Order's changes %v", got)
	}
	if got := kinds(to); !slices.Equal(got, []string{"insert giovanna.bianchi@pec.example.it"}) {
		t.Errorf("the new Order's changes %v", got)
	}
	// Someone enrolled them in the new Order meanwhile: the transfer back refuses, nothing moves.
	if _, _, err := tr.Transfer(t.Context(), federation, to, cfFor(5), from, "2026-01-03", "78"); err == nil {
		t.Error("a transfer onto a record that exists was accepted")
	}
	if got := kinds(to); len(got) != 1 {
		t.Errorf("a refused transfer left changes %v", got)
	}
	trail, _, err := (&app.AuditTrail{Store: store}).List(t.Context(), federation, app.AuditQuery{OrderID: to, Member: cfFor(5)})
	if err != nil || len(trail) != 1 || trail[0].Action != "member.transferred_in" {
		t.Errorf("the new Order's trail %+v %v", trail, err)
	}
}

func TestSuspensionsEnded_FromTheSparseIndex(t *testing.T) {
	store := newStore(t)
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	order := newOrder(t, svc)
	e := enrolment(cfFor(7), "Anna", "Sospesa")
	e.PEC = "anna@pec.example.it"
	if _, _, err := svc.Enrol(t.Context(), federation, order, e); err != nil {
		t.Fatal(err)
	}
	su := &app.Suspensions{Store: store, Policy: domain.SuspendUnpublish, Now: func() time.Time { return time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC) }}
	if _, _, err := su.Suspend(t.Context(), federation, order, cfFor(7), domain.SuspensionInput{From: "2026-03-01", To: "2026-03-10",
		Kind: domain.SuspensionDisciplinary, Reason: "delibera"}); err != nil {
		t.Fatal(err)
	}
	found := func(day string) bool {
		due, _, err := store.SuspensionsEnded(t.Context(), day, 1000, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range due {
			if d[0] == order {
				return true
			}
		}
		return false
	}
	if found("2026-03-10") || !found("2026-03-11") {
		t.Errorf("due on the 10th %v, on the 11th %v; want only on the 11th", found("2026-03-10"), found("2026-03-11"))
	}
	n, err := su.EndDue(t.Context(), store, time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC))
	if err != nil || n < 1 || found("2026-03-11") {
		t.Errorf("reinstated %d, %v; still due %v", n, err, found("2026-03-11"))
	}
}
