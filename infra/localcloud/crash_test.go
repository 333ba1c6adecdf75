package localcloud_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/localcloud"
)

// The shared cloud's FAULT_PANIC_AT makes members named Crashenrol, Crashcallback and
// Crashclick die once, right after the write of their enrolment, of the provider's callback
// and of their click (see ForTests). These tests show what the retry completes.

func TestCrash_EnrolmentDiesAfterWritingAndTheRetryWithTheSameKeyGetsTheMember(t *testing.T) {
	t.Parallel()
	id := createOrder(t, true)
	o := as(t, "order", id)
	m := member("ZRZCRL72R10H501D", "Crashenrol", freshSurname("Zurzi"))
	if r := o.do("POST", "/v1/orders/"+id+"/members", m, "Idempotency-Key", "enrol-crash"); r.status != 500 {
		t.Fatalf("the enrolment that dies answers %d %s, want 500", r.status, r.body)
	}
	// The member and the mailbox were written before the function died.
	if st := o.expect(200, "GET", "/v1/orders/"+id+"/mailboxes/summary", nil).json(t); st["RICHIESTA"] != float64(1) {
		t.Fatalf("after the crash: %v", st)
	}
	// The client retries at once, as a client does after a 500: the same member and mailbox.
	again := o.expect(201, "POST", "/v1/orders/"+id+"/members", m, "Idempotency-Key", "enrol-crash")
	mb := again.json(t)["mailbox"].(map[string]any)
	if mb["state"] != "RICHIESTA" || !strings.HasPrefix(mb["address"].(string), "crashenrol.") {
		t.Fatalf("retry answered %s", again.body)
	}
	replay := o.expect(201, "POST", "/v1/orders/"+id+"/members", m, "Idempotency-Key", "enrol-crash")
	if replay.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(replay.body, again.body) {
		t.Errorf("the next retry is not the replay of the completed one: %s", replay.body)
	}
	if st := o.expect(200, "GET", "/v1/orders/"+id+"/mailboxes/summary", nil).json(t); st["RICHIESTA"] != float64(1) {
		t.Errorf("after the retries: %v, want one mailbox", st)
	}
	// Another request (no key, or another key) for the same member is still a duplicate.
	if code, _ := o.expect(409, "POST", "/v1/orders/"+id+"/members", m, "Idempotency-Key", "enrol-other").errorOf(t); code != "member_exists" {
		t.Errorf("another key: %s", code)
	}
}

func TestCrash_CallbackDiesAfterWritingAndTheProvidersRedeliveryResumesTheWorkflow(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Crashcallback", freshSurname("Zurzi"))
	start := time.Now()
	s.authorize(t)
	// The first delivery writes ABILITATA and dies before resuming the workflow; the provider
	// re-delivers the same event 0.5 s later. Without the re-delivery resuming it, the
	// workflow would wait for its ProviderTimeoutSeconds (20 s here, 7 days deployed).
	s.link(t, 1)
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("the activation e-mail came after %v: the workflow waited for its timeout", d)
	}
	hist := waitState(t, s.order, s.mailboxID, "ABILITATA", 5*time.Second)
	if got := strings.Join(states(hist), ","); got != "RICHIESTA,RICHIESTA_INVIATA,ABILITATA" {
		t.Errorf("history = %s", got)
	}
	mb := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)
	submits := 0
	for _, r := range localcloud.ForTests(t).Provider.Requests() {
		if r.Kind == "submit" && r.Address == mb["address"] {
			submits++
		}
	}
	if submits != 1 {
		t.Errorf("the provider got %d submissions, want 1", submits)
	}
	time.Sleep(2 * time.Second)
	if n := len(emailsAbout(t, s.email, "Attivazione della casella PEC")); n != 1 {
		t.Errorf("%d activation e-mails, want 1", n)
	}
}

func TestCrash_ClickDiesAfterWritingAndClickingAgainResumesTheWorkflow(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Crashclick", freshSurname("Zurzi"))
	s.authorize(t)
	link := s.link(t, 1)
	waitState(t, s.order, s.mailboxID, "ABILITATA", 5*time.Second)
	if code, _ := click(t, link, url.Values{"choice": {"confirm"}}); code < 500 {
		t.Fatalf("the click that dies answers %d, want a 5xx", code)
	}
	waitState(t, s.order, s.mailboxID, "ATTIVATA", time.Second)
	// The member sees an error and clicks again: the activation is finished, not refused.
	code, body := click(t, link, url.Values{"choice": {"confirm"}})
	if code != 200 || !strings.Contains(body, "Casella PEC attivata") {
		t.Fatalf("the second click answers %d\n%s", code, body)
	}
	resumed := time.Now()
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Errorf("execution %s", st)
	}
	// Well before SendActivation's timeout (ActivationReminderSeconds, 15 s here).
	if d := time.Since(resumed); d > 8*time.Second {
		t.Errorf("the workflow ended %v after the second click", d)
	}
	// Now the link is used up, and nothing was sent twice.
	if code, _ := click(t, link, url.Values{"choice": {"confirm"}}); code != 410 {
		t.Errorf("the link after the activation answers %d, want 410", code)
	}
	if n := len(emailsAbout(t, s.email, "Attivazione della casella PEC")); n != 1 {
		t.Errorf("%d activation e-mails, want 1", n)
	}
	hist := waitState(t, s.order, s.mailboxID, "ATTIVATA", time.Second)
	if got := strings.Join(states(hist), ","); got != "RICHIESTA,RICHIESTA_INVIATA,ABILITATA,ATTIVATA" {
		t.Errorf("history = %s", got)
	}
}
