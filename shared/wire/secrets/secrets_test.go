package secrets_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/secrets"
)

// fakeStore is Secrets Manager as the tests want it: the secret's current value, or a failure.
type fakeStore struct {
	value secrets.Secrets
	err   error
	reads int
}

func (f *fakeStore) fetch(context.Context) (secrets.Secrets, error) {
	f.reads++
	return f.value, f.err
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func key(k string) secrets.Secrets       { return secrets.Secrets{ProviderAPIKey: k} }
func newSource(f *fakeStore, c *clock, log *bytes.Buffer) *secrets.Source {
	return &secrets.Source{Fetch: f.fetch, TTL: 5 * time.Minute, Now: c.now, Log: slog.New(slog.NewJSONHandler(log, nil))}
}

func get(t *testing.T, s *secrets.Source) string {
	t.Helper()
	sec, err := s.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sec.ProviderAPIKey
}

// A rotation of PlatformSecrets reaches a warm function at its first call after the TTL, and
// Secrets Manager is read once per TTL, not once per call.
func TestSource_ARotatedSecretIsUsedWithinTheTTL(t *testing.T) {
	store, c, log := &fakeStore{value: key("k1")}, &clock{time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}, &bytes.Buffer{}
	s := newSource(store, c, log)
	if got := get(t, s); got != "k1" || store.reads != 1 {
		t.Fatalf("first call: key %q after %d reads", got, store.reads)
	}
	store.value = key("k2") // rotated
	c.advance(5*time.Minute - time.Second)
	if got := get(t, s); got != "k1" || store.reads != 1 {
		t.Fatalf("within the TTL: key %q after %d reads, want k1 without reading again", got, store.reads)
	}
	c.advance(time.Second)
	if got := get(t, s); got != "k2" || store.reads != 2 {
		t.Fatalf("at the TTL: key %q after %d reads, want the rotated k2", got, store.reads)
	}
	if got := get(t, s); got != "k2" || store.reads != 2 {
		t.Fatalf("just after: key %q after %d reads", got, store.reads)
	}
}

// A refresh that fails keeps the secrets read before (a Secrets Manager outage does not stop a
// warm function), logs why, and is tried again after 30 seconds, not at every call.
func TestSource_AFailedRefreshKeepsThePreviousSecrets(t *testing.T) {
	store, c, log := &fakeStore{value: key("k1")}, &clock{time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}, &bytes.Buffer{}
	s := newSource(store, c, log)
	get(t, s)
	store.err = errors.New("ThrottlingException")
	c.advance(6 * time.Minute)
	if got := get(t, s); got != "k1" || store.reads != 2 {
		t.Fatalf("failed refresh: key %q after %d reads, want k1", got, store.reads)
	}
	if !strings.Contains(log.String(), "ThrottlingException") {
		t.Errorf("the failed refresh is not logged: %s", log)
	}
	c.advance(29 * time.Second)
	get(t, s)
	if store.reads != 2 {
		t.Fatalf("%d reads: a failed refresh is retried before 30 seconds", store.reads)
	}
	store.err, store.value = nil, key("k2")
	c.advance(time.Second)
	if got := get(t, s); got != "k2" || store.reads != 3 {
		t.Fatalf("retry: key %q after %d reads, want k2", got, store.reads)
	}
}

// Without secrets read before, a failure is the caller's error, and the next call reads again.
func TestSource_TheFirstReadMustSucceed(t *testing.T) {
	store, c := &fakeStore{err: errors.New("AccessDeniedException")}, &clock{time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	s := newSource(store, c, &bytes.Buffer{})
	if _, err := s.Get(context.Background()); err == nil {
		t.Fatal("no error without secrets")
	}
	store.err, store.value = nil, key("k1")
	if got := get(t, s); got != "k1" || store.reads != 2 {
		t.Fatalf("key %q after %d reads", got, store.reads)
	}
}

// Locally (SECRETS_ARN empty) the secrets are the variables; SECRETS_TTL_SECONDS sets the TTL.
func TestNew_LocalVariablesAndTheTTL(t *testing.T) {
	vars := map[string]string{"STAGE": "local", "SECRETS_ARN": "", "PROVIDER_API_KEY": "p", "PROVIDER_WEBHOOK_SECRETS": "w1,w0",
		"SMTP_PASSWORD": "s", "INIPEC_TOKEN": "i", "PAYMENT_API_KEY": "k", "SECRETS_TTL_SECONDS": "60"}
	env, err := wire.Load(context.Background(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	s, err := secrets.New(env)
	if err != nil {
		t.Fatal(err)
	}
	if s.TTL != time.Minute {
		t.Errorf("TTL %v, want SECRETS_TTL_SECONDS", s.TTL)
	}
	sec, err := s.Get(context.Background())
	want := secrets.Secrets{ProviderAPIKey: "p", ProviderWebhookSecrets: "w1,w0", SMTPPassword: "s", INIPECToken: "i", PaymentAPIKey: "k"}
	if err != nil || sec != want {
		t.Errorf("got %+v, %v; want %+v", sec, err, want)
	}
	delete(vars, "SECRETS_TTL_SECONDS")
	if s, _ := secrets.New(env); s.TTL != secrets.DefaultTTL {
		t.Errorf("default TTL %v, want %v", s.TTL, secrets.DefaultTTL)
	}
	vars["SECRETS_TTL_SECONDS"] = "-1"
	if _, err := secrets.New(env); err == nil || !strings.Contains(err.Error(), "SECRETS_TTL_SECONDS") {
		t.Errorf("a negative TTL: %v", err)
	}
}
