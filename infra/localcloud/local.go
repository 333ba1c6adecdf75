// Package localcloud assembles the local cloud: the emulators, and the host that serves the
// template's functions in front of them. `make run` and the tests both start it from here.
package localcloud

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/pecplatform/pec/infra/emulators"
	"github.com/pecplatform/pec/infra/inipecsim"
	"github.com/pecplatform/pec/infra/lambdahost"
	"github.com/pecplatform/pec/infra/paysim"
	"github.com/pecplatform/pec/shared/inipec"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/imports"
	"github.com/pecplatform/pec/shared/wire/inipecsync"
	"github.com/pecplatform/pec/shared/wire/lifecycle"
	"github.com/pecplatform/pec/shared/wire/reginde"
	"github.com/pecplatform/pec/shared/wire/requests"
)

// Functions maps each function's CodeUri to the builder its main uses (the layout test checks
// that each main.go calls the same one).
var Functions = map[string]lambdahost.Constructor{
	"functions/orders":           host(wire.Orders),
	"functions/members":          host(wire.Members),
	"functions/mailboxes":        host(wire.Mailboxes),
	"functions/batches":          host(lifecycle.Batches),
	"functions/mailboxactions":   host(lifecycle.MailboxActions),
	"functions/providercallback": host(lifecycle.ProviderCallback),
	"functions/activation":       host(lifecycle.Activation),
	"functions/batchtask":        host(lifecycle.BatchTask),
	"functions/mailboxtask":      host(lifecycle.MailboxTask),
	"functions/batchschedule":    host(lifecycle.BatchSchedule),
	"functions/inipecsync":       host(inipecsync.Sync),
	"functions/inipec":           host(inipecsync.API),
	"functions/imports":          host(imports.API),
	"functions/importjob":        host(imports.Job),
	"functions/expiry":           host(lifecycle.Expiry),
	"functions/providerpoll":     host(lifecycle.ProviderPoll),
	"functions/quotawatch":       host(lifecycle.QuotaWatch),
	"functions/emailevents":      host(lifecycle.EmailEvents),
	"functions/reginde":          host(reginde.API),
	"functions/regindepage":      host(reginde.Page),
	"functions/requests":         host(requests.API),
	"functions/documentuploads":  host(requests.Uploads),
}

// host runs a builder as a function's main does: the configuration from the function's
// environment, then the builder.
func host[H any](build func(context.Context, *wire.Env) (H, error)) lambdahost.Constructor {
	return func(ctx context.Context, getenv func(string) string) (any, error) {
		env, err := wire.Load(ctx, getenv)
		if err != nil {
			return nil, err
		}
		return build(ctx, env)
	}
}

// Local credentials of the provider stand-in; in AWS they come from PlatformSecrets.
const (
	ProviderAPIKey        = "local-provider-api-key" // the webhook stand-in's API key; Legalmail's bearer token (providerApiKey)
	ProviderWebhookSecret = "local-provider-webhook-secret"
	ProviderUsername      = "local-partner"          // Aruba's partner login
	ProviderPassword      = "local-partner-password" // Aruba's partner password
	INIPECToken           = "local-inipec-token"
	PaymentAPIKey         = "local-payment-key"
	// The platform PEC mailbox's SMTP login; mailpit accepts any.
	SMTPUsername = "piattaforma"
	SMTPPassword = "local-smtp-password"
)

// localParameters are the template's parameters that the local cloud must give: Stage local,
// which lets the functions use the stand-ins, and the stand-ins' addresses (the production
// parameters have no default).
func localParameters(c *Cloud) map[string]string {
	return map[string]string{
		"Stage":       "local",
		"JwtIssuer":   lambdahost.DefaultIssuer,
		"PublicUrl":   c.APIURL,
		"ProviderUrl": c.ProviderURL,
		// The stand-in's first-access facts, shown on the confirmation page and in the e-mail.
		"ProviderName":      "Gestore PEC di prova",
		"ProviderWebmail":   c.ProviderURL + "/webmail",
		"ProviderHelpPage":  c.ProviderURL + "/assistenza",
		"InipecUrl":         c.APIURL + "/_local/inipec",
		"PaymentServiceUrl": c.APIURL + "/_local",
		"SmtpAddr":          c.SMTPAddr,
		"SmtpTls":           "none",
		"SmtpUsername":      SMTPUsername,
		"SesFrom":           "noreply@pec-platform.example.it",
		"PecFrom":           "piattaforma@pec.example.it",
		"AllowedOrigins":    "*", // a portal served from anywhere on this machine
	}
}

// FastParameters make a day last a second: the template's waits and retries, for tests.
var FastParameters = map[string]string{
	"ActivationReminderSeconds":    "15",
	"ActivationTtlSeconds":         "14",
	"AuthorizationReminderSeconds": "30",
	"ProviderTimeoutSeconds":       "20",
	"ProviderRetrySeconds":         "1",
	"RetrySeconds":                 "1",
	"StartPaceSeconds":             "1",
	"BatchRepairAfterSeconds":      "0",
	"InipecSettleSeconds":          "1",
	"ImportChunkRows":              "100",
	"ImportReserveSeconds":         "899",
	// Every test's requests come from 127.0.0.1: per-client limits would be shared by all.
	"RequestRateLimits":         "10000/60",
	"RequestThrottleRateLimit":  "1000",
	"RequestThrottleBurstLimit": "1000",
	// The other public routes' throttling too: the tests' bursts are not abuse.
	"PageThrottleRateLimit":              "1000",
	"PageThrottleBurstLimit":             "1000",
	"RequestAccessThrottleRateLimit":     "1000",
	"RequestAccessThrottleBurstLimit":    "1000",
	"ProviderCallbackThrottleRateLimit":  "1000",
	"ProviderCallbackThrottleBurstLimit": "1000",
	// The expiry run may act as of a later day ({"asOf": ...}): a test does not wait years.
	"ExpiryAsOfAllowed": "true",
}

// Region is the region the local cloud pretends to be in.
const Region = "eu-south-1"

// Config chooses ports (0: a free one) and where logs go.
type Config struct {
	Root                                     string // the repository root (found from the working directory if empty)
	APIPort, DynamoDBPort, MotoPort, SESPort int
	SMTPPort, MailpitPort, ProviderPort      int
	// Parameters override template parameters (e.g. FastParameters).
	Parameters map[string]string
	// ProviderDelay and ProviderReject configure the provider stand-in (PROVIDER_DELAY_MS,
	// PROVIDER_REJECT).
	ProviderDelay  time.Duration
	ProviderReject *regexp.Regexp
	// ProviderKind is the provider stand-in to run, and the template's ProviderKind (PROVIDER:
	// webhook, the default, aruba or legalmail); Parameters["ProviderKind"] wins over it.
	ProviderKind string
	Logs         string       // emulator logs (default .local/logs/<APIPort>)
	Logger       *slog.Logger // the host's request log (default: discarded)
	Env          map[string]string

	audit *audit // the tests' privacy audit: every log line and the credentials handed out
	// Faults, when set, injects faults into the AWS calls the host forwards (FAULTS, e.g.
	// "dynamodb=0.1,states=0.1,ses=0.1"; see lambdahost.ParseFaults), drawn from FaultsSeed.
	Faults     string
	FaultsSeed int64
	// Intercept, when set, sees every AWS call the host forwards (lambdahost.Options.Intercept):
	// the bench counts the requests a path makes with it.
	Intercept lambdahost.Interceptor
}

// Cloud is a running local cloud.
type Cloud struct {
	APIURL, DynamoDBURL, MotoURL, SESURL, MailpitURL, SMTPAddr string
	ProviderURL                                                string
	// Provider is the provider stand-in of ProviderKind, on ProviderURL.
	Provider     ProviderStandIn
	ProviderKind string
	INIPEC       *inipecsim.Sim
	KeyDir       string
	Host         *lambdahost.Host
	// Parameters are the template parameters the host was given: the local ones, then
	// Config.Parameters.
	Parameters map[string]string

	logsDir  string
	audit    *audit
	procs    []*emulators.Process
	server   *http.Server
	provider *http.Server
	cancel   context.CancelFunc
	once     sync.Once
}

// Start starts the emulators and the host and returns when all of them answer.
func Start(ctx context.Context, cfg Config) (_ *Cloud, err error) {
	if cfg.Root == "" {
		if cfg.Root, err = emulators.FindRoot(); err != nil {
			return nil, err
		}
	}
	for _, p := range []*int{&cfg.APIPort, &cfg.DynamoDBPort, &cfg.MotoPort, &cfg.SESPort, &cfg.SMTPPort, &cfg.MailpitPort, &cfg.ProviderPort} {
		if *p == 0 {
			if *p, err = emulators.FreePort(); err != nil {
				return nil, err
			}
		}
	}
	dirs := emulators.DefaultDirs(cfg.Root)
	dirs.Logs = cfg.Logs
	if dirs.Logs == "" {
		dirs.Logs = filepath.Join(dirs.Local, "logs", strconv.Itoa(cfg.APIPort))
	}
	if err := os.MkdirAll(dirs.Logs, 0o755); err != nil {
		return nil, err
	}
	// The functions' SDK clients read credentials from the environment; locally any will do.
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": Region} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}

	c := &Cloud{KeyDir: filepath.Join(dirs.Local, "jwt"), logsDir: dirs.Logs, audit: cfg.audit}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	starts := []func() (*emulators.Process, error){
		func() (*emulators.Process, error) { return emulators.StartDynamoDB(ctx, dirs, cfg.DynamoDBPort) },
		func() (*emulators.Process, error) { return emulators.StartMoto(ctx, dirs, cfg.MotoPort, cfg.APIPort) },
		func() (*emulators.Process, error) { return emulators.StartSES(ctx, dirs, cfg.SESPort) },
		func() (*emulators.Process, error) {
			return emulators.StartMailpit(ctx, dirs, cfg.SMTPPort, cfg.MailpitPort)
		},
	}
	procs := make([]*emulators.Process, len(starts))
	errs := make([]error, len(starts))
	var wg sync.WaitGroup
	for i, start := range starts {
		wg.Go(func() { procs[i], errs[i] = start() })
	}
	wg.Wait()
	for _, p := range procs {
		if p != nil {
			c.procs = append(c.procs, p)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.DynamoDBURL, c.MotoURL, c.SESURL, c.MailpitURL = procs[0].URL, procs[1].URL, procs[2].URL, procs[3].URL
	c.SMTPAddr = fmt.Sprintf("127.0.0.1:%d", cfg.SMTPPort)
	c.APIURL = fmt.Sprintf("http://127.0.0.1:%d", cfg.APIPort)

	log := cfg.Logger
	switch {
	case log == nil && cfg.audit != nil:
		log = slog.New(slog.NewJSONHandler(cfg.audit, nil))
	case log == nil:
		log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	c.ProviderURL = fmt.Sprintf("http://127.0.0.1:%d", cfg.ProviderPort)
	c.ProviderKind = cmp.Or(cfg.Parameters["ProviderKind"], cfg.ProviderKind, KindWebhook)
	if c.Provider, err = newProviderStandIn(c.ProviderKind, c, cfg, log); err != nil {
		return nil, err
	}
	pln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.ProviderPort))
	if err != nil {
		return nil, fmt.Errorf("provider stand-in port %d: %w", cfg.ProviderPort, err)
	}
	c.provider = &http.Server{Handler: c.Provider, ReadHeaderTimeout: 10 * time.Second}
	go c.provider.Serve(pln)

	c.Parameters = localParameters(c)
	maps.Copy(c.Parameters, providerParameters(c.ProviderKind))
	maps.Copy(c.Parameters, cfg.Parameters)
	// What the template cannot say locally: the emulators' endpoint, and the secrets (in AWS
	// they are PlatformSecrets' JSON).
	env := map[string]string{
		"AWS_ENDPOINT_URL": c.APIURL, "AWS_REGION": Region, "SECRETS_ARN": "",
		"PROVIDER_API_KEY": ProviderAPIKey, "PROVIDER_WEBHOOK_SECRETS": ProviderWebhookSecret,
		"PROVIDER_USERNAME": ProviderUsername, "PROVIDER_PASSWORD": ProviderPassword,
		"SMTP_PASSWORD": SMTPPassword, "INIPEC_TOKEN": INIPECToken, "PAYMENT_API_KEY": PaymentAPIKey,
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	// Always an injector, without rules unless FAULTS gave some: PUT /_local/faults can
	// switch faults on in a running cloud, and GET shows how many calls each service got.
	faults, err := lambdahost.NewFaults(cfg.Faults, cfg.FaultsSeed)
	if err != nil {
		return nil, err
	}
	c.Host, err = lambdahost.New(ctx, lambdahost.Options{
		Faults:       faults,
		Intercept:    cfg.Intercept,
		TemplatePath: filepath.Join(cfg.Root, "template.yaml"),
		Functions:    Functions,
		Parameters:   c.Parameters,
		Env:          env,
		DynamoDBURL:  c.DynamoDBURL, MotoURL: c.MotoURL, SESURL: c.SESURL,
		KeyDir: c.KeyDir, Region: Region, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.APIPort))
	if err != nil {
		return nil, fmt.Errorf("API port %d: %w", cfg.APIPort, err)
	}
	format, err := inipec.FormatFromEnv(func(k string) string { return cfg.Env[k] })
	if err != nil {
		return nil, err
	}
	c.INIPEC = inipecsim.New(format, INIPECToken)
	// The PEC channel: INI-PEC's stand-in reads, from mailpit, the PECs to its address.
	c.INIPEC.ReadPEC(c.MailpitURL, cmp.Or(c.Parameters["InipecPecAddress"], "aggiornamento@cert.inipec.gov.it"))
	mux := http.NewServeMux()
	mux.Handle("/_local/inipec/", http.StripPrefix("/_local/inipec", c.INIPEC))
	payments := http.StripPrefix("/_local", paysim.New(PaymentAPIKey))
	mux.Handle("/_local/payments", payments)
	mux.Handle("/_local/payments/", payments)
	mux.Handle("/_local/checkout", payments) // the payment page the members' request page sends them to
	mux.Handle("/", c.Host)
	var api http.Handler = mux
	if cfg.audit != nil {
		api = cfg.audit.observe(mux)
	}
	c.server = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	go c.server.Serve(ln)
	if err := c.Host.Setup(ctx); err != nil {
		return nil, fmt.Errorf("create the template's resources: %w", err)
	}
	schedCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.Host.StartSchedules(schedCtx)
	return c, nil
}

// Close stops the host and every emulator.
func (c *Cloud) Close() {
	c.once.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
		if c.Provider != nil {
			c.Provider.Close()
		}
		for _, s := range []*http.Server{c.server, c.provider} {
			if s != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				s.Shutdown(ctx)
				cancel()
			}
		}
		for _, p := range c.procs {
			p.Stop()
		}
	})
}

// Token returns a portal token signed with the local key.
func (c *Cloud) Token(role, orderID string) (string, error) {
	return c.TokenFor(role, orderID, "local-"+role)
}

// TokenFor returns a portal token of the person sub (the audit trail's name for them).
func (c *Cloud) TokenFor(role, orderID, sub string) (string, error) {
	claims := map[string]any{"role": role, "iss": lambdahost.DefaultIssuer, "aud": lambdahost.DefaultAudience, "sub": sub}
	if orderID != "" {
		claims["order"] = orderID
	}
	tok, err := lambdahost.SignToken(c.KeyDir, claims, time.Hour)
	c.audit.note("portal JWT", tok)
	return tok, err
}
