package localcloud_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/domain"
)

// runExpiry invokes ExpiryFunction as of a day (the local parameters allow it), as the Lambda
// Invoke API would, and returns what the run reports.
func runExpiry(t *testing.T, asOf time.Time) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"asOf": domain.FormatDate(asOf)})
	resp, err := http.Post(localcloud.ForTests(t).APIURL+"/2015-03-31/functions/ExpiryFunction/invocations", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("expiry run as of %s: %d %s", domain.FormatDate(asOf), resp.StatusCode, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("expiry run answered %s", b)
	}
	return out
}

// activated is a member of a fresh Order whose mailbox is ATTIVATA.
func activated(t *testing.T, nome, cognome string) *scenario {
	t.Helper()
	s := newScenario(t, nome, freshSurname(cognome))
	s.authorize(t)
	if code, _ := click(t, s.link(t, 1), url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("confirm: %d", code)
	}
	waitState(t, s.order, s.mailboxID, "ATTIVATA", 10*time.Second)
	return s
}

func expiresOn(t *testing.T, s *scenario) time.Time {
	t.Helper()
	mb := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)
	v, _ := mb["expiresOn"].(string)
	d, err := domain.ParseDate(v)
	if err != nil {
		t.Fatalf("expiresOn %q of %v", v, mb)
	}
	return d
}

func expiryReminders(t *testing.T, to string) []sesEmail {
	t.Helper()
	var out []sesEmail
	for _, e := range memberEmails(t, to) {
		if strings.Contains(e.Subject, " scade il ") {
			out = append(out, e)
		}
	}
	return out
}

// Not parallel: the expiry run looks at every Order's mailboxes, as of days years ahead.
func TestExpiry_ValidityRemindersOnceAndRenewal(t *testing.T) {
	s := activated(t, "Carlo", "Zurzi")
	exp := expiresOn(t, s)
	if want := domain.AddYears(domain.Today(time.Now()), 3); !exp.Equal(want) {
		t.Fatalf("expiresOn %s, want three years from today, %s", domain.FormatDate(exp), domain.FormatDate(want))
	}

	// Twenty days before expiry, with no run for seventy days: only the 30-day reminder, and
	// once, however often the run repeats.
	for range 2 {
		runExpiry(t, exp.AddDate(0, 0, -20))
	}
	got := expiryReminders(t, s.email)
	if len(got) != 1 {
		t.Fatalf("%d expiry reminders, want 1", len(got))
	}
	text := got[0].Body.Text
	for _, want := range []string{domain.FormatDate(exp)[:4], "20 giorni", "Ordine", s.orderPEC} {
		if !strings.Contains(text, want) {
			t.Errorf("reminder lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text+got[0].Body.HTML+got[0].Subject, "ZRZCRL72R10H501D") {
		t.Error("the reminder carries the codice fiscale")
	}
	runExpiry(t, exp.AddDate(0, 0, -7))
	runExpiry(t, exp.AddDate(0, 0, -6))
	if n := len(expiryReminders(t, s.email)); n != 2 {
		t.Fatalf("%d expiry reminders after the 7-day one, want 2", n)
	}

	// The Order renews it: a renewal batch, confirmed and paid like any batch.
	path := "/v1/orders/" + s.orderID + "/renewals"
	if code, field := s.order.expect(422, "POST", path, map[string]any{"mailboxIds": []string{s.mailboxID}, "expiringBefore": "2030-01-01"}).errorOf(t); code != "invalid_selection" || field != "mailboxIds" {
		t.Errorf("both criteria: %s %s", code, field)
	}
	if code, _ := s.order.expect(422, "POST", path, map[string]any{"mailboxIds": []string{"0123456789abcdef0123456789abcdef"}}).errorOf(t); code != "unknown_mailbox" {
		t.Errorf("an unknown mailbox: %s", code)
	}
	b := s.order.expect(201, "POST", path, map[string]any{"expiringBefore": domain.FormatDate(exp.AddDate(0, 0, 1))}).json(t)
	if b["kind"] != "renewal" || b["mailboxCount"] != float64(1) || b["amountCents"] != float64(488) || b["state"] != "AWAITING_AUTHORIZATION" {
		t.Fatalf("renewal batch = %v", b)
	}
	if code, _ := s.order.expect(409, "POST", path, map[string]any{"mailboxIds": []string{s.mailboxID}}).errorOf(t); code != "nothing_to_renew" {
		t.Errorf("a mailbox in an open renewal batch taken again: %s", code)
	}
	id := b["id"].(string)
	eventually(t, "the renewal request to the Order's PEC", 15*time.Second, func() bool {
		return pecWith(t, s.orderPEC, "rinnovo di 1 casella") == 1
	})
	s.order.expect(200, "POST", "/v1/batches/"+id+"/confirm", nil)
	s.fed.expect(200, "POST", "/v1/batches/"+id+"/payment", map[string]any{"reference": "PAGOPA-R-" + id, "amountCents": 488})

	want := domain.AddYears(exp, 3) // from the current expiry, not from today
	eventually(t, "the renewal", 20*time.Second, func() bool { return expiresOn(t, s).Equal(want) })
	var renewals []string
	for _, r := range heard(t, s.order, s.mailboxID, "renew") {
		renewals = append(renewals, r.ValidUntil+"/"+r.RenewalID)
	}
	switch {
	case len(renewals) != 1:
		t.Errorf("the provider's renewals of the mailbox: %v, want one", renewals)
	case providerKind() == localcloud.KindWebhook && renewals[0] != domain.FormatDate(want)+"/"+id:
		// The webhook protocol carries the new last day and the renewal; Aruba renews by years.
		t.Errorf("the provider's renewal of the mailbox: %v, want %s/%s", renewals, domain.FormatDate(want), id)
	}
	st, hist := mailboxState(t, s.order, s.mailboxID)
	last := hist[len(hist)-1].(map[string]any)
	if st != "ATTIVATA" || last["reason"] != "renewed until "+domain.FormatDate(want)+" (batch "+id+")" || last["actor"] != "order:"+s.orderID+"/local-order" {
		t.Errorf("after renewal: %s, last history entry %v", st, last)
	}

	// Past the old expiry the renewed mailbox stays; the new period's reminders start afresh.
	runExpiry(t, exp.AddDate(0, 0, 2))
	if st, _ := mailboxState(t, s.order, s.mailboxID); st != "ATTIVATA" {
		t.Fatalf("the renewed mailbox is %s after its old expiry", st)
	}
	runExpiry(t, want.AddDate(0, 0, -90))
	if n := len(expiryReminders(t, s.email)); n != 3 {
		t.Errorf("%d expiry reminders, want 3 (the new period's 90-day one)", n)
	}
}

// Not parallel: see above; and the INI-PEC sync delivers every Order's changes.
func TestExpiry_ExpiredUnrenewedMailboxIsRevokedAndLeavesINIPEC(t *testing.T) {
	s := activated(t, "Maria", "Bianchi")
	exp := expiresOn(t, s)
	address := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)["address"].(string)

	runExpiry(t, exp) // its last valid day
	if st, _ := mailboxState(t, s.order, s.mailboxID); st != "ATTIVATA" {
		t.Fatalf("revoked on its last valid day: %s", st)
	}
	out := runExpiry(t, exp.AddDate(0, 0, 1))
	if out["revoked"].(float64) < 1 {
		t.Errorf("run = %v", out)
	}
	hist := waitState(t, s.order, s.mailboxID, "REVOCATA", 5*time.Second)
	if last := hist[len(hist)-1].(map[string]any); last["reason"] != "expired" || last["actor"] != "system" {
		t.Errorf("revocation %v", last)
	}
	eventually(t, "the provider told to close the mailbox", 10*time.Second, func() bool {
		return len(heard(t, s.order, s.mailboxID, "deactivate")) > 0
	})
	runExpiry(t, exp.AddDate(0, 0, 2)) // nothing more to do for it
	if n := len(hist); n != len(waitState(t, s.order, s.mailboxID, "REVOCATA", time.Second)) {
		t.Error("a second run changed the revoked mailbox")
	}

	time.Sleep(1100 * time.Millisecond) // the settle time of the local parameters
	if code, out := runSchedule(t, "INIPECSyncFunction"); code != 200 {
		t.Fatalf("sync: %d %s", code, out)
	}
	deleted := false
	for _, f := range orderFiles(t, s.orderID) {
		for _, l := range lines(f) {
			if fields := strings.Split(l, ";"); fields[0] == address && fields[5] == "3" {
				deleted = true
			}
		}
	}
	if !deleted {
		t.Errorf("no delete of %s in the Order's INI-PEC files %q", address, orderFiles(t, s.orderID))
	}
}
