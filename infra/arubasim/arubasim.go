// Package arubasim is the local stand-in for the Aruba PEC partner API (never deployed). It
// serves the operations of infra/contracts/aruba-partner.yaml under its root, refuses every
// request that document refuses (400, Aruba's error body), requires the token as Aruba does,
// and keeps owners and accounts in memory. Aruba calls nobody back: an account is
// DA_CERTIFICARE until Delay has passed, then CERTIFICATO, and the platform finds out by
// asking (accounts/info).
package arubasim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pecplatform/pec/infra/contracts"
	"github.com/pecplatform/pec/infra/providersim"
	"github.com/pecplatform/pec/shared/domain"
)

// Options configure a Sim.
type Options struct {
	Username, Password string        // the partner's login (every token request is refused when empty)
	Delay              time.Duration // from creation to CERTIFICATO
	Reject             *regexp.Regexp
	TokenTTL           time.Duration // the access token's life (300 s when zero, as Aruba's example)
	Logger             *slog.Logger
	Now                func() time.Time
}

// Error codes the stand-in answers with (RestError.code).
const (
	CodeInvalid      = "INVALID_REQUEST"     // the document refuses the request
	CodeUnauthorized = "UNAUTHORIZED"        // no, a wrong or an expired token; wrong credentials
	CodeNotFound     = "NOT_FOUND"           // no such account or owner
	CodeExists       = "ACCOUNT_EXISTS"      // an account of that full name exists
	CodeRefused      = "ACCOUNT_NOT_ALLOWED" // the account cannot be created (Reject)
	CodeTaxCode      = "INVALID_TAX_CODE"    // not a valid codice fiscale
	CodeOwner        = "OWNER_NOT_FOUND"     // the ownerId names no owner
)

type ownerRec struct {
	ID       int64  `json:"id"`
	UserType string `json:"userType"`
	Name     string `json:"name"`
	Surname  string `json:"surname"`
	TaxCode  string `json:"taxCode"`
}

type accountRec struct {
	name, accType string
	owner         *ownerRec
	requested     time.Time
	end           time.Time
	renewalType   string
	years         int
	cancelled     bool
	usedGB        int64
	baseGB        int64
}

// Sim is the stand-in, an http.Handler.
type Sim struct {
	opts  Options
	check *contracts.Checker
	mux   *http.ServeMux

	mu       sync.Mutex
	tokens   map[string]time.Time // access token -> expiry
	refresh  map[string]time.Time
	owners   []*ownerRec
	accounts map[string]*accountRec
	taken    map[string]bool // addresses held by someone outside the platform
	received []providersim.Received
	refused  int
	down     bool
}

// New returns a stand-in.
func New(o Options) *Sim {
	if o.TokenTTL == 0 {
		o.TokenTTL = 300 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sim{opts: o, check: contracts.MustLoad(contracts.Aruba), mux: http.NewServeMux(),
		tokens: map[string]time.Time{}, refresh: map[string]time.Time{}, accounts: map[string]*accountRec{}, taken: map[string]bool{}}
	s.mux.HandleFunc("POST /public/auth/v2/token", s.token)
	s.mux.HandleFunc("POST /public/auth/v2/refresh", s.refreshToken)
	s.mux.HandleFunc("POST /public/partner/pec/v2/owners", (s.ownerCreate))
	s.mux.HandleFunc("POST /public/partner/pec/v2/owners/search", (s.ownerSearch))
	s.mux.HandleFunc("POST /public/partner/pec/v3/accounts", (s.accountCreate))
	s.mux.HandleFunc("POST /public/partner/pec/v3/accounts/info", (s.accountInfo))
	s.mux.HandleFunc("POST /public/partner/pec/v3/accounts/renew", (s.accountRenew))
	s.mux.HandleFunc("POST /public/partner/pec/v3/accounts/cancellation", (s.accountCancellation))
	s.mux.HandleFunc("POST /public/partner/pec/v3/accounts/accountAvailable", (s.accountAvailable))
	s.mux.HandleFunc("GET /_sim/accounts", s.list)
	return s
}

func (s *Sim) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// ServeHTTP checks every request against the contract before it reaches its operation.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		s.fail(w, http.StatusServiceUnavailable, "UNAVAILABLE", "")
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/_sim/") {
		if !strings.HasPrefix(r.URL.Path, "/public/auth/") && !s.validToken(r) {
			s.fail(w, http.StatusUnauthorized, CodeUnauthorized, "")
			return
		}
		if err := s.check.Check(r); err != nil {
			field := ""
			if v, ok := err.(*contracts.Violation); ok {
				field = v.Field
			}
			s.opts.Logger.Info("aruba stand-in: request refused by the contract", "path", r.URL.Path, "field", field)
			s.fail(w, http.StatusBadRequest, CodeInvalid, field)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// SetDown makes every call answer 503 until SetDown(false).
func (s *Sim) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Refused counts the calls answered with an error.
func (s *Sim) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Requests are the submissions, cancellations and renewals accepted, in order. RequestID is
// empty: Aruba never learns the platform's ids.
func (s *Sim) Requests() []providersim.Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// Close implements the local cloud's stand-in interface (nothing runs in the background).
func (s *Sim) Close() {}

// Take makes an address held at Aruba by someone outside the platform.
func (s *Sim) Take(address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.taken[strings.ToLower(address)] = true
}

// SetUsage sets the inbox space an account uses, in GB (its inbox holds 2 GB, Aruba's base).
func (s *Sim) SetUsage(address string, usedGB int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[strings.ToLower(address)]; a != nil {
		a.usedGB = usedGB
	}
}

type restError struct {
	Code            string `json:"code"`
	Description     string `json:"description,omitempty"`
	ValidationError *struct {
		Field string `json:"field"`
	} `json:"validationError,omitempty"`
}

func (s *Sim) fail(w http.ResponseWriter, status int, code, field string) {
	s.mu.Lock()
	s.refused++
	s.mu.Unlock()
	e := restError{Code: code, Description: http.StatusText(status)}
	if field != "" {
		e.ValidationError = &struct {
			Field string `json:"field"`
		}{field}
	}
	s.write(w, status, map[string]any{"version": "v2", "datetime": s.now().Format(time.RFC3339), "errors": []restError{e}})
}

func (s *Sim) ok(w http.ResponseWriter, data any) {
	s.write(w, http.StatusOK, map[string]any{"version": "v2", "datetime": s.now().Format(time.RFC3339), "data": data})
}

func (s *Sim) write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decode(r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	return err == nil && json.Unmarshal(b, v) == nil
}

func newToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Sim) issue(w http.ResponseWriter) {
	access, refresh := newToken(), newToken()
	now := s.now()
	s.mu.Lock()
	s.tokens[access] = now.Add(s.opts.TokenTTL)
	s.refresh[refresh] = now.Add(12 * time.Hour)
	s.mu.Unlock()
	s.ok(w, map[string]any{"accessToken": access, "expiresIn": int64(s.opts.TokenTTL / time.Second),
		"refreshToken": refresh, "refreshExpiresIn": int64(12 * 3600), "tokenType": "Bearer"})
}

func (s *Sim) token(w http.ResponseWriter, r *http.Request) {
	var in struct{ Username, Password string }
	if !decode(r, &in) || s.opts.Username == "" || in.Username != s.opts.Username || in.Password != s.opts.Password {
		s.fail(w, http.StatusUnauthorized, CodeUnauthorized, "")
		return
	}
	s.issue(w)
}

func (s *Sim) refreshToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refreshToken"`
	}
	decode(r, &in)
	s.mu.Lock()
	exp, ok := s.refresh[in.RefreshToken]
	delete(s.refresh, in.RefreshToken) // a refresh token is used once
	s.mu.Unlock()
	if !ok || s.now().After(exp) {
		s.fail(w, http.StatusUnauthorized, CodeUnauthorized, "")
		return
	}
	s.issue(w)
}

// ExpireTokens makes every access token issued so far expired (as after a restart at Aruba).
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// validToken: the request carries a live access token.
func (s *Sim) validToken(r *http.Request) bool {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	exp, ok := s.tokens[tok]
	s.mu.Unlock()
	return ok && !s.now().After(exp)
}

func (s *Sim) ownerByTaxCode(cf string) *ownerRec {
	for _, o := range s.owners {
		if strings.EqualFold(o.TaxCode, cf) {
			return o
		}
	}
	return nil
}

func (s *Sim) ownerCreate(w http.ResponseWriter, r *http.Request) {
	var in ownerRec
	decode(r, &in)
	if _, err := domain.ParseCodiceFiscale(in.TaxCode); err != nil && in.UserType == "PRIVATO" {
		s.fail(w, http.StatusBadRequest, CodeTaxCode, "taxCode")
		return
	}
	s.mu.Lock()
	if o := s.ownerByTaxCode(in.TaxCode); o != nil {
		s.mu.Unlock()
		s.fail(w, http.StatusBadRequest, "OWNER_EXISTS", "taxCode")
		return
	}
	in.ID = int64(18329387 + len(s.owners))
	o := in
	s.owners = append(s.owners, &o)
	s.mu.Unlock()
	s.ok(w, o)
}

func (s *Sim) ownerSearch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID      int64  `json:"id"`
		TaxCode string `json:"taxCode"`
	}
	decode(r, &in)
	s.mu.Lock()
	var out []ownerRec
	for _, o := range s.owners {
		if (in.TaxCode == "" || strings.EqualFold(o.TaxCode, in.TaxCode)) && (in.ID == 0 || o.ID == in.ID) {
			out = append(out, *o)
		}
	}
	s.mu.Unlock()
	s.ok(w, map[string]any{"content": out, "totalElements": len(out)})
}

func (s *Sim) status(a *accountRec) string {
	switch {
	case a.cancelled:
		return "DISDETTO"
	case s.now().Before(a.requested.Add(s.opts.Delay)):
		return "DA_CERTIFICARE"
	}
	return "CERTIFICATO"
}

func (s *Sim) view(a *accountRec, extra bool) map[string]any {
	quota := map[string]any{"type": "INBOX", "base": a.baseGB, "extra": 0, "massive": 0}
	if extra {
		quota["used"], quota["available"] = a.usedGB, max(a.baseGB-a.usedGB, 0)
	}
	cert := a.requested.Add(s.opts.Delay)
	return map[string]any{"name": a.name, "type": a.accType, "status": s.status(a),
		"quotas": []any{quota}, "owner": a.owner, "requestDate": a.requested.Format(time.RFC3339),
		"certificationDate": cert.Format(time.RFC3339), "endDate": a.end.Format(time.RFC3339),
		"renewalData": map[string]any{"type": a.renewalType, "duration": a.years}}
}

func (s *Sim) accountCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name    string `json:"name"`
		Type    string `json:"type"`
		OwnerID struct {
			ID      int64  `json:"id"`
			TaxCode string `json:"taxCode"`
		} `json:"ownerId"`
		RenewalData struct {
			Type     string `json:"type"`
			Duration int    `json:"duration"`
		} `json:"renewalData"`
	}
	var fields map[string]any
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &in)
	_ = json.Unmarshal(body, &fields)
	name := strings.ToLower(in.Name)
	s.mu.Lock()
	var owner *ownerRec
	for _, o := range s.owners {
		if (in.OwnerID.ID != 0 && o.ID == in.OwnerID.ID) || (in.OwnerID.ID == 0 && strings.EqualFold(o.TaxCode, in.OwnerID.TaxCode)) {
			owner = o
		}
	}
	_, exists := s.accounts[name]
	taken := s.taken[name]
	s.mu.Unlock()
	switch {
	case owner == nil:
		s.fail(w, http.StatusNotFound, CodeOwner, "ownerId")
		return
	case exists || taken:
		s.fail(w, http.StatusBadRequest, CodeExists, "name")
		return
	case !strings.Contains(name, "@"):
		s.fail(w, http.StatusBadRequest, CodeInvalid, "name")
		return
	case s.opts.Reject != nil && s.opts.Reject.MatchString(name):
		s.fail(w, http.StatusBadRequest, CodeRefused, "name")
		return
	}
	now := s.now()
	a := &accountRec{name: name, accType: in.Type, owner: owner, requested: now, end: now.AddDate(in.RenewalData.Duration, 0, 0),
		renewalType: in.RenewalData.Type, years: in.RenewalData.Duration, baseGB: 2}
	s.mu.Lock()
	s.accounts[name] = a
	s.received = append(s.received, providersim.Received{Kind: "submit", Address: name, ProviderRef: name, At: now,
		Fields: fieldNames(fields, "")})
	s.mu.Unlock()
	s.ok(w, s.view(a, false))
}

// fieldNames are the names of the fields a body carried, sorted; never their values.
func fieldNames(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			out = append(out, fieldNames(sub, prefix+k+".")...)
			continue
		}
		out = append(out, prefix+k)
	}
	sort.Strings(out)
	return out
}

// visible: the statuses accounts/info shows.
func (s *Sim) visible(name string) *accountRec {
	a := s.accounts[strings.ToLower(name)]
	if a == nil || a.cancelled {
		return nil
	}
	return a
}

func (s *Sim) accountInfo(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name          string `json:"name"`
		LoadExtraData bool   `json:"loadExtraData"`
	}
	decode(r, &in)
	s.mu.Lock()
	a := s.visible(in.Name)
	s.mu.Unlock()
	if a == nil {
		s.fail(w, http.StatusNotFound, CodeNotFound, "name")
		return
	}
	s.ok(w, s.view(a, in.LoadExtraData))
}

func (s *Sim) accountRenew(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name        string `json:"name"`
		RenewalData struct {
			Duration int `json:"duration"`
		} `json:"renewalData"`
	}
	decode(r, &in)
	s.mu.Lock()
	a := s.visible(in.Name)
	if a != nil {
		a.end = a.end.AddDate(in.RenewalData.Duration, 0, 0)
		s.received = append(s.received, providersim.Received{Kind: "renew", Address: a.name, ProviderRef: a.name,
			ValidUntil: a.end.Format("2006-01-02"), At: s.now()})
	}
	s.mu.Unlock()
	if a == nil {
		s.fail(w, http.StatusNotFound, CodeNotFound, "name")
		return
	}
	s.ok(w, s.view(a, false))
}

func (s *Sim) accountCancellation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	decode(r, &in)
	s.mu.Lock()
	a := s.visible(in.Name)
	if a != nil {
		a.cancelled = true
		s.received = append(s.received, providersim.Received{Kind: "deactivate", Address: a.name, ProviderRef: a.name, At: s.now()})
	}
	s.mu.Unlock()
	if a == nil {
		s.fail(w, http.StatusNotFound, CodeNotFound, "name")
		return
	}
	s.ok(w, s.view(a, false))
}

func (s *Sim) accountAvailable(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name    string `json:"name"`
		Domain  string `json:"domain"`
		TaxCode string `json:"taxCode"`
	}
	decode(r, &in)
	name := strings.ToLower(in.Name + "@" + in.Domain)
	s.mu.Lock()
	a, exists := s.accounts[name]
	taken := s.taken[name]
	assignable := exists && !a.cancelled && in.TaxCode != "" && strings.EqualFold(a.owner.TaxCode, in.TaxCode)
	s.mu.Unlock()
	s.ok(w, map[string]bool{"accountExists": exists || taken, "isAccountAssignable": assignable})
}

// list shows the accounts, for people running make run (no codice fiscale).
func (s *Sim) list(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := []map[string]any{}
	for _, a := range s.accounts {
		out = append(out, map[string]any{"name": a.name, "status": s.status(a), "endDate": a.end.Format("2006-01-02")})
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i]["name"].(string) < out[j]["name"].(string) })
	s.write(w, http.StatusOK, out)
}
