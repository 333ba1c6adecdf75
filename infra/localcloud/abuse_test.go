package localcloud_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/provider"
)

// fillRoute puts harmless values into a route's path parameters.
func fillRoute(path string) string {
	for k, v := range map[string]string{"{orderId}": "ABUSE-X", "{codiceFiscale}": "ZRZCRL72R10H501D", "{id}": strings.Repeat("0", 32),
		"{importId}": strings.Repeat("0", 32), "{requestId}": strings.Repeat("0", 32), "{token}": strings.Repeat("A", 43),
		"{offerCode}": "NESSUNA"} {
		path = strings.ReplaceAll(path, k, v)
	}
	return path
}

type rawReply struct {
	status int
	header http.Header
	body   string
}

func rawDo(t *testing.T, method, url, body string, headers ...string) rawReply {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b := checkHTTP(t, resp)
	return rawReply{resp.StatusCode, resp.Header, string(b)}
}

// TestOversizedBodies_Are413OnEveryRoute: over 10 MB the host (API Gateway) refuses any
// route before authorising or invoking; below that, each function refuses more than it reads.
func TestOversizedBodies_Are413OnEveryRoute(t *testing.T) {
	t.Parallel()
	c := localcloud.ForTests(t)
	fed, err := c.Token("federation", "")
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("x", 10<<20+1)
	for _, r := range c.Host.Routes() {
		got := rawDo(t, r.Method, c.APIURL+fillRoute(r.Path), huge, "Content-Type", "application/json", "Authorization", "Bearer "+fed)
		if got.status != 413 || got.body != `{"message":"Request Entity Too Large"}` {
			t.Errorf("%s with 10 MB + 1: %d %s", r.RouteKey(), got.status, got.body)
		}
	}
	// The functions' own limits: a JSON body over 1 MB, a callback over 64 KB, an activation
	// form over 16 KB. Uploads (members:import, documents, the signed form) take up to the host's 10 MB.
	limits := map[string]int{"POST /v1/provider/callback": 64 << 10, "POST /v1/provider/legalmail/{mailboxId}": 64 << 10, "POST /activate/{token}": 16 << 10,
		"POST /v1/orders/{orderId}/members:import": -1, "POST /v1/requests/{requestId}/documents": -1,
		"POST /reginde/{token}":      -1, // the ReGIndE confirmation reads no body at all
		"POST /adesione/{offerCode}": 16 << 10, "POST /richiesta/{requestId}/{token}/documenti": -1,
		"POST /firma/{token}": -1} // the signed form and the identity document: up to the host's 10 MB
	for _, r := range c.Host.Routes() {
		if r.Method != "POST" && r.Method != "PUT" {
			continue
		}
		limit, ok := limits[r.RouteKey()]
		if !ok {
			limit = 1 << 20
		}
		if limit < 0 {
			continue
		}
		ct := "application/json"
		if strings.HasPrefix(r.Path, "/activate/") || strings.HasPrefix(r.Path, "/adesione/") {
			ct = "application/x-www-form-urlencoded"
		}
		got := rawDo(t, r.Method, c.APIURL+fillRoute(r.Path), `"`+strings.Repeat("x", limit)+`"`, "Content-Type", ct, "Authorization", "Bearer "+fed)
		if got.status != 413 {
			t.Errorf("%s with %d bytes: %d, want 413; %.200s", r.RouteKey(), limit+2, got.status, got.body)
		}
	}
}

// describe returns the mailbox workflow's status without waiting for it to end.
func describe(t *testing.T, mailboxID string) string {
	t.Helper()
	c := localcloud.ForTests(t)
	api := sfn.New(sfn.Options{BaseEndpoint: aws.String(c.MotoURL), Region: localcloud.Region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	arn := fmt.Sprintf("arn:aws:states:%s:123456789012:execution:MailboxStateMachine:mailbox-%s", localcloud.Region, mailboxID)
	out, err := api.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Status)
}

// TestProviderCallback_AbuseIsRefusedWithoutSideEffects: every refused callback names a
// mailbox waiting for its member and would revoke it; none changes the mailbox, wakes the
// workflow or marks its event as seen (the genuine event with the same id still works once).
func TestProviderCallback_AbuseIsRefusedWithoutSideEffects(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Livia", freshSurname("Serra"))
	s.authorize(t)
	waitState(t, s.order, s.mailboxID, "ABILITATA", 15*time.Second)
	s.link(t, 1)
	addr := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)["address"].(string)
	_, before := mailboxState(t, s.order, s.mailboxID)
	base := localcloud.ForTests(t).APIURL + "/v1/provider/callback"
	secret := []byte(localcloud.ProviderWebhookSecret)
	eventID := uniqueID("ev")
	deactivate := fmt.Sprintf(`{"eventId":%q,"type":"mailbox.deactivated","address":%q,"providerRef":"X","occurredAt":%q,"reason":"abuso"}`,
		eventID, addr, time.Now().UTC().Format(time.RFC3339))
	send := func(body, sig string) rawReply {
		h := []string{"Content-Type", "application/json"}
		if sig != "" {
			h = append(h, "X-Pec-Signature", sig)
		}
		return rawDo(t, "POST", base, body, h...)
	}
	now := time.Now()
	// Exactly API Gateway's 10 MB: the host passes it, the function refuses it unread.
	bigBody := deactivate[:len(deactivate)-1] + `,"padding":"` + strings.Repeat("x", 10<<20-len(deactivate)-13) + `"}`
	cases := []struct {
		name   string
		body   string
		sig    string
		status int
	}{
		{"no signature", deactivate, "", 401},
		{"signed with another secret", deactivate, provider.Sign([]byte("guessed"), now, []byte(deactivate)), 401},
		{"signature of another body", deactivate, provider.Sign(secret, now, []byte(strings.Replace(deactivate, "abuso", "altro", 1))), 401},
		{"stale timestamp (a replay after 5 minutes)", deactivate, provider.Sign(secret, now.Add(-301*time.Second), []byte(deactivate)), 401},
		// Well beyond the 300 s tolerance: the cases before it take time too (the limits themselves
		// are unit-tested in shared/provider).
		{"timestamp from the future", deactivate, provider.Sign(secret, now.Add(6*time.Minute), []byte(deactivate)), 401},
		{"garbled header", deactivate, "t=abc,v1=zz", 401},
		{"malformed JSON, signed", `{"eventId":`, provider.Sign(secret, now, []byte(`{"eventId":`)), 400},
		{"wrong types, signed", `{"eventId":1,"type":[],"address":{}}`, provider.Sign(secret, now, []byte(`{"eventId":1,"type":[],"address":{}}`)), 400},
		{"unknown type, signed", strings.Replace(deactivate, "mailbox.deactivated", "mailbox.deleted", 1),
			provider.Sign(secret, now, []byte(strings.Replace(deactivate, "mailbox.deactivated", "mailbox.deleted", 1))), 400},
		{"unknown address, signed", strings.Replace(deactivate, addr, "nessuno.mai@pec.tsrm.org", 1),
			provider.Sign(secret, now, []byte(strings.Replace(deactivate, addr, "nessuno.mai@pec.tsrm.org", 1))), 404},
		{"10 MB body, signed", bigBody, provider.Sign(secret, now, []byte(bigBody)), 413},
		{"10 MB + 1 body", bigBody + " ", provider.Sign(secret, now, []byte(bigBody+" ")), 413},
	}
	if len(bigBody) != 10<<20 {
		t.Fatalf("the big body is %d bytes", len(bigBody))
	}
	for _, tc := range cases {
		if got := send(tc.body, tc.sig); got.status != tc.status {
			t.Errorf("%s: %d, want %d (%.200s)", tc.name, got.status, tc.status, got.body)
		}
	}
	st, after := mailboxState(t, s.order, s.mailboxID)
	if st != "ABILITATA" || len(after) != len(before) {
		t.Fatalf("after the refused callbacks: %s, history %v (was %v)", st, states(after), states(before))
	}
	if ex := describe(t, s.mailboxID); ex != "RUNNING" {
		t.Fatalf("after the refused callbacks the workflow is %s, want RUNNING (still waiting for the member)", ex)
	}

	// The genuine event, with the id the refused ones carried: it was not marked as seen.
	sig := provider.Sign(secret, time.Now(), []byte(deactivate))
	if got := send(deactivate, sig); got.status != 204 {
		t.Fatalf("the genuine event: %d %s", got.status, got.body)
	}
	_, revoked := mailboxState(t, s.order, s.mailboxID)
	if got := strings.Join(states(revoked), ","); got != "RICHIESTA,RICHIESTA_INVIATA,ABILITATA,REVOCATA" {
		t.Fatalf("after the genuine event: %s", got)
	}
	// Replayed within the window, byte for byte: accepted as a duplicate, nothing more happens.
	if got := send(deactivate, sig); got.status != 204 {
		t.Errorf("the replay: %d %s", got.status, got.body)
	}
	if _, h := mailboxState(t, s.order, s.mailboxID); len(h) != len(revoked) {
		t.Errorf("the replay changed the history: %v", states(h))
	}
}

// flipLast changes the last character of a link's token.
func flipLast(s string) string {
	if s[len(s)-1] == 'A' {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}

// checkPageHeaders: the headers the headers every member-facing page must carry, whatever its status.
func checkPageHeaders(t *testing.T, label string, r rawReply) {
	t.Helper()
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", label, csp, want)
		}
	}
	for h, want := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Content-Type": "text/html; charset=utf-8"} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s: %s %q, want %q", label, h, got, want)
		}
	}
}

// TestActivation_GuessedTruncatedReusedTokensAndSafePages: the member's name and the Order's
// are shown escaped; every page, whatever its status, carries the security headers; only the
// member's own link, once and from the page itself, makes the choice.
func TestActivation_GuessedTruncatedReusedTokensAndSafePages(t *testing.T) {
	t.Parallel()
	s := &scenario{orderID: uniqueID("FI"), fed: as(t, "federation", "")}
	s.orderPEC = strings.ToLower(s.orderID) + "@pec.example.it"
	body := orderBody(true)
	body["pec"], body["name"] = s.orderPEC, `Ordine "TSRM" & <b>PSTRP</b>`
	s.fed.expect(201, "PUT", "/v1/orders/"+s.orderID, body)
	s.order = as(t, "order", s.orderID)
	s.email = strings.ToLower(uniqueID("m")) + "@example.it"
	m := member("ZRZCRL72R10H501D", `<script>alert(1)</script> "Anna"`, "D'Amico & <img src=x onerror=alert(2)>"+freshSurname("x"))
	m["email"] = s.email
	s.mailboxID = s.order.expect(201, "POST", "/v1/orders/"+s.orderID+"/members", m).json(t)["mailbox"].(map[string]any)["id"].(string)
	s.authorize(t)
	link := s.link(t, 1)
	base := localcloud.ForTests(t).APIURL
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}

	page := rawDo(t, "GET", link, "")
	if page.status != 200 {
		t.Fatalf("the member's link: %d", page.status)
	}
	checkPageHeaders(t, "form", page)
	lower := strings.ToLower(page.body)
	if strings.Contains(lower, "<script") || strings.Contains(lower, "<img") || strings.Contains(lower, "<b>") {
		t.Errorf("the page renders markup from the data:\n%s", page.body)
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&amp; &lt;img src=x onerror=alert(2)&gt;", "&lt;b&gt;PSTRP&lt;/b&gt;", "ZRZCRL**R10H501*"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if strings.Contains(page.body, "ZRZCRL72R10H501D") {
		t.Error("the page shows the whole codice fiscale")
	}

	path := linkPath(link)
	for _, tc := range []struct {
		label, method, url, body string
		headers                  []string
		status                   int
	}{
		{"guessed token", "GET", base + "/activate/" + guessedToken(), "", nil, 404},
		{"guessed token, POST", "POST", base + "/activate/" + guessedToken(), "choice=confirm", form, 404},
		{"truncated token", "GET", base + path[:len(path)-1], "", nil, 404},
		{"token with a character changed", "GET", base + flipLast(path), "", nil, 404},
		{"overlong token", "GET", base + path + "A", "", nil, 404},
		{"cross-site POST", "POST", link, "choice=confirm", append(form, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"), 403},
		{"same-site POST from a sibling host", "POST", link, "choice=confirm", append(form, "Sec-Fetch-Site", "same-site"), 403},
		{"POST with a foreign Origin only", "POST", link, "choice=decline", append(form, "Origin", "https://evil.example"), 403},
		{"POST without a choice", "POST", link, "choice=maybe", form, 422},
	} {
		got := rawDo(t, tc.method, tc.url, tc.body, tc.headers...)
		if got.status != tc.status {
			t.Errorf("%s: %d, want %d", tc.label, got.status, tc.status)
		}
		checkPageHeaders(t, tc.label, got)
		if strings.Contains(got.body, "<script") {
			t.Errorf("%s: the page renders the name's markup", tc.label)
		}
	}
	if st, _ := mailboxState(t, s.order, s.mailboxID); st != "ABILITATA" {
		t.Fatalf("the refused posts changed the mailbox to %s", st)
	}

	// The member's own post, from the page (a browser says same-origin), then the link is spent.
	done := rawDo(t, "POST", link, url.Values{"choice": {"confirm"}}.Encode(), append(form, "Sec-Fetch-Site", "same-origin", "Origin", "null")...)
	if done.status != 200 {
		t.Fatalf("the member's choice: %d", done.status)
	}
	checkPageHeaders(t, "result", done)
	if strings.Contains(strings.ToLower(done.body), "<script") {
		t.Error("the result page renders the name's markup")
	}
	for _, tc := range []struct{ method, body string }{{"GET", ""}, {"POST", "choice=decline"}, {"POST", "choice=confirm"}} {
		got := rawDo(t, tc.method, link, tc.body, form...)
		if got.status != 410 {
			t.Errorf("reused link, %s %s: %d, want 410", tc.method, tc.body, got.status)
		}
		checkPageHeaders(t, "reused link", got)
	}
	hist := waitState(t, s.order, s.mailboxID, "ATTIVATA", 5*time.Second)
	if got := strings.Join(states(hist), ","); got != "RICHIESTA,RICHIESTA_INVIATA,ABILITATA,ATTIVATA" {
		t.Errorf("history after reuse attempts: %s", got)
	}
}

// TestReGIndE_PagesAreSafeAndTheLinkIsTheOnlyCredential: the same for the CTU's page.
func TestReGIndE_PagesAreSafeAndTheLinkIsTheOnlyCredential(t *testing.T) {
	t.Parallel()
	orderID := uniqueID("FI")
	fed := as(t, "federation", "")
	body := orderBody(true)
	body["name"] = `Ordine "TSRM" & <b>PSTRP</b>`
	fed.expect(201, "PUT", "/v1/orders/"+orderID, body)
	o := as(t, "order", orderID)
	email := strings.ToLower(uniqueID("ctu")) + "@example.it"
	m := member("BNCGNN80A01H501T", `<script>alert(1)</script>`, "D'Amico & Figli"+freshSurname("x"))
	m["email"], m["pec"], m["ctu"] = email, "ctu.abuso@legalmail.it", true
	o.expect(201, "POST", "/v1/orders/"+orderID+"/members", m)
	o.expect(200, "POST", "/v1/orders/"+orderID+"/members/BNCGNN80A01H501T/reginde-reminder", nil)
	link := regindeLink(t, email, "ctu.abuso@legalmail.it", 1)
	base := localcloud.ForTests(t).APIURL
	path := linkPath(link)
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}

	page := rawDo(t, "GET", link, "")
	if page.status != 200 {
		t.Fatalf("the CTU's link: %d", page.status)
	}
	checkPageHeaders(t, "form", page)
	if l := strings.ToLower(page.body); strings.Contains(l, "<script") || strings.Contains(l, "<b>") {
		t.Errorf("the page renders markup from the data:\n%s", page.body)
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&amp; Figli", "&lt;b&gt;PSTRP&lt;/b&gt;"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	for _, tc := range []struct {
		label, method, url string
		headers            []string
		status             int
	}{
		{"guessed token", "GET", base + "/reginde/" + guessedToken(), nil, 404},
		{"guessed token, POST", "POST", base + "/reginde/" + guessedToken(), form, 404},
		{"truncated token", "GET", base + path[:len(path)-1], nil, 404},
		{"an activation route's token shape elsewhere", "GET", base + "/reginde/" + strings.Repeat("-", 43), nil, 404},
		{"cross-site POST", "POST", link, append(form, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"), 403},
		{"POST with a foreign Origin only", "POST", link, append(form, "Origin", "https://evil.example"), 403},
	} {
		got := rawDo(t, tc.method, tc.url, "", tc.headers...)
		if got.status != tc.status {
			t.Errorf("%s: %d, want %d", tc.label, got.status, tc.status)
		}
		checkPageHeaders(t, tc.label, got)
	}
	list := ctuList(t, o, orderID, "")
	if len(list) != 1 || list[0]["regindeConfirmed"] != false {
		t.Fatalf("the refused posts confirmed: %v", list)
	}
	got := rawDo(t, "POST", link, "", append(form, "Sec-Fetch-Site", "same-origin")...)
	if got.status != 200 {
		t.Fatalf("the CTU's confirmation: %d", got.status)
	}
	checkPageHeaders(t, "result", got)
	// The link then only says so: no button, nothing more to do with it.
	again := rawDo(t, "GET", link, "")
	if again.status != 200 || !strings.Contains(again.body, "La registrazione al ReGIndE è già confermata") || strings.Contains(again.body, "<form") {
		t.Errorf("the link after confirming: %d %s", again.status, again.body)
	}
	checkPageHeaders(t, "after confirming", again)
}
