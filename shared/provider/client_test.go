package provider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/provider"
)

const (
	apiKey = "test-api-key-0123456789"
	cf     = "ZRZCRL72R10H501D"
)

var request = app.SubmitRequest{
	RequestID:     "mbx-01HZY",
	Address:       "carlo.zurzi@pec.tsrm.org",
	Nome:          "Carlo",
	Cognome:       "Zurzi",
	CodiceFiscale: cf,
}

// server answers with the given handlers in turn (the last one repeats) and counts calls.
type server struct {
	*httptest.Server
	calls atomic.Int32
}

func newServer(t *testing.T, handlers ...http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.calls.Add(1))
		handlers[min(n, len(handlers))-1](w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func client(s *server) *provider.HTTPClient {
	return &provider.HTTPClient{BaseURL: s.URL + "/", APIKey: apiKey, Backoff: time.Millisecond, Timeout: 2 * time.Second}
}

// assertClean fails when err's text carries the codice fiscale or the API key.
func assertClean(t *testing.T, text string) {
	t.Helper()
	if strings.Contains(strings.ToUpper(text), cf) || strings.Contains(text, apiKey) {
		t.Fatalf("%q carries the codice fiscale or the API key", text)
	}
}

func TestSubmit_SendsTheContractRequest(t *testing.T) {
	var method, path string
	var header http.Header
	var body []byte
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		method, path, header = r.Method, r.URL.Path, r.Header.Clone()
		body, _ = io.ReadAll(r.Body)
		status(http.StatusAccepted, `{"providerRef":"ARU-1"}`)(w, r)
	})
	ref, err := client(s).Submit(t.Context(), request)
	if err != nil || ref != "ARU-1" {
		t.Fatalf("Submit = %q, %v; want ARU-1", ref, err)
	}
	if method != http.MethodPost || path != "/v1/mailboxes" {
		t.Errorf("request %s %s, want POST /v1/mailboxes", method, path)
	}
	for h, want := range map[string]string{
		"Authorization":   "Bearer " + apiKey,
		"Idempotency-Key": request.RequestID,
		"Content-Type":    "application/json",
	} {
		if v := header.Get(h); v != want {
			t.Errorf("%s: %q, want %q", h, v, want)
		}
	}
	// Exactly the five fields, nothing more: the provider never receives more than it needs.
	var fields map[string]string
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"requestId": request.RequestID, "address": request.Address,
		"nome": "Carlo", "cognome": "Zurzi", "codiceFiscale": cf}
	if len(fields) != len(want) {
		t.Errorf("body %s, want exactly %v", body, want)
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("body field %s = %q, want %q", k, fields[k], v)
		}
	}
}

func TestSubmit_AcceptsEverySuccessStatus(t *testing.T) {
	for _, code := range []int{http.StatusOK, http.StatusCreated, http.StatusAccepted} {
		s := newServer(t, status(code, `{"providerRef":"R"}`))
		if ref, err := client(s).Submit(t.Context(), request); err != nil || ref != "R" {
			t.Errorf("status %d: Submit = %q, %v", code, ref, err)
		}
	}
}

func TestSubmit_RetriesUnavailableThenSucceeds(t *testing.T) {
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusRequestTimeout, http.StatusTooManyRequests} {
		var keys []string
		s := newServer(t,
			func(w http.ResponseWriter, r *http.Request) {
				keys = append(keys, r.Header.Get("Idempotency-Key"))
				status(code, `{"error":{"code":"busy"}}`)(w, r)
			},
			func(w http.ResponseWriter, r *http.Request) {
				keys = append(keys, r.Header.Get("Idempotency-Key"))
				status(http.StatusOK, `{"providerRef":"R2"}`)(w, r)
			})
		ref, err := client(s).Submit(t.Context(), request)
		if err != nil || ref != "R2" {
			t.Fatalf("status %d then 200: Submit = %q, %v", code, ref, err)
		}
		if s.calls.Load() != 2 || keys[0] != request.RequestID || keys[1] != request.RequestID {
			t.Fatalf("status %d then 200: %d calls with keys %q, want 2 with the request id", code, s.calls.Load(), keys)
		}
	}
}

func TestSubmit_HonoursRetryAfter(t *testing.T) {
	var first, second time.Time
	s := newServer(t,
		func(w http.ResponseWriter, r *http.Request) {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			status(http.StatusTooManyRequests, ``)(w, r)
		},
		func(w http.ResponseWriter, r *http.Request) {
			second = time.Now()
			status(http.StatusCreated, `{"providerRef":"R"}`)(w, r)
		})
	if _, err := client(s).Submit(t.Context(), request); err != nil {
		t.Fatal(err)
	}
	if gap := second.Sub(first); gap < 950*time.Millisecond {
		t.Fatalf("retried after %v, want the 1 s the provider asked for (backoff alone is 1 ms)", gap)
	}
}

func TestSubmit_ClientErrorIsPermanentAndNotRetried(t *testing.T) {
	s := newServer(t, status(http.StatusUnprocessableEntity,
		`{"error":{"code":"invalid_codice_fiscale","field":"codiceFiscale","message":"`+cf+` is not valid"}}`))
	_, err := client(s).Submit(t.Context(), request)
	if !errors.Is(err, provider.ErrPermanent) {
		t.Fatalf("Submit = %v, want ErrPermanent", err)
	}
	var refused *provider.ProviderRefused
	if !errors.As(err, &refused) || refused.Status != 422 || refused.Code != "invalid_codice_fiscale" || refused.Field != "codiceFiscale" {
		t.Fatalf("Submit = %#v, want a ProviderRefused with status, code and field", err)
	}
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
	assertClean(t, err.Error())
}

func TestSubmit_RefusalNeverCarriesACodiceFiscale(t *testing.T) {
	s := newServer(t, status(http.StatusBadRequest, `{"error":{"code":"zrzcrl72r10h501d","field":"ZRZCRL72R10H501D"}}`))
	_, err := client(s).Submit(t.Context(), request)
	var refused *provider.ProviderRefused
	if !errors.As(err, &refused) || refused.Status != 400 || refused.Code != "" || refused.Field != "" {
		t.Fatalf("Submit = %#v, want a ProviderRefused without code or field", err)
	}
	assertClean(t, err.Error())
}

func TestSubmit_SuccessWithoutProviderRefIsPermanent(t *testing.T) {
	s := newServer(t, status(http.StatusOK, `<html>ok</html>`))
	if _, err := client(s).Submit(t.Context(), request); !errors.Is(err, provider.ErrPermanent) {
		t.Fatalf("Submit = %v, want ErrPermanent", err)
	}
}

func TestSubmit_EmptyRequestIDIsPermanent(t *testing.T) {
	s := newServer(t, status(http.StatusOK, `{"providerRef":"R"}`))
	r := request
	r.RequestID = ""
	if _, err := client(s).Submit(t.Context(), r); !errors.Is(err, provider.ErrPermanent) || s.calls.Load() != 0 {
		t.Fatalf("Submit = %v after %d calls, want ErrPermanent and no call", err, s.calls.Load())
	}
}

func TestSubmit_UnavailableAfterAllAttempts(t *testing.T) {
	var logs bytes.Buffer
	s := newServer(t, status(http.StatusBadGateway, `{"error":{"code":"upstream"}}`))
	c := client(s)
	c.Attempts = 3
	c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	_, err := c.Submit(t.Context(), request)
	var unavailable *provider.ProviderUnavailable
	if !errors.As(err, &unavailable) {
		t.Fatalf("Submit = %v, want a *ProviderUnavailable", err)
	}
	if unavailable.Attempts != 3 || unavailable.Status != http.StatusBadGateway || unavailable.Op != "submit" {
		t.Fatalf("got %+v, want 3 attempts, last status 502", unavailable)
	}
	if errors.Is(err, provider.ErrPermanent) {
		t.Fatal("an unavailable provider is not a permanent failure")
	}
	if n := s.calls.Load(); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
	if n := strings.Count(logs.String(), "retrying"); n != 2 {
		t.Fatalf("%d retry log lines, want 2:\n%s", n, logs.String())
	}
	assertClean(t, err.Error())
	assertClean(t, logs.String())
}

func TestSubmit_DefaultsToFourAttempts(t *testing.T) {
	s := newServer(t, status(http.StatusServiceUnavailable, ``))
	c := client(s)
	c.Attempts = 0
	_, err := c.Submit(t.Context(), request)
	var unavailable *provider.ProviderUnavailable
	if !errors.As(err, &unavailable) || s.calls.Load() != 4 {
		t.Fatalf("Submit = %v after %d calls, want ProviderUnavailable after 4", err, s.calls.Load())
	}
}

func TestSubmit_NetworkErrorIsUnavailable(t *testing.T) {
	s := newServer(t, status(http.StatusOK, `{"providerRef":"R"}`))
	c := client(s)
	s.Close()
	_, err := c.Submit(t.Context(), request)
	var unavailable *provider.ProviderUnavailable
	if !errors.As(err, &unavailable) || unavailable.Err == nil || unavailable.Attempts != 4 {
		t.Fatalf("Submit = %#v, want a ProviderUnavailable after 4 attempts carrying the network error", err)
	}
	assertClean(t, err.Error())
}

func TestSubmit_SlowAnswerTimesOutAndIsUnavailable(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices the client hanging up only once the body is read
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	c := client(s)
	c.Timeout, c.Attempts = 50*time.Millisecond, 2
	start := time.Now()
	_, err := c.Submit(t.Context(), request)
	var unavailable *provider.ProviderUnavailable
	if !errors.As(err, &unavailable) || s.calls.Load() != 2 {
		t.Fatalf("Submit = %v after %d calls, want ProviderUnavailable after 2", err, s.calls.Load())
	}
	if !strings.Contains(err.Error(), "timeout") {
		t.Errorf("error %q does not say it timed out", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v, want about 2 x 50 ms", d)
	}
}

func TestSubmit_ContextCancellationStopsRetrying(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		cancel()
		status(http.StatusServiceUnavailable, ``)(w, r)
	})
	c := client(s)
	c.Backoff = time.Minute
	start := time.Now()
	_, err := c.Submit(ctx, request)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit = %v, want context.Canceled", err)
	}
	var unavailable *provider.ProviderUnavailable
	if errors.As(err, &unavailable) {
		t.Fatal("a caller giving up is not the provider being unavailable")
	}
	if time.Since(start) > 5*time.Second || s.calls.Load() != 1 {
		t.Fatalf("%d calls in %v, want 1 and no wait", s.calls.Load(), time.Since(start))
	}
}

func TestSubmit_ContextCancelledDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	s := newServer(t, status(http.StatusServiceUnavailable, ``))
	c := client(s)
	c.Backoff = time.Minute
	_, err := c.Submit(ctx, request)
	if !errors.Is(err, context.DeadlineExceeded) || s.calls.Load() != 1 {
		t.Fatalf("Submit = %v after %d calls, want DeadlineExceeded after 1", err, s.calls.Load())
	}
}

func TestDeactivate(t *testing.T) {
	var path, auth string
	var body map[string]string
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		path, auth = r.URL.EscapedPath(), r.Header.Get("Authorization")
		json.NewDecoder(r.Body).Decode(&body)
		w.WriteHeader(http.StatusNoContent)
	})
	if err := client(s).Deactivate(t.Context(), app.ProviderMailbox{RequestID: "mbx/1 2", Address: "a.b@pec.tsrm.org"}, "revoked"); err != nil {
		t.Fatal(err)
	}
	if path != "/v1/mailboxes/mbx%2F1%202/deactivate" || auth != "Bearer "+apiKey {
		t.Errorf("path %q auth %q", path, auth)
	}
	if len(body) != 2 || body["address"] != "a.b@pec.tsrm.org" || body["reason"] != "revoked" {
		t.Errorf("body %v, want exactly address and reason", body)
	}
}

func TestDeactivate_Statuses(t *testing.T) {
	tests := []struct {
		code      int
		permanent bool
	}{
		{http.StatusOK, false},
		{http.StatusAccepted, false},
		{http.StatusNoContent, false},
		{http.StatusNotFound, false}, // nothing to close: done
		{http.StatusConflict, true},
		{http.StatusUnauthorized, true},
	}
	for _, tt := range tests {
		s := newServer(t, status(tt.code, ``))
		err := client(s).Deactivate(t.Context(), app.ProviderMailbox{RequestID: "mbx-1", Address: "a.b@pec.tsrm.org"}, "revoked")
		if got := errors.Is(err, provider.ErrPermanent); got != tt.permanent || (!tt.permanent && err != nil) {
			t.Errorf("status %d: Deactivate = %v, want permanent=%v", tt.code, err, tt.permanent)
		}
		if s.calls.Load() != 1 {
			t.Errorf("status %d: %d calls, want 1", tt.code, s.calls.Load())
		}
	}
}

func TestDeactivate_RetriesThenUnavailable(t *testing.T) {
	s := newServer(t, status(http.StatusServiceUnavailable, ``))
	err := client(s).Deactivate(t.Context(), app.ProviderMailbox{RequestID: "mbx-1", Address: "a.b@pec.tsrm.org"}, "revoked")
	var unavailable *provider.ProviderUnavailable
	if !errors.As(err, &unavailable) || unavailable.Op != "deactivate" || s.calls.Load() != 4 {
		t.Fatalf("Deactivate = %v after %d calls, want ProviderUnavailable after 4", err, s.calls.Load())
	}
}

func TestSubmit_BadBaseURLIsPermanent(t *testing.T) {
	for _, base := range []string{"", "pec.example.it", "ftp://pec.example.it", "http://%zz"} {
		c := &provider.HTTPClient{BaseURL: base, APIKey: apiKey, Backoff: time.Millisecond}
		_, err := c.Submit(t.Context(), request)
		if !errors.Is(err, provider.ErrPermanent) {
			t.Errorf("BaseURL %q: Submit = %v, want ErrPermanent", base, err)
		}
	}
}

func TestRenew_SendsTheContractRequestWithItsIdempotencyKey(t *testing.T) {
	var got *http.Request
	var body []byte
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		w.WriteHeader(http.StatusNoContent)
	})
	err := client(s).Renew(context.Background(), app.RenewRequest{RequestID: "mbx-1", RenewalID: "b-7", Address: "carlo.zurzi@pec.tsrm.org", ValidUntil: "2030-02-28"})
	if err != nil {
		t.Fatal(err)
	}
	if got.URL.Path != "/v1/mailboxes/mbx-1/renew" || got.Header.Get("Idempotency-Key") != "b-7:mbx-1" || got.Header.Get("Authorization") != "Bearer "+apiKey {
		t.Errorf("request %s %v", got.URL.Path, got.Header)
	}
	if string(body) != `{"renewalId":"b-7","address":"carlo.zurzi@pec.tsrm.org","validUntil":"2030-02-28"}` {
		t.Errorf("body %s", body)
	}
}

func TestRenew_UnknownMailboxIsPermanent(t *testing.T) {
	s := newServer(t, status(404, `{"error":{"code":"not_found"}}`))
	err := client(s).Renew(context.Background(), app.RenewRequest{RequestID: "mbx-1", RenewalID: "b-7", Address: "a@pec.tsrm.org", ValidUntil: "2030-02-28"})
	if !errors.Is(err, provider.ErrPermanent) || s.calls.Load() != 1 {
		t.Fatalf("err %v after %d calls", err, s.calls.Load())
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
