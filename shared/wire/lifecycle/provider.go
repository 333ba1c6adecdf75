package lifecycle

import (
	"context"
	"fmt"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/aruba"
	"github.com/pecplatform/pec/shared/eventapi"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/legalmail"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/reginde"
)

// Provider kinds: PROVIDER_KIND, the template's ProviderKind.
const (
	KindWebhook   = "webhook"   // this platform's own signed-webhook protocol (shared/provider)
	KindAruba     = "aruba"     // the Aruba PEC partner API (shared/aruba): polled, no callbacks
	KindLegalmail = "legalmail" // Legalmail through Openapi (shared/legalmail): callbacks checked by asking
)

// providerSide is the provider as the use cases see it: the port every kind implements, and
// the abilities only some kinds have.
type providerSide struct {
	kind      string
	api       app.Provider
	status    app.ProviderStatusReader // nil: the provider calls back, signed (webhook)
	addresses app.AddressChecker       // nil: the provider cannot tell (webhook, legalmail)
	// documents is the provider's activation by the holder's documents (legalmail); nil where
	// the provider needs none from the member after the submission.
	documents app.ProviderActivationDocuments
	access    app.FirstAccess // how members reach their new mailbox
}

// newProviderSide builds the PROVIDER_KIND's adapter for PROVIDER_URL, its credentials taken
// from the current secrets at each call. Nothing is called here.
func newProviderSide(env *wire.Env, p *parts) (providerSide, error) {
	url := env.Getenv("PROVIDER_URL")
	var side providerSide
	switch kind := env.Getenv("PROVIDER_KIND"); kind {
	case "", KindWebhook:
		// The webhook protocol is the platform's own: the provider's first-access facts are
		// configuration (PROVIDER_NAME, PROVIDER_WEBMAIL_URL, PROVIDER_SUPPORT_URL).
		side = providerSide{kind: KindWebhook, api: providerClient{url: url, secrets: p.secrets},
			access: app.FirstAccess{ProviderName: env.Getenv("PROVIDER_NAME"), WebmailURL: env.Getenv("PROVIDER_WEBMAIL_URL"),
				CredentialsBy: app.CredentialsByEmail, SupportURL: env.Getenv("PROVIDER_SUPPORT_URL")}}
	default:
		s, err := newRealProvider(env, p, kind, url)
		if err != nil {
			return providerSide{}, err
		}
		side = s
	}
	// Every call's latency and refusals are metrics.
	side.api = app.MeasuredProvider{Next: side.api, Metrics: env.Metrics(), Now: time.Now}
	return side, nil
}

// provisioning is the use case that submits mailboxes and applies the provider's outcomes.
func (p *parts) provisioning() *app.Provisioning {
	return &app.Provisioning{Store: p.store, Workflow: p.flow, Provider: p.side.api, Status: p.side.status,
		Addresses: p.side.addresses, Now: time.Now, Crash: p.env.Crash, Metrics: p.env.Metrics(), Signatures: p.signatures()}
}

// signatures asks members for the provider's form signed (nil for a provider that needs none).
func (p *parts) signatures() *app.Signatures {
	if p.side.documents == nil {
		return nil
	}
	return &app.Signatures{Store: p.store, Provider: p.side.documents, Mail: reginde.MemberMail(p.env, p.store, false),
		PublicURL: p.env.PublicURL(), ProviderName: p.side.access.ProviderName, Now: time.Now, Log: p.env.Log}
}

// ProviderPoll builds ProviderPollFunction: DynamoDB, Step Functions, the provider ->
// app.ProviderPolls -> the scheduled questions about the mailboxes waiting on a provider that
// is asked (Aruba; Legalmail too, for a callback lost on the way). With a provider that calls
// back (webhook), a run asks nothing.
func ProviderPoll(_ context.Context, env *wire.Env) (eventapi.ProviderPollHandler, error) {
	if err := env.Require("ProviderPollFunction"); err != nil {
		return nil, err
	}
	p, err := newParts(env)
	if err != nil {
		return nil, err
	}
	if p.side.status == nil {
		return eventapi.ProviderPoll(nil), nil
	}
	budget, err := env.Int("PROVIDER_POLL_BUDGET", 200)
	if err != nil {
		return nil, err
	}
	first, err := env.Seconds("PROVIDER_POLL_FIRST_SECONDS", time.Minute)
	if err != nil {
		return nil, err
	}
	most, err := env.Seconds("PROVIDER_POLL_MAX_SECONDS", time.Hour)
	if err != nil {
		return nil, err
	}
	return eventapi.ProviderPoll(&app.ProviderPolls{Store: p.store, Provisioning: p.provisioning(), Budget: budget,
		First: first, Max: most, Now: time.Now, Log: env.Log}), nil
}

// ProviderCallback builds ProviderCallbackFunction: DynamoDB, Step Functions, and the provider's
// kind -> app.Provisioning -> the provider's callbacks: the signed events of the webhook
// protocol, or Legalmail's, checked by asking Legalmail. The other kind's route answers 404.
func ProviderCallback(_ context.Context, env *wire.Env) (httpapi.Handler, error) {
	if err := env.Require("ProviderCallbackFunction"); err != nil {
		return nil, err
	}
	p, err := newParts(env)
	if err != nil {
		return nil, err
	}
	prov := p.provisioning()
	var serve httpapi.Handler
	notHere := func(_ context.Context, r httpapi.Request) (httpapi.Response, error) {
		env.Log.Info("request", "route", r.RouteKey, "status", 404, "providerKind", p.side.kind)
		return httpapi.NoRoute(), nil
	}
	switch p.side.kind {
	case KindLegalmail:
		check := httpapi.ProviderCheck(prov, env.Log)
		serve = func(ctx context.Context, r httpapi.Request) (httpapi.Response, error) {
			if r.RouteKey != LegalmailCallbackRoute {
				return notHere(ctx, r)
			}
			return check(ctx, r)
		}
	case KindWebhook:
		hook := webhooks(p.secrets, env.Log, func(keys [][]byte) httpapi.Handler {
			return httpapi.ProviderCallback(prov, env.Log, keys, time.Now)
		})
		serve = func(ctx context.Context, r httpapi.Request) (httpapi.Response, error) {
			if r.RouteKey == LegalmailCallbackRoute {
				return notHere(ctx, r)
			}
			return hook(ctx, r)
		}
	default:
		serve = notHere // Aruba calls nobody back
	}
	// A callback is small: anything over 64 KiB is refused before it is looked at.
	return httpapi.LimitBody(serve, 64<<10), nil
}

// LegalmailCallbackRoute is the route of Legalmail's callbacks, one URL per mailbox.
const LegalmailCallbackRoute = "POST /v1/provider/legalmail/{mailboxId}"

// legalmailCallbackURL is the callback Legalmail is given for a mailbox.
func legalmailCallbackURL(publicURL string) func(mailboxID string) string {
	return func(id string) string { return fmt.Sprintf("%s/v1/provider/legalmail/%s", publicURL, id) }
}

// newRealProvider builds the adapter of a published provider API.
func newRealProvider(env *wire.Env, p *parts, kind, url string) (providerSide, error) {
	switch kind {
	case KindAruba:
		years, err := env.Int("ARUBA_YEARS", 1)
		if err != nil {
			return providerSide{}, err
		}
		c := &aruba.Client{BaseURL: url, AccountType: env.Getenv("ARUBA_ACCOUNT_TYPE"), Years: years, Logger: env.Log,
			Credentials: func(ctx context.Context) (aruba.Credentials, error) {
				sec, err := p.secrets.Get(ctx)
				return aruba.Credentials{Username: sec.ProviderUsername, Password: sec.ProviderPassword}, err
			}}
		if err := c.Validate(); err != nil {
			return providerSide{}, err
		}
		return providerSide{kind: kind, api: c, status: c, addresses: c, access: c.FirstAccess()}, nil
	case KindLegalmail:
		c := &legalmail.Client{BaseURL: url, MailboxType: env.Getenv("LEGALMAIL_MAILBOX_TYPE"), Logger: env.Log,
			Token: func(ctx context.Context) (string, error) {
				sec, err := p.secrets.Get(ctx)
				return sec.ProviderAPIKey, err
			}}
		// Each mailbox is registered with its own callback URL (a function without PUBLIC_URL
		// submits nothing: its mailboxes would only be polled).
		if pub := env.PublicURL(); pub != "" {
			c.CallbackURL = legalmailCallbackURL(pub)
		}
		if err := c.Validate(); err != nil {
			return providerSide{}, err
		}
		return providerSide{kind: kind, api: c, status: c, documents: c, access: c.FirstAccess()}, nil
	}
	return providerSide{}, fmt.Errorf("PROVIDER_KIND is %q: want %s, %s or %s", kind, KindWebhook, KindAruba, KindLegalmail)
}

// QuotaWatch builds QuotaWatchFunction: DynamoDB, the provider, SES, the Orders' PEC ->
// app.QuotaWatch -> the weekly warnings of full mailboxes. With a provider that does not tell
// quotas (webhook; Aruba does, in accounts/info), a run asks nothing.
func QuotaWatch(_ context.Context, env *wire.Env) (eventapi.QuotaWatchHandler, error) {
	if err := env.Require("QuotaWatchFunction"); err != nil {
		return nil, err
	}
	p, err := newParts(env)
	if err != nil {
		return nil, err
	}
	if p.side.status == nil {
		return eventapi.QuotaWatch(nil), nil
	}
	budget, err := env.Int("QUOTA_WATCH_BUDGET", 5000)
	if err != nil {
		return nil, err
	}
	return eventapi.QuotaWatch(&app.QuotaWatch{Store: p.store, Status: p.side.status, MemberMail: reginde.MemberMail(env, p.store, false),
		OrderMail: p.orderMail(), Budget: budget, Now: time.Now, Log: env.Log, Metrics: env.Metrics()}), nil
}

// EmailEvents builds EmailEventsFunction: DynamoDB, the Orders' PEC -> app.EmailEvents -> SES's
// bounces and complaints, and the Orders' daily digest of them.
func EmailEvents(_ context.Context, env *wire.Env) (eventapi.EmailEventsHandler, error) {
	if err := env.Require("EmailEventsFunction"); err != nil {
		return nil, err
	}
	p, err := newParts(env)
	if err != nil {
		return nil, err
	}
	return eventapi.EmailEvents(&app.EmailEvents{Store: p.store, OrderMail: p.orderMail(), Metrics: env.Metrics(), Log: env.Log, Now: time.Now}), nil
}
