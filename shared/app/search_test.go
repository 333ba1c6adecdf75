package app_test

import (
	"slices"
	"testing"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// searchPeople enrols members whose names exercise the folding: an apostrophe, accents, a
// two-word cognome, a shared nome.
func searchPeople(t *testing.T, f *svcFixture) {
	t.Helper()
	people := []struct{ cf, nome, cognome, albo string }{
		{mario, "Mario", "D'Alessandro", "TSRM"},
		{mario2, "Mario", "Rossi", "FISIO"},
		{luigi, "Luigi", "De Luca", "TSRM"},
		{anna, "Anna", "Dàlì", "TSRM"},
		{giulia, "Giulia", "Rossetti", "TSRM"},
	}
	for _, p := range people {
		e := enrolment(p.cf, p.nome, p.cognome)
		e.Albo = p.albo
		f.enrol(t, asFI, "TSRM-FI", e)
	}
	e := enrolment(carlo, "Carlo", "Zurzi")
	e.PEC = "carlo.zurzi@pec.example.it"
	e.CTU = true
	f.enrol(t, asFI, "TSRM-FI", e)
}

func memberNames(files []app.MemberFile) []string {
	out := []string{}
	for _, f := range files {
		out = append(out, f.Member.Cognome+" "+f.Member.Nome)
	}
	return out
}

func TestFindMembers_ByPrefixFoldedAsAddressesAre(t *testing.T) {
	f := newSvcFixture(t)
	searchPeople(t, f)
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"", []string{"D'Alessandro Mario", "Dàlì Anna", "De Luca Luigi", "Rossetti Giulia", "Rossi Mario", "Zurzi Carlo"}},
		{"d'ales", []string{"D'Alessandro Mario"}},
		{"DALES", []string{"D'Alessandro Mario"}},
		{"dal", []string{"D'Alessandro Mario", "Dàlì Anna"}},
		{"DALÌ", []string{"Dàlì Anna"}},
		{"de luca", []string{"De Luca Luigi"}},
		{"de luca lu", []string{"De Luca Luigi"}},
		{"rossi m", []string{"Rossi Mario"}},
		{"ross", []string{"Rossetti Giulia", "Rossi Mario"}},
		{"mario", []string{"D'Alessandro Mario", "Rossi Mario"}}, // by nome, in cognome order
		{"mario rossi", []string{"Rossi Mario"}},                 // nome cognome
		{"giu", []string{"Rossetti Giulia"}},
		{"xyz", []string{}},
	} {
		got, next, err := f.svc.FindMembers(t.Context(), asFI, "TSRM-FI", app.MemberFilter{Q: tc.q})
		if err != nil || next != "" || !slices.Equal(memberNames(got), tc.want) {
			t.Errorf("q=%q: %v %q %v, want %v", tc.q, memberNames(got), next, err, tc.want)
		}
	}
}

func TestFindMembers_ByCodiceFiscaleInAnyOmocodicForm(t *testing.T) {
	f := newSvcFixture(t)
	f.enrol(t, asFI, "TSRM-FI", enrolment(mario, "Mario", "Rossi"))
	for _, q := range []string{mario, marioOmocodic, " " + marioOmocodic + " "} {
		got, _, err := f.svc.FindMembers(t.Context(), asFI, "TSRM-FI", app.MemberFilter{Q: q})
		if err != nil || !slices.Equal(memberNames(got), []string{"Rossi Mario"}) {
			t.Errorf("q=%q: %v %v", q, memberNames(got), err)
		}
	}
	got, _, err := f.svc.FindMembers(t.Context(), asFI, "TSRM-FI", app.MemberFilter{Q: luigi})
	if err != nil || len(got) != 0 {
		t.Errorf("an unknown codice fiscale finds %v, %v", memberNames(got), err)
	}
}

func TestFindMembers_FiltersAndPages(t *testing.T) {
	f := newSvcFixture(t)
	searchPeople(t, f)
	find := func(mf app.MemberFilter) ([]string, string) {
		t.Helper()
		got, next, err := f.svc.FindMembers(t.Context(), asFI, "TSRM-FI", mf)
		if err != nil {
			t.Fatalf("%+v: %v", mf, err)
		}
		return memberNames(got), next
	}
	if got, _ := find(app.MemberFilter{Albo: "fisioterapista"}); !slices.Equal(got, []string{"Rossi Mario"}) {
		t.Errorf("albo by name: %v", got)
	}
	if got, _ := find(app.MemberFilter{CTU: "true"}); !slices.Equal(got, []string{"Zurzi Carlo"}) {
		t.Errorf("ctu: %v", got)
	}
	if got, _ := find(app.MemberFilter{State: "ATTIVATA"}); !slices.Equal(got, []string{"Zurzi Carlo"}) {
		t.Errorf("state ATTIVATA (own PEC): %v", got)
	}
	if got, _ := find(app.MemberFilter{State: "RICHIESTA", Q: "ross"}); !slices.Equal(got, []string{"Rossetti Giulia", "Rossi Mario"}) {
		t.Errorf("state RICHIESTA: %v", got)
	}
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		got, next := find(app.MemberFilter{Limit: 2, Cursor: cursor})
		all = append(all, got...)
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("no end to the pages")
		}
		cursor = next
	}
	if want, _ := find(app.MemberFilter{}); !slices.Equal(all, want) {
		t.Errorf("pages gave %v", all)
	}
}

func TestFindMembers_RefusesWhatItCannotAnswer(t *testing.T) {
	f := newSvcFixture(t)
	for _, tc := range []struct {
		c    app.Caller
		mf   app.MemberFilter
		code string
	}{
		{asPI, app.MemberFilter{}, "forbidden"},
		{asFI, app.MemberFilter{Q: "''"}, "invalid_q"},
		{asFI, app.MemberFilter{Albo: "TSMR"}, "invalid_albo"},
		{asFI, app.MemberFilter{State: "ACTIVE"}, "invalid_state"},
		{asFI, app.MemberFilter{CTU: "yes"}, "invalid_ctu"},
		{asFI, app.MemberFilter{Limit: 1001}, "invalid_limit"},
		{asFI, app.MemberFilter{Cursor: "nope"}, "invalid_cursor"},
	} {
		_, _, err := f.svc.FindMembers(t.Context(), tc.c, "TSRM-FI", tc.mf)
		if code(err) != tc.code {
			t.Errorf("%+v: %v, want %s", tc.mf, err, tc.code)
		}
	}
	if _, _, err := f.svc.FindMembers(t.Context(), asFederation, "TSRM-XX", app.MemberFilter{}); code(err) != "order_not_found" {
		t.Errorf("unknown Order: %v", err)
	}
}

func TestAuditTrail_NamesThePersonAndTheChangedFields(t *testing.T) {
	f := newSvcFixture(t)
	staff := app.Caller{Role: app.RoleOrder, OrderID: "TSRM-FI", Subject: "segreteria@ordine.example"}
	f.enrol(t, staff, "TSRM-FI", enrolment(mario, "Mario", "Rossi"))
	f.enrol(t, asFI, "TSRM-FI", enrolment(luigi, "Luigi", "Verdi"))
	_, err := f.store.UpdateMember(t.Context(), "TSRM-FI", domain.CodiceFiscale(mario), app.Audit{Actor: staff.Actor(), Action: "member.corrected"},
		func(m *domain.Member) (bool, error) { m.Email = "mario.rossi@libero.it"; return true, nil })
	if err != nil {
		t.Fatal(err)
	}
	trail := &app.AuditTrail{Store: f.store}
	lines, next, err := trail.List(t.Context(), asFI, app.AuditQuery{OrderID: "TSRM-FI", Member: marioOmocodic})
	if err != nil || next != "" || len(lines) != 2 {
		t.Fatalf("%+v %q %v", lines, next, err)
	}
	l := lines[0] // newest first
	if l.Action != "member.corrected" || l.Party != "order:TSRM-FI" || l.Subject != "segreteria@ordine.example" || l.CodiceFiscale != mario ||
		len(l.Changes) != 1 || l.Changes[0] != (app.FieldChange{Field: "email", Before: "mario@example.it", After: "mario.rossi@libero.it"}) {
		t.Errorf("newest entry %+v", l)
	}
	if lines[1].Action != "member.enrolled" || lines[1].Subject != "segreteria@ordine.example" {
		t.Errorf("oldest entry %+v", lines[1])
	}
	if _, _, err := trail.List(t.Context(), asPI, app.AuditQuery{OrderID: "TSRM-FI"}); code(err) != "forbidden" {
		t.Errorf("another Order reads the trail: %v", err)
	}
	all, _, err := trail.List(t.Context(), asFederation, app.AuditQuery{OrderID: "TSRM-FI", Limit: 2})
	if err != nil || len(all) != 2 {
		t.Errorf("a page of 2: %d %v", len(all), err)
	}
}

func TestFederation_ListsOrdersWithCountsAndBatchesAcrossOrders(t *testing.T) {
	f := newSvcFixture(t)
	f.enrol(t, asFI, "TSRM-FI", enrolment(mario, "Mario", "Rossi"))
	fed := &app.Federation{Store: f.store}
	orders, next, err := fed.Orders(t.Context(), asFederation, 0, "")
	if err != nil || next != "" || len(orders) != 2 || orders[0].Order.ID != "TSRM-FI" || orders[0].Mailboxes[domain.StateRichiesta] != 1 ||
		orders[1].Mailboxes[domain.StateAttivata] != 0 {
		t.Errorf("orders %+v %q %v", orders, next, err)
	}
	if _, _, err := fed.Orders(t.Context(), asFI, 0, ""); code(err) != "forbidden" {
		t.Errorf("an Order lists the Orders: %v", err)
	}
	if _, _, err := fed.Batches(t.Context(), asFI, "AWAITING_AUTHORIZATION", 0, ""); code(err) != "forbidden" {
		t.Errorf("an Order lists every batch: %v", err)
	}
	if _, _, err := fed.Batches(t.Context(), asFederation, "", 0, ""); code(err) != "invalid_state" {
		t.Errorf("no state: %v", err)
	}
}
