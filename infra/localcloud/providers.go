package localcloud

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/pecplatform/pec/infra/arubasim"
	"github.com/pecplatform/pec/infra/legalmailsim"
	"github.com/pecplatform/pec/infra/providersim"
)

// Provider kinds the local cloud can stand in for (the template's ProviderKind).
const (
	KindWebhook   = "webhook"
	KindAruba     = "aruba"
	KindLegalmail = "legalmail"
)

// ProviderKinds are the kinds the local cloud stands in for.
var ProviderKinds = []string{KindWebhook, KindAruba, KindLegalmail}

// ProviderStandIn is a provider stand-in, whatever its kind: it serves the provider's API as
// its published document says, refuses what the real API would, and tells the tests what it
// received (never a codice fiscale).
type ProviderStandIn interface {
	http.Handler
	// Requests are the requests it accepted: submissions, deactivations and renewals.
	Requests() []providersim.Received
	// SetDown makes it answer 503 to everything until SetDown(false).
	SetDown(down bool)
	// Refused counts the calls it answered with an error.
	Refused() int
	Close()
}

// newProviderStandIn builds the stand-in of kind for the cloud c.
func newProviderStandIn(kind string, c *Cloud, cfg Config, log *slog.Logger) (ProviderStandIn, error) {
	switch kind {
	case KindWebhook:
		return providersim.New(providersim.Options{
			CallbackURL: c.APIURL + "/v1/provider/callback", Secret: []byte(ProviderWebhookSecret),
			APIKey: ProviderAPIKey, Delay: cfg.ProviderDelay, Reject: cfg.ProviderReject, Logger: log,
		}), nil
	case KindAruba:
		return arubasim.New(arubasim.Options{Username: ProviderUsername, Password: ProviderPassword,
			Delay: cfg.ProviderDelay, Reject: cfg.ProviderReject, Logger: log}), nil
	case KindLegalmail:
		// The bearer token is the secret providerApiKey, as in AWS. Mailboxes stay registrata
		// until their holder's documents are sent (PATCH /pec/{id}/attivazione).
		return legalmailsim.New(legalmailsim.Options{Token: ProviderAPIKey, Delay: cfg.ProviderDelay,
			Reject: cfg.ProviderReject, Logger: log}), nil
	}
	return nil, fmt.Errorf("PROVIDER=%q: the local cloud stands in for %s, %s and %s", kind, KindWebhook, KindAruba, KindLegalmail)
}

// providerParameters are the template parameters a kind needs locally: ProviderKind, and for
// a provider that is asked rather than calling back, polls seconds apart instead of minutes.
func providerParameters(kind string) map[string]string {
	p := map[string]string{"ProviderKind": kind}
	if kind != KindWebhook {
		p["ProviderPollRate"] = "rate(2 seconds)"
		p["ProviderPollFirstSeconds"] = "1"
		p["ProviderPollMaxSeconds"] = "10"
	}
	return p
}
