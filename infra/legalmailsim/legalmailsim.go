// Package legalmailsim is the local stand-in for Legalmail's PEC API as Openapi publishes it
// (never deployed). It serves the operations of infra/contracts/legalmail.yaml under its root,
// requires the bearer token, refuses every request that document refuses with the document's
// status and error body ({success, message, error, data}), and keeps the mailboxes in memory:
//
//	POST /pec                      -> registrata (an id of 24 hex digits)
//	PATCH /pec/{id}/attivazione    -> in_evasione, then after Delay evasa, or documenti_errati
//	                                  when the documents are not what the mailbox's type needs
//	DELETE /pec/{id}               -> revocata (an evasa mailbox only, as the document says)
//	GET /pec/{id}/rinnovo?anni=N   -> data_scadenza N years later (a revocata one evasa again)
//
// An address matching Reject becomes registrazione_annullata Delay after its registration, and
// POST /_sim/pec/{id}/stato (or SetStato) puts a mailbox in any state; GET /_sim/pec lists them.
// Every change of state after the registration calls the mailbox's callback.url as the
// document describes the callback: method POST (form fields) or JSON, the mailbox under
// `field` ("data" by default) beside the caller's own `data`.
package legalmailsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pecplatform/pec/infra/contracts"
	"github.com/pecplatform/pec/infra/providersim"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/goregular"
)

// Options configure a Sim.
type Options struct {
	Token string // the bearer token every call must carry (every call is refused when empty)
	// Delay is the time from the documents to the outcome (evasa or documenti_errati), and from
	// the registration to registrazione_annullata for an address matching Reject.
	Delay  time.Duration
	Reject *regexp.Regexp
	Logger *slog.Logger
	Now    func() time.Time
	// CallbackBackoff is the wait before a callback's second attempt, doubling after each (5
	// attempts in all); 500 ms when zero.
	CallbackBackoff time.Duration
}

// The states of a mailbox (Casella.stato).
const (
	Registrata             = "registrata"
	InEvasione             = "in_evasione"
	Evasa                  = "evasa"
	Revocata               = "revocata"
	Chiusa                 = "chiusa"
	DocumentiErrati        = "documenti_errati"
	RegistrazioneAnnullata = "registrazione_annullata"
)

var states = []string{Registrata, InEvasione, Evasa, Revocata, Chiusa, DocumentiErrati, RegistrazioneAnnullata}

// Error codes (the envelope's `error`), as the document gives them for each operation and
// status. The real API has one code per cause; where the document shows one cause of a status,
// the stand-in gives that code for every cause of the status.
const (
	CodeListEmpty      = 200 // GET /pec 404 "no pec linked to this account"
	CodeWrongID        = 201 // GET /pec/{id}, GET rinnovo 400 "Wrong id"
	CodeNotFound       = 202 // GET /pec/{id}, GET rinnovo 404 "no pec found"
	CodeRenewState     = 203 // GET rinnovo 428 "you can renew only evaded or revoked pec"
	CodeVerifyRequired = 207 // GET /verifica_pec 428 "casella_pec required"
	CodeVerifyInvalid  = 208 // GET /verifica_pec 406 "invalid casella_pec"
	CodeRequired       = 224 // POST /pec 428 "<field> required" (the document's: tipo_casella)
	CodeNotValid       = 242 // POST /pec 406 "<field> not valid" (the document's: data_nascita_richiedente)
	CodeActivateID     = 265 // PATCH attivazione 400 "Wrong id"
	CodeActivateFound  = 266 // PATCH attivazione 404 "no pec found"
	CodeActivateState  = 267 // PATCH attivazione 428, not registrata nor documenti_errati
	CodeDocsRequired   = 294 // "documenti required": the document's code for conservazione's documents
	CodeNotPDF         = 296 // PATCH attivazione 406 "wrong file format, pdf required"
	CodeRevokeID       = 301 // DELETE 400 "Wrong id"
	CodeRevokeFound    = 302 // DELETE 404 "no pec found"
	CodeRevoked        = 303 // DELETE 406 "your pec has already been revoked"
	CodeRevokeState    = 304 // DELETE 428 "you can revoke the pec only if it is active"
	CodeUnavailable    = 402 // 503 "service temporarily unavailable" (documented on /domini_pec)
	// CodeTaken is the stand-in's own: the document does not say how POST /pec refuses an
	// address registered already (a 406, as for any value it does not accept).
	CodeTaken = 901
)

const (
	maxBody          = 32 << 20 // two identity scans and a form, base64
	callbackAttempts = 5
	callbackTimeout  = 5 * time.Second
	owner            = "piattaforma@openapi.local" // the account's e-mail, as the document's `owner`
)

type callback struct {
	URL    string         `json:"url"`
	Method string         `json:"method"`
	Field  string         `json:"field"`
	Data   map[string]any `json:"data"`
}

type casella struct {
	id, address, kind string
	nome, cognome     string
	fields            map[string]any // the registration as received, echoed as the API does
	cb                callback
	stato             string
	registered        time.Time
	modified          time.Time
	evaded, expires   time.Time
	revoked           time.Time
	documents         int
	gen               int // bumped at each change: a review planned before it does nothing
}

// Delivery is one callback the stand-in made.
type Delivery struct {
	ID       string `json:"id"`
	Stato    string `json:"stato"`
	Status   int    `json:"status"` // the platform's answer to the last attempt (0: none)
	Attempts int    `json:"attempts"`
}

// Sim is the stand-in, an http.Handler. Close it to stop its timers and callbacks.
type Sim struct {
	opts   Options
	check  *contracts.Checker
	mux    *http.ServeMux
	client *http.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	closed     bool
	down       bool
	refused    int
	caselle    map[string]*casella // by id
	taken      map[string]bool     // addresses held by someone outside the platform
	received   []providersim.Received
	deliveries []Delivery
	timers     []*time.Timer
}

// New returns a stand-in.
func New(o Options) *Sim {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CallbackBackoff <= 0 {
		o.CallbackBackoff = 500 * time.Millisecond
	}
	s := &Sim{opts: o, check: contracts.MustLoad(contracts.Legalmail), mux: http.NewServeMux(),
		client: &http.Client{Timeout: callbackTimeout}, caselle: map[string]*casella{}, taken: map[string]bool{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mux.HandleFunc("GET /pec", s.list)
	s.mux.HandleFunc("POST /pec", s.register)
	s.mux.HandleFunc("GET /pec/{id}", s.get)
	s.mux.HandleFunc("DELETE /pec/{id}", s.revoke)
	s.mux.HandleFunc("GET /pec/{id}/modulo_attivazione", s.form)
	s.mux.HandleFunc("PATCH /pec/{id}/attivazione", s.activate)
	s.mux.HandleFunc("GET /pec/{id}/rinnovo", s.renew)
	s.mux.HandleFunc("GET /verifica_pec/{pec}", s.available)
	s.mux.HandleFunc("GET /_sim/pec", s.simList)
	s.mux.HandleFunc("POST /_sim/pec/{id}/stato", s.simState)
	return s
}

func (s *Sim) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// ServeHTTP checks the token and the request against the contract before the operation.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	switch {
	case down:
		s.fail(w, http.StatusServiceUnavailable, CodeUnavailable, "service temporarily unavailable")
		return
	case !s.authorised(r):
		w.Header().Set("WWW-Authenticate", "Bearer")
		s.fail(w, http.StatusUnauthorized, 0, "invalid or missing token")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.fail(w, http.StatusNotFound, 0, "not found")
		return
	}
	if err := s.check.Check(r); err != nil {
		v, ok := err.(*contracts.Violation)
		switch {
		case !ok:
			s.fail(w, http.StatusRequestEntityTooLarge, 0, "request too large")
		case v.Missing:
			s.fail(w, http.StatusPreconditionRequired, CodeRequired, v.Field+" required")
		default:
			s.opts.Logger.Info("legalmail stand-in: request refused by the contract", "path", r.URL.Path, "field", v.Field)
			s.fail(w, http.StatusNotAcceptable, CodeNotValid, strings.TrimSpace(v.Field+" not valid"))
		}
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Sim) authorised(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
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

// Requests are the registrations, activations, revocations and renewals accepted, in order.
// RequestID is empty: Legalmail never learns the platform's ids (only the callback URL holds
// one).
func (s *Sim) Requests() []providersim.Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// Deliveries are the callbacks made, in order of their end.
func (s *Sim) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// Take makes an address held at Legalmail by someone outside the platform.
func (s *Sim) Take(address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.taken[strings.ToLower(address)] = true
}

// Find returns the id and state of the live mailbox of an address (false when none).
func (s *Sim) Find(address string) (id, stato string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.live(address); c != nil {
		return c.id, c.stato, true
	}
	return "", "", false
}

// SetStato puts a mailbox in a state, as InfoCert's operators would (documenti_errati,
// registrazione_annullata, chiusa...), and calls it back.
func (s *Sim) SetStato(id, stato string) error {
	if !slices.Contains(states, stato) {
		return fmt.Errorf("stato %q: want one of %v", stato, states)
	}
	s.mu.Lock()
	c := s.caselle[id]
	if c == nil {
		s.mu.Unlock()
		return fmt.Errorf("no mailbox %s", id)
	}
	if stato == Evasa && c.evaded.IsZero() {
		c.evaded = s.now()
		c.expires = c.evaded.AddDate(1, 0, 0)
	}
	s.change(c, stato)
	s.mu.Unlock()
	return nil
}

// Close stops the planned changes and the callbacks under way.
func (s *Sim) Close() {
	s.mu.Lock()
	s.closed = true
	for _, t := range s.timers {
		t.Stop()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

func (s *Sim) fail(w http.ResponseWriter, status, code int, message string) {
	s.mu.Lock()
	s.refused++
	s.mu.Unlock()
	var errCode any
	if code != 0 {
		errCode = code
	}
	write(w, status, map[string]any{"success": false, "message": message, "error": errCode, "data": nil})
}

func (s *Sim) failText(w http.ResponseWriter, status int, message string) {
	s.mu.Lock()
	s.refused++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, message)
}

func answer(w http.ResponseWriter, data any) {
	write(w, http.StatusOK, map[string]any{"success": true, "message": "", "error": nil, "data": data})
}

func write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newID is an id of the document's shape: 24 hex digits, the first 8 the time (as MongoDB's).
func newID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
	_, _ = rand.Read(b[4:])
	return hex.EncodeToString(b[:])
}

var idPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

func isAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// live is the mailbox of an address that holds it (a cancelled registration frees it). s.mu
// must be held.
func (s *Sim) live(address string) *casella {
	for _, c := range s.caselle {
		if strings.EqualFold(c.address, address) && c.stato != RegistrazioneAnnullata {
			return c
		}
	}
	return nil
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("02/01/2006")
}

// view is the mailbox as the API shows it (Casella): the registration's fields and the state.
func (s *Sim) view(c *casella) map[string]any {
	v := maps.Clone(c.fields)
	ts := map[string]any{"registrazione": c.registered.Unix(), "ultima_modifica": c.modified.Unix()}
	if !c.evaded.IsZero() {
		ts["evasione"], ts["scadenza"] = c.evaded.Unix(), c.expires.Unix()
	}
	if !c.revoked.IsZero() {
		ts["revoca"] = c.revoked.Unix()
	}
	docs := []string{}
	for i := range c.documents {
		docs = append(docs, fmt.Sprintf("%s_%d_attivazione.pdf", c.id, i))
	}
	_, dom, _ := strings.Cut(c.address, "@")
	cb := c.cb
	if cb.Data == nil {
		cb.Data = map[string]any{}
	}
	maps.Copy(v, map[string]any{"id": c.id, "casella_pec": c.address, "stato": c.stato, "dominio": dom, "owner": owner,
		"timestamp": ts, "callback": cb, "data_attivazione": date(c.evaded), "data_scadenza": date(c.expires),
		"documenti_attivazione": docs, "spazio_disco": 1024, "autorinnovo": false})
	return v
}

func (s *Sim) list(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := []map[string]any{}
	for _, c := range s.caselle {
		out = append(out, map[string]any{"id": c.id, "casella_pec": c.address, "tipo_casella": c.kind, "stato": c.stato,
			"data_scadenza": date(c.expires), "owner": owner,
			"timestamp": map[string]any{"registrazione": c.registered.Unix(), "ultima_modifica": c.modified.Unix()}})
	}
	s.mu.Unlock()
	if len(out) == 0 {
		s.fail(w, http.StatusNotFound, CodeListEmpty, "no pec linked to this account")
		return
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["id"].(string) < out[j]["id"].(string) })
	answer(w, out)
}

type registration struct {
	CasellaPec  string    `json:"casella_pec"`
	TipoCasella string    `json:"tipo_casella"`
	Nome        string    `json:"nome_richiedente"`
	Cognome     string    `json:"cognome_richiedente"`
	CF          string    `json:"codice_fiscale_richiedente"`
	DataNascita string    `json:"data_nascita_richiedente"`
	Sesso       string    `json:"sesso_richiedente"`
	Callback    *callback `json:"callback"`
}

func (s *Sim) register(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in registration
	var fields map[string]any
	if json.Unmarshal(body, &in) != nil || json.Unmarshal(body, &fields) != nil {
		s.fail(w, http.StatusNotAcceptable, CodeNotValid, "body not valid")
		return
	}
	now := s.now()
	cf, cfErr := domain.ParseCodiceFiscale(in.CF)
	birth, _ := cf.Birth(now)
	born, dateErr := time.Parse("02/01/2006", in.DataNascita)
	sex := map[bool]string{false: "M", true: "F"}[birth.Female]
	switch {
	case !isAddress(in.CasellaPec):
		s.fail(w, http.StatusNotAcceptable, CodeNotValid, "casella_pec not valid")
		return
	case dateErr != nil:
		s.fail(w, http.StatusNotAcceptable, CodeNotValid, "data_nascita_richiedente not valid, accepted format: dd/mm/yyyy")
		return
	case cfErr != nil || !born.Equal(birth.Date) || in.Sesso != sex:
		// InfoCert contracts with an identified person: the code must be valid and agree with
		// the date and the sex given.
		s.fail(w, http.StatusNotAcceptable, CodeNotValid, "codice_fiscale_richiedente not valid")
		return
	case in.Callback != nil && in.Callback.URL != "" && !absoluteURL(in.Callback.URL):
		s.fail(w, http.StatusNotAcceptable, CodeNotValid, "callback.url not valid")
		return
	}
	address := strings.ToLower(in.CasellaPec)
	c := &casella{id: newID(now), address: address, kind: in.TipoCasella, nome: in.Nome, cognome: in.Cognome,
		fields: fields, stato: Registrata, registered: now, modified: now}
	if in.Callback != nil {
		c.cb = *in.Callback
		c.cb.Method = cmpOr(c.cb.Method, "POST")
	}
	s.mu.Lock()
	if s.live(address) != nil || s.taken[address] {
		s.mu.Unlock()
		s.fail(w, http.StatusNotAcceptable, CodeTaken, "casella_pec not available")
		return
	}
	s.caselle[c.id] = c
	s.received = append(s.received, providersim.Received{Kind: "submit", Address: address, ProviderRef: c.id, At: now,
		Fields: fieldNames(fields, "")})
	if s.opts.Reject != nil && s.opts.Reject.MatchString(address) {
		s.later(c, func(c *casella) { s.change(c, RegistrazioneAnnullata) })
	}
	v := s.view(c)
	s.mu.Unlock()
	s.opts.Logger.Info("legalmail stand-in: registered", "id", c.id, "address", address)
	answer(w, v)
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// fieldNames are the names of the fields a body carried, sorted; never their values.
func fieldNames(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			out = append(out, fieldNames(sub, prefix+k+".")...)
			continue
		}
		out = append(out, prefix+k)
	}
	sort.Strings(out)
	return out
}

// byID finds the mailbox of the path's id, or answers the operation's 400 or 404 itself.
func (s *Sim) byID(w http.ResponseWriter, r *http.Request, wrongID, notFound int) *casella {
	id := r.PathValue("id")
	if !idPattern.MatchString(id) {
		s.fail(w, http.StatusBadRequest, wrongID, "Wrong id")
		return nil
	}
	s.mu.Lock()
	c := s.caselle[id]
	s.mu.Unlock()
	if c == nil {
		s.fail(w, http.StatusNotFound, notFound, "no pec found")
	}
	return c
}

func (s *Sim) get(w http.ResponseWriter, r *http.Request) {
	c := s.byID(w, r, CodeWrongID, CodeNotFound)
	if c == nil {
		return
	}
	s.mu.Lock()
	v := s.view(c)
	s.mu.Unlock()
	answer(w, v)
}

func (s *Sim) revoke(w http.ResponseWriter, r *http.Request) {
	c := s.byID(w, r, CodeRevokeID, CodeRevokeFound)
	if c == nil {
		return
	}
	s.mu.Lock()
	switch c.stato {
	case Revocata:
		s.mu.Unlock()
		s.fail(w, http.StatusNotAcceptable, CodeRevoked, "your pec has already been revoked")
		return
	case Evasa:
	default:
		s.mu.Unlock()
		s.fail(w, http.StatusPreconditionRequired, CodeRevokeState, "you can revoke the pec only if it is active")
		return
	}
	c.revoked = s.now()
	s.change(c, Revocata)
	s.received = append(s.received, providersim.Received{Kind: "deactivate", Address: c.address, ProviderRef: c.id, At: c.revoked})
	v := s.view(c)
	s.mu.Unlock()
	answer(w, v)
}

func (s *Sim) renew(w http.ResponseWriter, r *http.Request) {
	c := s.byID(w, r, CodeWrongID, CodeNotFound)
	if c == nil {
		return
	}
	years := 1
	if v := r.URL.Query().Get("anni"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.fail(w, http.StatusNotAcceptable, CodeNotValid, "anni not valid")
			return
		}
		years = n
	}
	now := s.now()
	s.mu.Lock()
	switch c.stato {
	case Evasa:
		c.expires = c.expires.AddDate(years, 0, 0)
		c.modified = now
	case Revocata: // re-activated
		c.revoked, c.expires = time.Time{}, now.AddDate(years, 0, 0)
		s.change(c, Evasa)
	default:
		s.mu.Unlock()
		s.fail(w, http.StatusPreconditionRequired, CodeRenewState, "you can renew only evaded or revoked pec")
		return
	}
	s.received = append(s.received, providersim.Received{Kind: "renew", Address: c.address, ProviderRef: c.id,
		ValidUntil: c.expires.Format(time.DateOnly), At: now})
	v := s.view(c)
	s.mu.Unlock()
	answer(w, v)
}

func (s *Sim) available(w http.ResponseWriter, r *http.Request) {
	pec := r.PathValue("pec")
	if pec == "" {
		s.fail(w, http.StatusPreconditionRequired, CodeVerifyRequired, "casella_pec required")
		return
	}
	if !isAddress(pec) {
		s.fail(w, http.StatusNotAcceptable, CodeVerifyInvalid, "invalid casella_pec")
		return
	}
	s.mu.Lock()
	free := s.live(pec) == nil && !s.taken[strings.ToLower(pec)]
	s.mu.Unlock()
	answer(w, map[string]bool{"available": free})
}

// form answers the activation form: a one-page PDF naming the holder and the mailbox.
func (s *Sim) form(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !idPattern.MatchString(id) {
		s.failText(w, http.StatusBadRequest, "Invalid id")
		return
	}
	s.mu.Lock()
	c := s.caselle[id]
	var holder, address, kind string
	if c != nil {
		holder, address, kind = strings.TrimSpace(c.nome+" "+c.cognome), c.address, c.kind
	}
	s.mu.Unlock()
	if c == nil {
		s.failText(w, http.StatusNotFound, "no request matches this id: "+id)
		return
	}
	b, err := ActivationForm(id, holder, address, kind)
	if err != nil {
		s.failText(w, http.StatusInternalServerError, "form not available")
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="modulo_attivazione_`+id+`.pdf"`)
	_, _ = w.Write(b)
}

// ActivationForm renders the stand-in's activation form.
func ActivationForm(id, holder, address, kind string) ([]byte, error) {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	pdf.SetInfo(gopdf.PdfInfo{Title: "Modulo di attivazione casella PEC", Creator: "legalmailsim"})
	if err := pdf.AddTTFFontData("regular", goregular.TTF); err != nil {
		return nil, err
	}
	pdf.AddPage()
	y := 60.0
	for _, l := range []struct {
		size float64
		text string
	}{
		{15, "Legalmail – Modulo di attivazione della casella PEC"},
		{9, "(stand-in locale del servizio Openapi: nessun valore legale)"},
		{11, ""},
		{11, "Titolare: " + holder},
		{11, "Casella: " + address},
		{11, "Tipo di casella: " + kind},
		{11, "Richiesta n. " + id},
		{11, ""},
		{11, "Il titolare chiede l'attivazione della casella indicata e allega un documento d'identità valido."},
		{11, ""},
		{11, "Data ____________________      Firma del titolare ______________________________"},
	} {
		if err := pdf.SetFont("regular", "", l.size); err != nil {
			return nil, err
		}
		pdf.SetXY(50, y)
		if err := pdf.Text(l.text); err != nil {
			return nil, err
		}
		y += l.size * 1.8
	}
	return pdf.GetBytesPdfReturnErr()
}

// documents reads PATCH attivazione's `documenti`: one base64 string or an array of them.
func documents(raw json.RawMessage) ([][]byte, bool) {
	var list []string
	var one string
	if json.Unmarshal(raw, &one) == nil {
		list = []string{one}
	} else if json.Unmarshal(raw, &list) != nil {
		return nil, false
	}
	var out [][]byte
	for _, d := range list {
		if d == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(d)
		if err != nil {
			return nil, false
		}
		out = append(out, b)
	}
	return out, true
}

func (s *Sim) activate(w http.ResponseWriter, r *http.Request) {
	c := s.byID(w, r, CodeActivateID, CodeActivateFound)
	if c == nil {
		return
	}
	var in struct {
		Documenti json.RawMessage `json:"documenti"`
	}
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &in)
	docs, decoded := documents(in.Documenti)
	if len(in.Documenti) == 0 || (decoded && len(docs) == 0) {
		s.fail(w, http.StatusPreconditionRequired, CodeDocsRequired, "documenti required")
		return
	}
	var got []providersim.ReceivedDocument
	for _, d := range docs {
		if !bytes.HasPrefix(d, []byte("%PDF-")) {
			decoded = false
		}
		got = append(got, providersim.ReceivedDocument{Kind: "attivazione", ContentType: "application/pdf", Size: int64(len(d))})
	}
	if !decoded {
		s.fail(w, http.StatusNotAcceptable, CodeNotPDF, "wrong file format, pdf required")
		return
	}
	s.mu.Lock()
	if c.stato != Registrata && c.stato != DocumentiErrati {
		s.mu.Unlock()
		s.fail(w, http.StatusPreconditionRequired, CodeActivateState,
			"you can activate the pec only when it is in the 'registrata|documenti_errati' state")
		return
	}
	c.documents = len(docs)
	s.change(c, InEvasione)
	s.received = append(s.received, providersim.Received{Kind: "activate", Address: c.address, ProviderRef: c.id, At: s.now(), Documents: got})
	s.later(c, s.review)
	v := s.view(c)
	s.mu.Unlock()
	answer(w, v)
}

// review is InfoCert's check of the documents: DOMICILIODIGITALE and PECMASSIVA mailboxes take
// one PDF holding the signed form and the identity document, the others the two apart.
func (s *Sim) review(c *casella) {
	single := c.kind == "DOMICILIODIGITALE" || c.kind == "PECMASSIVA"
	if (single && c.documents != 1) || (!single && c.documents < 2) {
		s.change(c, DocumentiErrati)
		return
	}
	c.evaded = s.now()
	c.expires = c.evaded.AddDate(1, 0, 0)
	s.change(c, Evasa)
}

// later runs then on the mailbox after Delay, unless it changed meanwhile. s.mu must be held.
func (s *Sim) later(c *casella, then func(*casella)) {
	if s.closed {
		return
	}
	gen := c.gen
	s.timers = append(s.timers, time.AfterFunc(s.opts.Delay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed && c.gen == gen {
			then(c)
		}
	}))
}

// change moves the mailbox to stato and calls it back. s.mu must be held.
func (s *Sim) change(c *casella, stato string) {
	c.stato, c.modified = stato, s.now()
	c.gen++
	s.opts.Logger.Info("legalmail stand-in: state", "id", c.id, "address", c.address, "stato", stato)
	if c.cb.URL == "" || s.closed {
		return
	}
	body, contentType := s.callbackBody(c)
	id, cb := c.id, c.cb
	s.wg.Go(func() { s.deliver(id, stato, cb, body, contentType) })
}

// callbackBody is the callback's content: the mailbox under `field` ("data" when not given),
// beside the caller's own `data`, as JSON or, with method POST, as form fields (objects in
// JSON). The document names these parts and nothing more of the call.
func (s *Sim) callbackBody(c *casella) ([]byte, string) {
	out := map[string]any{}
	maps.Copy(out, c.cb.Data)
	out[cmpOr(c.cb.Field, "data")] = s.view(c)
	if c.cb.Method == "JSON" {
		b, _ := json.Marshal(out)
		return b, "application/json"
	}
	form := url.Values{}
	for k, v := range out {
		if str, ok := v.(string); ok {
			form.Set(k, str)
			continue
		}
		b, _ := json.Marshal(v)
		form.Set(k, string(b))
	}
	return []byte(form.Encode()), "application/x-www-form-urlencoded"
}

func (s *Sim) deliver(id, stato string, cb callback, body []byte, contentType string) {
	wait := s.opts.CallbackBackoff
	d := Delivery{ID: id, Stato: stato}
	defer func() {
		s.mu.Lock()
		s.deliveries = append(s.deliveries, d)
		s.mu.Unlock()
	}()
	for d.Attempts = 1; ; d.Attempts++ {
		var err error
		d.Status, err = s.post(cb.URL, body, contentType)
		if err == nil && d.Status/100 == 2 {
			return
		}
		s.opts.Logger.Warn("legalmail stand-in: callback failed", "id", id, "stato", stato, "attempt", d.Attempts, "status", d.Status)
		if d.Attempts == callbackAttempts || !sleep(s.ctx, wait) {
			return
		}
		wait *= 2
	}
}

func (s *Sim) post(target string, body []byte, contentType string) (int, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	res, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	return res.StatusCode, nil
}

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

// simList shows the mailboxes, for people running make run (no codice fiscale).
func (s *Sim) simList(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := []map[string]any{}
	for _, c := range s.caselle {
		out = append(out, map[string]any{"id": c.id, "casella_pec": c.address, "tipo_casella": c.kind, "stato": c.stato,
			"data_scadenza": date(c.expires), "documenti": c.documents})
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i]["casella_pec"].(string) < out[j]["casella_pec"].(string) })
	write(w, http.StatusOK, out)
}

// simState is SetStato over HTTP: {"stato": "documenti_errati"}.
func (s *Sim) simState(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Stato string `json:"stato"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<10)).Decode(&in); err != nil {
		http.Error(w, "want {\"stato\": ...}", http.StatusBadRequest)
		return
	}
	if err := s.SetStato(r.PathValue("id"), in.Stato); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
