// Package wire is the composition root: it builds each function's handler from its
// configuration, the same way for functions/<name>/main.go and for the local host, so both run
// the same code. Every builder reads as the chain it makes (configuration -> adapters -> use
// cases -> handler) and returns the handler's concrete type:
//
//	func Orders(ctx context.Context, env *Env) (httpapi.Handler, error)
//
// Each builder first checks, in production, the settings its function needs (Needs, in
// stage.go), before it builds anything or calls anything: a function deployed with a missing or
// local setting refuses to start, and its log line names the setting.
//
// This package holds what every function needs (Env: configuration, the AWS configuration,
// the logger, the DynamoDB store) and the functions that need nothing more. The others are
// built by its sub-packages, one per set of adapters, so that a function's binary links only
// the AWS clients it uses: a package that is imported is linked, with its init work, whether it
// is called or not.
package wire

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/dynamo"
	"github.com/pecplatform/pec/shared/emf"
	"github.com/pecplatform/pec/shared/httpapi"
)

// Getenv reads one configuration variable (os.Getenv in Lambda, the template's values locally).
type Getenv func(string) string

// Env is a function's configuration and what every function builds from it, once per cold
// start: the builders share it, so nothing is built twice.
type Env struct {
	Getenv  Getenv
	Stage   Stage // StageProd unless the template's Stage parameter is local
	Log     *slog.Logger
	AWS     aws.Config
	Domains *domain.Albi
	Crash   app.Crash // tests only (FAULT_PANIC_AT); nil in production

	store   *dynamo.Store
	metrics *emf.Writer
}

// Load reads the configuration every function shares. In production (Stage prod, or STAGE
// unset) it refuses the local cloud's switches; each builder then checks its own settings
// (Env.Require).
func Load(ctx context.Context, getenv Getenv) (*Env, error) {
	stage, err := stageFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if stage == StageProd {
		if err := checkLocalOnly(getenv); err != nil {
			return nil, err
		}
	}
	domains, err := Albi(getenv)
	if err != nil {
		return nil, err
	}
	crash, err := CrashFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return &Env{Getenv: getenv, Stage: stage, Log: Logger(getenv), AWS: cfg, Domains: domains, Crash: crash}, nil
}

// Must is how a main stops on a configuration or start-up error: with a log line that names it
// (and, for a refusal to start in production, the settings to fix).
func Must[T any](v T, err error) T {
	if err != nil {
		logStartError(err)
		os.Exit(1)
	}
	return v
}

func logStartError(err error) {
	attrs := []any{"error", err.Error()}
	if names := errorSettings(err); names != nil {
		attrs = append(attrs, "settings", names)
	}
	slog.New(slog.NewJSONHandler(LogOutput, nil)).Error("start", attrs...)
}

// Local reports whether the function runs on the local cloud (AWS_ENDPOINT_URL set).
func (e *Env) Local() bool { return e.Getenv("AWS_ENDPOINT_URL") != "" }

// PublicURL is the base of the links sent to members, without a trailing slash.
func (e *Env) PublicURL() string { return strings.TrimRight(e.Getenv("PUBLIC_URL"), "/") }

// Seconds reads a positive number of seconds from the variable name (def if unset).
func (e *Env) Seconds(name string, def time.Duration) (time.Duration, error) {
	return DurationEnv(e.Getenv, name, def)
}

// Int reads a positive whole number from the variable name (def if unset).
func (e *Env) Int(name string, def int) (int, error) {
	v := e.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s is %q: want a positive whole number", name, v)
	}
	return n, nil
}

// Metrics returns the business metrics' writer: CloudWatch Embedded Metric Format lines on the
// function's log output, in the namespace METRICS_NAMESPACE names.
func (e *Env) Metrics() *emf.Writer {
	if e.metrics == nil {
		e.metrics = &emf.Writer{Out: LogOutput, Namespace: e.Getenv("METRICS_NAMESPACE")}
	}
	return e.metrics
}

// Store returns the DynamoDB store on the table TABLE_NAME names, built on first use.
func (e *Env) Store() (*dynamo.Store, error) {
	if e.store != nil {
		return e.store, nil
	}
	table := e.Getenv("TABLE_NAME")
	if table == "" {
		return nil, fmt.Errorf("TABLE_NAME is not set")
	}
	local := e.Local()
	db := dynamodb.NewFromConfig(e.AWS, func(o *dynamodb.Options) {
		// DynamoDB Local's error responses fail the SDK's CRC32 check and log a warning each.
		o.DisableValidateResponseChecksum = local
	})
	e.store = dynamo.New(dynamo.NewAPI(db), table)
	e.store.Metrics = e.Metrics()
	return e.store, nil
}

// Service returns the Orders', members' and mailboxes' use cases on the store.
func (e *Env) Service() (*app.Service, *dynamo.Store, error) {
	store, err := e.Store()
	if err != nil {
		return nil, nil, err
	}
	svc := app.New(store, e.Domains)
	svc.Crash = e.Crash
	svc.Metrics = e.Metrics()
	return svc, store, nil
}

// Orders builds OrdersFunction: DynamoDB -> app.Service -> the Orders' routes.
func Orders(_ context.Context, env *Env) (httpapi.Handler, error) {
	if err := env.Require("OrdersFunction"); err != nil {
		return nil, err
	}
	svc, store, err := env.Service()
	if err != nil {
		return nil, err
	}
	return httpapi.Orders(svc, &app.AuditTrail{Store: store}, &app.Federation{Store: store}, env.Log, store).Serve, nil
}

// Members builds MembersFunction: DynamoDB -> app.Service and app.Compliance -> the members'
// routes.
func Members(_ context.Context, env *Env) (httpapi.Handler, error) {
	if err := env.Require("MembersFunction"); err != nil {
		return nil, err
	}
	svc, store, err := env.Service()
	if err != nil {
		return nil, err
	}
	grace := 30
	if v, err := strconv.Atoi(env.Getenv("COMPLIANCE_GRACE_DAYS")); err == nil && v >= 0 {
		grace = v
	}
	comp := &app.Compliance{Store: store, Now: time.Now, GraceDays: grace}
	return httpapi.Members(svc, comp, env.Log, store).Serve, nil
}

// Mailboxes builds MailboxesFunction: DynamoDB -> app.Service -> the mailboxes' routes.
func Mailboxes(_ context.Context, env *Env) (httpapi.Handler, error) {
	if err := env.Require("MailboxesFunction"); err != nil {
		return nil, err
	}
	svc, store, err := env.Service()
	if err != nil {
		return nil, err
	}
	return httpapi.Mailboxes(svc, env.Log, store).Serve, nil
}

// Albi reads the federation's registry of albi from ALBI (JSON: [{"code","name","aliases",
// "domain"}, ...]), or the 19 albi of FNO TSRM e PSTRP when it is unset.
func Albi(getenv Getenv) (*domain.Albi, error) {
	if s := getenv("ALBI"); s != "" {
		return domain.ParseAlbi(s)
	}
	return domain.MustAlbi(domain.DefaultAlbi()), nil
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
