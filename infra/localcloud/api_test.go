package localcloud_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/localcloud"
)

func TestMain(m *testing.M) { os.Exit(localcloud.RunTests(m)) }

// client calls the API as one caller.
type client struct {
	t     *testing.T
	base  string
	token string
}

func as(t *testing.T, role, orderID string) *client {
	t.Helper()
	c := localcloud.ForTests(t)
	tok := ""
	if role != "" {
		var err error
		if tok, err = c.Token(role, orderID); err != nil {
			t.Fatal(err)
		}
	}
	return &client{t: t, base: c.APIURL, token: tok}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %s", r.body)
	}
	return m
}

// errorOf returns the contract's error code and field.
func (r reply) errorOf(t *testing.T) (code, field string) {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.body)
	}
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("error %s without a message", code)
	}
	return code, field
}

func (c *client) do(method, path string, body any, headers ...string) reply {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read the body: %v", method, path, err)
	}
	checkAnswer(c.t, method, path, resp.StatusCode, resp.Header, b)
	return reply{resp.StatusCode, resp.Header, b}
}

func (c *client) expect(want int, method, path string, body any, headers ...string) reply {
	c.t.Helper()
	r := c.do(method, path, body, headers...)
	if r.status != want {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	return r
}

var (
	idMu sync.Mutex
	idN  int
)

func uniqueID(prefix string) string {
	idMu.Lock()
	defer idMu.Unlock()
	idN++
	return fmt.Sprintf("%s-%d%d", prefix, time.Now().UnixNano()%1e9, idN)
}

func orderBody(webpec bool) map[string]any {
	return map[string]any{"name": "Ordine TSRM PSTRP di Firenze", "pec": "firenze@pec.tsrm.org",
		"convention": map[string]any{"webpec": webpec, "offerCode": nil, "priceCents": 400, "vatPercent": 22}}
}

func createOrder(t *testing.T, webpec bool) string {
	t.Helper()
	id := uniqueID("FI")
	as(t, "federation", "").expect(201, "PUT", "/v1/orders/"+id, orderBody(webpec))
	return id
}

var surnameN struct {
	sync.Mutex
	n int
}

// freshSurname returns a surname no other test uses, so addresses do not collide across tests.
// It is made of syllables (a consonant, then a, e, i or o), as names are: a run of letters
// shaped like a codice fiscale would be masked in e-mails, and the tests look for the address.
func freshSurname(base string) string {
	surnameN.Lock()
	defer surnameN.Unlock()
	surnameN.n++
	const consonants, vowels = "bcdfghlmnprstvz", "aeio"
	s := ""
	for n := time.Now().UnixNano()/1000 + int64(surnameN.n); n > 0; n /= int64(len(consonants) * len(vowels)) {
		k := int(n % int64(len(consonants)*len(vowels)))
		s += string(consonants[k%len(consonants)]) + string(vowels[k/len(consonants)])
	}
	return base + s
}

func member(cf, nome, cognome string) map[string]any {
	m := map[string]any{"codiceFiscale": cf, "nome": nome, "cognome": cognome, "albo": "TSRM",
		"numeroIscrizione": "1234", "dataIscrizione": "2024-03-01", "email": "iscritto@example.it"}
	if providerKind() == localcloud.KindLegalmail { // Legalmail contracts with the holder: it asks both
		m["telefono"], m["residenza"] = "055 1234567", map[string]any{"indirizzo": "Via dei Servi 2", "comune": "Firenze", "cap": "50122", "provincia": "FI"}
	}
	return m
}

func TestOrders_FederationCreatesUpdatesAndTheOrderReadsItsOwn(t *testing.T) {
	fed := as(t, "federation", "")
	id := uniqueID("FI")
	r := fed.expect(201, "PUT", "/v1/orders/"+id, orderBody(true)).json(t)
	if r["id"] != id || r["pec"] != "firenze@pec.tsrm.org" {
		t.Fatalf("created order = %v", r)
	}
	body := orderBody(true)
	body["name"] = "Ordine di Firenze, Arezzo, Prato"
	fed.expect(200, "PUT", "/v1/orders/"+id, body)
	got := as(t, "order", id).expect(200, "GET", "/v1/orders/"+id, nil).json(t)
	if got["name"] != "Ordine di Firenze, Arezzo, Prato" {
		t.Errorf("name after update = %v", got["name"])
	}
	as(t, "order", id).expect(403, "PUT", "/v1/orders/"+id, orderBody(false))
	as(t, "order", "OTHER-ORDER").expect(403, "GET", "/v1/orders/"+id, nil)
	fed.expect(404, "GET", "/v1/orders/"+uniqueID("NONE"), nil)
}

func TestOrders_InvalidInputNamesTheField(t *testing.T) {
	fed := as(t, "federation", "")
	cases := []struct {
		path  string
		edit  func(map[string]any)
		field string
	}{
		{"/v1/orders/lower-case", nil, "orderId"},
		{"/v1/orders/" + uniqueID("X"), func(b map[string]any) { b["pec"] = "not an address" }, "pec"},
		{"/v1/orders/" + uniqueID("X"), func(b map[string]any) { b["name"] = "" }, "name"},
		{"/v1/orders/" + uniqueID("X"), func(b map[string]any) { b["convention"].(map[string]any)["priceCents"] = -1 }, "convention.priceCents"},
		{"/v1/orders/" + uniqueID("X"), func(b map[string]any) { b["convention"].(map[string]any)["priceCents"] = "4 euro" }, "convention.priceCents"},
	}
	for _, tc := range cases {
		b := orderBody(true)
		if tc.edit != nil {
			tc.edit(b)
		}
		r := fed.expect(422, "PUT", tc.path, b)
		if _, field := r.errorOf(t); field != tc.field {
			t.Errorf("%s: field %q, want %q (%s)", tc.path, field, tc.field, r.body)
		}
	}
	if code, _ := fed.expect(400, "PUT", "/v1/orders/"+uniqueID("X"), `{"name":`).errorOf(t); code != "malformed_json" {
		t.Errorf("malformed JSON: code %s", code)
	}
}

func TestAuth_TokensAreRequiredAndChecked(t *testing.T) {
	id := createOrder(t, true)
	anon := as(t, "", "")
	for _, tok := range []string{"", "not-a-jwt", strings.Repeat("a", 40) + "." + strings.Repeat("b", 40) + "." + strings.Repeat("c", 40)} {
		anon.token = tok
		anon.expect(401, "GET", "/v1/orders/"+id, nil)
	}
	// A valid signature with no usable role is refused by the function itself.
	c := localcloud.ForTests(t)
	tok, _ := c.Token("auditor", "")
	anon.token = tok
	if code, _ := anon.expect(401, "GET", "/v1/orders/"+id, nil).errorOf(t); code != "unauthorized" {
		t.Errorf("unknown role: code %s", code)
	}
}

func TestEnrol_IssuesMailboxInRichiestaAndShowsTheMembersFile(t *testing.T) {
	id := createOrder(t, true)
	o := as(t, "order", id)
	surname := freshSurname("D'Amico")
	r := o.expect(201, "POST", "/v1/orders/"+id+"/members", member("ZRZCRL72R10H501D", "Niccolò", surname)).json(t)
	mb := r["mailbox"].(map[string]any)
	want := "niccolo." + strings.ToLower(strings.ReplaceAll(surname, "'", "")) + "@pec.tsrm.org"
	if mb["state"] != "RICHIESTA" || mb["address"] != want || mb["orderId"] != id {
		t.Fatalf("mailbox = %v, want RICHIESTA %s", mb, want)
	}
	hist := mb["history"].([]any)
	if len(hist) != 1 || hist[0].(map[string]any)["actor"] != "order:"+id+"/local-order" { // the party and the person (the token's sub)
		t.Errorf("history = %v", hist)
	}
	f := o.expect(200, "GET", "/v1/orders/"+id+"/members/ZRZCRL72R10H501D", nil).json(t)
	d := f["domicilioDigitale"].(map[string]any)
	if d["address"] != want || d["source"] != "convention" || d["state"] != "RICHIESTA" {
		t.Errorf("domicilioDigitale = %v", d)
	}
	got := o.expect(200, "GET", "/v1/mailboxes/"+mb["id"].(string), nil).json(t)
	if got["address"] != want {
		t.Errorf("GET mailbox = %v", got)
	}
	o.expect(404, "GET", "/v1/orders/"+id+"/members/RSSMRA80A01H501U", nil)
}

func TestEnrol_OwnPECOrNoConventionIssuesNoMailbox(t *testing.T) {
	id := createOrder(t, true)
	fed := as(t, "federation", "")
	m := member("RSSMRA80A01H501U", "Mario", freshSurname("Rossi"))
	m["pec"] = "mario.rossi@pec.example.it"
	r := fed.expect(201, "POST", "/v1/orders/"+id+"/members", m).json(t)
	if r["mailbox"] != nil {
		t.Fatalf("own PEC got a mailbox: %v", r["mailbox"])
	}
	d := r["member"].(map[string]any)["domicilioDigitale"].(map[string]any)
	if d["source"] != "own" || d["address"] != "mario.rossi@pec.example.it" {
		t.Errorf("domicilioDigitale = %v", d)
	}
	noConv := createOrder(t, false)
	r = fed.expect(201, "POST", "/v1/orders/"+noConv+"/members", member("RSSMRA80A01H501U", "Mario", freshSurname("Rossi"))).json(t)
	if r["mailbox"] != nil || r["member"].(map[string]any)["domicilioDigitale"] != nil {
		t.Errorf("an Order outside the convention issued a mailbox: %s", r)
	}
	fed.expect(404, "POST", "/v1/orders/"+uniqueID("NONE")+"/members", member("RSSMRA80A01H501U", "Mario", "Rossi"))
}

func TestEnrol_InvalidDataGets422NamingTheField(t *testing.T) {
	id := createOrder(t, true)
	o := as(t, "order", id)
	cases := []struct {
		edit        func(map[string]any)
		code, field string
	}{
		{func(m map[string]any) { m["codiceFiscale"] = "ZRZCRL72R10H501X" }, "invalid_codice_fiscale", "codiceFiscale"},
		{func(m map[string]any) { m["email"] = "carlo@" }, "invalid_email", "email"},
		{func(m map[string]any) { m["email"] = "a@b.it\r\nBcc: x@y.it" }, "invalid_email", "email"},
		{func(m map[string]any) { m["cognome"] = "'-'" }, "unusable_name", "cognome"},
		{func(m map[string]any) { m["nome"] = "" }, "invalid_nome", "nome"},
		{func(m map[string]any) { m["albo"] = "" }, "invalid_albo", "albo"},
		{func(m map[string]any) { m["dataIscrizione"] = "01/03/2024" }, "invalid_data_iscrizione", "dataIscrizione"},
		{func(m map[string]any) { m["numeroIscrizione"] = "" }, "invalid_numero_iscrizione", "numeroIscrizione"},
		{func(m map[string]any) { m["pec"] = "x" }, "invalid_pec", "pec"},
		{func(m map[string]any) { m["ctu"] = "yes" }, "invalid_type", "ctu"},
	}
	for _, tc := range cases {
		m := member("ZRZCRL72R10H501D", "Carlo", freshSurname("Zurzi"))
		tc.edit(m)
		code, field := o.expect(422, "POST", "/v1/orders/"+id+"/members", m).errorOf(t)
		if code != tc.code || field != tc.field {
			t.Errorf("got %s/%s, want %s/%s", code, field, tc.code, tc.field)
		}
	}
	// Nothing was enrolled by the refused requests.
	o.expect(404, "GET", "/v1/orders/"+id+"/members/ZRZCRL72R10H501D", nil)
	o.expect(400, "POST", "/v1/orders/"+id+"/members", "{not json")
	big := `{"nome":"` + strings.Repeat("a", 1<<20) + `"}`
	if code, _ := o.expect(413, "POST", "/v1/orders/"+id+"/members", big).errorOf(t); code != "payload_too_large" {
		t.Errorf("oversized: %s", code)
	}
}

func TestEnrol_DuplicateIs409AndIdempotencyKeyReplays(t *testing.T) {
	id := createOrder(t, true)
	o := as(t, "order", id)
	m := member("ZRZCRL72R10H501D", "Carlo", freshSurname("Zurzi"))
	first := o.expect(201, "POST", "/v1/orders/"+id+"/members", m, "Idempotency-Key", "enrol-1")
	again := o.expect(201, "POST", "/v1/orders/"+id+"/members", m, "Idempotency-Key", "enrol-1")
	if !bytes.Equal(first.body, again.body) {
		t.Fatalf("replay differs:\n%s\n%s", first.body, again.body)
	}
	other := member("RSSMRA80A01H501U", "Mario", freshSurname("Rossi"))
	if code, field := o.expect(422, "POST", "/v1/orders/"+id+"/members", other, "Idempotency-Key", "enrol-1").errorOf(t); code != "idempotency_key_reused" || field != "Idempotency-Key" {
		t.Errorf("reused key: %s/%s", code, field)
	}
	if code, _ := o.expect(409, "POST", "/v1/orders/"+id+"/members", m).errorOf(t); code != "member_exists" {
		t.Errorf("duplicate: %s", code)
	}
	sum := o.expect(200, "GET", "/v1/orders/"+id+"/mailboxes/summary", nil).json(t)
	if sum["RICHIESTA"] != float64(1) {
		t.Errorf("summary after replays = %v, want one mailbox", sum)
	}
	// The same key from another caller is another key.
	as(t, "federation", "").expect(201, "POST", "/v1/orders/"+id+"/members", other, "Idempotency-Key", "enrol-1")
}

func TestMailboxes_ListByStateWithPaginationAndSummary(t *testing.T) {
	id := createOrder(t, true)
	o := as(t, "order", id)
	surname := freshSurname("Bianchi")
	for i, cf := range []string{"ZRZCRL72R10H501D", "RSSMRA80A01H501U", "BNCGNN80A01H501T", "BNCGNN80A02H501Y", "BNCGNN80A03H501A"} {
		if r := o.do("POST", "/v1/orders/"+id+"/members", member(cf, "Giovanni", surname)); r.status != 201 {
			t.Fatalf("enrol %d: %d %s", i, r.status, r.body)
		}
	}
	var seen []string
	path := "/v1/orders/" + id + "/mailboxes?state=RICHIESTA&limit=2"
	for pages := 0; ; pages++ {
		r := o.expect(200, "GET", path, nil).json(t)
		for _, it := range r["items"].([]any) {
			seen = append(seen, it.(map[string]any)["address"].(string))
		}
		next, ok := r["nextCursor"].(string)
		if !ok {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		path = "/v1/orders/" + id + "/mailboxes?state=RICHIESTA&limit=2&cursor=" + next
	}
	if len(seen) != 5 {
		t.Fatalf("listed %d mailboxes: %v", len(seen), seen)
	}
	if r := o.expect(200, "GET", "/v1/orders/"+id+"/mailboxes?state=ATTIVATA", nil).json(t); len(r["items"].([]any)) != 0 {
		t.Errorf("ATTIVATA list = %v", r)
	}
	if _, f := o.expect(422, "GET", "/v1/orders/"+id+"/mailboxes?state=attiva", nil).errorOf(t); f != "state" {
		t.Errorf("bad state field %s", f)
	}
	for _, l := range []string{"0", "1001", "x"} {
		if _, f := o.expect(422, "GET", "/v1/orders/"+id+"/mailboxes?limit="+l, nil).errorOf(t); f != "limit" {
			t.Errorf("limit=%s field %s", l, f)
		}
	}
	o.expect(400, "GET", "/v1/orders/"+id+"/mailboxes?cursor=garbage", nil)
	sum := o.expect(200, "GET", "/v1/orders/"+id+"/mailboxes/summary", nil).json(t)
	for _, st := range []string{"RICHIESTA", "RICHIESTA_INVIATA", "ABILITATA", "ATTIVATA", "REVOCATA"} {
		if _, ok := sum[st]; !ok {
			t.Errorf("summary lacks %s: %v", st, sum)
		}
	}
	if sum["RICHIESTA"] != float64(5) {
		t.Errorf("summary = %v", sum)
	}
}

func TestIsolation_AnOrderCannotReadAnotherOrdersMembersOrMailboxes(t *testing.T) {
	a, b := createOrder(t, true), createOrder(t, true)
	r := as(t, "order", a).expect(201, "POST", "/v1/orders/"+a+"/members", member("ZRZCRL72R10H501D", "Carlo", freshSurname("Zurzi"))).json(t)
	mbID := r["mailbox"].(map[string]any)["id"].(string)
	intruder := as(t, "order", b)
	intruder.expect(403, "GET", "/v1/orders/"+a+"/members/ZRZCRL72R10H501D", nil)
	intruder.expect(403, "POST", "/v1/orders/"+a+"/members", member("RSSMRA80A01H501U", "Mario", "Rossi"))
	intruder.expect(403, "GET", "/v1/orders/"+a+"/mailboxes", nil)
	intruder.expect(403, "GET", "/v1/orders/"+a+"/mailboxes/summary", nil)
	intruder.expect(403, "GET", "/v1/orders/"+a, nil)
	// A mailbox id of another Order is not found, so the API does not confirm that it exists.
	code, _ := intruder.expect(404, "GET", "/v1/mailboxes/"+mbID, nil).errorOf(t)
	if unknown, _ := intruder.expect(404, "GET", "/v1/mailboxes/"+strings.Repeat("0", 32), nil).errorOf(t); code != unknown {
		t.Errorf("foreign mailbox %s vs unknown mailbox %s: existence leaks", code, unknown)
	}
	as(t, "order", a).expect(200, "GET", "/v1/mailboxes/"+mbID, nil)
}

func TestUnknownOrder_IsOrderNotFoundEverywhere(t *testing.T) {
	fed := as(t, "federation", "")
	id := uniqueID("NONE")
	for _, p := range []string{"/v1/orders/" + id, "/v1/orders/" + id + "/mailboxes", "/v1/orders/" + id + "/mailboxes/summary", "/v1/orders/" + id + "/members/ZRZCRL72R10H501D"} {
		if code, _ := fed.expect(404, "GET", p, nil).errorOf(t); code != "order_not_found" {
			t.Errorf("GET %s: %s, want order_not_found", p, code)
		}
	}
	// Authorization comes before validation: another Order learns nothing, not even that its
	// query was malformed.
	as(t, "order", "SOMEONE-ELSE").expect(403, "GET", "/v1/orders/"+id+"/mailboxes?state=bogus&limit=x", nil)
}

func TestCompliance_ListsMembersWithoutDomicilioPastTheGracePeriod(t *testing.T) {
	id := createOrder(t, true)
	o := as(t, "order", id)
	old := func(cf, nome string) map[string]any {
		m := member(cf, nome, freshSurname("Esposito"))
		m["dataIscrizione"] = time.Now().AddDate(0, 0, -45).Format(time.DateOnly)
		return m
	}
	o.expect(201, "POST", "/v1/orders/"+id+"/members", old("ZRZCRL72R10H501D", "Carlo"))
	withPEC := old("RSSMRA80A01H501U", "Mario")
	withPEC["pec"] = "mario@pec.example.it"
	o.expect(201, "POST", "/v1/orders/"+id+"/members", withPEC)
	recent := member("BNCGNN80A01H501T", "Gianni", freshSurname("Bianco"))
	recent["dataIscrizione"] = time.Now().AddDate(0, 0, -5).Format(time.DateOnly)
	o.expect(201, "POST", "/v1/orders/"+id+"/members", recent)
	cancelled := old("BNCGNN80A02H501Y", "Luca")
	o.expect(201, "POST", "/v1/orders/"+id+"/members", cancelled)
	o.expect(200, "POST", "/v1/orders/"+id+"/members/BNCGNN80A02H501Y/cancel", map[string]any{"date": time.Now().Format(time.DateOnly), "reason": "deceduto"})

	r := o.expect(200, "GET", "/v1/orders/"+id+"/compliance", nil).json(t)
	items := r["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("compliance = %v, want only the member enrolled 45 days ago without PEC", items)
	}
	it := items[0].(map[string]any)
	if it["codiceFiscale"] != "ZRZCRL72R10H501D" || it["daysWithoutDomicilio"].(float64) < 44 || it["mailboxState"] != "RICHIESTA" {
		t.Errorf("item = %v", it)
	}
	csv := o.expect(200, "GET", "/v1/orders/"+id+"/compliance?format=csv", nil)
	if ct := csv.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %s", ct)
	}
	lines := strings.Split(strings.TrimSpace(string(csv.body)), "\r\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "ZRZCRL72R10H501D;") {
		t.Errorf("csv = %q", csv.body)
	}
	as(t, "order", "SOMEONE-ELSE").expect(403, "GET", "/v1/orders/"+id+"/compliance", nil)
}

func TestImport_SmallAlboKeepsGoodLinesReportsBadOnesAndIsRepeatable(t *testing.T) {
	id := createOrder(t, true)
	o := as(t, "order", id)
	surname := freshSurname("Ricci")
	csv := "\ufeffCodice Fiscale;Cognome;Nome;Albo;N. Iscrizione;Data iscrizione;E-mail;PEC\r\n" +
		"ZRZCRL72R10H501D;" + surname + ";Anna;TSRM;1;01/03/2024;a@example.it;\r\n" +
		"RSSMRA80A01H501U;" + surname + ";Anna;TSRM;2;2024-03-01;b@example.it;\r\n" + // a homonym in the same file
		"BNCGNN80A01H501X;Bianchi;Gianni;TSRM;3;2024-03-01;c@example.it;\r\n" + // wrong check character
		"BNCGNN80A02H501Y;\"Dell'Acqua; jr\";Luca;TSRM;4;2024-03-01;not-an-email;\r\n" +
		"BNCGNN80A03H501A;Verdi;Ugo\r\n" + // too few fields
		"BNCGNN80A01H501T;Neri;Lia;TSRM;6;2024-03-01;d@example.it;lia.neri@pec.example.it\r\n"
	post := func(body string) map[string]any {
		req, _ := http.NewRequest("POST", o.base+"/v1/orders/"+id+"/members:import", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+o.token)
		req.Header.Set("Content-Type", "text/csv")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.Unmarshal(checkHTTP(t, resp), &m)
		if resp.StatusCode != 200 {
			t.Fatalf("import: %d %v", resp.StatusCode, m)
		}
		return m
	}
	r := post(csv)
	if r["created"] != float64(3) || r["existing"] != float64(0) {
		t.Fatalf("import = %v", r)
	}
	failed := r["failed"].([]any)
	want := map[float64]string{4: "invalid_codice_fiscale", 5: "invalid_email", 6: "wrong_field_count"}
	if len(failed) != 3 {
		t.Fatalf("failed = %v", failed)
	}
	for _, f := range failed {
		f := f.(map[string]any)
		if want[f["line"].(float64)] != f["code"] {
			t.Errorf("failure %v, want %v", f, want)
		}
		if strings.Contains(fmt.Sprint(f), "BNCGNN") {
			t.Errorf("a failure echoes the codice fiscale: %v", f)
		}
	}
	sum := o.expect(200, "GET", "/v1/orders/"+id+"/mailboxes?state=RICHIESTA", nil).json(t)
	addrs := map[string]bool{}
	for _, it := range sum["items"].([]any) {
		addrs[it.(map[string]any)["address"].(string)] = true
	}
	base := "anna." + strings.ToLower(surname)
	if len(addrs) != 2 || !addrs[base+"@pec.tsrm.org"] || !addrs[base+"1@pec.tsrm.org"] {
		t.Errorf("addresses = %v", addrs)
	}
	again := post(csv)
	if again["created"] != float64(0) || again["existing"] != float64(3) {
		t.Errorf("re-import = %v, want nothing created", again)
	}
	// JSON works too.
	js := `[{"codiceFiscale":"BNCGNN80A02H501Y","nome":"Luca","cognome":"Acqua","albo":"TSRM","numeroIscrizione":"4","dataIscrizione":"2024-03-01","email":"l@example.it"}, {"nome": 3}]`
	req, _ := http.NewRequest("POST", o.base+"/v1/orders/"+id+"/members:import", strings.NewReader(js))
	req.Header.Set("Authorization", "Bearer "+o.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var jr map[string]any
	json.Unmarshal(checkHTTP(t, resp), &jr)
	resp.Body.Close()
	if jr["created"] != float64(1) || len(jr["failed"].([]any)) != 1 {
		t.Errorf("JSON import = %v", jr)
	}
	var big strings.Builder
	big.WriteString("codiceFiscale,cognome,nome,albo,numeroIscrizione,dataIscrizione,email\n")
	for i := range 5001 {
		fmt.Fprintf(&big, "ZRZCRL72R10H501D,Rossi,Mario,TSRM,%d,2024-03-01,m@example.it\n", i)
	}
	req, _ = http.NewRequest("POST", o.base+"/v1/orders/"+id+"/members:import", strings.NewReader(big.String()))
	req.Header.Set("Authorization", "Bearer "+o.token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	checkHTTP(t, resp)
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("5001 lines: %d, want 413", resp.StatusCode)
	}
	as(t, "order", "SOMEONE-ELSE").expect(403, "POST", "/v1/orders/"+id+"/members:import", "codiceFiscale\n")
}

func TestAlbi_TheRegistryIsListedAndEnrolmentTakesANameButNotATypo(t *testing.T) {
	orderID := createOrder(t, true)
	order := as(t, "order", orderID)
	items := order.expect(200, "GET", "/v1/albi", nil).json(t)["items"].([]any)
	if len(items) != 19 || items[0].(map[string]any)["code"] != "TSRM" || items[0].(map[string]any)["domain"] != "pec.tsrm.org" {
		t.Fatalf("albi %v", items)
	}
	m := member("ZRZCRL72R10H501D", "Carla", freshSurname("Zoppi"))
	m["albo"] = "IGIENISTA DENTALE"
	r := order.expect(201, "POST", "/v1/orders/"+orderID+"/members", m).json(t)
	mb := r["mailbox"].(map[string]any)
	if r["member"].(map[string]any)["albo"] != "IGD" || mb["albo"] != "IGD" || !strings.HasSuffix(mb["address"].(string), "@pec.tsrm-pstrp.org") {
		t.Errorf("enrolled %v", r)
	}
	bad := member("RSSMRA80A01H501U", "Mario", freshSurname("Rossi"))
	bad["albo"] = "TSMR"
	e := order.expect(422, "POST", "/v1/orders/"+orderID+"/members", bad).json(t)["error"].(map[string]any)
	if e["code"] != "invalid_albo" || e["field"] != "albo" || !strings.Contains(e["message"].(string), "TSRM, AS") {
		t.Errorf("a typo of the albo: %v", e)
	}
}
