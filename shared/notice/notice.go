// Package notice renders the platform's messages to people: the ordinary e-mails to members
// (sent through SES) and the notices with legal weight to Orders (sent by PEC, plain text).
//
// The texts are Italian and come from the templates in templates/: html/template for HTML,
// text/template for the subject and the text. Every string from the data is cleaned before it is
// rendered: control characters (CR and LF among them) become spaces, so that no field can add a
// line to a subject or forge a header, and anything shaped like a codice fiscale is masked, so
// that none reaches an e-mail even when one was typed into a name field. The only token a
// message may carry is the one inside the activation link, which is rendered as given.
package notice

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
)

// Message is a rendered message. HTML is empty for the notices to Orders, which go by PEC as
// plain text.
type Message struct {
	Subject string
	Text    string
	HTML    string
	// Attachments go with a PEC (the INI-PEC file); the members' e-mails have none.
	Attachments []Attachment
	// IDKey, when set, makes the PEC's Message-ID deterministic: "<IDKey@domain of From>".
	// A message sent again after a crash then carries the same Message-ID, which lets the
	// receiver see it is the same message. Letters, digits and "._-" only; empty: a random id.
	IDKey string
	// OrderID and MemberKey name the member an e-mail is for, MailboxID or RequestID what it is
	// about: the member's e-mail goes out tagged with the mailbox or request (ids, nothing
	// personal), so that SES's bounce of it finds the member (see app.TrackedMail).
	OrderID, MemberKey, MailboxID, RequestID string
	// Tags are the message's SES tags (name -> value), set by app.TrackedMail.
	Tags map[string]string
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name        string // the file name, plain ASCII
	ContentType string // e.g. "text/csv; charset=UTF-8"
	Data        []byte
}

// ErrInvalidData is wrapped by every error about the data given to a message. The errors name
// the field, never its value: a value may be personal data or carry a token.
var ErrInvalidData = errors.New("notice: invalid data")

// Signature closes every notice to an Order.
const Signature = "Piattaforma PEC della Federazione"

// ActivationData is what the activation e-mail to a member says.
type ActivationData struct {
	Nome, Cognome string
	Address       string    // the new PEC address
	OrderName     string    // e.g. "Ordine TSRM PSTRP di Firenze"
	Link          string    // the activation URL: the only place a token may appear
	ExpiresAt     time.Time // when Link stops working
	Reminder      int       // 0 for the first e-mail, 1, 2, ... for the reminders
}

// AuthorizationData is what the request to an Order to confirm, authorise and pay a batch says.
type AuthorizationData struct {
	OrderName    string
	BatchID      string
	MailboxCount int
	AmountCents  int     // gross total, VAT included
	PriceCents   int     // per mailbox, VAT excluded
	VATPercent   float64 // e.g. 22
	PortalHint   string  // what to do; empty: confirm and pay in the portal (or by the API)
	Reminder     int     // 0 for the first request, 1, 2, ... for the reminders
	Renewal      bool    // the batch renews active mailboxes instead of issuing new ones
}

// MemberNoticeData is what a notice to an Order about one of its members says. The member is
// named by name and numero di iscrizione, never by codice fiscale.
type MemberNoticeData struct {
	OrderName        string
	Nome, Cognome    string
	NumeroIscrizione string
	Address          string // the mailbox the notice is about
	OwnPEC           string // DeclineNotice: the existing PEC the member gave instead, if any
	Reason           string // RejectionNotice: the provider's reason
	Reminders        int    // UnactivatedNotice: how many reminders were sent
	Email            string // UnactivatedNotice: the member's ordinary e-mail the messages went to (shown masked)
}

//go:embed templates/*.tmpl
var templateFS embed.FS

var funcs = map[string]any{
	// plural picks the Italian singular or plural form for n.
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
}

var (
	textTemplates = texttemplate.Must(texttemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.txt.tmpl"))
	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html.tmpl"))
)

type activationView struct {
	Name       string // "Mario Rossi", or "" when no name was given
	Address    string
	OrderName  string
	Link       string
	ExpiryDate string // "23 novembre 2026"
	ExpiryTime string // "14:30", Europe/Rome
	Reminder   bool
}

// ActivationEmail is the ordinary e-mail that brings a member to the activation page
// (circolare 21/2019, step 8). Reminders say so in the subject and in the text.
func ActivationEmail(d ActivationData) (Message, error) {
	v := activationView{
		Name:      fullName(d.Nome, d.Cognome),
		Address:   clean(d.Address),
		OrderName: clean(d.OrderName),
		Link:      d.Link,
		Reminder:  d.Reminder > 0,
	}
	switch {
	case v.Address == "":
		return Message{}, invalid("Address", "is required")
	case v.OrderName == "":
		return Message{}, invalid("OrderName", "is required")
	case d.ExpiresAt.IsZero():
		return Message{}, invalid("ExpiresAt", "is required")
	case d.Reminder < 0:
		return Message{}, invalid("Reminder", "must not be negative")
	}
	if err := checkLink(d.Link); err != nil {
		return Message{}, err
	}
	v.ExpiryDate = FormatDate(d.ExpiresAt)
	v.ExpiryTime = d.ExpiresAt.In(rome).Format("15:04")
	return render("activation", v, true)
}

type authorizationView struct {
	OrderName    string
	BatchID      string
	MailboxCount int
	Amount       string
	Price        string
	VAT          string
	PortalHint   string
	Reminder     bool
}

// AuthorizationRequest is the PEC notice asking an Order to confirm and authorise the issuance
// of a batch of mailboxes and to pay for it (circolare 21/2019, step 5).
func AuthorizationRequest(d AuthorizationData) (Message, error) {
	v := authorizationView{
		OrderName:    clean(d.OrderName),
		BatchID:      clean(d.BatchID),
		MailboxCount: d.MailboxCount,
		Amount:       FormatEuro(d.AmountCents),
		Price:        FormatEuro(d.PriceCents),
		VAT:          formatPercent(d.VATPercent),
		PortalHint:   clean(d.PortalHint),
		Reminder:     d.Reminder > 0,
	}
	switch {
	case v.OrderName == "":
		return Message{}, invalid("OrderName", "is required")
	case v.BatchID == "":
		return Message{}, invalid("BatchID", "is required")
	case d.MailboxCount <= 0:
		return Message{}, invalid("MailboxCount", "must be positive")
	case d.AmountCents < 0:
		return Message{}, invalid("AmountCents", "must not be negative")
	case d.PriceCents < 0:
		return Message{}, invalid("PriceCents", "must not be negative")
	case !(d.VATPercent >= 0 && d.VATPercent <= 100): // NaN too
		return Message{}, invalid("VATPercent", "must be between 0 and 100")
	case d.Reminder < 0:
		return Message{}, invalid("Reminder", "must not be negative")
	}
	if v.PortalHint == "" {
		v.PortalHint = "Per confermare e autorizzare l'operazione si acceda al portale della Federazione, sezione PEC, " +
			"si apra il lotto " + v.BatchID + " e si scelga «Conferma»; il pagamento è registrato dalla Federazione al " +
			"ricevimento, con il riferimento del lotto."
	}
	if d.Renewal {
		return render("renewal", v, false)
	}
	return render("authorization", v, false)
}

// ExpiryData is what the reminder to a member before the mailbox expires says.
type ExpiryData struct {
	Nome, Cognome string
	Address       string    // the expiring PEC address
	OrderName     string    // who renews it
	OrderPEC      string    // whom to contact
	ExpiresOn     time.Time // the last day of validity
	DaysLeft      int
}

type expiryView struct {
	Name, Address, OrderName, OrderPEC, ExpiryDate string
	DaysLeft                                       int
}

// ExpiryReminder is the ordinary e-mail that tells a member the mailbox expires soon, that the
// Order renews it, and whom to ask.
func ExpiryReminder(d ExpiryData) (Message, error) {
	v := expiryView{Name: fullName(d.Nome, d.Cognome), Address: clean(d.Address), OrderName: clean(d.OrderName),
		OrderPEC: clean(d.OrderPEC), DaysLeft: d.DaysLeft}
	switch {
	case v.Address == "":
		return Message{}, invalid("Address", "is required")
	case v.OrderName == "":
		return Message{}, invalid("OrderName", "is required")
	case d.ExpiresOn.IsZero():
		return Message{}, invalid("ExpiresOn", "is required")
	case d.DaysLeft < 0:
		return Message{}, invalid("DaysLeft", "must not be negative")
	}
	v.ExpiryDate = FormatDate(d.ExpiresOn)
	return render("expiry", v, true)
}

type memberView struct {
	OrderName        string
	Name             string
	NumeroIscrizione string
	Address          string
	OwnPEC           string
	Reason           string
	Reminders        int
	Email            string // masked: m***@example.it
}

func memberNotice(name string, d MemberNoticeData, check func(memberView) error) (Message, error) {
	v := memberView{
		OrderName:        clean(d.OrderName),
		Name:             fullName(d.Nome, d.Cognome),
		NumeroIscrizione: clean(d.NumeroIscrizione),
		Address:          clean(d.Address),
		OwnPEC:           clean(d.OwnPEC),
		Reason:           clean(d.Reason),
		Reminders:        d.Reminders,
		Email:            MaskEmail(clean(d.Email)),
	}
	switch {
	case v.OrderName == "":
		return Message{}, invalid("OrderName", "is required")
	case v.Name == "":
		return Message{}, invalid("Nome", "Nome or Cognome is required")
	case v.Address == "":
		return Message{}, invalid("Address", "is required")
	}
	if check != nil {
		if err := check(v); err != nil {
			return Message{}, err
		}
	}
	return render(name, v, false)
}

// DeclineNotice tells an Order that a member declined the activation of the mailbox, which has
// been revoked; when the member gave an existing PEC (OwnPEC), that is now their domicilio
// digitale.
func DeclineNotice(d MemberNoticeData) (Message, error) {
	return memberNotice("decline", d, nil)
}

// SelfServiceNotice tells an Order that a member activated a mailbox they requested under the
// convention (Reason carries the offer code), now their domicilio digitale.
func SelfServiceNotice(d MemberNoticeData) (Message, error) {
	return memberNotice("selfservice", d, nil)
}

// RejectionNotice tells an Order that the provider rejected the request for a member's mailbox,
// with the provider's Reason.
func RejectionNotice(d MemberNoticeData) (Message, error) {
	return memberNotice("rejection", d, nil)
}

// UnactivatedNotice tells an Order that a member neither confirmed nor declined the activation
// after Reminders reminders, so that the Order contacts them.
func UnactivatedNotice(d MemberNoticeData) (Message, error) {
	return memberNotice("unactivated", d, func(v memberView) error {
		if v.Reminders < 0 {
			return invalid("Reminders", "must not be negative")
		}
		return nil
	})
}

// render executes <name>.subject and <name>.text, and <name>.html when withHTML.
func render(name string, v any, withHTML bool) (Message, error) {
	var m Message
	var b bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&b, name+".subject", v); err != nil {
		return Message{}, fmt.Errorf("notice: %s subject: %w", name, err)
	}
	m.Subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := textTemplates.ExecuteTemplate(&b, name+".text", v); err != nil {
		return Message{}, fmt.Errorf("notice: %s text: %w", name, err)
	}
	m.Text = tidyText(b.String())
	if withHTML {
		b.Reset()
		if err := htmlTemplates.ExecuteTemplate(&b, name+".html", v); err != nil {
			return Message{}, fmt.Errorf("notice: %s html: %w", name, err)
		}
		m.HTML = b.String()
	}
	return m, nil
}

// tidyText drops trailing blanks on each line and runs of blank lines left by the templates'
// conditionals, and ends the text with one newline.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := true // drops leading blank lines
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}

func invalid(field, what string) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidData, field, what)
}

// checkLink accepts an absolute http(s) URL without credentials or blanks. The error never
// repeats the link: it carries a token.
func checkLink(link string) error {
	if link == "" {
		return invalid("Link", "is required")
	}
	if strings.IndexFunc(link, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return invalid("Link", "must not contain blanks or control characters")
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return invalid("Link", "must be an absolute http(s) URL without user information")
	}
	return nil
}

func fullName(nome, cognome string) string {
	return clean(nome + " " + cognome)
}

// cfPattern is the shape of a codice fiscale, omocodic ones included, in either case.
var cfPattern = regexp.MustCompile(`(?i)[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]`)

// clean makes a value safe for a one-line field: control characters, line and paragraph
// separators and bidirectional overrides become spaces, runs of blanks become one space, and
// anything shaped like a codice fiscale is masked as the pages mask it (ZRZCRL**R10H501*).
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isBidiControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	return cfPattern.ReplaceAllStringFunc(s, func(cf string) string {
		return cf[:6] + "**" + cf[8:15] + "*"
	})
}

func isBidiControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' ||
		('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069')
}

// MaskEmail shows an e-mail address to an Order's staff as "m***@example.it": enough to tell
// whether it is the one they have, no more.
func MaskEmail(s string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" {
		return ""
	}
	r := []rune(local)
	return string(r[0]) + "***@" + domain
}
