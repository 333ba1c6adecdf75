package localcloud_test

import (
	"strings"
	"testing"
	"time"
)

// Bounces and complaints, as SES's mailbox simulator gives them: the activation e-mail to
// bounce@simulator.amazonses.com bounces, the one to complaint@... is marked as spam; the host
// raises SES's events through EventBridge to EmailEventsFunction; the Order's daily digest
// names both members, once.
func TestEmailEvents_ABounceAndAComplaintReachTheOrdersDigestOnce(t *testing.T) {
	t.Parallel()
	fed := as(t, "federation", "")
	orderID := uniqueID("EM")
	body := orderBody(true)
	orderPEC := strings.ToLower(orderID) + "@pec.example.it"
	body["pec"] = orderPEC
	fed.expect(201, "PUT", "/v1/orders/"+orderID, body)
	staff := as(t, "order", orderID)
	bounced, complained := member(validCF(21), "Bruno", freshSurname("Rimbalzo")), member(validCF(22), "Carla", freshSurname("Reclamo"))
	bounced["email"], complained["email"] = "bounce@simulator.amazonses.com", "complaint@simulator.amazonses.com"
	var mailboxes []string
	for _, m := range []map[string]any{bounced, complained} {
		r := staff.expect(201, "POST", "/v1/orders/"+orderID+"/members", m).json(t)
		mailboxes = append(mailboxes, r["mailbox"].(map[string]any)["id"].(string))
	}
	b := staff.expect(201, "POST", "/v1/orders/"+orderID+"/batches", nil).json(t)
	id := b["id"].(string)
	staff.expect(200, "POST", "/v1/batches/"+id+"/confirm", nil)
	fed.expect(200, "POST", "/v1/batches/"+id+"/payment", map[string]any{"reference": "PAGOPA-" + id, "amountCents": b["amountCents"]})
	for _, mb := range mailboxes {
		waitState(t, staff, mb, "ABILITATA", 15*time.Second)
	}
	for i, m := range []map[string]any{bounced, complained} {
		want := []string{"bounced", "complained"}[i]
		eventually(t, "the member's address marked "+want, 20*time.Second, func() bool {
			r := staff.expect(200, "GET", "/v1/orders/"+orderID+"/members/"+m["codiceFiscale"].(string), nil).json(t)
			p, _ := r["emailProblem"].(map[string]any)
			mb, _ := r["mailbox"].(map[string]any)
			return p != nil && p["kind"] == want && mb["memberEmail"] == want
		})
	}
	// The Order's digest: one PEC however often the daily run runs.
	for range 2 {
		if code, out := runSchedule(t, "EmailEventsFunction"); code != 200 {
			t.Fatalf("digest: %d %s", code, out)
		}
	}
	var digests []string
	eventually(t, "the Order's digest", 15*time.Second, func() bool {
		digests = pecMessages(t, orderPEC)
		n := 0
		for _, d := range digests {
			if strings.Contains(d, "non raggiungibili") {
				n++
			}
		}
		return n >= 1
	})
	time.Sleep(500 * time.Millisecond)
	n := 0
	for _, d := range pecMessages(t, orderPEC) {
		if strings.Contains(d, "non raggiungibili") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d digests, want 1 (%v)", n, digests)
	}
	// Corrected, the address is clean again.
	r := staff.expect(200, "PATCH", "/v1/orders/"+orderID+"/members/"+bounced["codiceFiscale"].(string),
		map[string]any{"email": "bruno.corretto@example.it"}).json(t)
	if r["emailProblem"] != nil || r["mailbox"].(map[string]any)["memberEmail"] != nil {
		t.Errorf("after the correction %v", r)
	}
}
