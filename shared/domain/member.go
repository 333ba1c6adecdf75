package domain

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

var alboPattern = regexp.MustCompile(`^[A-Z0-9_-]{2,32}$`)

// Source says where a member's domicilio digitale comes from.
type Source string

const (
	SourceOwn        Source = "own"        // a PEC the member already had
	SourceConvention Source = "convention" // a mailbox issued by this platform
)

// Member is a professional enrolled in an Order's albo.
type Member struct {
	OrderID          string
	CodiceFiscale    CodiceFiscale
	Nome             string
	Cognome          string
	Albo             string
	NumeroIscrizione string
	DataIscrizione   string // YYYY-MM-DD
	Email            string // ordinary address for notices
	// Phone and Residence are the holder's, for providers that ask them (Legalmail); optional.
	Phone      string
	Residence  *Residence
	PEC        string // the member's own PEC, when given
	CTU        bool
	MailboxID  string // the convention mailbox, when one was issued
	EnrolledAt time.Time
	UpdatedAt  time.Time
	// ImportID is the albo import that enrolled the member, if one did.
	ImportID string
	// RequestKey is the (scoped) Idempotency-Key of the request that enrolled the member, if
	// it had one: its retry recognises the member as its own.
	RequestKey string
	// Cancellation from the albo, when it happened.
	CancelledOn  string // YYYY-MM-DD
	CancelReason string
	// Reginde tracks a CTU's registration of the domicilio digitale in ReGIndE.
	Reginde Reginde
	// TransferredTo is the Order the member moved to (their record here is then cancelled);
	// TransferredFrom the Order they came from.
	TransferredTo, TransferredFrom string
	// Suspension is the member's suspension from the albo, while recorded (nil otherwise).
	Suspension *Suspension
	// EmailProblem is set when the ordinary e-mail address bounced or the member complained:
	// nothing more is sent to it until it is corrected.
	EmailProblem *EmailProblem
}

// EmailProblemKind is what happened to a member's ordinary e-mail.
type EmailProblemKind string

const (
	EmailBounced    EmailProblemKind = "bounced"    // a permanent bounce
	EmailComplained EmailProblemKind = "complained" // the member marked a message as spam
)

// EmailProblem is what SES reported of the member's ordinary e-mail address.
type EmailProblem struct {
	Kind    EmailProblemKind
	Address string // the address it happened to
	At      time.Time
}

// Cancelled reports whether the member has left the albo.
func (m *Member) Cancelled() bool { return m.CancelledOn != "" }

// Key identifies the member within the Order regardless of omocodia.
func (m *Member) Key() string { return string(m.CodiceFiscale.Canonical()) }

// Enrolment is what the Order submits to enrol a member, before validation.
type Enrolment struct {
	CodiceFiscale    string `json:"codiceFiscale"`
	Nome             string `json:"nome"`
	Cognome          string `json:"cognome"`
	Albo             string `json:"albo"`
	NumeroIscrizione string `json:"numeroIscrizione"`
	DataIscrizione   string `json:"dataIscrizione"`
	Email            string `json:"email"`
	PEC              string `json:"pec"`
	CTU              bool   `json:"ctu"`
	// Telefono and Residenza are optional: providers that contract with the holder ask them.
	Telefono  string     `json:"telefono,omitempty"`
	Residenza *Residence `json:"residenza,omitempty"`
}

// Member validates the enrolment and returns the member it describes. The first invalid field
// is reported, in the order the fields are listed in the contract.
func (e Enrolment) Member(orderID string, now time.Time) (*Member, error) {
	cf, err := ParseCodiceFiscale(e.CodiceFiscale)
	if err != nil {
		return nil, err
	}
	m := &Member{OrderID: orderID, CodiceFiscale: cf, CTU: e.CTU, EnrolledAt: now.UTC(), UpdatedAt: now.UTC()}
	if m.Nome, err = personName("nome", e.Nome); err != nil {
		return nil, err
	}
	if m.Cognome, err = personName("cognome", e.Cognome); err != nil {
		return nil, err
	}
	m.Albo = strings.ToUpper(strings.TrimSpace(e.Albo))
	if !alboPattern.MatchString(m.Albo) {
		return nil, Invalid("albo", "invalid_albo", "albo must be 2 to 32 characters among A-Z, 0-9, _ and -")
	}
	m.NumeroIscrizione = strings.TrimSpace(e.NumeroIscrizione)
	if m.NumeroIscrizione == "" || utf8.RuneCountInString(m.NumeroIscrizione) > 32 || hasControl(m.NumeroIscrizione) {
		return nil, Invalid("numeroIscrizione", "invalid_numero_iscrizione", "numeroIscrizione is required, at most 32 characters")
	}
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(e.DataIscrizione))
	if err != nil || d.After(now.AddDate(0, 0, 1)) || d.Year() < 1900 {
		return nil, Invalid("dataIscrizione", "invalid_data_iscrizione", "dataIscrizione must be a date YYYY-MM-DD, not in the future")
	}
	m.DataIscrizione = d.Format(time.DateOnly)
	if m.Email, err = NormaliseEmail(e.Email); err != nil {
		return nil, Invalid("email", "invalid_email", "email must be a single e-mail address")
	}
	if strings.TrimSpace(e.PEC) != "" {
		if m.PEC, err = NormaliseEmail(e.PEC); err != nil {
			return nil, Invalid("pec", "invalid_pec", "pec must be a single e-mail address")
		}
	}
	if strings.TrimSpace(e.Telefono) != "" {
		if m.Phone, err = ParsePhone("telefono", e.Telefono); err != nil {
			return nil, err
		}
	}
	if e.Residenza != nil {
		r, err := e.Residenza.Validate()
		if err != nil {
			return nil, err
		}
		m.Residence = &r
	}
	return m, nil
}

// NeedsMailbox reports whether enrolling the member in the Order issues a provisional mailbox:
// the member gave no PEC and the Order adheres to the convention.
func (m *Member) NeedsMailbox(o *Order) bool { return m.PEC == "" && o.Convention.WebPEC }

// Domicilio is a member's domicilio digitale as the Order's records show it.
type Domicilio struct {
	Address string `json:"address"`
	Source  Source `json:"source"`
	State   State  `json:"state"`
}

// DomicilioDigitale returns the member's domicilio digitale: the own PEC (always usable, so
// shown as ATTIVATA), else the convention mailbox in whatever state it is, else nil; nil too
// once the member has left the albo.
func (m *Member) DomicilioDigitale(mb *Mailbox) *Domicilio {
	switch {
	case m.Cancelled():
		return nil // no longer in the albo: the Order keeps no domicilio digitale for them
	case m.PEC != "":
		return &Domicilio{Address: m.PEC, Source: SourceOwn, State: StateAttivata}
	case mb != nil:
		return &Domicilio{Address: mb.Address, Source: SourceConvention, State: mb.State}
	}
	return nil
}

func personName(field, s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" || utf8.RuneCountInString(s) > 100 || hasControl(s) {
		return "", Invalid(field, "invalid_"+field, field+" is required, at most 100 characters")
	}
	return s, nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0xfffd })
}

// ValidateCancellation checks a cancellation from the albo: a date (not in the future) and a
// reason.
func ValidateCancellation(date, reason string, now time.Time) (string, string, error) {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(date))
	if err != nil || d.After(now.AddDate(0, 0, 1)) {
		return "", "", Invalid("date", "invalid_date", "date must be a date YYYY-MM-DD, not in the future")
	}
	reason, err = ValidateReason(reason)
	return d.Format(time.DateOnly), reason, err
}

// ValidateTransfer checks a transfer to another Order: the Order's id, the date (not in the
// future) and the member's number in the new Order's albo.
func ValidateTransfer(fromOrderID, toOrderID, date, numero string, now time.Time) (string, string, error) {
	if err := ValidateOrderID(toOrderID); err != nil || toOrderID == fromOrderID {
		return "", "", Invalid("toOrderId", "invalid_to_order_id", "toOrderId must be another Order's id")
	}
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(date))
	if err != nil || d.After(now.AddDate(0, 0, 1)) {
		return "", "", Invalid("date", "invalid_date", "date must be a date YYYY-MM-DD, not in the future")
	}
	numero = strings.TrimSpace(numero)
	if numero == "" || utf8.RuneCountInString(numero) > 32 || hasControl(numero) {
		return "", "", Invalid("numeroIscrizione", "invalid_numero_iscrizione", "numeroIscrizione is required, at most 32 characters")
	}
	return d.Format(time.DateOnly), numero, nil
}

// ValidateReason checks the free-text reason of a revocation or cancellation.
func ValidateReason(reason string) (string, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	if reason == "" || utf8.RuneCountInString(reason) > 500 || hasControl(reason) {
		return "", Invalid("reason", "invalid_reason", "reason is required, at most 500 characters")
	}
	return reason, nil
}
