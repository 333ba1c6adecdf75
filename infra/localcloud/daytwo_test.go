package localcloud_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/localcloud"
)

// Day two (issue 14): an Order's staff find their members, correct them and read who did what;
// the federation sees every Order.

// asPerson is a portal client whose token names the person (its sub).
func asPerson(t *testing.T, role, orderID, sub string) *client {
	t.Helper()
	c := localcloud.ForTests(t)
	tok, err := c.TokenFor(role, orderID, sub)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: c.APIURL, token: tok}
}

func itemNames(t *testing.T, r reply) []string {
	t.Helper()
	out := []string{}
	for _, it := range r.json(t)["items"].([]any) {
		m := it.(map[string]any)
		out = append(out, m["cognome"].(string)+" "+m["nome"].(string))
	}
	return out
}

func TestDayTwo_SearchByAccentedPrefixAndOmocodicCodiceFiscale(t *testing.T) {
	t.Parallel()
	orderID := createOrder(t, true)
	staff := as(t, "order", orderID)
	base := "/v1/orders/" + orderID + "/members"
	for i, p := range []struct{ nome, cognome string }{
		{"Mario", "D'Alessandro"}, {"Anna", "Dàlì"}, {"Luigi", "De Luca"}, {"Mario", "Rossi"},
	} {
		staff.expect(201, "POST", base, member(validCF(i+1), p.nome, p.cognome))
	}
	staff.expect(201, "POST", base, member("ZRZCRL72R10H501D", "Carlo", "Zurzi"))
	for q, want := range map[string][]string{
		"d'ales":            {"D'Alessandro Mario"},
		"DALI":              {"Dàlì Anna"},
		"dal":               {"D'Alessandro Mario", "Dàlì Anna"},
		"de luca l":         {"De Luca Luigi"},
		"mario":             {"D'Alessandro Mario", "Rossi Mario"},
		"zrzcrl72r10h501d":  {"Zurzi Carlo"},
		"nessuno di questi": {},
	} {
		r := staff.expect(200, "GET", base+"?q="+url.QueryEscape(q), nil)
		if got := itemNames(t, r); !slices.Equal(got, want) {
			t.Errorf("q=%q: %v, want %v", q, got, want)
		}
	}
	if got := itemNames(t, staff.expect(200, "GET", base+"?q="+omocodic(t, "ZRZCRL72R10H501D"), nil)); !slices.Equal(got, []string{"Zurzi Carlo"}) {
		t.Errorf("an omocodic form of the codice fiscale finds %v", got)
	}
	all := itemNames(t, staff.expect(200, "GET", base+"?limit=2", nil))
	if !slices.Equal(all, []string{"D'Alessandro Mario", "Dàlì Anna"}) {
		t.Errorf("first page: %v", all)
	}
	if got := itemNames(t, staff.expect(200, "GET", base+"?state=RICHIESTA&albo=tsrm&q=ross", nil)); !slices.Equal(got, []string{"Rossi Mario"}) {
		t.Errorf("filters: %v", got)
	}
	if code, field := staff.expect(422, "GET", base+"?albo=TSMR", nil).errorOf(t); code != "invalid_albo" || field != "albo" {
		t.Errorf("unknown albo: %s %s", code, field)
	}
	as(t, "order", "ALTRO-"+orderID[:8]).expect(403, "GET", base, nil)
}

func TestDayTwo_EmailCorrectionMovesTheActivationToTheNewAddress(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Carlo", freshSurname("Zurzi"))
	s.authorize(t)
	old := s.link(t, 1)
	segreteria := asPerson(t, "order", s.orderID, "segreteria@ordine.example")
	path := "/v1/orders/" + s.orderID + "/members/ZRZCRL72R10H501D"
	newEmail := "corretto-" + s.email
	r := segreteria.expect(200, "PATCH", path, map[string]any{"email": newEmail}).json(t)
	if r["email"] != newEmail {
		t.Fatalf("corrected member %v", r)
	}
	s.email = newEmail
	fresh := s.link(t, 1) // the first e-mail to the new address
	if code, _ := click(t, old, nil); code != 410 {
		t.Errorf("the old link answers %d, want 410", code)
	}
	if code, _ := click(t, fresh, url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("the new link answers %d", code)
	}
	waitState(t, s.order, s.mailboxID, "ATTIVATA", 10*time.Second)

	// The audit trail names the person and the field, before and after.
	trail := s.order.expect(200, "GET", "/v1/orders/"+s.orderID+"/audit?member="+omocodic(t, "ZRZCRL72R10H501D"), nil).json(t)["items"].([]any)
	var corrected map[string]any
	for _, it := range trail {
		if e := it.(map[string]any); e["action"] == "member.corrected" {
			corrected = e
		}
	}
	if corrected == nil {
		t.Fatalf("no member.corrected in %v", trail)
	}
	actor := corrected["actor"].(map[string]any)
	ch := corrected["changes"].([]any)[0].(map[string]any)
	if actor["role"] != "order" || actor["orderId"] != s.orderID || actor["subject"] != "segreteria@ordine.example" ||
		ch["field"] != "email" || ch["after"] != newEmail || corrected["member"] != "ZRZCRL72R10H501D" {
		t.Errorf("entry %v", corrected)
	}
	if first := trail[0].(map[string]any); first["action"] != "mailbox.attivata" {
		t.Errorf("newest entry %v, want the activation", first)
	}
}

func TestDayTwo_NameCorrectionBeforeAndAfterSubmission(t *testing.T) {
	t.Parallel()
	surname := freshSurname("Zurzl")
	s := newScenario(t, "Carlo", surname)
	staff := asPerson(t, "order", s.orderID, "ufficio.albo@ordine.example")
	path := "/v1/orders/" + s.orderID + "/members/ZRZCRL72R10H501D"
	first, _ := mailboxState(t, s.order, s.mailboxID)
	was := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)["address"].(string)
	fixed := strings.Replace(surname, "Zurzl", "Zurzi", 1)
	r := staff.expect(200, "PATCH", path, map[string]any{"cognome": fixed}).json(t)
	moved := r["mailbox"].(map[string]any)["address"].(string)
	if first != "RICHIESTA" || moved == was || !strings.HasPrefix(moved, "carlo."+strings.ToLower(fixed)+"@") {
		t.Fatalf("before submission (%s) the address is %s (was %s)", first, moved, was)
	}
	s.authorize(t)
	waitState(t, s.order, s.mailboxID, "ABILITATA", 10*time.Second)
	r = staff.expect(200, "PATCH", path, map[string]any{"nome": "Carlo Maria"}).json(t)
	if r["nome"] != "Carlo Maria" || r["mailbox"].(map[string]any)["address"] != moved {
		t.Errorf("after submission: nome %v, address %v (must stay %s)", r["nome"], r["mailbox"].(map[string]any)["address"], moved)
	}
	// The old address is never given again: a new member of that name gets a numbered one.
	other := s.order.expect(201, "POST", "/v1/orders/"+s.orderID+"/members", member(validCF(7), "Carlo", surname)).json(t)
	if a := other["mailbox"].(map[string]any)["address"]; a == was {
		t.Errorf("the corrected member's old address %s was given again", a)
	}
	var actions []string
	for _, it := range s.order.expect(200, "GET", "/v1/orders/"+s.orderID+"/audit?member=ZRZCRL72R10H501D", nil).json(t)["items"].([]any) {
		actions = append(actions, it.(map[string]any)["action"].(string))
	}
	if !slices.Contains(actions, "mailbox.address_changed") || slices.Index(actions, "member.corrected") < 0 {
		t.Errorf("audit actions %v", actions)
	}
}

func TestDayTwo_TheFederationSeesEveryOrderAndTheBatchesWaiting(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Carlo", freshSurname("Zurzi"))
	b := s.order.expect(201, "POST", "/v1/orders/"+s.orderID+"/batches", nil).json(t)
	found := false
	for cursor := ""; ; {
		r := s.fed.expect(200, "GET", "/v1/orders?limit=100"+cursor, nil).json(t)
		for _, it := range r["items"].([]any) {
			o := it.(map[string]any)
			if o["id"] == s.orderID {
				found = o["mailboxes"].(map[string]any)["RICHIESTA"] == float64(1)
			}
		}
		next, ok := r["nextCursor"].(string)
		if !ok {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(next)
	}
	if !found {
		t.Error("the Order is not listed with its RICHIESTA mailbox")
	}
	waiting := false
	for cursor := ""; ; {
		r := s.fed.expect(200, "GET", "/v1/batches?state=AWAITING_AUTHORIZATION&limit=100"+cursor, nil).json(t)
		for _, it := range r["items"].([]any) {
			waiting = waiting || it.(map[string]any)["id"] == b["id"]
		}
		next, ok := r["nextCursor"].(string)
		if !ok {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(next)
	}
	if !waiting {
		t.Error("the batch waiting for its Order is not listed")
	}
	s.order.expect(403, "GET", "/v1/orders", nil)
	s.order.expect(403, "GET", "/v1/batches?state=AWAITING_AUTHORIZATION", nil)
}

// inipecLines returns the lines of the Order's daily INI-PEC files that name the address.
func inipecLines(t *testing.T, orderID, address string) []string {
	t.Helper()
	var out []string
	for _, f := range orderFiles(t, orderID) {
		for _, l := range lines(f) {
			if strings.HasPrefix(strings.ToLower(l), strings.ToLower(address)+";") {
				out = append(out, l)
			}
		}
	}
	return out
}

func TestDayTwo_TransferMovesTheMemberAndTheMailboxAndBothOrdersTellINIPEC(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Carlo", freshSurname("Zurzi"))
	s.authorize(t)
	if code, _ := click(t, s.link(t, 1), url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatal("confirm")
	}
	waitState(t, s.order, s.mailboxID, "ATTIVATA", 10*time.Second)
	address := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)["address"].(string)
	to := createOrder(t, true)
	path := "/v1/orders/" + s.orderID + "/members/ZRZCRL72R10H501D"
	as(t, "order", to).expect(403, "POST", path+"/transfer", map[string]any{"toOrderId": to, "date": "2026-12-01", "numeroIscrizione": "2207"})
	body := map[string]any{"toOrderId": to, "date": "2026-12-01", "numeroIscrizione": "2207"}
	r := s.order.expect(200, "POST", path+"/transfer", body).json(t)
	mb := r["mailbox"].(map[string]any)
	if r["orderId"] != to || r["numeroIscrizione"] != "2207" || mb["orderId"] != to || mb["state"] != "ATTIVATA" || mb["address"] != address {
		t.Fatalf("transferred %v", r)
	}
	s.order.expect(200, "POST", path+"/transfer", body) // again: the same answer
	left := s.order.expect(200, "GET", path, nil).json(t)
	if left["cancelledOn"] != "2026-12-01" || left["domicilioDigitale"] != nil {
		t.Errorf("the record left behind %v", left)
	}
	newOrder := as(t, "order", to)
	newOrder.expect(200, "GET", "/v1/orders/"+to+"/members/ZRZCRL72R10H501D", nil)
	newOrder.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil)
	s.order.expect(404, "GET", "/v1/mailboxes/"+s.mailboxID, nil)

	time.Sleep(1100 * time.Millisecond) // the settle time of the local parameters
	eventually(t, "the deletion in the old Order's file and the insertion in the new one's", 60*time.Second, func() bool {
		runSchedule(t, "INIPECSyncFunction")
		del, ins := false, false
		for _, l := range inipecLines(t, s.orderID, address) {
			del = del || strings.Split(l, ";")[5] == "3"
		}
		for _, l := range inipecLines(t, to, address) {
			ins = ins || strings.Split(l, ";")[5] == "2"
		}
		return del && ins
	})
	if n := len(inipecLines(t, to, address)); n != 1 {
		t.Errorf("the new Order's files name the address %d times", n)
	}
}

func TestDayTwo_TelephoneAndResidenceEnrolledCorrectedAndAudited(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Carlo", freshSurname("Residenti"))
	path := "/v1/orders/" + s.orderID + "/members/ZRZCRL72R10H501D"
	got := s.order.expect(200, "GET", path, nil).json(t)
	res, _ := got["residenza"].(map[string]any)
	if got["telefono"] != "0583123456" || res["comune"] != "Lucca" || res["nazione"] != "IT" {
		t.Fatalf("member %v", got)
	}
	// A bad value is refused naming the field; the record is unchanged.
	code, field := s.order.expect(422, "PATCH", path, map[string]any{"residenza": map[string]any{"indirizzo": "Via Roma 1", "comune": "Lucca", "cap": "551", "provincia": "LU"}}).errorOf(t)
	if code != "invalid_residence" || field != "residenza.cap" {
		t.Errorf("a bad cap: %s %s", code, field)
	}
	r := s.order.expect(200, "PATCH", path, map[string]any{"telefono": "+39 333 1234567", "residenza": nil}).json(t)
	if r["telefono"] != "+393331234567" || r["residenza"] != nil {
		t.Fatalf("corrected %v", r)
	}
	var fields []string
	for _, it := range s.order.expect(200, "GET", "/v1/orders/"+s.orderID+"/audit?member=ZRZCRL72R10H501D", nil).json(t)["items"].([]any) {
		if e := it.(map[string]any); e["action"] == "member.corrected" {
			for _, ch := range e["changes"].([]any) {
				fields = append(fields, ch.(map[string]any)["field"].(string))
			}
		}
	}
	if !slices.Equal(fields, []string{"telefono", "residenza"}) {
		t.Errorf("audited changes %v", fields)
	}
}
