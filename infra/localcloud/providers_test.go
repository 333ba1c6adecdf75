package localcloud_test

import (
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/arubasim"
	"github.com/pecplatform/pec/infra/legalmailsim"
	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/infra/providersim"
)

// providerKind is the kind of provider the suite runs on (PROVIDER; make test-providers).
func providerKind() string {
	if k := os.Getenv("PROVIDER"); k != "" {
		return k
	}
	return localcloud.KindWebhook
}

// heard returns what the provider stand-in received of one kind about the mailbox, found by its
// address: a real provider may never learn the platform's ids.
func heard(t *testing.T, c *client, mailboxID, kind string) []providersim.Received {
	t.Helper()
	address := c.expect(200, "GET", "/v1/mailboxes/"+mailboxID, nil).json(t)["address"].(string)
	var out []providersim.Received
	for _, r := range localcloud.ForTests(t).Provider.Requests() {
		if r.Address == address && (kind == "" || r.Kind == kind) {
			out = append(out, r)
		}
	}
	return out
}

func TestProviderKind_TheSuiteRunsOnTheChosenStandIn(t *testing.T) {
	c := localcloud.ForTests(t)
	if c.ProviderKind != providerKind() || c.Parameters["ProviderKind"] != providerKind() {
		t.Fatalf("the cloud runs %q with ProviderKind %q, want %q", c.ProviderKind, c.Parameters["ProviderKind"], providerKind())
	}
	var ok bool
	switch providerKind() {
	case localcloud.KindWebhook:
		_, ok = c.Provider.(*providersim.Sim)
	case localcloud.KindAruba:
		_, ok = c.Provider.(*arubasim.Sim)
	case localcloud.KindLegalmail:
		_, ok = c.Provider.(*legalmailsim.Sim)
	}
	if !ok {
		t.Errorf("the stand-in is a %T", c.Provider)
	}
}

// mailboxWithAddress finds the id of the Order's mailbox that has the address.
func mailboxWithAddress(t *testing.T, c *client, orderID, address string) string {
	t.Helper()
	cursor := ""
	for {
		page := c.expect(200, "GET", "/v1/orders/"+orderID+"/mailboxes?limit=100"+cursor, nil).json(t)
		for _, it := range page["items"].([]any) {
			if m := it.(map[string]any); m["address"] == address {
				return m["id"].(string)
			}
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			t.Fatalf("no mailbox of %s has the address %s", orderID, address)
		}
		cursor = "&cursor=" + url.QueryEscape(next)
	}
}

// With a provider that tells quotas (Aruba), a full mailbox is found by the weekly run: the
// member warned by e-mail, the Order told by PEC, once.
func TestProviderKind_AFullMailboxIsToldToTheMemberAndTheOrderOnce(t *testing.T) {
	if providerKind() != localcloud.KindAruba {
		t.Skip("the webhook protocol tells no quotas: PROVIDER=aruba runs this")
	}
	s := newScenario(t, "Lucia", freshSurname("Fontana"))
	s.authorize(t)
	if code, _ := click(t, s.link(t, 1), url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("confirm: %d", code)
	}
	waitState(t, s.order, s.mailboxID, "ATTIVATA", 20*time.Second)
	address := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)["address"].(string)
	localcloud.ForTests(t).Provider.(*arubasim.Sim).SetUsage(address, 2) // of its 2 GB
	for range 2 {
		if code, out := runSchedule(t, "QuotaWatchFunction"); code != 200 {
			t.Fatalf("quota watch: %d %s", code, out)
		}
	}
	eventually(t, "the Order's PEC about the full mailbox", 10*time.Second, func() bool {
		return pecWith(t, s.orderPEC, "casella PEC piena") == 1
	})
	warned := 0
	for _, e := range memberEmails(t, s.email) {
		if strings.Contains(e.Subject, "quasi piena") {
			warned++
		}
	}
	if warned != 1 {
		t.Errorf("%d warnings to the member, want 1", warned)
	}
	q, _ := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)["quota"].(map[string]any)
	if q["percent"] != float64(100) || q["limitBytes"] != float64(2<<30) {
		t.Errorf("the mailbox's quota as the Order sees it: %v", q)
	}
}
