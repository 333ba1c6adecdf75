// Package lifecycle builds the functions of the mailbox and batch lifecycle: DynamoDB, Step
// Functions, SES, the provider and the Orders' PEC.
package lifecycle

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/eventapi"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/pecmail"
	"github.com/pecplatform/pec/shared/provider"
	"github.com/pecplatform/pec/shared/s3links"
	"github.com/pecplatform/pec/shared/sesmail"
	"github.com/pecplatform/pec/shared/sfnflow"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/reginde"
	"github.com/pecplatform/pec/shared/wire/secrets"
)

// New builds the lifecycle use cases with the real adapters.
func New(ctx context.Context, getenv wire.Getenv) (*app.Lifecycle, secrets.Secrets, error) {
	store, err := wire.Store(ctx, getenv)
	if err != nil {
		return nil, secrets.Secrets{}, err
	}
	sec, err := secrets.Load(ctx, getenv)
	if err != nil {
		return nil, sec, err
	}
	cfg, err := wire.AWSConfig(ctx, getenv)
	if err != nil {
		return nil, sec, err
	}
	ttl, err := wire.DurationEnv(getenv, "ACTIVATION_TTL_SECONDS", 14*24*time.Hour)
	if err != nil {
		return nil, sec, err
	}
	page, _ := strconv.Atoi(getenv("START_PAGE_SIZE"))
	repair := time.Hour
	if v, err := strconv.Atoi(getenv("BATCH_REPAIR_AFTER_SECONDS")); err == nil && v >= 0 {
		repair = time.Duration(v) * time.Second
	}
	l := &app.Lifecycle{
		Store:      store,
		Workflow:   workflow(cfg, getenv),
		Provider:   &provider.HTTPClient{BaseURL: getenv("PROVIDER_URL"), APIKey: sec.ProviderAPIKey},
		MemberMail: &sesmail.Sender{API: sesmail.NewAPI(sesv2.NewFromConfig(cfg)), From: getenv("SES_FROM"), ConfigurationSet: getenv("SES_CONFIGURATION_SET")},
		// Activation links go with one attempt: SES has no idempotency token, and a retry after
		// a lost answer would send the same link twice (the workflow's retry sends a new one).
		ActivationMail: &sesmail.Sender{API: sesmail.NewAPI(sesv2.NewFromConfig(cfg)), From: getenv("SES_FROM"), ConfigurationSet: getenv("SES_CONFIGURATION_SET"), Once: true},
		OrderMail:      &pecmail.Sender{Addr: getenv("SMTP_ADDR"), From: getenv("PEC_FROM"), Username: getenv("SMTP_USERNAME"), Password: sec.SMTPPassword, TLS: getenv("SMTP_TLS"), Timeout: 20 * time.Second},
		Log:            wire.Logger(getenv),
		Now:            time.Now,
		NewID:          app.NewID,
		PublicURL:      strings.TrimRight(getenv("PUBLIC_URL"), "/"),
		ActivationTTL:  ttl,
		StartPage:      max(page, 100),
		RepairAfter:    repair,
	}
	if l.Crash, err = wire.CrashFromEnv(getenv); err != nil {
		return nil, sec, err
	}
	if l.Reginde, err = reginde.New(store, l.MemberMail, l.Log, getenv); err != nil {
		return nil, sec, err
	}
	return l, sec, nil
}

// core builds the lifecycle with the store and the workflow only, for the functions whose use
// cases send no e-mail (the batches' authorisation and payment, the provider's callback): they
// then link neither SES, SMTP nor the notices' templates.
func core(ctx context.Context, getenv wire.Getenv) (*app.Lifecycle, error) {
	store, err := wire.Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := wire.AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	l := &app.Lifecycle{Store: store, Workflow: workflow(cfg, getenv), Log: wire.Logger(getenv), Now: time.Now, NewID: app.NewID}
	l.Crash, err = wire.CrashFromEnv(getenv)
	return l, err
}

func workflow(cfg aws.Config, getenv wire.Getenv) *sfnflow.Flow {
	return &sfnflow.Flow{API: sfnflow.NewAPI(sfn.NewFromConfig(cfg)),
		BatchARN: getenv("BATCH_STATE_MACHINE_ARN"), MailboxARN: getenv("MAILBOX_STATE_MACHINE_ARN")}
}

// Batches builds BatchesFunction's handler.
func Batches(ctx context.Context, getenv func(string) string) (any, error) {
	l, err := core(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.Batches(l, l.Log, l.Store.(app.Idempotency)).Serve, nil
}

// MailboxActions builds MailboxActionsFunction's handler.
func MailboxActions(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := New(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.MailboxActions(l, l.Log, l.Store.(app.Idempotency)).Serve, nil
}

// ProviderCallback builds ProviderCallbackFunction's handler.
func ProviderCallback(ctx context.Context, getenv func(string) string) (any, error) {
	l, err := core(ctx, getenv)
	if err != nil {
		return nil, err
	}
	sec, err := secrets.Load(ctx, getenv)
	if err != nil {
		return nil, err
	}
	// A revocation the provider reports may need telling it back (DeactivateAtProvider).
	l.Provider = &provider.HTTPClient{BaseURL: getenv("PROVIDER_URL"), APIKey: sec.ProviderAPIKey}
	var keys [][]byte
	for _, s := range strings.Split(sec.ProviderWebhookSecrets, ",") {
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
	l, _, err := New(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.Activation(l, l.Log), nil
}

// BatchTask builds BatchTaskFunction's handler.
func BatchTask(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := New(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return eventapi.Batch(l), nil
}

// MailboxTask builds MailboxTaskFunction's handler. It alone hands the members' documents to
// the provider (DOCUMENTS_BUCKET), as links it signs itself: no S3 client.
func MailboxTask(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := New(ctx, getenv)
	if err != nil {
		return nil, err
	}
	if name := getenv("DOCUMENTS_BUCKET"); name != "" {
		cfg, err := wire.AWSConfig(ctx, getenv)
		if err != nil {
			return nil, err
		}
		l.Documents = s3links.ForBucket(name, cfg.Region, getenv("AWS_ENDPOINT_URL"), cfg.Credentials)
	}
	return eventapi.Mailbox(l), nil
}

// BatchSchedule builds BatchScheduleFunction's handler.
func BatchSchedule(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := New(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return eventapi.Schedule(l), nil
}

// Expiry builds ExpiryFunction's handler: the daily reminders and revocations of expiring
// mailboxes (EXPIRY_REMINDER_DAYS, default 90,30,7).
func Expiry(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := New(ctx, getenv)
	if err != nil {
		return nil, err
	}
	spec := getenv("EXPIRY_REMINDER_DAYS")
	if spec == "" {
		spec = "90,30,7"
	}
	days, err := domain.ParseReminderDays(spec)
	if err != nil {
		return nil, err
	}
	allowAsOf, _ := strconv.ParseBool(getenv("EXPIRY_AS_OF_ALLOWED"))
	return eventapi.Expiry(&app.Expiry{Lifecycle: l, ReminderDays: days}, time.Now, allowAsOf), nil
}
