package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func vars(kv ...string) Getenv {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// settingsOf returns the settings a ConfigError names, or fails.
func settingsOf(t *testing.T, err error) []string {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ConfigError", err)
	}
	return ce.Settings()
}

// Without STAGE a function is in production: the local cloud's switches stop it in Load.
func TestFailClosed_LoadRefusesTheLocalSwitchesUnlessStageIsLocal(t *testing.T) {
	for _, sw := range [][2]string{
		{"AWS_ENDPOINT_URL", "http://127.0.0.1:3000"},
		{"FAULT_PANIC_AT", "enrol=^x"},
		{"IMPORT_FAULT_PANIC_AFTER_ROWS", "150"},
		{"EXPIRY_AS_OF_ALLOWED", "true"},
	} {
		for _, stage := range []string{"", "prod"} {
			_, err := Load(context.Background(), vars("STAGE", stage, sw[0], sw[1]))
			if got := settingsOf(t, err); !slices.Equal(got, []string{sw[0]}) {
				t.Errorf("STAGE=%q %s=%s: refused for %v", stage, sw[0], sw[1], got)
			}
		}
		if _, err := Load(context.Background(), vars("STAGE", "local", sw[0], sw[1])); err != nil {
			t.Errorf("STAGE=local %s=%s: %v", sw[0], sw[1], err)
		}
	}
	if _, err := Load(context.Background(), vars("EXPIRY_AS_OF_ALLOWED", "false")); err != nil {
		t.Errorf("EXPIRY_AS_OF_ALLOWED=false (the template's default) refused: %v", err)
	}
	if _, err := Load(context.Background(), vars("STAGE", "dev")); err == nil || !strings.Contains(err.Error(), "STAGE") {
		t.Errorf("STAGE=dev: %v", err)
	}
}

// Each kind of setting refuses what is missing or local, and says why.
func TestFailClosed_RequireNamesEachMissingOrLocalSetting(t *testing.T) {
	good := map[string]string{"TABLE_NAME": "pec-Table-1", "SECRETS_ARN": "arn:aws:secretsmanager:eu-south-1:1:secret:x",
		"PUBLIC_URL": "https://pec.example.it", "PROVIDER_URL": "https://api.provider.example/v1",
		"SES_FROM": "noreply@example.it", "PEC_FROM": "piattaforma@pec.example.it", "SMTP_ADDR": "smtps.pec.example.it:465",
		"SMTP_TLS": "tls", "PROVIDER_KIND": "aruba"}
	cases := []struct{ name, value, why string }{
		{"PROVIDER_URL", "", "missing"},
		{"PROVIDER_URL", "http://127.0.0.1:8010", "not https://"},
		{"PROVIDER_URL", "http://api.provider.example", "not https://"},
		{"PROVIDER_URL", "https://localhost:8443", "local address"},
		{"PROVIDER_URL", "https://127.0.0.1", "local address"},
		{"PROVIDER_URL", "https://[::1]:8443/x", "local address"},
		{"PUBLIC_URL", "https://0.0.0.0", "local address"},
		{"SMTP_ADDR", "127.0.0.1:1025", "local address"},
		{"SMTP_ADDR", "localhost:25", "local address"},
		{"SMTP_ADDR", "smtps.pec.example.it", "not host:port"},
		{"SMTP_TLS", "none", "local cloud only"},
		{"SECRETS_ARN", "", "missing"},
		{"SECRETS_ARN", "PlatformSecrets", "not an ARN"},
		{"SES_FROM", "noreply", "not an e-mail address"},
		{"TABLE_NAME", "", "missing"},
		{"PROVIDER_KIND", "", "missing"},
		{"PROVIDER_KIND", "datakey", "is not one of webhook, aruba, legalmail"},
	}
	for _, c := range cases {
		vals := map[string]string{"STAGE": "prod"}
		for k, v := range good {
			vals[k] = v
		}
		vals[c.name] = c.value
		env, err := Load(context.Background(), func(k string) string { return vals[k] })
		if err != nil {
			t.Fatal(err)
		}
		err = env.Require("MailboxActionsFunction")
		if got := settingsOf(t, err); !slices.Equal(got, []string{c.name}) {
			t.Errorf("%s=%q: refused for %v", c.name, c.value, got)
		}
		if !strings.Contains(err.Error(), c.why) || !strings.Contains(err.Error(), "MailboxActionsFunction") {
			t.Errorf("%s=%q: %v, want it to say %q", c.name, c.value, err, c.why)
		}
	}
	vals := map[string]string{"STAGE": "prod"}
	for k, v := range good {
		vals[k] = v
	}
	env, _ := Load(context.Background(), func(k string) string { return vals[k] })
	if err := env.Require("MailboxActionsFunction"); err != nil {
		t.Errorf("good settings: %v", err)
	}
	if err := env.Require("NoSuchFunction"); err == nil {
		t.Error("a function without Needs is not an error")
	}
}

// The payment service cannot be left out in production: without it every payment is accepted.
func TestFailClosed_NoPaymentServiceIsRefusedInProduction(t *testing.T) {
	env, _ := Load(context.Background(), vars("TABLE_NAME", "t", "SECRETS_ARN", "arn:aws:x", "DOCUMENTS_BUCKET", "d",
		"MAILBOX_STATE_MACHINE_ARN", "arn:aws:states:x", "PUBLIC_URL", "https://pec.example.it", "SES_FROM", "noreply@pec.example.it"))
	err := env.Require("RequestsFunction")
	if got := settingsOf(t, err); !slices.Equal(got, []string{"PAYMENT_SERVICE_URL"}) || !strings.Contains(err.Error(), "unverified") {
		t.Errorf("got %v (%v)", got, err)
	}
}

// With Stage local, nothing is required: the local cloud's values are local on purpose.
func TestFailClosed_StageLocalRequiresNothing(t *testing.T) {
	env, err := Load(context.Background(), vars("STAGE", "local", "AWS_ENDPOINT_URL", "http://127.0.0.1:3000"))
	if err != nil {
		t.Fatal(err)
	}
	for fn := range Needs {
		if err := env.Require(fn); err != nil {
			t.Errorf("%s: %v", fn, err)
		}
	}
}

// The log line of a refusal: one JSON record, the error and the settings to fix.
func TestFailClosed_TheStartLogLineNamesTheSettings(t *testing.T) {
	var buf bytes.Buffer
	saved := LogOutput
	LogOutput = &buf
	defer func() { LogOutput = saved }()
	env, _ := Load(context.Background(), vars("TABLE_NAME", "t", "SECRETS_ARN", "arn:aws:x", "PROVIDER_URL", "http://127.0.0.1:8010",
		"SES_FROM", "a@b.it", "PROVIDER_KIND", "webhook"))
	logStartError(env.Require("ExpiryFunction"))
	var rec struct {
		Level, Msg, Error string
		Settings          []string
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if rec.Level != "ERROR" || rec.Msg != "start" || !slices.Equal(rec.Settings, []string{"PROVIDER_URL"}) ||
		!strings.Contains(rec.Error, "PROVIDER_URL (parameter ProviderUrl): not https:// (http://)") {
		t.Errorf("log line %s", buf.String())
	}
	t.Logf("the log line: %s", strings.TrimSpace(buf.String()))
}
