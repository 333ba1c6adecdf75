// Package secrets reads the platform's credentials at a function's start.
package secrets

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pecplatform/pec/shared/wire"
)

// Secrets are the credentials the lifecycle and the INI-PEC delivery need. In AWS they live in
// one Secrets Manager secret (SECRETS_ARN, a JSON object with these keys); locally they come
// from variables.
type Secrets struct {
	ProviderAPIKey         string `json:"providerApiKey"`
	ProviderWebhookSecrets string `json:"providerWebhookSecrets"` // comma-separated: the current first, then any being rotated out
	SMTPPassword           string `json:"smtpPassword"`
	INIPECToken            string `json:"inipecToken"`
	PaymentAPIKey          string `json:"paymentApiKey"`
}

// Load reads the secret SECRETS_ARN names, or, if it is unset, the variables.
func Load(ctx context.Context, env *wire.Env) (Secrets, error) {
	getenv := env.Getenv
	s := Secrets{ProviderAPIKey: getenv("PROVIDER_API_KEY"), ProviderWebhookSecrets: getenv("PROVIDER_WEBHOOK_SECRETS"),
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
	if err := json.Unmarshal([]byte(*out.SecretString), &s); err != nil {
		return s, fmt.Errorf("secrets are not the expected JSON object")
	}
	return s, nil
}
