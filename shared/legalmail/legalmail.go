// Package legalmail is the platform's adapter for Legalmail PEC mailboxes (InfoCert) through
// Openapi's Pec API (https://pec.openapi.it; sandbox https://test.pec.openapi.it). It implements
// app.Provider, app.ProviderStatusReader (Legalmail's callbacks carry no proof: the platform
// asks) and app.ProviderActivationDocuments (a Legalmail mailbox is created only once its holder
// has sent the signed activation form and an identity document). It knows nothing of AWS.
//
// What it sends, operation by operation (the contract is infra/contracts/legalmail.yaml,
// written from Openapi's published document); every call carries "Authorization: Bearer
// <token>":
//
//   - Submit: POST /pec with casella_pec (the address), tipo_casella (MailboxType),
//     tipo_cliente PS (professionista) and sottotipo_cliente X (altro: the document's
//     professional subtypes are accountants, notaries, lawyers...), nome_richiedente,
//     cognome_richiedente, codice_fiscale_richiedente, email (the member's ordinary e-mail),
//     telefono, data_nascita_richiedente (dd/mm/yyyy) and sesso_richiedente (M or F) read from
//     the codice fiscale, nazione_nascita_richiedente (IT, or for a holder born abroad the
//     codice fiscale's cadastral code of the country, e.g. Z404), the residence as
//     indirizzo_titolare, comune_titolare, cap_titolare, provincia_titolare, nazione_titolare,
//     and callback {url: CallbackURL(our mailbox id), method: JSON}. The provider's reference
//     is the mailbox's id (24 hex digits). Legalmail takes no idempotency key: a retry that
//     finds the address registered (406) looks for the mailbox (GET /verifica_pec/{pec}, then
//     GET /pec and GET /pec/{id}) and returns it when it is this request's: the same codice
//     fiscale and this mailbox's callback URL.
//   - Status: GET /pec/{id}.
//   - ActivationForm: GET /pec/{id}/modulo_attivazione (a PDF).
//   - SendActivationDocuments: PATCH /pec/{id}/attivazione {documenti: [base64 PDF...]}: the
//     signed form and the identity document, each as a PDF (a JPEG or PNG scan is put on a page
//     of its own), or, for DOMICILIODIGITALE and PECMASSIVA mailboxes, one PDF holding both, as
//     the document requires.
//   - Deactivate: DELETE /pec/{id} (Legalmail revokes only an active mailbox: one still being
//     registered has nothing to revoke, one whose documents are being checked is revoked once
//     it is active).
//   - Renew: GET /pec/{id}/rinnovo?anni=N for the years up to the new expiry, not again when
//     data_scadenza already reaches it (no idempotency key), and never for a revoked mailbox
//     (rinnovo re-activates one).
//
// Legalmail's stato, and the outcome it means for the mailbox:
//
//	stato                     outcome               mailbox
//	registrata                none yet              waits for the holder's documents
//	in_evasione               none yet              the documents are being checked
//	documenti_errati          none yet              documents to be sent again
//	evasa                     ProviderCreated       ABILITATA
//	registrazione_annullata   ProviderRejected      REVOCATA, the Order told
//	revocata, chiusa          ProviderDeactivated   REVOCATA
//	(404 from GET /pec/{id})  ProviderRejected      REVOCATA, the Order told
//
// Answers: 200 is done; 400, 401, 403, 404, 406, 428 and any other 4xx are refused for good
// (Refused, wrapping app.ErrProviderRefused, keeping Openapi's numeric `error` code and the
// request field its message names, never the message itself); 402 (no credit left in the
// Openapi wallet) is not retried at once but returned as ProviderUnavailable, for the workflow
// to try again once the wallet is topped up; 408, 429, 5xx and network failures are retried
// (Attempts, with backoff) and then returned as ProviderUnavailable.
package legalmail

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // identity scans
	_ "image/png"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/httpretry"
	"github.com/signintech/gopdf"
)

var (
	_ app.Provider                    = (*Client)(nil)
	_ app.ProviderStatusReader        = (*Client)(nil)
	_ app.ProviderActivationDocuments = (*Client)(nil)
)

// Defaults.
const (
	// DefaultMailboxType is Legalmail's mailbox for a domicilio digitale: what the platform
	// issues. STANDARD, BRONZE, SILVER and GOLD are its general mailboxes.
	DefaultMailboxType = "DOMICILIODIGITALE"
	DefaultAttempts    = 4
	DefaultBackoff     = 500 * time.Millisecond
	DefaultTimeout     = 10 * time.Second
	// uploadTimeout bounds one attempt of PATCH attivazione, whose body holds the documents
	// (within a function's 29 seconds).
	uploadTimeout = 25 * time.Second
)

// MailboxTypes are the document's tipo_casella values.
var MailboxTypes = []string{"STANDARD", "BRONZE", "SILVER", "GOLD", "DOMICILIODIGITALE", "PECMASSIVA"}

// The customer's type the platform registers: a professional (PS), of a profession the
// document's subtypes do not name (X).
const (
	clientType    = "PS"
	clientSubtype = "X"
)

// Legalmail's states of a mailbox (Casella.stato).
const (
	StatoRegistrata             = "registrata"
	StatoInEvasione             = "in_evasione"
	StatoEvasa                  = "evasa"
	StatoRevocata               = "revocata"
	StatoChiusa                 = "chiusa"
	StatoDocumentiErrati        = "documenti_errati"
	StatoRegistrazioneAnnullata = "registrazione_annullata"
)

// outcome maps Legalmail's stato to the platform's provider outcome ("" while pending).
func outcome(stato string) string {
	switch stato {
	case StatoEvasa:
		return app.ProviderCreated
	case StatoRegistrazioneAnnullata:
		return app.ProviderRejected
	case StatoRevocata, StatoChiusa:
		return app.ProviderDeactivated
	}
	return "" // registrata, in_evasione, documenti_errati; a state the document does not list
}

// Client calls Openapi's Pec API at BaseURL. It is safe for concurrent use.
type Client struct {
	BaseURL string                                    // e.g. https://pec.openapi.it
	Token   func(ctx context.Context) (string, error) // read at each call: a rotated token is used
	// MailboxType is the tipo_casella registered (DefaultMailboxType when empty).
	MailboxType string
	// CallbackURL is the URL Legalmail calls at a mailbox's changes, given the platform's
	// mailbox id; nil registers no callback (the mailbox is then only polled).
	CallbackURL func(mailboxID string) string
	HTTP        *http.Client
	Now         func() time.Time
	Logger      *slog.Logger
	// Attempts, Backoff and Timeout tune the retries of a call that failed for a reason worth
	// another try (the defaults when zero).
	Attempts int
	Backoff  time.Duration
	Timeout  time.Duration
}

// Validate says which setting is wrong.
func (c *Client) Validate() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errors.New("legalmail: BaseURL is not an http(s) URL")
	case c.Token == nil:
		return errors.New("legalmail: no token")
	case c.MailboxType != "" && !slices.Contains(MailboxTypes, c.MailboxType):
		return fmt.Errorf("legalmail: MailboxType %q is not one of %v", c.MailboxType, MailboxTypes)
	}
	return nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) mailboxType() string { return cmpOr(c.MailboxType, DefaultMailboxType) }

// Refused is a request Legalmail refused for good, or one the client will not send (a field
// missing). It wraps app.ErrProviderRefused. Code is Openapi's numeric `error`, Field the
// request field at fault; the message's free text is never kept.
type Refused struct {
	Op     string
	Status int
	Code   int
	Field  string
	Detail string
}

func (e *Refused) Error() string {
	s := "legalmail refused " + e.Op
	if e.Status != 0 {
		s += ": status " + strconv.Itoa(e.Status)
	}
	if e.Code != 0 {
		s += ": error " + strconv.Itoa(e.Code)
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

// ProviderUnavailable is a call worth trying again later: it failed every attempt (network,
// 408, 429, 5xx), or the wallet has no credit (402). Its type name is the error name the
// mailbox workflow retries with the provider's backoff (ProviderRetrySeconds).
type ProviderUnavailable struct {
	Op     string
	Status int
	Err    error
}

func (e *ProviderUnavailable) Error() string {
	switch {
	case e.Status == http.StatusPaymentRequired:
		return "legalmail unavailable for " + e.Op + ": no credit left in the Openapi wallet (402)"
	case e.Status != 0:
		return fmt.Sprintf("legalmail unavailable for %s: status %d", e.Op, e.Status)
	}
	return fmt.Sprintf("legalmail unavailable for %s: %v", e.Op, e.Err)
}

func (e *ProviderUnavailable) Unwrap() error { return e.Err }

// retryable reports whether a status is worth another attempt at once.
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// wire types (the contract's schemas; only the fields used).
type (
	envelope struct {
		Success bool            `json:"success"`
		Message string          `json:"message"`
		Error   *int            `json:"error"`
		Data    json.RawMessage `json:"data"`
	}
	callback struct {
		URL    string `json:"url"`
		Method string `json:"method,omitempty"`
	}
	registration struct {
		CasellaPec      string    `json:"casella_pec"`
		TipoCasella     string    `json:"tipo_casella"`
		TipoCliente     string    `json:"tipo_cliente"`
		SottotipoClient string    `json:"sottotipo_cliente"`
		Nome            string    `json:"nome_richiedente"`
		Cognome         string    `json:"cognome_richiedente"`
		CodiceFiscale   string    `json:"codice_fiscale_richiedente"`
		Email           string    `json:"email"`
		Telefono        string    `json:"telefono"`
		DataNascita     string    `json:"data_nascita_richiedente"`
		Sesso           string    `json:"sesso_richiedente"`
		NazioneNascita  string    `json:"nazione_nascita_richiedente"`
		Indirizzo       string    `json:"indirizzo_titolare"`
		Comune          string    `json:"comune_titolare"`
		CAP             string    `json:"cap_titolare"`
		Provincia       string    `json:"provincia_titolare"`
		Nazione         string    `json:"nazione_titolare"`
		Callback        *callback `json:"callback,omitempty"`
	}
	casella struct {
		ID            string   `json:"id"`
		CasellaPec    string   `json:"casella_pec"`
		TipoCasella   string   `json:"tipo_casella"`
		Stato         string   `json:"stato"`
		CodiceFiscale string   `json:"codice_fiscale_richiedente"`
		DataScadenza  string   `json:"data_scadenza"`
		Callback      callback `json:"callback"`
	}
)

// registration builds POST /pec's body, or refuses a request that lacks what Legalmail requires.
func (c *Client) registration(r app.SubmitRequest) (registration, error) {
	missing := func(field string) error {
		return &Refused{Op: "submit", Field: field, Detail: field + " is required by Legalmail and was not given"}
	}
	switch {
	case r.Address == "":
		return registration{}, missing("casella_pec")
	case r.Nome == "":
		return registration{}, missing("nome_richiedente")
	case r.Cognome == "":
		return registration{}, missing("cognome_richiedente")
	case r.Email == "":
		return registration{}, missing("email")
	case r.Phone == "":
		return registration{}, missing("telefono")
	case r.Residence == nil:
		return registration{}, missing("residenza")
	}
	birth, ok := domain.CodiceFiscale(r.CodiceFiscale).Birth(c.now())
	if !ok {
		return registration{}, &Refused{Op: "submit", Field: "codice_fiscale_richiedente", Detail: "not a valid codice fiscale"}
	}
	res, err := r.Residence.Validate()
	if err != nil {
		var de *domain.Error
		field := "residenza"
		if errors.As(err, &de) {
			field = de.Field
		}
		return registration{}, &Refused{Op: "submit", Field: field, Detail: "the residence is not valid"}
	}
	reg := registration{CasellaPec: r.Address, TipoCasella: c.mailboxType(), TipoCliente: clientType, SottotipoClient: clientSubtype,
		Nome: r.Nome, Cognome: r.Cognome, CodiceFiscale: r.CodiceFiscale, Email: r.Email, Telefono: r.Phone,
		DataNascita: birth.Date.Format("02/01/2006"), Sesso: "M", NazioneNascita: birthCountry(birth),
		Indirizzo: res.Address, Comune: res.City, CAP: res.PostCode, Provincia: res.Province, Nazione: res.Country}
	if birth.Female {
		reg.Sesso = "F"
	}
	if c.CallbackURL != nil {
		reg.Callback = &callback{URL: c.CallbackURL(r.RequestID), Method: "JSON"}
	}
	return reg, nil
}

// birthCountry is nazione_nascita_richiedente: IT for a holder born in Italy; for one born
// abroad, the codice fiscale's code of the country (Z and three digits, the Agenzia delle
// Entrate's codes for foreign states, e.g. Z404 the United States). The document types the
// field as a free "customer country code"; the cadastral code names the country exactly,
// where a table to ISO codes kept here could be wrong or out of date.
func birthCountry(b domain.Birth) string {
	if b.Abroad() {
		return b.Place
	}
	return "IT"
}

// Submit implements app.Provider: the mailbox registered (stato registrata). A retried Submit
// whose first attempt registered it finds it instead of failing on its address.
func (c *Client) Submit(ctx context.Context, r app.SubmitRequest) (string, error) {
	reg, err := c.registration(r)
	if err != nil {
		return "", err
	}
	var created casella
	status, env, err := c.api(ctx, "submit", http.MethodPost, "/pec", reg, &created, http.StatusNotAcceptable)
	if err != nil {
		return "", err
	}
	if status == http.StatusOK {
		if created.ID == "" {
			return "", &Refused{Op: "submit", Status: status, Detail: "an answer without the mailbox's id"}
		}
		return created.ID, nil
	}
	id, err := c.registered(ctx, r, reg)
	if err != nil || id != "" {
		return id, err
	}
	return "", refusal("submit", status, env)
}

// registered finds the mailbox of an address that POST /pec refused, when it is this request's
// own from an earlier attempt: "" when the address is free (the refusal was about another
// field) or held otherwise.
func (c *Client) registered(ctx context.Context, r app.SubmitRequest, reg registration) (string, error) {
	var avail struct {
		Available bool `json:"available"`
	}
	if _, _, err := c.api(ctx, "verifica_pec", http.MethodGet, "/verifica_pec/"+url.PathEscape(r.Address), nil, &avail); err != nil {
		return "", err
	}
	if avail.Available {
		return "", nil
	}
	ids, err := c.idsOf(ctx, r.Address)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		cas, status, err := c.get(ctx, id)
		if err != nil {
			return "", err
		}
		mine := status == http.StatusOK && domain.CodiceFiscale(cas.CodiceFiscale).SamePerson(domain.CodiceFiscale(r.CodiceFiscale)) &&
			(reg.Callback == nil || cas.Callback.URL == reg.Callback.URL)
		if mine {
			return id, nil
		}
	}
	return "", &Refused{Op: "submit", Status: http.StatusNotAcceptable, Detail: "the address is held at Legalmail by another request"}
}

// idsOf lists the ids of the account's mailboxes of an address, the live ones first. GET /pec
// has no filter and no paging: it is read whole, so only when no reference is known or a
// registration's answer was lost.
func (c *Client) idsOf(ctx context.Context, address string) ([]string, error) {
	var list []casella
	status, _, err := c.api(ctx, "list", http.MethodGet, "/pec", nil, &list, http.StatusNotFound)
	if err != nil || status == http.StatusNotFound {
		return nil, err
	}
	var live, dead []string
	for _, m := range list {
		if !strings.EqualFold(m.CasellaPec, address) || m.ID == "" {
			continue
		}
		if m.Stato == StatoRegistrazioneAnnullata {
			dead = append(dead, m.ID)
		} else {
			live = append(live, m.ID)
		}
	}
	return append(live, dead...), nil
}

// ref is the mailbox's id: its reference, or the live one of its address ("" when none).
func (c *Client) ref(ctx context.Context, mb app.ProviderMailbox) (string, error) {
	if mb.ProviderRef != "" {
		return mb.ProviderRef, nil
	}
	ids, err := c.idsOf(ctx, mb.Address)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}

// get reads a mailbox; status is 404 (and err nil) for one Legalmail does not know.
func (c *Client) get(ctx context.Context, id string) (casella, int, error) {
	var cas casella
	status, _, err := c.api(ctx, "status", http.MethodGet, "/pec/"+url.PathEscape(id), nil, &cas, http.StatusNotFound)
	return cas, status, err
}

// Status implements app.ProviderStatusReader (the table in the package's doc). A mailbox
// Legalmail does not know is neither being created nor alive: for one still waiting, Legalmail
// refused it.
func (c *Client) Status(ctx context.Context, mb app.ProviderMailbox) (app.ProviderStatus, error) {
	id, err := c.ref(ctx, mb)
	if err != nil {
		return app.ProviderStatus{}, err
	}
	notFound := app.ProviderStatus{Outcome: app.ProviderRejected, State: "not_found", Reason: "unknown to legalmail"}
	if id == "" {
		return notFound, nil
	}
	cas, status, err := c.get(ctx, id)
	if err != nil {
		return app.ProviderStatus{}, err
	}
	if status == http.StatusNotFound {
		return notFound, nil
	}
	st := app.ProviderStatus{Outcome: outcome(cas.Stato), ProviderRef: cmpOr(cas.ID, id), State: cas.Stato,
		DocumentsRefused: cas.Stato == StatoDocumentiErrati} // the holder is asked again
	if st.Outcome == "" && !slices.Contains([]string{StatoRegistrata, StatoInEvasione, StatoDocumentiErrati}, cas.Stato) && c.Logger != nil {
		c.Logger.WarnContext(ctx, "legalmail: a stato the document does not list, taken as pending", "providerRef", id, "stato", cas.Stato)
	}
	if st.Outcome != "" && st.Outcome != app.ProviderCreated {
		st.Reason = cas.Stato
	}
	return st, nil
}

// Deactivate implements app.Provider: the mailbox revoked. A mailbox Legalmail does not know,
// or has revoked already, is done; so is one that was never activated (registrata,
// documenti_errati, registrazione_annullata: nothing works to be revoked, and only this
// platform could send its documents). One whose documents are being checked (in_evasione) is
// revoked once Legalmail has activated it: ProviderUnavailable until then.
func (c *Client) Deactivate(ctx context.Context, mb app.ProviderMailbox, _ string) error {
	id, err := c.ref(ctx, mb)
	if err != nil || id == "" {
		return err
	}
	status, _, err := c.api(ctx, "revoke", http.MethodDelete, "/pec/"+url.PathEscape(id), nil, nil,
		http.StatusNotFound, http.StatusNotAcceptable, http.StatusPreconditionRequired)
	if err != nil || status != http.StatusPreconditionRequired {
		return err // 200 revoked, 404 unknown, 406 revoked already
	}
	cas, status, err := c.get(ctx, id)
	switch {
	case err != nil:
		return err
	case status == http.StatusOK && cas.Stato == StatoInEvasione:
		return &ProviderUnavailable{Op: "revoke", Status: http.StatusPreconditionRequired,
			Err: errors.New("the mailbox's documents are being checked: it can be revoked once active")}
	case status == http.StatusOK && cas.Stato == StatoEvasa: // activated in between
		_, _, err = c.api(ctx, "revoke", http.MethodDelete, "/pec/"+url.PathEscape(id), nil, nil, http.StatusNotAcceptable)
		return err
	}
	return nil
}

// Renew implements app.Provider: the mailbox renewed for the years up to r.ValidUntil.
// Legalmail's rinnovo takes no idempotency key, so a mailbox whose data_scadenza already
// reaches r.ValidUntil (a retry after a lost answer) is not renewed again; and rinnovo
// re-activates a revoked mailbox, so only an active one (evasa) is renewed.
func (c *Client) Renew(ctx context.Context, r app.RenewRequest) error {
	until, err := time.Parse(time.DateOnly, r.ValidUntil)
	if err != nil {
		return &Refused{Op: "renew", Detail: "validUntil is not a date"}
	}
	id, err := c.ref(ctx, app.ProviderMailbox{RequestID: r.RequestID, Address: r.Address, ProviderRef: r.ProviderRef})
	if err != nil {
		return err
	}
	if id == "" {
		return &Refused{Op: "renew", Status: http.StatusNotFound, Detail: "no such mailbox at legalmail"}
	}
	cas, status, err := c.get(ctx, id)
	switch {
	case err != nil:
		return err
	case status == http.StatusNotFound:
		return &Refused{Op: "renew", Status: status, Detail: "no such mailbox at legalmail"}
	case cas.Stato != StatoEvasa:
		return &Refused{Op: "renew", Detail: "the mailbox is " + cas.Stato + ", not active"}
	}
	end, err := time.Parse("02/01/2006", cas.DataScadenza)
	if err != nil {
		end = c.now()
	}
	if !end.Before(until.AddDate(0, 0, -31)) {
		return nil // renewed already
	}
	years := max(int(math.Round(until.Sub(end).Hours()/24/365.25)), 1)
	_, _, err = c.api(ctx, "renew", http.MethodGet, "/pec/"+url.PathEscape(id)+"/rinnovo?anni="+strconv.Itoa(years), nil, nil)
	return err
}

// ActivationForm implements app.ProviderActivationDocuments: Legalmail's form for the mailbox.
func (c *Client) ActivationForm(ctx context.Context, mb app.ProviderMailbox) ([]byte, error) {
	id, err := c.ref(ctx, mb)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, &Refused{Op: "activation form", Status: http.StatusNotFound, Detail: "no such mailbox at legalmail"}
	}
	status, body, err := c.do(ctx, "activation form", http.MethodGet, "/pec/"+url.PathEscape(id)+"/modulo_attivazione", nil, "application/pdf", 0)
	switch {
	case err != nil:
		return nil, err
	case status != http.StatusOK:
		return nil, &Refused{Op: "activation form", Status: status} // its errors are text: not kept
	case !isPDF(body):
		return nil, &Refused{Op: "activation form", Status: status, Detail: "an answer that is not a PDF"}
	}
	return body, nil
}

// SendActivationDocuments implements app.ProviderActivationDocuments. Documents sent already (a
// retry after a lost answer: the mailbox in_evasione or evasa) are not sent again.
func (c *Client) SendActivationDocuments(ctx context.Context, mb app.ProviderMailbox, form, identity []byte, identityType string) error {
	const op = "activation documents"
	formPDF, err := asPDF("form", form, "")
	if err != nil {
		return err
	}
	idPDF, err := asPDF("identity", identity, identityType)
	if err != nil {
		return err
	}
	id, err := c.ref(ctx, mb)
	if err != nil {
		return err
	}
	if id == "" {
		return &Refused{Op: op, Status: http.StatusNotFound, Detail: "no such mailbox at legalmail"}
	}
	cas, status, err := c.get(ctx, id)
	switch {
	case err != nil:
		return err
	case status == http.StatusNotFound:
		return &Refused{Op: op, Status: status, Detail: "no such mailbox at legalmail"}
	case cas.Stato == StatoInEvasione || cas.Stato == StatoEvasa:
		return nil // sent already
	}
	docs := [][]byte{formPDF, idPDF}
	if cas.TipoCasella == "DOMICILIODIGITALE" || cas.TipoCasella == "PECMASSIVA" {
		one, err := mergePDFs(formPDF, idPDF)
		if err != nil {
			return err
		}
		docs = [][]byte{one}
	}
	var in struct {
		Documenti []string `json:"documenti"`
	}
	for _, d := range docs {
		in.Documenti = append(in.Documenti, base64.StdEncoding.EncodeToString(d))
	}
	_, _, err = c.api(ctx, op, http.MethodPatch, "/pec/"+url.PathEscape(id)+"/attivazione", in, nil)
	return err
}

func isPDF(b []byte) bool { return bytes.HasPrefix(b, []byte("%PDF-")) }

// asPDF is a document as Legalmail takes it: a PDF as is, a JPEG or PNG scan on an A4 page. The
// content decides; a declared type (when given) must agree with it.
func asPDF(field string, b []byte, declared string) ([]byte, error) {
	sniffed := http.DetectContentType(b)
	switch {
	case len(b) == 0:
		return nil, &Refused{Op: "activation documents", Field: field, Detail: "empty"}
	case declared != "" && declared != sniffed:
		return nil, &Refused{Op: "activation documents", Field: field, Detail: "declared " + declared + " but is " + sniffed}
	case sniffed == "application/pdf":
		return b, nil
	case sniffed == "image/jpeg" || sniffed == "image/png":
		return imagePDF(field, b)
	}
	return nil, &Refused{Op: "activation documents", Field: field, Detail: "not a PDF, JPEG or PNG: " + sniffed}
}

// A4 in points, and the margin around a scan.
const (
	pageW, pageH = 595.28, 841.89
	margin       = 28.35
)

// imagePDF puts a scan on an A4 page, as large as the margins allow.
func imagePDF(field string, b []byte) ([]byte, error) {
	bad := func(detail string) error { return &Refused{Op: "activation documents", Field: field, Detail: detail} }
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width == 0 || cfg.Height == 0 {
		return nil, bad("an image that cannot be read")
	}
	holder, err := gopdf.ImageHolderByBytes(b)
	if err != nil {
		return nil, bad("an image that cannot be read")
	}
	scale := min((pageW-2*margin)/float64(cfg.Width), (pageH-2*margin)/float64(cfg.Height))
	w, h := float64(cfg.Width)*scale, float64(cfg.Height)*scale
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	pdf.AddPage()
	if err := pdf.ImageByHolder(holder, (pageW-w)/2, (pageH-h)/2, &gopdf.Rect{W: w, H: h}); err != nil {
		return nil, bad("an image that cannot be put on a page")
	}
	out, err := pdf.GetBytesPdfReturnErr()
	if err != nil {
		return nil, bad("an image that cannot be put on a page")
	}
	return out, nil
}

// mergePDFs is one PDF with the pages of the form, then the identity document's. A PDF the
// importer cannot read (encrypted, damaged) is refused, naming which.
func mergePDFs(form, identity []byte) (out []byte, err error) {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	for _, d := range []struct {
		field string
		b     []byte
	}{{"form", form}, {"identity", identity}} {
		if err := importPages(pdf, d.b); err != nil {
			return nil, &Refused{Op: "activation documents", Field: d.field, Detail: "a PDF that cannot be read to be joined: " + err.Error()}
		}
	}
	out, err = pdf.GetBytesPdfReturnErr()
	if err != nil {
		return nil, &Refused{Op: "activation documents", Detail: "the joined PDF cannot be written"}
	}
	return out, nil
}

// importPages appends a PDF's pages; the importer panics on what it cannot parse.
func importPages(pdf *gopdf.GoPdf, b []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return pdf.ImportPagesFromSource(b, "/MediaBox")
}

// requestFields are the request fields Openapi's messages name ("tipo_casella required"): the
// only part of a message kept.
var requestFields = func() map[string]bool {
	m := map[string]bool{"documenti": true, "anni": true, "id": true}
	for _, f := range []string{"casella_pec", "tipo_casella", "tipo_cliente", "sottotipo_cliente", "sottotipo_cliente_altro",
		"nome_richiedente", "cognome_richiedente", "email", "telefono", "cellulare", "codice_fiscale_richiedente",
		"data_nascita_richiedente", "sesso_richiedente", "nazione_nascita_richiedente", "comune_nascita_richiedente",
		"provincia_nascita_richiedente", "denominazione_titolare", "cf_piva_titolare", "indirizzo_titolare", "comune_titolare",
		"cap_titolare", "nazione_titolare", "provincia_titolare", "callback", "autorinnovo", "tipo_documento",
		"numero_documento", "data_scadenza_documento", "documento_rilasciato_da", "data_rilascio_documento"} {
		m[f] = true
	}
	return m
}()

var word = regexp.MustCompile(`[a-z_]+(\.[a-z_]+)?`)

// fieldOf is the first request field a message names ("" when none).
func fieldOf(message string) string {
	for _, w := range word.FindAllString(message, -1) {
		if root, _, _ := strings.Cut(w, "."); requestFields[root] {
			return w
		}
	}
	return ""
}

// refusal is the Refused of an error answer.
func refusal(op string, status int, env envelope) *Refused {
	r := &Refused{Op: op, Status: status, Field: fieldOf(env.Message)}
	if env.Error != nil {
		r.Code = *env.Error
	}
	return r
}

// api sends in (nil: no body) as JSON and decodes the answer's data into out. A status in ok
// (besides 200) is returned with its envelope and a nil error.
func (c *Client) api(ctx context.Context, op, method, path string, in, out any, ok ...int) (int, envelope, error) {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, envelope{}, &Refused{Op: op, Detail: "cannot encode the request"}
		}
		body = b
	}
	timeout := time.Duration(0)
	if method == http.MethodPatch {
		timeout = uploadTimeout
	}
	status, raw, err := c.do(ctx, op, method, path, body, "application/json", timeout)
	if err != nil {
		return 0, envelope{}, err
	}
	var env envelope
	decodeErr := json.Unmarshal(raw, &env)
	switch {
	case status == http.StatusOK && (decodeErr != nil || !env.Success):
		return status, env, &Refused{Op: op, Status: status, Detail: "an answer that is not the documented JSON"}
	case status == http.StatusOK:
		if out != nil && len(env.Data) > 0 && string(env.Data) != "null" {
			if err := json.Unmarshal(env.Data, out); err != nil {
				return status, env, &Refused{Op: op, Status: status, Detail: "an answer that is not the documented JSON"}
			}
		}
		return status, env, nil
	case status == http.StatusPaymentRequired:
		if c.Logger != nil {
			c.Logger.ErrorContext(ctx, "legalmail: the Openapi wallet has no credit left", "op", op)
		}
		return status, env, &ProviderUnavailable{Op: op, Status: status}
	case slices.Contains(ok, status):
		return status, env, nil
	}
	return status, env, refusal(op, status, env)
}

// do sends one request with the bearer token, retrying what is worth it, and returns the
// status and the body. timeout overrides the client's per-attempt timeout when not zero.
func (c *Client) do(ctx context.Context, op, method, path string, body []byte, accept string, timeout time.Duration) (int, []byte, error) {
	if c.Token == nil {
		return 0, nil, &Refused{Op: op, Detail: "no token configured (providerApiKey)"}
	}
	tok, err := c.Token(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("legalmail token: %w", err)
	}
	if tok == "" {
		return 0, nil, &Refused{Op: op, Detail: "no token configured (providerApiKey)"}
	}
	endpoint := strings.TrimRight(c.BaseURL, "/") + path
	var status int
	var answer []byte
	last := &ProviderUnavailable{Op: op}
	policy := httpretry.Policy{Attempts: orInt(c.Attempts, DefaultAttempts), Backoff: orDur(c.Backoff, DefaultBackoff),
		Timeout: max(orDur(c.Timeout, DefaultTimeout), timeout)}
	if c.Logger != nil {
		policy.OnRetry = func(ctx context.Context, attempt int, wait time.Duration, _ error) {
			c.Logger.WarnContext(ctx, "legalmail call failed, retrying", "op", op, "attempt", attempt, "status", last.Status, "wait", wait)
		}
	}
	err = policy.Do(ctx, func(ctx context.Context) error {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, endpoint, rd)
		if err != nil {
			return err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := c.httpClient().Do(req)
		if err != nil {
			last.Status, last.Err = 0, err
			return httpretry.Again(err, nil)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
		if err != nil {
			last.Status, last.Err = 0, err
			return httpretry.Again(err, nil)
		}
		status, answer = res.StatusCode, b
		last.Status, last.Err = status, nil
		if retryable(status) {
			return httpretry.Again(fmt.Errorf("status %d", status), res.Header)
		}
		return nil
	})
	var stop *httpretry.Error
	switch {
	case err == nil:
		return status, answer, nil
	case errors.As(err, &stop) && stop.Ctx == nil:
		return 0, nil, last
	case errors.As(err, &stop):
		return 0, nil, fmt.Errorf("legalmail %s: %w", op, stop.Ctx)
	}
	return 0, nil, &Refused{Op: op, Detail: "cannot build the request"}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
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

// FirstAccess is how a holder reaches a Legalmail mailbox (see FirstAccess).
func (c *Client) FirstAccess() app.FirstAccess { return FirstAccess() }

// FirstAccess is Legalmail's first-access facts: its site, from which the webmail is reached
// with the mailbox's credentials, the credentials sent by e-mail to the holder's address
// (an assumption to confirm with Openapi: its document does not say how they reach the
// holder), and InfoCert's help pages.
func FirstAccess() app.FirstAccess {
	return app.FirstAccess{ProviderName: "Legalmail (InfoCert)", WebmailURL: "https://www.legalmail.it",
		CredentialsBy: app.CredentialsByEmail, SupportURL: "https://help.infocert.it"}
}
