package localcloud_test

import (
	"net/url"
	"os"
	"testing"

	"github.com/pecplatform/pec/infra/arubasim"
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
