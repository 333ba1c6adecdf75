// Package pages renders the pages members see when they follow a link the platform e-mailed
// them: the activation of a PEC mailbox (GET/POST /activate/{token}: the choice form of the
// seed, "Attivazione della casella di posta elettronica certificata", the two result pages and the
// error pages) and the ReGIndE confirmation (/reginde/{token}).
//
// It is pure rendering: no storage, no AWS, no token handling. Every page is a complete,
// self-contained Italian HTML5 document (one inline style sheet, no scripts, no external
// resources) and comes with the security headers it must be served with, including a
// Content-Security-Policy whose nonce matches that style sheet. Everything that comes from data
// is escaped by html/template.
//
// The pages never receive a full codice fiscale: FormData only has the masked one.
package pages

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"
	_ "time/tzdata" // deadlines are shown in Italian time even where the host has no zoneinfo
)

// Rendered is a page ready for an HTTP response: write Headers, then Status, then Body.
type Rendered struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// FormData is what the choice form shows.
type FormData struct {
	OrderName     string    // the Order's name, shown in the header band
	Nome, Cognome string    // the member's given names and surname
	MaskedCF      string    // already masked by the caller, e.g. "ZRZCRL**R10H501*"
	Address       string    // the new PEC address
	ExpiresAt     time.Time // when the link expires; zero: not shown
	Error         string    // optional message shown above the form

	// Optional: when the form is shown again (Invalid), what the member had entered.
	Choice string // ChoiceConfirm or ChoiceDecline: that option is preselected
	PEC    string // the value of the "pec" field
}

// ResultData is what the result pages show.
type ResultData struct {
	OrderName string // the Order's name, shown in the header band
	Nome      string // the member's given names ("Gentile Carlo,")
	Address   string // the mailbox the choice was about
	OwnPEC    string // on decline, the existing PEC the member gave (optional)
	// How to reach the new mailbox, as its provider has it (optional).
	ProviderName, WebmailURL, SupportURL string
	CredentialsBySMS                     bool
}

// Form fields and values posted by the choice form.
const (
	FieldChoice   = "choice"
	FieldPEC      = "pec"
	ChoiceConfirm = "confirm"
	ChoiceDecline = "decline"
)

// Messages for FormData.Error and Invalid, in the register of the page (formal "Lei", as the
// seed). Callers may pass their own.
const (
	MsgNoChoice   = "Scelga una delle due opzioni."
	MsgInvalidPEC = "L'indirizzo PEC indicato non è valido. Lo corregga oppure lasci vuoto il campo."
	msgInvalid    = "Controlli i dati inseriti e riprovi."
)

// Form is the page of the seed (200): the member's name, masked codice fiscale, the address, the
// legal reminder, the two options and the "Invia" button. The form posts to the page's own URL.
func Form(d FormData) Rendered { return renderForm(http.StatusOK, d) }

// Invalid is the form again (422) with msg shown above it (d.Error is replaced by msg).
func Invalid(d FormData, msg string) Rendered {
	if msg == "" {
		msg = msgInvalid
	}
	d.Error = msg
	return renderForm(http.StatusUnprocessableEntity, d)
}

// Confirmed is the result page after the member confirmed activation (200).
func Confirmed(d ResultData) Rendered {
	return render(http.StatusOK, "confirmed", d.OrderName, "Casella PEC attivata", d)
}

// Declined is the result page after the member declined activation (200).
func Declined(d ResultData) Rendered {
	return render(http.StatusOK, "declined", d.OrderName, "Casella PEC non attivata", d)
}

// NotFound is the page for an unknown link (404). It says nothing more.
func NotFound() Rendered {
	return render(http.StatusNotFound, "notfound", "", "Collegamento non valido", nil)
}

// Gone is the page for an expired or already used link (410). It says nothing more than that
// and points to the Order's segreteria.
func Gone() Rendered {
	return render(http.StatusGone, "gone", "", "Collegamento scaduto o già utilizzato", nil)
}

// Error is the generic error page (500), without detail.
func Error() Rendered {
	return render(http.StatusInternalServerError, "error", "", "Si è verificato un errore", nil)
}

// Headers returns the headers every page is served with, for a page whose inline style sheet
// carries nonce.
func Headers(nonce string) map[string]string {
	return map[string]string{
		"Content-Type":                 "text/html; charset=utf-8",
		"Content-Security-Policy":      csp(nonce, false, nil),
		"Referrer-Policy":              "no-referrer",
		"Cache-Control":                "no-store",
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Permissions-Policy":           permissionsPolicy,
	}
}

// csp is the pages' Content-Security-Policy: nothing but the page's own style sheet (and its
// script, if it has one) under the nonce, forms posted only to the platform (and formOrigins).
func csp(nonce string, script bool, formOrigins []string) string {
	p := "default-src 'none'; style-src 'nonce-" + nonce + "'; "
	if script {
		p += "script-src 'nonce-" + nonce + "'; "
	}
	p += "form-action 'self'"
	for _, o := range formOrigins {
		p += " " + o
	}
	return p + "; frame-ancestors 'none'; base-uri 'none'"
}

// permissionsPolicy turns off every feature a page could ask for.
const permissionsPolicy = "accelerometer=(), autoplay=(), browsing-topics=(), camera=(), " +
	"display-capture=(), encrypted-media=(), " +
	"fullscreen=(), gamepad=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), " +
	"local-fonts=(), magnetometer=(), microphone=(), midi=(), payment=(), " +
	"picture-in-picture=(), publickey-credentials-create=(), publickey-credentials-get=(), " +
	"screen-wake-lock=(), serial=(), storage-access=(), usb=(), " +
	"window-management=(), xr-spatial-tracking=()"

// formView is the form's data as the template uses it.
type formView struct {
	FormData
	Name    string
	Expires string
}

func renderForm(status int, d FormData) Rendered {
	v := formView{FormData: d, Name: joinName(d.Nome, d.Cognome), Expires: formatDeadline(d.ExpiresAt)}
	title := "Attivazione casella PEC"
	if d.Error != "" {
		title = "Errore: " + title
	}
	return render(status, "form", d.OrderName, title, v)
}

// page is what the layout receives.
type page struct {
	Nonce     string
	Title     string // the document's <title>, before " – <Order>"
	OrderName string
	Service   service
	Data      any
}

// service names the service a page belongs to, in its header band and footer.
type service struct{ Name, Footer string }

var activationService = service{
	Name:   "Attivazione della casella PEC",
	Footer: "Attivazione delle caselle di posta elettronica certificata degli iscritti all'albo.",
}

func render(status int, name, orderName, title string, data any) Rendered {
	return renderFor(activationService, status, name, orderName, title, data)
}

func renderFor(svc service, status int, name, orderName, title string, data any) Rendered {
	return renderPage(svc, status, name, orderName, title, data, false, nil)
}

// renderPage renders a page; script allows the page's own script (under its nonce), and
// formOrigins are the other origins its forms may post to.
func renderPage(svc service, status int, name, orderName, title string, data any, script bool, formOrigins []string) Rendered {
	nonce := newNonce()
	var b bytes.Buffer
	if err := pages[name].ExecuteTemplate(&b, "layout", page{Nonce: nonce, Title: title, OrderName: orderName, Service: svc, Data: data}); err != nil {
		// The templates are fixed and their data are plain strings: this cannot happen short of
		// a programming error, which the tests catch.
		panic("pages: " + name + ": " + err.Error())
	}
	h := Headers(nonce)
	if script || len(formOrigins) > 0 {
		h["Content-Security-Policy"] = csp(nonce, script, formOrigins)
	}
	return Rendered{Status: status, Headers: h, Body: b.Bytes()}
}

// newNonce returns 128 random bits, base64url without padding (no character html/template
// would turn into an entity).
func newNonce() string {
	var n [16]byte
	_, _ = rand.Read(n[:]) // crypto/rand.Read never fails (it aborts the program instead)
	return base64.RawURLEncoding.EncodeToString(n[:])
}

func joinName(nome, cognome string) string {
	switch {
	case nome == "":
		return cognome
	case cognome == "":
		return nome
	}
	return nome + " " + cognome
}

var rome = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Rome"); err == nil {
		return loc
	}
	return time.UTC
}()

var mesi = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
	"agosto", "settembre", "ottobre", "novembre", "dicembre"}

// formatDeadline writes t in Italian time, "12 marzo 2026, ore 14:30"; "" for the zero time.
func formatDeadline(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(rome)
	return strconv.Itoa(t.Day()) + " " + mesi[t.Month()-1] + " " + strconv.Itoa(t.Year()) +
		", ore " + t.Format("15:04")
}
