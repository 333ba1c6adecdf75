// Package secrets reads the platform's credentials, and reads them again once they are older
// than a TTL, so that filling or rotating PlatformSecrets reaches the functions that are warm.
package secrets

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pecplatform/pec/shared/wire"
)

// Secrets are the credentials the lifecycle and the INI-PEC delivery need. In AWS they live in
// one Secrets Manager secret (SECRETS_ARN, a JSON object with these keys); locally they come
// from variables.
type Secrets struct {
	ProviderAPIKey string `json:"providerApiKey"` // webhook: the API key; legalmail: Openapi's bearer token
	// ProviderUsername and ProviderPassword are the partner's login to the Aruba API.
	ProviderUsername       string `json:"providerUsername"`
	ProviderPassword       string `json:"providerPassword"`
	ProviderWebhookSecrets string `json:"providerWebhookSecrets"` // comma-separated: the current first, then any being rotated out
	SMTPPassword           string `json:"smtpPassword"`
	INIPECToken            string `json:"inipecToken"`
	PaymentAPIKey          string `json:"paymentApiKey"`
}

// DefaultTTL is how long secrets read are used before they are read again (SECRETS_TTL_SECONDS).
const DefaultTTL = 5 * time.Minute

// retryAfter is how soon a failed refresh is tried again; meanwhile the secrets read before are
// used, so that a Secrets Manager outage costs one failed request per retryAfter, not one per call.
const retryAfter = 30 * time.Second

// Source gives the current secrets: read at the first call, then again at the first call after
// TTL. It is safe for concurrent use.
type Source struct {
	Fetch func(context.Context) (Secrets, error) // reads them (Secrets Manager, or the variables)
	TTL   time.Duration
	Now   func() time.Time
	Log   *slog.Logger

	mu      sync.Mutex
	current Secrets
	due     time.Time // when current must be read again; zero before the first read
}

// Get returns the secrets, read again if they are due. When a refresh fails, the secrets read
// before are returned (and the failure logged) until a refresh succeeds; only a failure of the
// first read is an error.
func (s *Source) Get(ctx context.Context) (Secrets, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	if !s.due.IsZero() && now.Before(s.due) {
		return s.current, nil
	}
	sec, err := s.Fetch(ctx)
	if err != nil {
		if s.due.IsZero() {
			return Secrets{}, err
		}
		s.due = now.Add(min(retryAfter, s.TTL))
		s.Log.WarnContext(ctx, "secrets not read again: using those read before", "error", err)
		return s.current, nil
	}
	s.current, s.due = sec, now.Add(s.TTL)
	return sec, nil
}

// New is the source of env's function: the secret SECRETS_ARN names, or, if it is unset (the
// local cloud), the variables; read again after SECRETS_TTL_SECONDS (DefaultTTL if unset).
// Nothing is read before the first Get.
func New(env *wire.Env) (*Source, error) {
	ttl, err := env.Seconds("SECRETS_TTL_SECONDS", DefaultTTL)
	if err != nil {
		return nil, err
	}
	getenv := env.Getenv
	fetch := func(ctx context.Context) (Secrets, error) {
		s := Secrets{ProviderAPIKey: getenv("PROVIDER_API_KEY"), ProviderWebhookSecrets: getenv("PROVIDER_WEBHOOK_SECRETS"),
			ProviderUsername: getenv("PROVIDER_USERNAME"), ProviderPassword: getenv("PROVIDER_PASSWORD"),
			SMTPPassword: getenv("SMTP_PASSWORD"), INIPECToken: getenv("INIPEC_TOKEN"),
			PaymentAPIKey: getenv("PAYMENT_API_KEY")}
		arn := getenv("SECRETS_ARN")
		if arn == "" {
			return s, nil
		}
		out, err := secretsmanager.NewFromConfig(env.AWS).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
		if err != nil {
			return s, fmt.Errorf("read secrets: %w", err)
		}
		if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &s) != nil {
			return s, fmt.Errorf("secrets are not the expected JSON object")
		}
		return s, nil
	}
	return &Source{Fetch: fetch, TTL: ttl, Now: time.Now, Log: env.Log}, nil
}
