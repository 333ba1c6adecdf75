// Package wire builds each function's handler from its environment: the composition root that
// every functions/<name>/main.go and the local host share, so both run the same code.
//
// This package holds what every function needs (configuration, the DynamoDB store, the logger)
// and the functions that need nothing more. The others are built by its sub-packages, one per
// set of adapters, so that a function's binary links only the AWS clients it uses: a package
// that is imported is linked, with its init work, whether it is called or not.
package wire

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/dynamo"
	"github.com/pecplatform/pec/shared/httpapi"
)

// Getenv reads one configuration variable (os.Getenv in Lambda, the template's values locally).
type Getenv func(string) string

// Orders builds OrdersFunction's handler.
func Orders(ctx context.Context, getenv func(string) string) (any, error) {
	return httpFunction(ctx, getenv, httpapi.Orders)
}

// Members builds MembersFunction's handler.
func Members(ctx context.Context, getenv func(string) string) (any, error) {
	grace := 30
	if v, err := strconv.Atoi(getenv("COMPLIANCE_GRACE_DAYS")); err == nil && v >= 0 {
		grace = v
	}
	return httpFunction(ctx, getenv, func(svc *app.Service, log *slog.Logger, idem app.Idempotency) *httpapi.Router {
		store := idem.(*dynamo.Store)
		return httpapi.Members(svc, &app.Compliance{Store: store, Now: time.Now, GraceDays: grace}, log, idem)
	})
}

// Mailboxes builds MailboxesFunction's handler.
func Mailboxes(ctx context.Context, getenv func(string) string) (any, error) {
	return httpFunction(ctx, getenv, httpapi.Mailboxes)
}

type routerFactory func(*app.Service, *slog.Logger, app.Idempotency) *httpapi.Router

func httpFunction(ctx context.Context, getenv Getenv, routes routerFactory) (any, error) {
	log := Logger(getenv)
	store, err := Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	domains, err := AlboDomains(getenv)
	if err != nil {
		return nil, err
	}
	svc := app.New(store, domains)
	if svc.Crash, err = CrashFromEnv(getenv); err != nil {
		return nil, err
	}
	return routes(svc, log, store).Serve, nil
}

// AlboDomains reads the PEC domain of each albo from ALBO_DOMAINS (the defaults if unset).
func AlboDomains(getenv Getenv) (domain.AlboDomains, error) {
	if s := getenv("ALBO_DOMAINS"); s != "" {
		return domain.ParseAlboDomains(s)
	}
	return domain.DefaultAlboDomains, nil
}

// DurationEnv reads a positive number of seconds from the variable name (def if unset).
func DurationEnv(getenv Getenv, name string, def time.Duration) (time.Duration, error) {
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

// AWSConfig is the SDK configuration: the region, and the credentials Lambda gives a function
// in its environment, read as the SDK's environment provider reads them. Not
// config.LoadDefaultConfig: its other sources (shared files, SSO, STS, IMDS) are never a
// function's, and linking them costs every bootstrap about 1 MB and its start the init of four
// more service clients. AWS_ENDPOINT_URL, when set (only locally), points every client at the
// local cloud.
func AWSConfig(_ context.Context, getenv Getenv) (aws.Config, error) {
	cfg := aws.Config{
		Region: cmp.Or(getenv("AWS_REGION"), os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))),
		Logger: logging.NewStandardLogger(os.Stderr),
	}
	if ep := getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}

// Store returns the DynamoDB store on the table TABLE_NAME names.
func Store(ctx context.Context, getenv Getenv) (*dynamo.Store, error) {
	table := getenv("TABLE_NAME")
	if table == "" {
		return nil, fmt.Errorf("TABLE_NAME is not set")
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	local := getenv("AWS_ENDPOINT_URL") != ""
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		// DynamoDB Local's error responses fail the SDK's CRC32 check and log a warning each.
		o.DisableValidateResponseChecksum = local
	})
	return dynamo.New(dynamo.NewAPI(db), table), nil
}
