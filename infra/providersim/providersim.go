// Package providersim is the local stand-in for the PEC provider (never deployed). It speaks the
// provider contract of package provider: it accepts every well-formed request and, after a delay,
// calls the platform back with a signed event, as a real provider would once the mailbox exists.
package providersim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pecplatform/pec/shared/provider"
)

// Defaults.
const (
	DefaultDelay           = 500 * time.Millisecond
	DefaultCallbackBackoff = 500 * time.Millisecond
	// RejectReason is the reason of the mailbox.rejected events the stand-in sends.
	RejectReason = "rejected by the provider stand-in"

	callbackAttempts = 5
	callbackTimeout  = 5 * time.Second
	maxBody          = 64 << 10
)

// Options configure a Sim.
type Options struct {
	CallbackURL string         // e.g. http://127.0.0.1:3000/v1/provider/callback; no callbacks when empty
	Secret      []byte         // shared HMAC secret for signing callbacks
	APIKey      string         // bearer token required on every request (401 otherwise, always when empty)
	Delay       time.Duration  // from request to callback; used as given, 0 calls back at once (see OptionsFromEnv)
	Reject      *regexp.Regexp // addresses matching it get mailbox.rejected instead of mailbox.created
	Logger      *slog.Logger   // discards when nil
	// CallbackBackoff is the wait before the second callback attempt, doubling after each
	// failure (5 attempts in all); DefaultCallbackBackoff when zero.
	CallbackBackoff time.Duration
}

// Received is one request the stand-in accepted. It never holds the codice fiscale.
type Received struct {
	Kind        string    `json:"kind"` // "submit", "deactivate" or "renew"
	RequestID   string    `json:"requestId"`
	Address     string    `json:"address"`
	ProviderRef string    `json:"providerRef"`
	ValidUntil  string    `json:"validUntil,omitempty"` // renew: the new last day of validity
	RenewalID   string    `json:"renewalId,omitempty"`  // renew: the platform's renewal batch
	At          time.Time `json:"at"`
	// Documents are the self-service request's documents the stand-in downloaded and checked.
	Documents []ReceivedDocument `json:"documents,omitempty"`
	// Fields are the names of the fields the submit carried, sorted ("documents[].url" for a
	// document's): what the platform tells the provider, without the values.
	Fields []string `json:"fields,omitempty"`
}

// ReceivedDocument is a document downloaded from its link, its size and SHA-256 checked.
type ReceivedDocument struct {
	Kind        string `json:"kind"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
}

// Sim is the stand-in, an http.Handler. Close it to stop the callbacks still pending.
type Sim struct {
	o      Options
	log    *slog.Logger
	mux    *http.ServeMux
	client *http.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	down      bool // every request answered 503, as a provider in an outage
	refs      int
	refused   int
	mailboxes map[string]*mailbox // by requestId
	renewals  map[string]bool     // Idempotency-Keys of the renewals done
	received  []Received
}

type mailbox struct {
	ref         string
	address     string
	deactivated bool
}

// New returns a stand-in configured by o.
func New(o Options) *Sim {
	if o.CallbackBackoff <= 0 {
		o.CallbackBackoff = DefaultCallbackBackoff
	}
	s := &Sim{
		o:         o,
		log:       o.Logger,
		mux:       http.NewServeMux(),
		client:    &http.Client{Timeout: callbackTimeout},
		mailboxes: map[string]*mailbox{},
		renewals:  map[string]bool{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if len(o.Secret) == 0 {
		s.log.Warn("provider stand-in: no callback secret; the platform will refuse every callback")
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mux.HandleFunc("POST /v1/mailboxes", s.submit)
	s.mux.HandleFunc("POST /v1/mailboxes/{requestId}/deactivate", s.deactivate)
	s.mux.HandleFunc("POST /v1/mailboxes/{requestId}/renew", s.renew)
	s.mux.HandleFunc("GET /v1/mailboxes", s.list)
	return s
}

// OptionsFromEnv reads PROVIDER_DELAY_MS (milliseconds, default 500) and PROVIDER_REJECT (a
// regular expression matched anywhere in the address, none by default).
func OptionsFromEnv(getenv func(string) string) (delay time.Duration, reject *regexp.Regexp, err error) {
	delay = DefaultDelay
	if v := strings.TrimSpace(getenv("PROVIDER_DELAY_MS")); v != "" {
		ms, err := strconv.ParseInt(v, 10, 32)
		if err != nil || ms < 0 {
			return 0, nil, fmt.Errorf("PROVIDER_DELAY_MS=%q: want a number of milliseconds", v)
		}
		delay = time.Duration(ms) * time.Millisecond
	}
	if v := getenv("PROVIDER_REJECT"); v != "" {
		if reject, err = regexp.Compile(v); err != nil {
			return 0, nil, fmt.Errorf("PROVIDER_REJECT: %w", err)
		}
	}
	return delay, reject, nil
}

// SetDown makes the stand-in answer every request 503 (down) or serve again (up). Requests
// refused while down are not received: they are lost unless the platform retries them.
func (s *Sim) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// Refused counts the requests answered 503 because the stand-in was down.
func (s *Sim) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	if down {
		s.refused++
	}
	s.mu.Unlock()
	if down {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the provider is down for maintenance", "")
		return
	}
	if !s.authorised(r) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required", "")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Sim) authorised(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.o.APIKey != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.o.APIKey)) == 1
}

// Requests returns what the stand-in accepted, oldest first.
func (s *Sim) Requests() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Close stops the callbacks not yet delivered and waits for them to give up. Requests served
// afterwards are answered but never called back.
func (s *Sim) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

func (s *Sim) submit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the body is too large", "")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req provider.SubmitRequest
	if !decode(w, r, &req) {
		return
	}
	for _, f := range []struct{ name, value string }{
		{"requestId", req.RequestID}, {"address", req.Address}, {"nome", req.Nome},
		{"cognome", req.Cognome}, {"codiceFiscale", req.CodiceFiscale},
	} {
		if strings.TrimSpace(f.value) == "" {
			writeError(w, http.StatusBadRequest, "missing_field", f.name+" is required", f.name)
			return
		}
	}
	if !isAddress(req.Address) {
		writeError(w, http.StatusBadRequest, "invalid_address", "address must be an e-mail address", "address")
		return
	}
	if k := r.Header.Get("Idempotency-Key"); k != "" && k != req.RequestID {
		writeError(w, http.StatusBadRequest, "idempotency_key_mismatch", "Idempotency-Key must equal requestId", "requestId")
		return
	}

	docs, err := s.download(r.Context(), req.Documents)
	if err != nil {
		// As a real provider would: the request waits for its documents (retried later).
		s.log.WarnContext(r.Context(), "provider stand-in: documents unavailable", "requestId", req.RequestID, "error", err)
		writeError(w, http.StatusServiceUnavailable, "documents_unavailable", "the documents could not be downloaded", "documents")
		return
	}

	s.mu.Lock()
	mb, repeated := s.mailboxes[req.RequestID]
	if repeated && mb.address != req.Address {
		s.mu.Unlock()
		writeError(w, http.StatusConflict, "request_id_reused", "this requestId was submitted with another address", "requestId")
		return
	}
	if !repeated {
		s.refs++
		mb = &mailbox{ref: "SIM-" + strconv.Itoa(s.refs), address: req.Address}
		s.mailboxes[req.RequestID] = mb
	}
	s.received = append(s.received, Received{Kind: "submit", RequestID: req.RequestID, Address: req.Address, ProviderRef: mb.ref,
		At: time.Now().UTC(), Documents: docs, Fields: fieldNames(body)})
	s.mu.Unlock()

	s.log.InfoContext(r.Context(), "provider stand-in: submit", "requestId", req.RequestID, "address", req.Address, "providerRef", mb.ref, "repeated", repeated)
	if !repeated {
		ev := provider.Event{Type: provider.EventCreated, Address: req.Address, ProviderRef: mb.ref}
		if s.o.Reject != nil && s.o.Reject.MatchString(req.Address) {
			ev.Type, ev.Reason = provider.EventRejected, RejectReason
		}
		s.callBack(ev)
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"providerRef": mb.ref})
}

// download fetches each document from its link and checks its size and SHA-256.
func (s *Sim) download(ctx context.Context, docs []provider.Document) ([]ReceivedDocument, error) {
	var out []ReceivedDocument
	for _, d := range docs {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Kind, err)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Kind, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(resp.Body, d.Size+1))
		resp.Body.Close()
		switch {
		case err != nil:
			return nil, fmt.Errorf("%s: %w", d.Kind, err)
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("%s: HTTP %d", d.Kind, resp.StatusCode)
		case n != d.Size || hex.EncodeToString(h.Sum(nil)) != d.SHA256:
			return nil, fmt.Errorf("%s: %d bytes that do not match the SHA-256 announced", d.Kind, n)
		}
		out = append(out, ReceivedDocument{Kind: d.Kind, ContentType: d.ContentType, Size: n})
	}
	return out, nil
}

// knownMailbox returns the mailbox of requestId id, or false when id was submitted with another
// address. A mailbox the stand-in never saw (it keeps nothing across restarts) is taken as
// known, so that a local run survives restarting it. s.mu must be held.
func (s *Sim) knownMailbox(id, address string) (*mailbox, bool) {
	mb, known := s.mailboxes[id]
	if known && mb.address != address {
		return nil, false
	}
	if !known {
		mb = &mailbox{address: address}
		s.mailboxes[id] = mb
	}
	return mb, true
}

func (s *Sim) deactivate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("requestId")
	var req struct {
		Address string `json:"address"`
		Reason  string `json:"reason"`
	}
	if !decode(w, r, &req) {
		return
	}
	if !isAddress(req.Address) {
		writeError(w, http.StatusBadRequest, "invalid_address", "address must be an e-mail address", "address")
		return
	}

	s.mu.Lock()
	mb, ok := s.knownMailbox(id, req.Address)
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusConflict, "address_mismatch", "this requestId was submitted with another address", "address")
		return
	}
	repeated := mb.deactivated
	mb.deactivated = true
	s.received = append(s.received, Received{Kind: "deactivate", RequestID: id, Address: req.Address, ProviderRef: mb.ref, At: time.Now().UTC()})
	s.mu.Unlock()

	s.log.InfoContext(r.Context(), "provider stand-in: deactivate", "requestId", id, "address", req.Address, "repeated", repeated)
	if !repeated {
		s.callBack(provider.Event{Type: provider.EventDeactivated, Address: req.Address, ProviderRef: mb.ref, Reason: req.Reason})
	}
	w.WriteHeader(http.StatusNoContent)
}

// renew extends a mailbox's validity, once per Idempotency-Key: a repeated key is answered the
// same and not recorded again, so Requests shows each renewal once.
func (s *Sim) renew(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("requestId")
	var req struct {
		RenewalID  string `json:"renewalId"`
		Address    string `json:"address"`
		ValidUntil string `json:"validUntil"`
	}
	if !decode(w, r, &req) {
		return
	}
	if !isAddress(req.Address) {
		writeError(w, http.StatusBadRequest, "invalid_address", "address must be an e-mail address", "address")
		return
	}
	if _, err := time.Parse(time.DateOnly, req.ValidUntil); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_date", "validUntil must be a date YYYY-MM-DD", "validUntil")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if strings.TrimSpace(req.RenewalID) == "" || key != req.RenewalID+":"+id {
		writeError(w, http.StatusBadRequest, "idempotency_key_mismatch", "Idempotency-Key must be <renewalId>:<requestId>", "renewalId")
		return
	}

	s.mu.Lock()
	mb, ok := s.knownMailbox(id, req.Address)
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusConflict, "address_mismatch", "this requestId was submitted with another address", "address")
		return
	}
	repeated := s.renewals[key]
	if !repeated {
		s.renewals[key] = true
		s.received = append(s.received, Received{Kind: "renew", RequestID: id, Address: req.Address, ProviderRef: mb.ref,
			ValidUntil: req.ValidUntil, RenewalID: req.RenewalID, At: time.Now().UTC()})
	}
	s.mu.Unlock()

	s.log.InfoContext(r.Context(), "provider stand-in: renew", "requestId", id, "address", req.Address, "validUntil", req.ValidUntil, "repeated", repeated)
	writeJSON(w, http.StatusOK, map[string]string{"providerRef": mb.ref, "validUntil": req.ValidUntil})
}

func (s *Sim) list(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Requests())
}

// callBack delivers ev after the delay, in the background, with a fresh eventId kept across
// the retries so that the platform can recognise a repeat.
func (s *Sim) callBack(ev provider.Event) {
	if s.o.CallbackURL == "" {
		s.log.Warn("provider stand-in: no callback URL, event not sent", "type", ev.Type, "address", ev.Address)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	ev.EventID = "sim-" + rand.Text()
	s.wg.Go(func() {
		if !sleep(s.ctx, s.o.Delay) {
			return
		}
		ev.OccurredAt = time.Now().UTC()
		body, _ := json.Marshal(ev) // strings and a time: cannot fail
		wait := s.o.CallbackBackoff
		for attempt := 1; ; attempt++ {
			status, err := s.post(body)
			if err == nil && status/100 == 2 {
				s.log.Info("provider stand-in: callback delivered", "eventId", ev.EventID, "type", ev.Type, "address", ev.Address, "attempt", attempt, "status", status)
				return
			}
			if s.ctx.Err() != nil {
				return
			}
			s.log.Warn("provider stand-in: callback failed", "eventId", ev.EventID, "type", ev.Type, "attempt", attempt, "status", status, "error", errString(err))
			if attempt == callbackAttempts {
				s.log.Error("provider stand-in: callback abandoned", "eventId", ev.EventID, "type", ev.Type, "address", ev.Address)
				return
			}
			if !sleep(s.ctx, wait) {
				return
			}
			wait *= 2
		}
	})
}

// post sends one signed attempt, signed afresh so that a late retry is not stale.
func (s *Sim) post(body []byte) (int, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.o.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(provider.SignatureHeader, provider.Sign(s.o.Secret, time.Now(), body))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, nil
}

// sleep waits d, or less when ctx ends first; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// decode reads a JSON object with only the expected fields, as the provider contract asks the
// platform to send nothing more than needed; it answers the error itself and reports success.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data")
	}
	if err == nil {
		return true
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the body is too large", "")
		return false
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		writeError(w, http.StatusBadRequest, "malformed", "wrong JSON type", te.Field)
		return false
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f, _ = strconv.Unquote(f)
		writeError(w, http.StatusBadRequest, "unknown_field", "the provider contract has no such field", f)
		return false
	}
	writeError(w, http.StatusBadRequest, "malformed", "the body must be one JSON object", "")
	return false
}

// fieldNames lists the fields of a JSON object, and of the objects in its arrays as
// "<array>[].<field>", sorted and each once.
func fieldNames(body []byte) []string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return nil
	}
	seen := map[string]bool{}
	for k, v := range obj {
		seen[k] = true
		var elems []map[string]json.RawMessage
		if json.Unmarshal(v, &elems) == nil {
			for _, e := range elems {
				for f := range e {
					seen[k+"[]."+f] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

func isAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s && !strings.ContainsAny(s, "\r\n<>,; \t")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message, field string) {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	}
	writeJSON(w, status, map[string]body{"error": {Code: code, Message: message, Field: field}})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
