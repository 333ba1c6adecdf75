package wire

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/payments"
	"github.com/pecplatform/pec/shared/s3files"
	"github.com/pecplatform/pec/shared/sfnflow"
)

// Documents returns the bucket of the members' documents (DOCUMENTS_BUCKET).
func Documents(ctx context.Context, getenv Getenv) (*s3files.Bucket, error) {
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	name := getenv("DOCUMENTS_BUCKET")
	if name == "" {
		return nil, fmt.Errorf("DOCUMENTS_BUCKET is not set")
	}
	local := getenv("AWS_ENDPOINT_URL") != ""
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = local })
	return &s3files.Bucket{API: client, Presign: s3.NewPresignClient(client), Name: name}, nil
}

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

// Requests builds RequestsFunction's handler: the members' self-service requests.
func Requests(ctx context.Context, getenv func(string) string) (any, error) {
	store, err := Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	docs, err := Documents(ctx, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	domains := domain.DefaultAlboDomains
	if s := getenv("ALBO_DOMAINS"); s != "" {
		if domains, err = domain.ParseAlboDomains(s); err != nil {
			return nil, err
		}
	}
	limits := app.DefaultRequestLimits
	if s := getenv("REQUEST_RATE_LIMITS"); s != "" {
		if limits, err = ParseRateLimits(s); err != nil {
			return nil, err
		}
	}
	log := Logger(getenv)
	var pay app.Payments = payments.Unverified{Log: log}
	if u := getenv("PAYMENT_SERVICE_URL"); u != "" {
		secrets, err := loadSecrets(ctx, getenv)
		if err != nil {
			return nil, err
		}
		pay = payments.HTTPVerifier{BaseURL: u, APIKey: secrets.PaymentAPIKey}
	}
	q := &app.Requests{Payments: pay,
		Store: store, Files: docs, Domains: domains, Log: log, Now: time.Now, NewID: app.NewID, Limits: limits,
		Workflow: &sfnflow.Flow{API: sfn.NewFromConfig(cfg), MailboxARN: getenv("MAILBOX_STATE_MACHINE_ARN")},
	}
	return httpapi.Requests(q, log).Serve, nil
}
