package localcloud_test

import (
	"strings"
	"testing"
	"time"
)

// An unpaid self-service request: the member is told once, a week before it expires; at the
// end it is abandoned and its provisional mailbox revoked. Not parallel: the run, moved in time
// by asOf, expires every unpaid request (the parallel tests' ones too).
func TestSelfService_AnUnpaidRequestIsToldThenAbandoned(t *testing.T) {
	orderID, offer, _ := conventionOrder(t)
	order := as(t, "order", orderID)
	surname := freshSurname("Abbandono")
	order.expect(201, "POST", "/v1/orders/"+orderID+"/members", member("ZRZCRL72R10H501D", "Carlo", surname))
	email := strings.ToLower(uniqueID("ab")) + "@example.it"
	www := public(t)
	r := www.expect(201, "POST", "/v1/conventions/"+offer+"/requests",
		map[string]any{"codiceFiscale": "ZRZCRL72R10H501D", "cognome": surname, "nome": "Carlo", "email": email}).json(t)
	id, token := r["requestId"].(string), r["accessToken"].(string)

	now := time.Now()
	if out := runExpiry(t, now.AddDate(0, 0, 22)); out["requests"].(map[string]any)["notified"] != float64(0) {
		// (other tests' requests are younger, or told already)
	}
	runExpiry(t, now.AddDate(0, 0, 24))
	runExpiry(t, now.AddDate(0, 0, 25))
	eventually(t, "the notice a week before", 10*time.Second, func() bool { return len(emailsAbout(t, email, "scade")) == 1 })

	runExpiry(t, now.AddDate(0, 0, 31))
	got := www.expect(200, "GET", "/v1/requests/"+id, nil, "X-Access-Token", token).json(t)
	if got["state"] != "ABANDONED" || got["mailboxState"] != "REVOCATA" {
		t.Fatalf("after 31 days: %v", got)
	}
	if code, _ := www.expect(410, "POST", "/v1/requests/"+id+"/payment", map[string]any{"reference": "LATE", "amountCents": 488},
		"X-Access-Token", token).errorOf(t); code != "request_abandoned" {
		t.Errorf("a late payment: %s", code)
	}
	if n := len(emailsAbout(t, email, "scade")); n != 1 {
		t.Errorf("%d notices, want 1", n)
	}
	// The request's link came by e-mail when it was made.
	if n := len(emailsAbout(t, email, "Il collegamento alla Sua richiesta")); n != 1 {
		t.Errorf("%d e-mails with the request's link, want 1", n)
	}
}
