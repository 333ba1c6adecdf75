package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/notice"
	"github.com/pecplatform/pec/shared/pecmail"
	"github.com/pecplatform/pec/shared/provider"
	"github.com/pecplatform/pec/shared/wire/secrets"
)

// The adapters that hold a credential take it from the current secrets at each call, so that a
// key filled in or rotated in PlatformSecrets is used by warm functions within the secrets' TTL.

// providerClient is the provider's client with the current API key.
type providerClient struct {
	url     string
	secrets *secrets.Source
}

var _ app.Provider = providerClient{}

func (c providerClient) client(ctx context.Context) (*provider.HTTPClient, error) {
	sec, err := c.secrets.Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("the provider's API key: %w", err)
	}
	return &provider.HTTPClient{BaseURL: c.url, APIKey: sec.ProviderAPIKey}, nil
}

func (c providerClient) Submit(ctx context.Context, r app.SubmitRequest) (string, error) {
	cl, err := c.client(ctx)
	if err != nil {
		return "", err
	}
	return cl.Submit(ctx, r)
}

func (c providerClient) Deactivate(ctx context.Context, mb app.ProviderMailbox, reason string) error {
	cl, err := c.client(ctx)
	if err != nil {
		return err
	}
	return cl.Deactivate(ctx, mb, reason)
}

func (c providerClient) Renew(ctx context.Context, r app.RenewRequest) error {
	cl, err := c.client(ctx)
	if err != nil {
		return err
	}
	return cl.Renew(ctx, r)
}

// orderMail is the platform's PEC mailbox with the current SMTP password.
type orderMail struct {
	sender  pecmail.Sender // without the password
	secrets *secrets.Source
}

var _ app.Mailer = orderMail{}

func (m orderMail) Send(ctx context.Context, to string, msg notice.Message) (string, error) {
	sec, err := m.secrets.Get(ctx)
	if err != nil {
		return "", fmt.Errorf("the SMTP password: %w", err)
	}
	s := m.sender
	s.Password = sec.SMTPPassword
	return s.Send(ctx, to, msg)
}

// errNoWebhookSecret: PlatformSecrets has no providerWebhookSecrets, so no callback can be
// verified; the provider's callbacks fail (and are retried by the provider) until it is filled.
var errNoWebhookSecret = errors.New("no provider webhook secret configured (providerWebhookSecrets in PlatformSecrets)")

// webhooks serves the provider's callbacks with the current webhook secrets: serve builds the
// handler for a set of keys (the current first, then any being rotated out).
func webhooks(src *secrets.Source, log *slog.Logger, serve func(keys [][]byte) httpapi.Handler) httpapi.Handler {
	return func(ctx context.Context, r httpapi.Request) (httpapi.Response, error) {
		sec, err := src.Get(ctx)
		if err != nil {
			log.ErrorContext(ctx, "provider callback refused: no secrets", "error", err)
			return httpapi.Response{}, err
		}
		var keys [][]byte
		for _, s := range strings.Split(sec.ProviderWebhookSecrets, ",") {
			if s = strings.TrimSpace(s); s != "" {
				keys = append(keys, []byte(s))
			}
		}
		if len(keys) == 0 {
			log.ErrorContext(ctx, "provider callback refused", "error", errNoWebhookSecret)
			return httpapi.Response{}, errNoWebhookSecret
		}
		return serve(keys)(ctx, r)
	}
}
