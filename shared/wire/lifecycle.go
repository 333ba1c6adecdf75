package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/pecmail"
	"github.com/pecplatform/pec/shared/provider"
	"github.com/pecplatform/pec/shared/sesmail"
	"github.com/pecplatform/pec/shared/sfnflow"
	"github.com/pecplatform/pec/shared/tasks"
)

// Secrets are the credentials the lifecycle needs. In AWS they live in one Secrets Manager
// secret (SECRETS_ARN, a JSON object with these keys); locally they come from variables.
type Secrets struct {
	ProviderAPIKey         string `json:"providerApiKey"`
	ProviderWebhookSecrets string `json:"providerWebhookSecrets"` // comma-separated: the current first, then any being rotated out
	SMTPPassword           string `json:"smtpPassword"`
	INIPECToken            string `json:"inipecToken"`
	PaymentAPIKey          string `json:"paymentApiKey"`
}

func loadSecrets(ctx context.Context, getenv Getenv) (Secrets, error) {
	s := Secrets{ProviderAPIKey: getenv("PROVIDER_API_KEY"), ProviderWebhookSecrets: getenv("PROVIDER_WEBHOOK_SECRETS"),
		SMTPPassword: getenv("SMTP_PASSWORD"), INIPECToken: getenv("INIPEC_TOKEN"),
		PaymentAPIKey: getenv("PAYMENT_API_KEY")}
	arn := getenv("SECRETS_ARN")
	if arn == "" {
		return s, nil
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return s, err
	}
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return s, fmt.Errorf("read secrets: %w", err)
	}
	if err := json.Unmarshal([]byte(*out.SecretString), &s); err != nil {
		return s, fmt.Errorf("secrets are not the expected JSON object")
	}
	return s, nil
}

func durationEnv(getenv Getenv, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s must be a positive number of seconds", name)
	}
	return time.Duration(n) * time.Second, nil
}

// Lifecycle builds the lifecycle use cases with the real adapters.
func Lifecycle(ctx context.Context, getenv Getenv) (*app.Lifecycle, Secrets, error) {
	store, err := Store(ctx, getenv)
	if err != nil {
		return nil, Secrets{}, err
	}
	secrets, err := loadSecrets(ctx, getenv)
	if err != nil {
		return nil, secrets, err
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, secrets, err
	}
	ttl, err := durationEnv(getenv, "ACTIVATION_TTL_SECONDS", 14*24*time.Hour)
	if err != nil {
		return nil, secrets, err
	}
	page, _ := strconv.Atoi(getenv("START_PAGE_SIZE"))
	repair := time.Hour
	if v, err := strconv.Atoi(getenv("BATCH_REPAIR_AFTER_SECONDS")); err == nil && v >= 0 {
		repair = time.Duration(v) * time.Second
	}
	l := &app.Lifecycle{
		Store: store,
		Workflow: &sfnflow.Flow{API: sfn.NewFromConfig(cfg),
			BatchARN: getenv("BATCH_STATE_MACHINE_ARN"), MailboxARN: getenv("MAILBOX_STATE_MACHINE_ARN")},
		Provider:   &provider.HTTPClient{BaseURL: getenv("PROVIDER_URL"), APIKey: secrets.ProviderAPIKey},
		MemberMail: &sesmail.Sender{API: sesv2.NewFromConfig(cfg), From: getenv("SES_FROM"), ConfigurationSet: getenv("SES_CONFIGURATION_SET")},
		ActivationMail: &sesmail.Sender{API: sesv2.NewFromConfig(cfg), From: getenv("SES_FROM"), ConfigurationSet: getenv("SES_CONFIGURATION_SET"),
			Once: true},
		OrderMail:     &pecmail.Sender{Addr: getenv("SMTP_ADDR"), From: getenv("PEC_FROM"), Username: getenv("SMTP_USERNAME"), Password: secrets.SMTPPassword, TLS: getenv("SMTP_TLS"), Timeout: 20 * time.Second},
		Log:           Logger(getenv),
		Now:           time.Now,
		NewID:         app.NewID,
		PublicURL:     strings.TrimRight(getenv("PUBLIC_URL"), "/"),
		ActivationTTL: ttl,
		StartPage:     max(page, 100),
		RepairAfter:   repair,
	}
	if getenv("DOCUMENTS_BUCKET") != "" { // the functions that hand documents to the provider
		if l.Documents, err = Documents(ctx, getenv); err != nil {
			return nil, secrets, err
		}
	}
	if l.Crash, err = crashFromEnv(getenv); err != nil {
		return nil, secrets, err
	}
	if l.Reginde, err = newReginde(store, l.MemberMail, l.Log, getenv); err != nil {
		return nil, secrets, err
	}
	return l, secrets, nil
}

// Batches builds BatchesFunction's handler.
func Batches(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := Lifecycle(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.Batches(l, l.Log, l.Store.(app.Idempotency)).Serve, nil
}

// MailboxActions builds MailboxActionsFunction's handler.
func MailboxActions(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := Lifecycle(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.MailboxActions(l, l.Log, l.Store.(app.Idempotency)).Serve, nil
}

// ProviderCallback builds ProviderCallbackFunction's handler.
func ProviderCallback(ctx context.Context, getenv func(string) string) (any, error) {
	l, secrets, err := Lifecycle(ctx, getenv)
	if err != nil {
		return nil, err
	}
	var keys [][]byte
	for _, s := range strings.Split(secrets.ProviderWebhookSecrets, ",") {
		if s = strings.TrimSpace(s); s != "" {
			keys = append(keys, []byte(s))
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no provider webhook secret configured")
	}
	return httpapi.ProviderCallback(l, l.Log, keys, time.Now), nil
}

// Activation builds ActivationFunction's handler.
func Activation(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := Lifecycle(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.Activation(l, l.Log), nil
}

// BatchTask builds BatchTaskFunction's handler.
func BatchTask(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := Lifecycle(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return tasks.Batch(l), nil
}

// MailboxTask builds MailboxTaskFunction's handler.
func MailboxTask(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := Lifecycle(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return tasks.Mailbox(l), nil
}

// BatchSchedule builds BatchScheduleFunction's handler.
func BatchSchedule(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := Lifecycle(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return tasks.Schedule(l), nil
}
