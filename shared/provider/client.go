package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/httpretry"
)

// SubmitRequest is the body of a submission (app.SubmitRequest on the wire).
type SubmitRequest struct {
	RequestID     string `json:"requestId"` // our mailbox id; the provider deduplicates on it
	Address       string `json:"address"`
	Nome          string `json:"nome"`
	Cognome       string `json:"cognome"`
	CodiceFiscale string `json:"codiceFiscale"` // the holder's identity, required by providers for a PEC contract
	// Documents are the signed subscription form and the identity document of a member's
	// self-service request (none for a mailbox the Order authorised and paid).
	Documents []Document `json:"documents,omitempty"`
}

// Document is a document the provider downloads from a link that expires (app.ProviderDocument
// on the wire).
type Document struct {
	Kind        string    `json:"kind"` // form or identity
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	URL         string    `json:"url"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

// RenewRequest is the body of a renewal (app.RenewRequest on the wire).
type RenewRequest struct {
	RequestID   string `json:"-"`          // our mailbox id, as submitted
	ProviderRef string `json:"-"`          // not part of this protocol
	RenewalID   string `json:"renewalId"`  // our renewal batch id
	Address     string `json:"address"`    // the mailbox, as a check
	ValidUntil  string `json:"validUntil"` // YYYY-MM-DD, the new last day of validity
}

// ErrPermanent is wrapped by every error the provider will not accept however often it is
// retried: a 4xx other than 408 and 429, a malformed answer, a request that cannot be built.
var ErrPermanent = app.ErrProviderRefused

// ProviderRefused is the error for a request the provider refused for good. It wraps
// ErrPermanent. Its type name is what Step Functions sees as the error name (States can Catch
// "ProviderRefused"). Code and Field come from the provider's error body when they look like
// machine codes; the provider's free text is never kept, as it might quote personal data.
type ProviderRefused struct {
	Op     string // "submit", "deactivate" or "renew"
	Status int    // HTTP status; 0 when the answer or the request itself was unusable
	Code   string
	Field  string
	Detail string // our own description, for answers that are not a refusal status
}

func (e *ProviderRefused) Error() string {
	var b strings.Builder
	b.WriteString("provider refused " + e.Op)
	if e.Status != 0 {
		b.WriteString(": status " + strconv.Itoa(e.Status))
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Field != "" {
		b.WriteString(" (" + e.Field + ")")
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

func (e *ProviderRefused) Unwrap() error { return ErrPermanent }

// ProviderUnavailable is the error once every attempt has failed on a 5xx, 408 or 429 answer,
// a network error or a timeout. The workflow retries it later: Step Functions matches its type
// name, "ProviderUnavailable", in Retry, so return it unwrapped from the task's handler.
type ProviderUnavailable struct {
	Op       string // "submit" or "deactivate"
	Attempts int
	Status   int   // the last HTTP status; 0 when the last attempt got no answer
	Err      error // the last network error or timeout, if any
}

func (e *ProviderUnavailable) Error() string {
	msg := fmt.Sprintf("provider unavailable: %s failed after %d attempts", e.Op, e.Attempts)
	if e.Status != 0 {
		msg += ": last status " + strconv.Itoa(e.Status)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ProviderUnavailable) Unwrap() error { return e.Err }

// Defaults for the zero values of HTTPClient's fields.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultAttempts = 4
	DefaultBackoff  = 200 * time.Millisecond
	maxResponse     = 64 << 10
)

// HTTPClient is the Provider that speaks the provider contract (see the package documentation).
type HTTPClient struct {
	BaseURL  string
	APIKey   string
	Timeout  time.Duration // per attempt; DefaultTimeout when zero
	Attempts int           // DefaultAttempts when zero
	Backoff  time.Duration // longest wait before the second attempt, doubling, with jitter, up to 30 s; DefaultBackoff when zero
	Client   *http.Client  // http.DefaultClient when nil
	Logger   *slog.Logger  // retries are logged here when set; never the codice fiscale nor the key
}

var _ app.Provider = (*HTTPClient)(nil)

type submitResponse struct {
	ProviderRef string `json:"providerRef"`
}

type deactivateRequest struct {
	Address string `json:"address"`
	Reason  string `json:"reason"`
}

// Submit implements app.Provider.
func (c *HTTPClient) Submit(ctx context.Context, in app.SubmitRequest) (string, error) {
	if in.RequestID == "" {
		return "", &ProviderRefused{Op: "submit", Detail: "empty request id"}
	}
	r := SubmitRequest{RequestID: in.RequestID, Address: in.Address, Nome: in.Nome, Cognome: in.Cognome, CodiceFiscale: in.CodiceFiscale}
	for _, d := range in.Documents {
		r.Documents = append(r.Documents, Document(d))
	}
	body, err := json.Marshal(r)
	if err != nil {
		return "", &ProviderRefused{Op: "submit", Detail: "cannot encode the request"}
	}
	res, err := c.do(ctx, "submit", "/v1/mailboxes", r.RequestID, body)
	if err != nil {
		return "", err
	}
	switch res.status {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted:
		var out submitResponse
		if err := json.Unmarshal(res.body, &out); err != nil || out.ProviderRef == "" {
			return "", &ProviderRefused{Op: "submit", Detail: "answer without providerRef"}
		}
		return out.ProviderRef, nil
	}
	return "", refused("submit", res)
}

// Deactivate implements app.Provider. A provider that does not know the mailbox (404) has nothing to
// close, which is what was asked.
func (c *HTTPClient) Deactivate(ctx context.Context, mb app.ProviderMailbox, reason string) error {
	requestID, address := mb.RequestID, mb.Address
	if requestID == "" {
		return &ProviderRefused{Op: "deactivate", Detail: "empty request id"}
	}
	body, err := json.Marshal(deactivateRequest{Address: address, Reason: reason})
	if err != nil {
		return &ProviderRefused{Op: "deactivate", Detail: "cannot encode the request"}
	}
	res, err := c.do(ctx, "deactivate", "/v1/mailboxes/"+url.PathEscape(requestID)+"/deactivate", "", body)
	if err != nil {
		return err
	}
	switch res.status {
	case http.StatusOK, http.StatusAccepted, http.StatusNoContent, http.StatusNotFound:
		return nil
	}
	return refused("deactivate", res)
}

// Renew implements app.Provider. A provider that does not know the mailbox refuses it for good.
func (c *HTTPClient) Renew(ctx context.Context, in app.RenewRequest) error {
	r := RenewRequest(in)
	if r.RequestID == "" || r.RenewalID == "" {
		return &ProviderRefused{Op: "renew", Detail: "empty request or renewal id"}
	}
	body, err := json.Marshal(r)
	if err != nil {
		return &ProviderRefused{Op: "renew", Detail: "cannot encode the request"}
	}
	res, err := c.do(ctx, "renew", "/v1/mailboxes/"+url.PathEscape(r.RequestID)+"/renew", r.RenewalID+":"+r.RequestID, body)
	if err != nil {
		return err
	}
	switch res.status {
	case http.StatusOK, http.StatusAccepted, http.StatusNoContent:
		return nil
	}
	return refused("renew", res)
}

type response struct {
	status int
	body   []byte
	header http.Header
}

// do posts body until the provider gives an answer that is not worth retrying, which it returns
// whatever its status; it returns an error only when the attempts are exhausted or ctx is done.
func (c *HTTPClient) do(ctx context.Context, op, path, idempotencyKey string, body []byte) (response, error) {
	endpoint := strings.TrimRight(c.BaseURL, "/") + path
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return response{}, &ProviderRefused{Op: op, Detail: "the base URL is not an http(s) URL"}
	}
	var res response
	last := &ProviderUnavailable{Op: op}
	policy := httpretry.Policy{
		Attempts: orDefault(c.Attempts, DefaultAttempts),
		Backoff:  orDefault(c.Backoff, DefaultBackoff),
		Timeout:  orDefault(c.Timeout, DefaultTimeout),
	}
	if c.Logger != nil {
		policy.OnRetry = func(ctx context.Context, attempt int, wait time.Duration, _ error) {
			c.Logger.WarnContext(ctx, "provider call failed, retrying",
				"op", op, "attempt", attempt, "status", last.Status, "error", errString(last.Err), "wait", wait)
		}
	}
	err := policy.Do(ctx, func(ctx context.Context) error {
		var err error
		res, err = c.attempt(ctx, endpoint, idempotencyKey, body)
		last.Status, last.Err = res.status, err
		switch {
		case err != nil:
			return httpretry.Again(err, nil)
		case retryable(res.status):
			return httpretry.Again(fmt.Errorf("status %d", res.status), res.header)
		}
		return nil
	})
	var stop *httpretry.Error
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &stop) && stop.Ctx == nil:
		last.Attempts = stop.Attempts
		return response{}, last
	}
	return response{}, fmt.Errorf("provider %s: %w", op, context.Cause(ctx))
}

// attempt makes one request.
func (c *HTTPClient) attempt(ctx context.Context, endpoint, idempotencyKey string, body []byte) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return response{}, errors.New("cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{}, transportError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return response{}, transportError(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse)) // lets the connection be reused
	return response{status: resp.StatusCode, body: b, header: resp.Header}, nil
}

// transportError drops the URL that net/http puts in its errors: the base URL is configuration
// that might carry a credential, and the cause is what matters.
func transportError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		if ue.Timeout() {
			return errors.New("timeout")
		}
		return ue.Err
	}
	return err
}

func retryable(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// The provider's error code and field are kept only when they look like identifiers and hold
// nothing shaped like a codice fiscale.
var (
	errorCode     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	errorField    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_.]{0,63}$`)
	codiceFiscale = regexp.MustCompile(`(?i)[a-z]{6}[0-9lmnp-v]{2}[a-z][0-9lmnp-v]{2}[a-z][0-9lmnp-v]{3}[a-z]`)
)

func refused(op string, res response) error {
	e := &ProviderRefused{Op: op, Status: res.status}
	var body struct {
		Error struct {
			Code  string `json:"code"`
			Field string `json:"field"`
		} `json:"error"`
	}
	if json.Unmarshal(res.body, &body) == nil {
		if errorCode.MatchString(body.Error.Code) && !codiceFiscale.MatchString(body.Error.Code) {
			e.Code = body.Error.Code
		}
		if errorField.MatchString(body.Error.Field) && !codiceFiscale.MatchString(body.Error.Field) {
			e.Field = body.Error.Field
		}
	}
	return e
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
