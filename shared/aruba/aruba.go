// Package aruba is the platform's adapter for the Aruba PEC partner REST API: the provider of
// the seeds' mailboxes. It implements app.Provider, app.ProviderStatusReader (Aruba calls
// nobody back: the platform asks) and app.AddressChecker. It knows nothing of AWS.
//
// What it sends, operation by operation (the contract is infra/contracts/aruba-partner.yaml,
// written from Aruba's published documents):
//
//   - token: POST /public/auth/v2/token {username, password}, then
//     POST /public/auth/v2/refresh {refreshToken} before the access token expires; every other
//     call carries "Authorization: Bearer <accessToken>".
//   - Submit: the holder as an owner of type PRIVATO (name, surname, taxCode: Aruba requires the
//     codice fiscale, coherent with the names), found by POST .../v2/owners/search {taxCode} or
//     created by POST .../v2/owners; then POST .../v3/accounts {name: the address, type:
//     AccountType, ownerId: {id}, renewalData: {type: S, duration: Years}}. The provider's
//     reference is the account's full name, by which Aruba names it in every other call.
//   - Status: POST .../v3/accounts/info {name, loadExtraData: true}.
//   - AddressAvailable: POST .../v3/accounts/accountAvailable {name: the local part, domain,
//     taxCode}.
//   - Deactivate: POST .../v3/accounts/cancellation {name, type: I} (at once: a revoked mailbox
//     must stop being anyone's domicilio digitale).
//   - Renew: POST .../v3/accounts/renew {name, renewalData: {type: S, duration}}.
package aruba

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/httpretry"
)

var (
	_ app.Provider             = (*Client)(nil)
	_ app.ProviderStatusReader = (*Client)(nil)
	_ app.AddressChecker       = (*Client)(nil)
)

// Credentials are the partner's login.
type Credentials struct{ Username, Password string }

// Defaults.
const (
	DefaultAccountType = "EMAIL"
	DefaultAttempts    = 4
	DefaultBackoff     = 500 * time.Millisecond
	DefaultTimeout     = 10 * time.Second
)

// Client calls the Aruba partner API at BaseURL. It is safe for concurrent use.
type Client struct {
	BaseURL     string                                         // e.g. https://publicapi-areaclienti.arubapec.it/service
	Credentials func(ctx context.Context) (Credentials, error) // read at each token request: rotated secrets are used
	// AccountType is the account type created (DefaultAccountType when empty; GET
	// .../v3/accounts/types lists the partner's); Years the contract's duration, 1 to 5 (1
	// when zero).
	AccountType string
	Years       int
	HTTP        *http.Client
	Now         func() time.Time
	Logger      *slog.Logger
	// Attempts, Backoff and Timeout tune the retries of a call that failed for a reason worth
	// another try (the defaults when zero).
	Attempts int
	Backoff  time.Duration
	Timeout  time.Duration

	mu  sync.Mutex
	tok token
}

type token struct {
	access, refresh         string
	expires, refreshExpires time.Time
}

// Validate says which setting is wrong.
func (c *Client) Validate() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errors.New("aruba: BaseURL is not an http(s) URL")
	case c.Credentials == nil:
		return errors.New("aruba: no credentials")
	case c.Years < 0 || c.Years > 5:
		return errors.New("aruba: Years must be 1 to 5")
	}
	return nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Refused is a request Aruba refused for good: a 4xx other than 408 and 429, or an answer the
// client cannot use. It wraps app.ErrProviderRefused; its type name is the error name Step
// Functions sees. Code and Field are Aruba's machine codes; its free text is never kept.
type Refused struct {
	Op     string
	Status int
	Code   string
	Field  string
	Detail string
}

func (e *Refused) Error() string {
	s := "aruba refused " + e.Op
	if e.Status != 0 {
		s += ": status " + strconv.Itoa(e.Status)
	}
	if e.Code != "" {
		s += ": code " + e.Code
	}
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *Refused) Unwrap() error { return app.ErrProviderRefused }

// Unavailable is a call that failed every attempt for a reason worth trying again later
// (network, 408, 429, 5xx): the state machine's retry, or the next poll, tries again.
type Unavailable struct {
	Op     string
	Status int
	Err    error
}

func (e *Unavailable) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("aruba unavailable for %s: status %d", e.Op, e.Status)
	}
	return fmt.Sprintf("aruba unavailable for %s: %v", e.Op, e.Err)
}

// retryable reports whether a status is worth another attempt.
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// wire types (the contract's schemas; only the fields used).
type (
	restError struct {
		Code            string `json:"code"`
		ValidationError *struct {
			Field string `json:"field"`
			Code  string `json:"code"`
		} `json:"validationError"`
	}
	envelope struct {
		Data    json.RawMessage `json:"data"`
		Version string          `json:"version"`
		Errors  []restError     `json:"errors"`
	}
	tokenModel struct {
		AccessToken      string `json:"accessToken"`
		ExpiresIn        int64  `json:"expiresIn"`
		RefreshToken     string `json:"refreshToken"`
		RefreshExpiresIn int64  `json:"refreshExpiresIn"`
	}
	owner struct {
		ID       int64  `json:"id,omitempty"`
		UserType string `json:"userType"`
		Name     string `json:"name"`
		Surname  string `json:"surname"`
		TaxCode  string `json:"taxCode"`
	}
	ownerPage struct {
		Content []owner `json:"content"`
	}
	ownerID struct {
		ID int64 `json:"id"`
	}
	renewalData struct {
		Type     string `json:"type"`
		Duration int    `json:"duration"`
	}
	accountCreate struct {
		Name        string      `json:"name"`
		Type        string      `json:"type"`
		OwnerID     ownerID     `json:"ownerId"`
		RenewalData renewalData `json:"renewalData"`
	}
	infoQuota struct {
		Type    string `json:"type"`
		Base    int64  `json:"base"`
		Extra   int64  `json:"extra"`
		Massive int64  `json:"massive"`
		Used    *int64 `json:"used"`
	}
	account struct {
		Name    string      `json:"name"`
		Status  string      `json:"status"`
		Quotas  []infoQuota `json:"quotas"`
		Owner   owner       `json:"owner"`
		EndDate string      `json:"endDate"`
	}
	available struct {
		AccountExists       bool `json:"accountExists"`
		IsAccountAssignable bool `json:"isAccountAssignable"`
	}
)

// Account statuses (Aruba's).
const (
	StatusCertified             = "CERTIFICATO"                // the mailbox exists and works
	StatusToCertify             = "DA_CERTIFICARE"             // requested, not yet created
	StatusCancellationRequested = "RICHIESTA_DISDETTA"         // closing
	StatusCancellationSuspended = "RICHIESTA_DISDETTA_SOSPESA" // closing, suspended
)

// outcome maps Aruba's status to the platform's provider outcome ("" while pending).
func outcome(status string) string {
	switch status {
	case StatusCertified:
		return app.ProviderCreated
	case StatusToCertify:
		return ""
	case StatusCancellationRequested, StatusCancellationSuspended:
		return app.ProviderDeactivated
	}
	return app.ProviderRejected // a status info never reports for a live request
}

// Submit implements app.Provider: the owner found or created, then the account. A retried
// Submit finds the account it created before and returns it.
func (c *Client) Submit(ctx context.Context, r app.SubmitRequest) (string, error) {
	if r.Address == "" || r.CodiceFiscale == "" || r.Nome == "" || r.Cognome == "" {
		return "", &Refused{Op: "submit", Detail: "address, names and codice fiscale are required"}
	}
	acc, status, err := c.info(ctx, r.Address)
	switch {
	case err != nil:
		return "", err
	case status == http.StatusOK:
		if !strings.EqualFold(acc.Owner.TaxCode, r.CodiceFiscale) {
			return "", &Refused{Op: "submit", Status: http.StatusConflict, Code: "account_of_another_owner"}
		}
		return acc.Name, nil // created by an earlier attempt
	}
	id, err := c.ownerFor(ctx, r)
	if err != nil {
		return "", err
	}
	var created account
	if _, err := c.call(ctx, "submit", "/public/partner/pec/v3/accounts", accountCreate{
		Name: r.Address, Type: c.accountType(), OwnerID: ownerID{ID: id},
		RenewalData: renewalData{Type: "S", Duration: c.years()},
	}, &created, nil); err != nil {
		return "", err
	}
	return cmpOr(created.Name, r.Address), nil
}

func (c *Client) accountType() string { return cmpOr(c.AccountType, DefaultAccountType) }
func (c *Client) years() int {
	if c.Years == 0 {
		return 1
	}
	return c.Years
}

// ownerFor finds the holder among the partner's owners by codice fiscale, or registers them.
func (c *Client) ownerFor(ctx context.Context, r app.SubmitRequest) (int64, error) {
	var page ownerPage
	if _, err := c.call(ctx, "owner search", "/public/partner/pec/v2/owners/search", map[string]string{"taxCode": r.CodiceFiscale}, &page, nil); err != nil {
		return 0, err
	}
	for _, o := range page.Content {
		if strings.EqualFold(o.TaxCode, r.CodiceFiscale) && o.ID != 0 {
			return o.ID, nil
		}
	}
	var o owner
	if _, err := c.call(ctx, "owner create", "/public/partner/pec/v2/owners",
		owner{UserType: "PRIVATO", Name: r.Nome, Surname: r.Cognome, TaxCode: r.CodiceFiscale}, &o, nil); err != nil {
		return 0, err
	}
	if o.ID == 0 {
		return 0, &Refused{Op: "owner create", Detail: "answer without the owner's id"}
	}
	return o.ID, nil
}

// info reads an account; status is 404 (and err nil) for an account info does not show.
func (c *Client) info(ctx context.Context, name string) (account, int, error) {
	var acc account
	status, err := c.call(ctx, "info", "/public/partner/pec/v3/accounts/info",
		map[string]any{"name": name, "loadExtraData": true}, &acc, []int{http.StatusNotFound})
	return acc, status, err
}

// Status implements app.ProviderStatusReader. An account info does not show (404) is neither
// being created nor alive: for a mailbox still waiting on Aruba, Aruba refused it.
func (c *Client) Status(ctx context.Context, mb app.ProviderMailbox) (app.ProviderStatus, error) {
	name := cmpOr(mb.ProviderRef, mb.Address)
	acc, status, err := c.info(ctx, name)
	if err != nil {
		return app.ProviderStatus{}, err
	}
	if status == http.StatusNotFound {
		return app.ProviderStatus{Outcome: app.ProviderRejected, State: "not_found", Reason: "unknown to aruba"}, nil
	}
	st := app.ProviderStatus{Outcome: outcome(acc.Status), ProviderRef: acc.Name, State: acc.Status}
	for _, q := range acc.Quotas {
		if q.Type == "INBOX" && q.Used != nil {
			const gb = 1 << 30
			st.Quota = &app.Quota{UsedBytes: *q.Used * gb, LimitBytes: (q.Base + q.Extra + q.Massive) * gb}
		}
	}
	return st, nil
}

// AddressAvailable implements app.AddressChecker: free unless an account of that name exists
// that cannot be assigned to the holder.
func (c *Client) AddressAvailable(ctx context.Context, address string, holder app.ProviderHolder) (bool, error) {
	local, domain, ok := strings.Cut(address, "@")
	if !ok || local == "" || domain == "" {
		return false, &Refused{Op: "accountAvailable", Detail: "not an address"}
	}
	in := map[string]string{"name": local, "domain": domain}
	if holder.CodiceFiscale != "" {
		in["taxCode"] = holder.CodiceFiscale
	}
	var a available
	if _, err := c.call(ctx, "accountAvailable", "/public/partner/pec/v3/accounts/accountAvailable", in, &a, nil); err != nil {
		return false, err
	}
	return !a.AccountExists || a.IsAccountAssignable, nil
}

// Deactivate implements app.Provider: the account cancelled at once. An account Aruba does not
// know has nothing to cancel.
func (c *Client) Deactivate(ctx context.Context, mb app.ProviderMailbox, _ string) error {
	_, err := c.call(ctx, "cancellation", "/public/partner/pec/v3/accounts/cancellation",
		map[string]string{"name": cmpOr(mb.ProviderRef, mb.Address), "type": "I"}, nil, []int{http.StatusNotFound})
	return err
}

// Renew implements app.Provider: the contract renewed for the years up to r.ValidUntil (1 to
// 5). Aruba's renew takes no idempotency key, so an account whose end date already reaches
// r.ValidUntil (a retry after a lost answer) is not renewed again.
func (c *Client) Renew(ctx context.Context, r app.RenewRequest) error {
	until, err := time.Parse("2006-01-02", r.ValidUntil)
	if err != nil {
		return &Refused{Op: "renew", Detail: "validUntil is not a date"}
	}
	name := cmpOr(r.ProviderRef, r.Address)
	acc, status, err := c.info(ctx, name)
	if err != nil {
		return err
	}
	if status == http.StatusNotFound {
		return &Refused{Op: "renew", Status: status, Code: "not_found"}
	}
	end, err := time.Parse(time.RFC3339, acc.EndDate)
	if err != nil {
		end = c.now()
	}
	if !end.Before(until.AddDate(0, 0, -31)) {
		return nil // renewed already
	}
	years := int(math.Round(until.Sub(end).Hours() / 24 / 365.25))
	years = min(max(years, 1), 5)
	_, err = c.call(ctx, "renew", "/public/partner/pec/v3/accounts/renew",
		map[string]any{"name": name, "renewalData": renewalData{Type: "S", Duration: years}}, nil, nil)
	return err
}

// machineCode keeps an error code only when it looks like one: free text may quote personal data.
var machineCode = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,40}$`)

// call POSTs in to path with the bearer token, retrying what is worth it, and decodes the
// answer's data into out. A status in ok (besides 200) is returned with a nil error.
func (c *Client) call(ctx context.Context, op, path string, in, out any, ok []int) (int, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return 0, &Refused{Op: op, Detail: "cannot encode the request"}
	}
	for reauth := 0; ; reauth++ {
		tok, err := c.token(ctx)
		if err != nil {
			return 0, err
		}
		status, env, err := c.post(ctx, op, path, tok, body)
		if err != nil {
			return 0, err
		}
		switch {
		case status == http.StatusOK:
			if out != nil && len(env.Data) > 0 && string(env.Data) != "null" {
				if err := json.Unmarshal(env.Data, out); err != nil {
					return status, &Refused{Op: op, Status: status, Detail: "an answer that is not the documented JSON"}
				}
			}
			return status, nil
		case status == http.StatusUnauthorized && reauth == 0:
			c.forget(tok) // expired or revoked early: a new token, once
			continue
		}
		for _, s := range ok {
			if status == s {
				return status, nil
			}
		}
		return status, refused(op, status, env)
	}
}

func refused(op string, status int, env envelope) *Refused {
	r := &Refused{Op: op, Status: status}
	if len(env.Errors) > 0 {
		e := env.Errors[0]
		if machineCode.MatchString(e.Code) {
			r.Code = e.Code
		}
		if e.ValidationError != nil && machineCode.MatchString(e.ValidationError.Field) {
			r.Field = e.ValidationError.Field
		}
	}
	return r
}

// post sends one request, with retries for what is worth another attempt.
func (c *Client) post(ctx context.Context, op, path, bearer string, body []byte) (int, envelope, error) {
	endpoint := strings.TrimRight(c.BaseURL, "/") + path
	var status int
	var env envelope
	last := &Unavailable{Op: op}
	policy := httpretry.Policy{Attempts: orInt(c.Attempts, DefaultAttempts), Backoff: orDur(c.Backoff, DefaultBackoff),
		Timeout: orDur(c.Timeout, DefaultTimeout)}
	if c.Logger != nil {
		policy.OnRetry = func(ctx context.Context, attempt int, wait time.Duration, _ error) {
			c.Logger.WarnContext(ctx, "aruba call failed, retrying", "op", op, "attempt", attempt, "status", last.Status, "wait", wait)
		}
	}
	err := policy.Do(ctx, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := c.httpClient().Do(req)
		if err != nil {
			last.Status, last.Err = 0, err
			return httpretry.Again(err, nil)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		status, env = res.StatusCode, envelope{}
		_ = json.Unmarshal(b, &env)
		last.Status, last.Err = status, nil
		if retryable(status) {
			return httpretry.Again(fmt.Errorf("status %d", status), res.Header)
		}
		return nil
	})
	var stop *httpretry.Error
	switch {
	case err == nil:
		return status, env, nil
	case errors.As(err, &stop) && stop.Ctx == nil:
		return 0, env, last
	}
	return 0, env, fmt.Errorf("aruba %s: %w", op, context.Cause(ctx))
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// token returns a valid access token: the cached one, a refreshed one, or a new one.
func (c *Client) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock() // one fetch at a time: concurrent callers share its result
	now := c.now()
	if c.tok.access != "" && now.Before(c.tok.expires) {
		return c.tok.access, nil
	}
	if c.tok.refresh != "" && now.Before(c.tok.refreshExpires) {
		body, _ := json.Marshal(map[string]string{"refreshToken": c.tok.refresh})
		status, env, err := c.post(ctx, "refresh", "/public/auth/v2/refresh", "", body)
		if err != nil {
			return "", err
		}
		if status == http.StatusOK && c.keep(env, now) == nil {
			return c.tok.access, nil
		}
		c.tok = token{} // refused: log in again
	}
	if c.Credentials == nil {
		return "", &Refused{Op: "token", Detail: "no credentials configured"}
	}
	cr, err := c.Credentials(ctx)
	if err != nil {
		return "", fmt.Errorf("aruba credentials: %w", err)
	}
	if cr.Username == "" || cr.Password == "" {
		return "", &Refused{Op: "token", Detail: "no username or password configured (providerUsername, providerPassword)"}
	}
	body, _ := json.Marshal(map[string]string{"username": cr.Username, "password": cr.Password})
	status, env, err := c.post(ctx, "token", "/public/auth/v2/token", "", body)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", refused("token", status, env)
	}
	if err := c.keep(env, now); err != nil {
		return "", err
	}
	return c.tok.access, nil
}

// keep stores a token answer, to be renewed 30 seconds before it expires.
func (c *Client) keep(env envelope, now time.Time) error {
	var t tokenModel
	if json.Unmarshal(env.Data, &t) != nil || t.AccessToken == "" {
		return &Refused{Op: "token", Detail: "an answer without a token"}
	}
	margin := 30 * time.Second
	c.tok = token{access: t.AccessToken, refresh: t.RefreshToken,
		expires:        now.Add(time.Duration(t.ExpiresIn)*time.Second - margin),
		refreshExpires: now.Add(time.Duration(t.RefreshExpiresIn)*time.Second - margin)}
	return nil
}

// forget drops the cached token if it is still the one that was refused.
func (c *Client) forget(access string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.access == access {
		c.tok = token{}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orDur(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// FirstAccess is how a holder reaches an Aruba PEC mailbox: Aruba's webmail, the credentials
// sent by e-mail to the account's holder address (the member's ordinary e-mail), Aruba's guides.
func (c *Client) FirstAccess() app.FirstAccess { return FirstAccess() }

// FirstAccess is Aruba's first-access facts (see Client.FirstAccess).
func FirstAccess() app.FirstAccess {
	return app.FirstAccess{ProviderName: "Aruba PEC", WebmailURL: "https://webmail.pec.it",
		CredentialsBy: app.CredentialsByEmail, SupportURL: "https://guide.pec.it"}
}
