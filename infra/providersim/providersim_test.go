package providersim_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/providersim"
	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/provider"
)

const (
	apiKey = "local-provider-key"
	cf     = "ZRZCRL72R10H501D"
)

var secret = []byte("local-callback-secret")

// receiver is the platform's callback endpoint as far as the stand-in can tell: it verifies
// every signature with provider.Verify and parses every body with provider.ParseEvent.
type receiver struct {
	*httptest.Server
	events   chan provider.Event
	failures atomic.Int32 // answer 500 to this many more callbacks

	mu       sync.Mutex
	attempts []string // eventId of every attempt, failed or not
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{events: make(chan provider.Event, 16)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/provider/callback" {
			t.Errorf("callback %s %s, want POST /v1/provider/callback", r.Method, r.URL.Path)
		}
		if err := provider.Verify([][]byte{secret}, r.Header.Get(provider.SignatureHeader), body, time.Now(), provider.DefaultTolerance); err != nil {
			t.Errorf("callback signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ev, err := provider.ParseEvent(body)
		if err != nil {
			t.Errorf("callback body %s: %v", body, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.attempts = append(rc.attempts, ev.EventID)
		rc.mu.Unlock()
		if rc.failures.Add(-1) >= 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		rc.events <- ev
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) next(t *testing.T) provider.Event {
	t.Helper()
	select {
	case ev := <-rc.events:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no callback within 5 s")
		return provider.Event{}
	}
}

func (rc *receiver) none(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case ev := <-rc.events:
		t.Fatalf("unexpected callback %+v", ev)
	case <-time.After(within):
	}
}

// start runs a stand-in behind a real HTTP server, calling back rc, and returns the platform's
// adapter pointed at it.
func start(t *testing.T, rc *receiver, o providersim.Options) (*providersim.Sim, *httptest.Server, *provider.HTTPClient) {
	t.Helper()
	o.CallbackURL = rc.URL + "/v1/provider/callback"
	o.Secret, o.APIKey = secret, apiKey
	if o.CallbackBackoff == 0 {
		o.CallbackBackoff = 10 * time.Millisecond
	}
	sim := providersim.New(o)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	return sim, srv, &provider.HTTPClient{BaseURL: srv.URL, APIKey: apiKey, Backoff: time.Millisecond}
}

func submitRequest(id, address string) app.SubmitRequest {
	return app.SubmitRequest{RequestID: id, Address: address, Nome: "Carlo", Cognome: "Zurzi", CodiceFiscale: cf}
}

func TestSubmit_CallsBackCreatedAfterTheDelay(t *testing.T) {
	rc := newReceiver(t)
	_, _, pc := start(t, rc, providersim.Options{Delay: 200 * time.Millisecond})
	sent := time.Now()
	ref, err := pc.Submit(t.Context(), submitRequest("mbx-1", "carlo.zurzi@pec.tsrm.org"))
	if err != nil || ref != "SIM-1" {
		t.Fatalf("Submit = %q, %v; want SIM-1", ref, err)
	}
	ev := rc.next(t)
	if waited := time.Since(sent); waited < 200*time.Millisecond {
		t.Errorf("called back after %v, before the 200 ms delay", waited)
	}
	if ev.Type != provider.EventCreated || ev.Address != "carlo.zurzi@pec.tsrm.org" || ev.ProviderRef != "SIM-1" || ev.EventID == "" || ev.Reason != "" {
		t.Errorf("callback %+v", ev)
	}
	if d := time.Since(ev.OccurredAt); d < 0 || d > 5*time.Second {
		t.Errorf("occurredAt %v is not now", ev.OccurredAt)
	}
	rc.none(t, 300*time.Millisecond)
}

func TestSubmit_RejectPatternGetsRejected(t *testing.T) {
	rc := newReceiver(t)
	_, _, pc := start(t, rc, providersim.Options{Reject: regexp.MustCompile(`^rifiuta\.`)})
	if _, err := pc.Submit(t.Context(), submitRequest("mbx-1", "rifiuta.questo@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Submit(t.Context(), submitRequest("mbx-2", "accetta.questo@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	byAddress := map[string]provider.Event{}
	for range 2 {
		ev := rc.next(t)
		byAddress[ev.Address] = ev
	}
	if ev := byAddress["rifiuta.questo@pec.tsrm.org"]; ev.Type != provider.EventRejected || ev.Reason != providersim.RejectReason || ev.ProviderRef != "SIM-1" {
		t.Errorf("matching address: %+v, want mailbox.rejected with the stand-in's reason", ev)
	}
	if ev := byAddress["accetta.questo@pec.tsrm.org"]; ev.Type != provider.EventCreated {
		t.Errorf("other address: %+v, want mailbox.created", ev)
	}
}

func TestSubmit_RepeatedIsIdempotent(t *testing.T) {
	rc := newReceiver(t)
	sim, _, pc := start(t, rc, providersim.Options{Delay: 50 * time.Millisecond})
	r := submitRequest("mbx-1", "carlo.zurzi@pec.tsrm.org")
	first, err1 := pc.Submit(t.Context(), r)
	second, err2 := pc.Submit(t.Context(), r)
	if err1 != nil || err2 != nil || first != second {
		t.Fatalf("Submit twice = %q, %v and %q, %v; want the same reference", first, err1, second, err2)
	}
	rc.next(t)
	rc.none(t, 300*time.Millisecond)

	got := sim.Requests()
	if len(got) != 2 || got[0].Kind != "submit" || got[1].Kind != "submit" || got[1].ProviderRef != first {
		t.Fatalf("Requests() = %+v, want both submits", got)
	}
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), cf) {
		t.Fatalf("Requests() keeps the codice fiscale: %s", b)
	}
}

func TestSubmit_SameRequestIDOtherAddressConflicts(t *testing.T) {
	rc := newReceiver(t)
	_, _, pc := start(t, rc, providersim.Options{})
	if _, err := pc.Submit(t.Context(), submitRequest("mbx-1", "carlo.zurzi@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	_, err := pc.Submit(t.Context(), submitRequest("mbx-1", "carlo.zurzi1@pec.tsrm.org"))
	var refused *provider.ProviderRefused
	if !errors.As(err, &refused) || refused.Status != http.StatusConflict || refused.Code != "request_id_reused" {
		t.Fatalf("Submit = %v, want 409 request_id_reused", err)
	}
	rc.next(t)
	rc.none(t, 200*time.Millisecond)
}

func TestDeactivate_CallsBackDeactivated(t *testing.T) {
	rc := newReceiver(t)
	sim, _, pc := start(t, rc, providersim.Options{})
	if _, err := pc.Submit(t.Context(), submitRequest("mbx-1", "carlo.zurzi@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	created := rc.next(t)
	for range 2 {
		if err := pc.Deactivate(t.Context(), app.ProviderMailbox{RequestID: "mbx-1", Address: "carlo.zurzi@pec.tsrm.org"}, "revoked by the Order"); err != nil {
			t.Fatal(err)
		}
	}
	ev := rc.next(t)
	if ev.Type != provider.EventDeactivated || ev.Address != "carlo.zurzi@pec.tsrm.org" || ev.ProviderRef != "SIM-1" || ev.Reason != "revoked by the Order" {
		t.Errorf("callback %+v", ev)
	}
	if ev.EventID == created.EventID {
		t.Error("the deactivation reused the creation's eventId")
	}
	rc.none(t, 300*time.Millisecond) // the repeated deactivation calls back nothing
	if got := sim.Requests(); len(got) != 3 || got[2].Kind != "deactivate" || got[2].RequestID != "mbx-1" {
		t.Errorf("Requests() = %+v", got)
	}
}

func TestDeactivate_UnknownMailboxIsClosedAllTheSame(t *testing.T) {
	rc := newReceiver(t)
	_, srv, _ := start(t, rc, providersim.Options{})
	resp := do(t, srv, http.MethodPost, "/v1/mailboxes/mbx-9/deactivate", apiKey, `{"address":"a.b@pec.tsrm.org","reason":"x"}`)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d, want 204", resp.StatusCode)
	}
	if ev := rc.next(t); ev.Type != provider.EventDeactivated || ev.Address != "a.b@pec.tsrm.org" {
		t.Errorf("callback %+v", ev)
	}
}

func TestUnauthorisedRequestsAre401(t *testing.T) {
	rc := newReceiver(t)
	_, srv, _ := start(t, rc, providersim.Options{})
	body := `{"requestId":"m","address":"a.b@pec.tsrm.org","nome":"A","cognome":"B","codiceFiscale":"` + cf + `"}`
	for _, tt := range []struct{ name, method, path, key string }{
		{"no token", http.MethodPost, "/v1/mailboxes", ""},
		{"wrong token", http.MethodPost, "/v1/mailboxes", "not-the-key"},
		{"token with a suffix", http.MethodPost, "/v1/mailboxes", apiKey + "x"},
		{"deactivate without token", http.MethodPost, "/v1/mailboxes/m/deactivate", ""},
		{"list without token", http.MethodGet, "/v1/mailboxes", ""},
	} {
		if resp := do(t, srv, tt.method, tt.path, tt.key, body); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", tt.name, resp.StatusCode)
		}
	}
	pc := &provider.HTTPClient{BaseURL: srv.URL, APIKey: "wrong"}
	_, err := pc.Submit(t.Context(), submitRequest("m", "a.b@pec.tsrm.org"))
	var refused *provider.ProviderRefused
	if !errors.Is(err, provider.ErrPermanent) || !errors.As(err, &refused) || refused.Status != http.StatusUnauthorized {
		t.Errorf("adapter with a wrong key: %v, want a permanent 401", err)
	}
	rc.none(t, 200*time.Millisecond)
}

func TestEmptyAPIKeyAcceptsNothing(t *testing.T) {
	srv := httptest.NewServer(providersim.New(providersim.Options{}))
	defer srv.Close()
	if resp := do(t, srv, http.MethodGet, "/v1/mailboxes", "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
}

func TestSubmit_MalformedIs400(t *testing.T) {
	rc := newReceiver(t)
	sim, srv, _ := start(t, rc, providersim.Options{})
	valid := func(extra string) string {
		return `{"requestId":"m1","address":"a.b@pec.tsrm.org","nome":"A","cognome":"B","codiceFiscale":"` + cf + `"` + extra + `}`
	}
	tests := []struct{ name, body, code, field string }{
		{"not JSON", `requestId=m1`, "malformed", ""},
		{"array", `[]`, "malformed", ""},
		{"two objects", valid("") + valid(""), "malformed", ""},
		{"more than the provider needs", valid(`,"email":"a@b.it"`), "unknown_field", "email"},
		{"missing codice fiscale", `{"requestId":"m1","address":"a.b@pec.tsrm.org","nome":"A","cognome":"B"}`, "missing_field", "codiceFiscale"},
		{"blank nome", strings.Replace(valid(""), `"nome":"A"`, `"nome":" "`, 1), "missing_field", "nome"},
		{"wrong type", strings.Replace(valid(""), `"nome":"A"`, `"nome":1`, 1), "malformed", "nome"},
		{"address not an address", strings.Replace(valid(""), "a.b@pec.tsrm.org", "A B <a.b@pec.tsrm.org>", 1), "invalid_address", "address"},
		{"too large", valid(`,"x":"` + strings.Repeat("x", 70<<10) + `"`), "too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, srv, http.MethodPost, "/v1/mailboxes", apiKey, tt.body)
			var got struct {
				Error struct{ Code, Message, Field string }
			}
			json.NewDecoder(resp.Body).Decode(&got)
			want := http.StatusBadRequest
			if tt.code == "too_large" {
				want = http.StatusRequestEntityTooLarge
			}
			if resp.StatusCode != want || got.Error.Code != tt.code || got.Error.Field != tt.field {
				t.Fatalf("status %d %+v, want %d %s (%s)", resp.StatusCode, got.Error, want, tt.code, tt.field)
			}
		})
	}
	if n := len(sim.Requests()); n != 0 {
		t.Errorf("%d requests recorded, want none", n)
	}
	rc.none(t, 200*time.Millisecond)
}

func TestSubmit_IdempotencyKeyMustMatch(t *testing.T) {
	rc := newReceiver(t)
	_, srv, _ := start(t, rc, providersim.Options{})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/mailboxes", strings.NewReader(
		`{"requestId":"m1","address":"a.b@pec.tsrm.org","nome":"A","cognome":"B","codiceFiscale":"`+cf+`"}`))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Idempotency-Key", "m2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
}

func TestCallback_RetriedUntilTheReceiverAccepts(t *testing.T) {
	rc := newReceiver(t)
	rc.failures.Store(2)
	_, _, pc := start(t, rc, providersim.Options{CallbackBackoff: 20 * time.Millisecond})
	if _, err := pc.Submit(t.Context(), submitRequest("mbx-1", "carlo.zurzi@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	ev := rc.next(t)
	rc.mu.Lock()
	attempts := append([]string(nil), rc.attempts...)
	rc.mu.Unlock()
	if len(attempts) != 3 || attempts[0] != ev.EventID || attempts[1] != ev.EventID || attempts[2] != ev.EventID {
		t.Fatalf("attempts %q, want three with eventId %q", attempts, ev.EventID)
	}
	rc.none(t, 200*time.Millisecond)
}

func TestClose_StopsPendingCallbacks(t *testing.T) {
	rc := newReceiver(t)
	sim, _, pc := start(t, rc, providersim.Options{Delay: 300 * time.Millisecond})
	if _, err := pc.Submit(t.Context(), submitRequest("mbx-1", "carlo.zurzi@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sim.Close()
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("Close took %v, want it not to wait for the delay", d)
	}
	if _, err := pc.Submit(t.Context(), submitRequest("mbx-2", "ugo.zurzi@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	rc.none(t, 600*time.Millisecond)
}

func TestClose_StopsRetries(t *testing.T) {
	rc := newReceiver(t)
	rc.failures.Store(100)
	sim, _, pc := start(t, rc, providersim.Options{CallbackBackoff: time.Minute})
	if _, err := pc.Submit(t.Context(), submitRequest("mbx-1", "carlo.zurzi@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rc.mu.Lock()
		n := len(rc.attempts)
		rc.mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	sim.Close()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v while a callback waited to retry", d)
	}
}

func TestList(t *testing.T) {
	rc := newReceiver(t)
	_, srv, pc := start(t, rc, providersim.Options{})
	if _, err := pc.Submit(t.Context(), submitRequest("mbx-1", "carlo.zurzi@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	resp := do(t, srv, http.MethodGet, "/v1/mailboxes", apiKey, "")
	b, _ := io.ReadAll(resp.Body)
	var got []providersim.Received
	if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d body %s: %v", resp.StatusCode, b, err)
	}
	if len(got) != 1 || got[0].Kind != "submit" || got[0].RequestID != "mbx-1" || got[0].Address != "carlo.zurzi@pec.tsrm.org" || got[0].ProviderRef != "SIM-1" || got[0].At.IsZero() {
		t.Fatalf("list %s", b)
	}
	if strings.Contains(string(b), cf) {
		t.Fatalf("list carries the codice fiscale: %s", b)
	}
	rc.next(t)
}

func TestOptionsFromEnv(t *testing.T) {
	tests := []struct {
		name, delay, reject string
		wantDelay           time.Duration
		wantMatch           string // an address the pattern must match, when set
		wantErr             bool
	}{
		{name: "defaults", wantDelay: 500 * time.Millisecond},
		{name: "zero", delay: "0", wantDelay: 0},
		{name: "set", delay: "1500", reject: `^rifiuta`, wantDelay: 1500 * time.Millisecond, wantMatch: "rifiuta.me@pec.tsrm.org"},
		{name: "negative", delay: "-1", wantErr: true},
		{name: "not a number", delay: "1s", wantErr: true},
		{name: "bad pattern", reject: `(`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PROVIDER_DELAY_MS": tt.delay, "PROVIDER_REJECT": tt.reject}
			delay, reject, err := providersim.OptionsFromEnv(func(k string) string { return env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if delay != tt.wantDelay {
				t.Errorf("delay %v, want %v", delay, tt.wantDelay)
			}
			if (reject != nil) != (tt.reject != "") || (tt.wantMatch != "" && !reject.MatchString(tt.wantMatch)) {
				t.Errorf("reject %v for %q", reject, tt.reject)
			}
		})
	}
}

func do(t *testing.T, srv *httptest.Server, method, path, key, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestRenew_RecordedOncePerRenewalAndNoCallback(t *testing.T) {
	rc := newReceiver(t)
	sim, srv, pc := start(t, rc, providersim.Options{})
	if _, err := pc.Submit(t.Context(), submitRequest("mbx-1", "carlo.zurzi@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	rc.next(t)
	r := app.RenewRequest{RequestID: "mbx-1", RenewalID: "b-1", Address: "carlo.zurzi@pec.tsrm.org", ValidUntil: "2030-02-28"}
	for range 2 {
		if err := pc.Renew(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	r.RenewalID, r.ValidUntil = "b-2", "2033-02-28"
	if err := pc.Renew(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	rc.none(t, 200*time.Millisecond)
	got := sim.Requests()
	if len(got) != 3 || got[1].Kind != "renew" || got[1].ValidUntil != "2030-02-28" || got[1].ProviderRef != "SIM-1" || got[2].RenewalID != "b-2" {
		t.Errorf("Requests() = %+v", got)
	}
	if resp := do(t, srv, http.MethodPost, "/v1/mailboxes/mbx-1/renew", apiKey, `{"renewalId":"b-3","address":"carlo.zurzi@pec.tsrm.org","validUntil":"2036-02-28"}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a renewal without its Idempotency-Key: %d, want 400", resp.StatusCode)
	}
}
