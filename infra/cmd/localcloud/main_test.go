package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/emulators"
	"github.com/pecplatform/pec/infra/lambdahost"
	"github.com/pecplatform/pec/infra/localcloud"
)

func env(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

func TestParameters_FastThenOverridesOnTop(t *testing.T) {
	got, err := parameters(env(map[string]string{"FAST": "1", "PARAMETER_OVERRIDES": "InipecSettleSeconds=7 LogLevel=DEBUG"}))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range localcloud.FastParameters {
		if k != "InipecSettleSeconds" && got[k] != v {
			t.Errorf("%s = %q, want the fast %q", k, got[k], v)
		}
	}
	if got["InipecSettleSeconds"] != "7" || got["LogLevel"] != "DEBUG" {
		t.Errorf("the overrides are not on top: InipecSettleSeconds=%q LogLevel=%q", got["InipecSettleSeconds"], got["LogLevel"])
	}
	if len(got) != len(localcloud.FastParameters)+1 {
		t.Errorf("%d parameters, want the %d fast ones and LogLevel", len(got), len(localcloud.FastParameters))
	}

	none, err := parameters(env(map[string]string{"FAST": "0"}))
	if err != nil || len(none) != 0 {
		t.Errorf("FAST=0: %v, %v; want no parameter", none, err)
	}
	if _, err := parameters(env(map[string]string{"FAST": "quick"})); err == nil {
		t.Error("FAST=quick: no error")
	}
}

func TestConfig_UnknownParameterIsAnErrorListingTheKnownOnes(t *testing.T) {
	_, err := config(env(map[string]string{"PARAMETER_OVERRIDES": "InipecSettleSecs=1 ActivationReminderSeconds=60"}))
	var unknown *lambdahost.UnknownParametersError
	if !errors.As(err, &unknown) {
		t.Fatalf("err = %v, want an UnknownParametersError", err)
	}
	msg := err.Error()
	for _, want := range []string{"PARAMETER_OVERRIDES", "unknown template parameter InipecSettleSecs;", "InipecSettleSeconds", "ActivationReminderSeconds", "ThrottleRateLimit"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if _, err := config(env(map[string]string{"PARAMETER_OVERRIDES": "InipecSettleSeconds"})); err == nil || !strings.Contains(err.Error(), "PARAMETER_OVERRIDES") {
		t.Errorf("a word that is no pair: err = %v", err)
	}
}

func TestPrintParameters_NameValueDefaultOfWhatDiffers(t *testing.T) {
	var b strings.Builder
	printParameters(&b, []lambdahost.Parameter{
		{Name: "ActivationReminderSeconds", Default: "604800", HasDefault: true, Value: "60", Overridden: true},
		{Name: "AlarmEmail", HasDefault: true, Value: "", Overridden: true}, // overridden with its default
		{Name: "InipecSettleSeconds", Default: "600", HasDefault: true, Value: "1", Overridden: true},
		{Name: "JwtIssuer", HasDefault: false, Value: "https://login.example.it", Overridden: true},
		{Name: "LogLevel", Default: "INFO", HasDefault: true, Value: "INFO"},
		{Name: "SmtpUsername", Default: "piattaforma", HasDefault: true, Value: "", Overridden: true},
	})
	want := `Parameters that differ from template.yaml's defaults:
  name                        value                      default
  ActivationReminderSeconds   60                         604800
  InipecSettleSeconds         1                          600
  JwtIssuer                   https://login.example.it   (none)
  SmtpUsername                ""                         piattaforma
`
	if b.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", b.String(), want)
	}

	b.Reset()
	printParameters(&b, []lambdahost.Parameter{{Name: "LogLevel", Default: "INFO", HasDefault: true, Value: "INFO"}})
	if !strings.HasPrefix(b.String(), "Parameters: template.yaml's defaults") {
		t.Errorf("nothing changed: printed %q", b.String())
	}
}

// make run's path end to end: FAST=1 and PARAMETER_OVERRIDES reach the functions' environment,
// and the Ready text lists them.
func TestRun_OverridesReachTheFunctions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local cloud")
	}
	cfg, err := config(env(map[string]string{"FAST": "1", "PARAMETER_OVERRIDES": "InipecSettleSeconds=7"}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.APIPort, cfg.DynamoDBPort, cfg.MotoPort, cfg.SESPort, cfg.MailpitPort, cfg.SMTPPort, cfg.ProviderPort = 0, 0, 0, 0, 0, 0, 0
	cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localcloud.Start(ctx, cfg)
	if errors.Is(err, emulators.ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skipf("local cloud not installed (make deps): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	for fn, want := range map[string]map[string]string{
		"INIPECSyncFunction": {"INIPEC_SETTLE_SECONDS": "7"},   // PARAMETER_OVERRIDES over FAST's 1
		"ImportJobFunction":  {"IMPORT_CHUNK_ROWS": "100"},     // FAST's
		"MembersFunction":    {"ACTIVATION_TTL_SECONDS": "14"}, // FAST's, through Globals
	} {
		got, ok := c.Host.Environment(fn)
		if !ok {
			t.Fatalf("no function %s", fn)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", fn, k, got[k], v)
			}
		}
	}
	var b strings.Builder
	printReady(&b, c, cfg, time.Second)
	if !regexp.MustCompile(`\n  InipecSettleSeconds +7 +600\n`).MatchString(b.String()) {
		t.Errorf("the Ready text does not list InipecSettleSeconds 7 (default 600):\n%s", b.String())
	}
}
