package localcloud_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var regindeLinkPattern = regexp.MustCompile(`http://127\.0\.0\.1:\d+/reginde/[A-Za-z0-9_-]{43}`)

// ctuScenario is newScenario with a member enrolled as a court-appointed expert (ctu).
func ctuScenario(t *testing.T, nome, cognome string) *scenario {
	t.Helper()
	s := &scenario{orderID: uniqueID("FI"), fed: as(t, "federation", "")}
	s.orderPEC = strings.ToLower(s.orderID) + "@pec.example.it"
	body := orderBody(true)
	body["pec"] = s.orderPEC
	s.fed.expect(201, "PUT", "/v1/orders/"+s.orderID, body)
	s.order = as(t, "order", s.orderID)
	s.email = strings.ToLower(uniqueID("ctu")) + "@example.it"
	m := member("ZRZCRL72R10H501D", nome, cognome)
	m["email"], m["ctu"] = s.email, true
	r := s.order.expect(201, "POST", "/v1/orders/"+s.orderID+"/members", m).json(t)
	s.mailboxID = r["mailbox"].(map[string]any)["id"].(string)
	return s
}

// regindeEmails returns the ReGIndE e-mails sent to the address.
func regindeEmails(t *testing.T, to string) []sesEmail {
	t.Helper()
	var out []sesEmail
	for _, e := range memberEmails(t, to) {
		if strings.Contains(e.Subject, "ReGIndE") {
			out = append(out, e)
		}
	}
	return out
}

// regindeLink waits for the n-th ReGIndE e-mail to the address, checks that it names the
// address and carries no codice fiscale, and returns its link.
func regindeLink(t *testing.T, to, address string, n int) string {
	t.Helper()
	var mails []sesEmail
	eventually(t, "ReGIndE e-mail", 30*time.Second, func() bool {
		mails = regindeEmails(t, to)
		return len(mails) >= n
	})
	m := mails[n-1]
	for part, s := range map[string]string{"subject": m.Subject, "text": m.Body.Text, "HTML": m.Body.HTML} {
		if !strings.Contains(s, address) {
			t.Errorf("the ReGIndE e-mail's %s does not name %s:\n%s", part, address, s)
		}
		if strings.Contains(strings.ToUpper(s), "ZRZCRL72R10H501D") || strings.Contains(strings.ToUpper(s), "BNCGNN80A01H501T") {
			t.Errorf("the ReGIndE e-mail's %s carries a codice fiscale", part)
		}
	}
	for _, want := range []string{"pst.giustizia.it", "CNS", "firma digitale", "Solo la PEC registrata al ReGIndE"} {
		if !strings.Contains(m.Body.Text, want) {
			t.Errorf("the ReGIndE e-mail does not say %q", want)
		}
	}
	link := regindeLinkPattern.FindString(m.Body.Text)
	if link == "" {
		t.Fatalf("no ReGIndE link in %q", m.Body.Text)
	}
	return link
}

func ctuList(t *testing.T, c *client, orderID, query string) []map[string]any {
	t.Helper()
	r := c.expect(200, "GET", "/v1/orders/"+orderID+"/ctu"+query, nil).json(t)
	var out []map[string]any
	for _, it := range r["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func TestReGIndE_CTUGetsTheEmailAfterActivationConfirmsAndTheOrderSeesIt(t *testing.T) {
	t.Parallel()
	s := ctuScenario(t, "Carlo", freshSurname("Zurzi"))
	address := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)["address"].(string)

	// Before activation the member is listed, with no address and no notice.
	items := ctuList(t, s.order, s.orderID, "")
	if len(items) != 1 || items[0]["address"] != nil || items[0]["notifiedAt"] != nil || items[0]["regindeConfirmed"] != false {
		t.Fatalf("before activation: %v", items)
	}
	if code, _ := s.order.expect(409, "POST", "/v1/orders/"+s.orderID+"/members/ZRZCRL72R10H501D/reginde-reminder", nil).errorOf(t); code != "no_active_domicilio" {
		t.Errorf("reminder before activation: %s", code)
	}

	s.authorize(t)
	if code, _ := click(t, s.link(t, 1), url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("activation: %d", code)
	}
	waitState(t, s.order, s.mailboxID, "ATTIVATA", 10*time.Second)
	link := regindeLink(t, s.email, address, 1)
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Errorf("execution %s", st)
	}
	if n := len(regindeEmails(t, s.email)); n != 1 {
		t.Errorf("%d ReGIndE e-mails, want exactly 1", n)
	}

	items = ctuList(t, s.order, s.orderID, "?confirmed=false")
	if len(items) != 1 || items[0]["address"] != address || items[0]["notifiedAt"] == nil || items[0]["confirmedAt"] != nil ||
		items[0]["codiceFiscale"] != "ZRZCRL72R10H501D" || items[0]["numeroIscrizione"] != "1234" {
		t.Fatalf("after the notice: %v", items)
	}
	if items := ctuList(t, s.order, s.orderID, "?confirmed=true"); len(items) != 0 {
		t.Errorf("confirmed=true before confirming: %v", items)
	}

	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	checkHTTP(t, resp)
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("page headers: %v", resp.Header)
	}
	code, body := click(t, link, nil)
	if code != 200 || !strings.Contains(body, "Ho completato la registrazione al ReGIndE") || !strings.Contains(body, "ZRZCRL**R10H501*") || !strings.Contains(body, address) {
		t.Fatalf("GET link: %d\n%s", code, body)
	}
	if strings.Contains(body, "ZRZCRL72R10H501D") {
		t.Fatal("the page shows the whole codice fiscale")
	}
	if code, body := click(t, link, url.Values{}); code != 200 || !strings.Contains(body, "Registrazione al ReGIndE confermata") {
		t.Fatalf("POST confirm: %d\n%s", code, body)
	}
	if code, body := click(t, link, url.Values{}); code != 200 || !strings.Contains(body, "già confermata") {
		t.Fatalf("second confirm: %d\n%s", code, body)
	}
	if code, body := click(t, link, nil); code != 200 || !strings.Contains(body, "già confermata") || strings.Contains(body, "<form") {
		t.Errorf("the confirmed link: %d\n%s", code, body)
	}

	items = ctuList(t, s.order, s.orderID, "?confirmed=true")
	if len(items) != 1 || items[0]["regindeConfirmed"] != true || items[0]["confirmedAt"] == nil {
		t.Fatalf("after confirming: %v", items)
	}
	if items := ctuList(t, s.fed, s.orderID, "?confirmed=false"); len(items) != 0 {
		t.Errorf("confirmed=false after confirming: %v", items)
	}
	if code, _ := s.order.expect(409, "POST", "/v1/orders/"+s.orderID+"/members/ZRZCRL72R10H501D/reginde-reminder", nil).errorOf(t); code != "reginde_already_confirmed" {
		t.Errorf("reminder after confirming: %s", code)
	}

	// Another Order sees nothing and can do nothing.
	other := as(t, "order", "SOMEONE-ELSE")
	other.expect(403, "GET", "/v1/orders/"+s.orderID+"/ctu", nil)
	other.expect(403, "POST", "/v1/orders/"+s.orderID+"/members/ZRZCRL72R10H501D/reginde-reminder", nil)
	as(t, "", "").expect(401, "GET", "/v1/orders/"+s.orderID+"/ctu", nil)

	// Forged and malformed tokens.
	forged := link[:strings.LastIndex(link, "/")+1] + strings.Repeat("A", 43)
	for _, l := range []string{forged, link + "x", strings.Replace(link, "/reginde/", "/reginde/x", 1)} {
		if code, body := click(t, l, nil); code != 404 || !strings.Contains(body, "Collegamento non valido") {
			t.Errorf("GET %s: %d", l, code)
		}
		if code, _ := click(t, l, url.Values{}); code != 404 {
			t.Errorf("POST %s: %d", l, code)
		}
	}
}

func TestReGIndE_NonCTUMemberGetsNoSuchEmail(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Anna", freshSurname("Neri"))
	s.authorize(t)
	if code, _ := click(t, s.link(t, 1), url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("activation: %d", code)
	}
	waitState(t, s.order, s.mailboxID, "ATTIVATA", 10*time.Second)
	// The workflow's AfterActivation step has run once the execution succeeded.
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Fatalf("execution %s", st)
	}
	if n := len(emailsAbout(t, s.email, "ReGIndE")); n != 0 {
		t.Errorf("%d ReGIndE e-mails to a non-CTU member, want none", n)
	}
	// The activation e-mail, then how to reach the mailbox, once.
	if n, first := len(memberEmails(t, s.email)), len(emailsAbout(t, s.email, "Come accedere")); n != 2 || first != 1 {
		t.Errorf("%d e-mails (%d about the first access) to a non-CTU member, want the activation e-mail and one about the first access", n, first)
	}
	if items := ctuList(t, s.order, s.orderID, ""); len(items) != 0 {
		t.Errorf("CTU list of an Order without CTU: %v", items)
	}
	if code, _ := s.order.expect(409, "POST", "/v1/orders/"+s.orderID+"/members/ZRZCRL72R10H501D/reginde-reminder", nil).errorOf(t); code != "not_ctu" {
		t.Errorf("reminder to a non-CTU: %s", code)
	}
}

func TestReGIndE_OwnPECCTUIsAskedByTheOrder_ANewLinkKillsTheOld_ListPages(t *testing.T) {
	t.Parallel()
	orderID := createOrder(t, true)
	o := as(t, "order", orderID)
	email := strings.ToLower(uniqueID("own")) + "@example.it"
	// Three CTU with a PEC of their own, one without ctu.
	for i, surname := range []string{"Bianchi", "Agnelli", "Conti", "Esposito"} {
		m := member(validCF(9000+i), "Gianni", surname)
		m["pec"] = strings.ToLower(surname) + "@legalmail.it"
		m["ctu"] = surname != "Esposito"
		if surname == "Bianchi" {
			m["email"] = email
		}
		o.expect(201, "POST", "/v1/orders/"+orderID+"/members", m)
	}
	var names []string
	page1 := o.expect(200, "GET", "/v1/orders/"+orderID+"/ctu?limit=2", nil).json(t)
	cursor, _ := page1["nextCursor"].(string)
	page2 := o.expect(200, "GET", "/v1/orders/"+orderID+"/ctu?limit=2&cursor="+url.QueryEscape(cursor), nil).json(t)
	for _, p := range []map[string]any{page1, page2} {
		for _, it := range p["items"].([]any) {
			names = append(names, it.(map[string]any)["cognome"].(string))
		}
	}
	if got := strings.Join(names, ","); got != "Agnelli,Bianchi,Conti" || cursor == "" || page2["nextCursor"] != nil {
		t.Fatalf("pages: %s (cursor %q, then %v)", got, cursor, page2["nextCursor"])
	}
	if code, _ := o.expect(400, "GET", "/v1/orders/"+orderID+"/ctu?cursor=bm9wZQ", nil).errorOf(t); code != "invalid_cursor" {
		t.Errorf("forged cursor: %s", code)
	}
	if _, field := o.expect(422, "GET", "/v1/orders/"+orderID+"/ctu?confirmed=maybe", nil).errorOf(t); field != "confirmed" {
		t.Errorf("confirmed=maybe: field %s", field)
	}

	// A PEC of one's own is never asked unasked: the Order asks.
	cf := validCF(9000)
	if n := len(regindeEmails(t, email)); n != 0 {
		t.Fatalf("%d ReGIndE e-mails before the Order asked", n)
	}
	r := o.expect(200, "POST", "/v1/orders/"+orderID+"/members/"+cf+"/reginde-reminder", nil).json(t)
	if r["address"] != "bianchi@legalmail.it" || r["notifiedAt"] == nil || r["regindeConfirmed"] != false {
		t.Errorf("reminder answer: %v", r)
	}
	old := regindeLink(t, email, "bianchi@legalmail.it", 1)
	o.expect(200, "POST", "/v1/orders/"+orderID+"/members/"+cf+"/reginde-reminder", nil)
	fresh := regindeLink(t, email, "bianchi@legalmail.it", 2)
	if old == fresh {
		t.Fatal("the reminder carries the old link")
	}
	if mails := regindeEmails(t, email); !strings.HasPrefix(mails[1].Subject, "Promemoria") {
		t.Errorf("second e-mail subject %q", mails[1].Subject)
	}
	if code, body := click(t, old, url.Values{}); code != 410 || !strings.Contains(body, "Collegamento scaduto o non più valido") {
		t.Errorf("the old link: %d", code)
	}
	if code, _ := click(t, fresh, url.Values{}); code != 200 {
		t.Errorf("the new link: %d", code)
	}
	if items := ctuList(t, o, orderID, "?confirmed=true"); len(items) != 1 || items[0]["codiceFiscale"] != cf {
		t.Errorf("confirmed: %v", items)
	}
}
