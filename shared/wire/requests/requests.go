// Package requests builds RequestsFunction: the members' self-service requests (DynamoDB, the
// documents' bucket, Step Functions).
package requests

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/aruba"
	"github.com/pecplatform/pec/shared/eventapi"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/payments"
	"github.com/pecplatform/pec/shared/sfnflow"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/bucket"
	"github.com/pecplatform/pec/shared/wire/reginde"
	"github.com/pecplatform/pec/shared/wire/secrets"
)

// ParseRateLimits reads "5/60,30/86400": at most 5 requests per 60 seconds and 30 per day.
func ParseRateLimits(s string) ([]app.RateLimit, error) {
	var out []app.RateLimit
	for _, part := range strings.Split(s, ",") {
		n, secs, ok := strings.Cut(strings.TrimSpace(part), "/")
		max, err1 := strconv.Atoi(n)
		w, err2 := strconv.Atoi(secs)
		if !ok || err1 != nil || err2 != nil || max < 1 || w < 1 {
			return nil, fmt.Errorf("REQUEST_RATE_LIMITS must look like 5/60,30/86400 (requests/seconds)")
		}
		out = append(out, app.RateLimit{Max: max, Window: time.Duration(w) * time.Second})
	}
	return out, nil
}

// API builds RequestsFunction: DynamoDB, the documents' bucket, the payment service, Step
// Functions -> app.Requests -> the members' self-service routes.
func API(_ context.Context, env *wire.Env) (httpapi.Handler, error) {
	if err := env.Require("RequestsFunction"); err != nil {
		return nil, err
	}
	store, err := env.Store()
	if err != nil {
		return nil, err
	}
	docs, err := bucket.Documents(env)
	if err != nil {
		return nil, err
	}
	limits := app.DefaultRequestLimits
	if s := env.Getenv("REQUEST_RATE_LIMITS"); s != "" {
		if limits, err = ParseRateLimits(s); err != nil {
			return nil, err
		}
	}
	var pay app.Payments = payments.Unverified{Log: env.Log} // only with Stage local: see wire.Needs
	if u := env.Getenv("PAYMENT_SERVICE_URL"); u != "" {
		sec, err := secrets.New(env)
		if err != nil {
			return nil, err
		}
		pay = verifier{url: u, secrets: sec}
	}
	access := app.FirstAccess{ProviderName: env.Getenv("PROVIDER_NAME"), WebmailURL: env.Getenv("PROVIDER_WEBMAIL_URL"),
		CredentialsBy: app.CredentialsByEmail, SupportURL: env.Getenv("PROVIDER_SUPPORT_URL")}
	if env.Getenv("PROVIDER_KIND") == "aruba" {
		access = aruba.FirstAccess()
	}
	checkout := ""
	if u := env.Getenv("PAYMENT_SERVICE_URL"); u != "" {
		checkout = strings.TrimRight(u, "/") + "/checkout"
	}
	q := &app.Requests{Payments: pay, LinkMail: reginde.MemberMail(env, store, false), PublicURL: env.PublicURL(),
		CheckoutURL: checkout, Access: access,
		Store: store, Files: docs, Uploads: docs, Domains: env.Domains, Log: env.Log, Now: time.Now, NewID: app.NewID, Limits: limits,
		Workflow: &sfnflow.Flow{API: sfnflow.NewAPI(sfn.NewFromConfig(env.AWS)), MailboxARN: env.Getenv("MAILBOX_STATE_MACHINE_ARN")},
	}
	return httpapi.Requests(q, &app.DocumentOpener{Store: store, Files: docs.Links, Now: time.Now}, env.Log).Serve, nil
}

// Uploads builds DocumentUploadsFunction: DynamoDB, the documents' bucket, Step Functions ->
// app.Requests (the uploads' check and the submission it may complete) -> S3's events.
func Uploads(_ context.Context, env *wire.Env) (eventapi.DocumentUploadsHandler, error) {
	if err := env.Require("DocumentUploadsFunction"); err != nil {
		return nil, err
	}
	store, err := env.Store()
	if err != nil {
		return nil, err
	}
	docs, err := bucket.Documents(env)
	if err != nil {
		return nil, err
	}
	q := &app.Requests{Store: store, Files: docs, Domains: env.Domains, Log: env.Log, Now: time.Now, NewID: app.NewID,
		Workflow: &sfnflow.Flow{API: sfnflow.NewAPI(sfn.NewFromConfig(env.AWS)), MailboxARN: env.Getenv("MAILBOX_STATE_MACHINE_ARN")}}
	return eventapi.DocumentUploads(q), nil
}

// verifier asks the payment service with the API key of the current secrets, so that a key
// filled in or rotated in PlatformSecrets is used by warm functions within the secrets' TTL.
type verifier struct {
	url     string
	secrets *secrets.Source
}

var _ app.Payments = verifier{}

func (v verifier) Verify(ctx context.Context, reference string, amountCents int, requestID string) error {
	sec, err := v.secrets.Get(ctx)
	if err != nil {
		return fmt.Errorf("the payment service's key: %w", err)
	}
	return payments.HTTPVerifier{BaseURL: v.url, APIKey: sec.PaymentAPIKey}.Verify(ctx, reference, amountCents, requestID)
}
