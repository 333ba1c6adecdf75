package domain

import (
	"math"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

var orderIDPattern = regexp.MustCompile(`^[A-Z0-9-]{2,32}$`)
var offerCodePattern = regexp.MustCompile(`^[A-Z0-9-]{2,40}$`)

// Convention is the agreement under which an Order's members get a mailbox.
type Convention struct {
	// WebPEC is true when the Order adheres to the federation's convention: members enrolled
	// without a PEC get a provisional mailbox.
	WebPEC     bool    `json:"webpec"`
	OfferCode  *string `json:"offerCode"`
	PriceCents int     `json:"priceCents"`
	VATPercent float64 `json:"vatPercent"`
	// ValidityYears is how long a mailbox is valid from its activation, and how far a renewal
	// extends it; 0 (absent) means DefaultValidityYears.
	ValidityYears int `json:"validityYears"`
}

// Validity is the convention's validity in years, DefaultValidityYears when not set.
func (c Convention) Validity() int {
	if c.ValidityYears == 0 {
		return DefaultValidityYears
	}
	return c.ValidityYears
}

// Order is a provincial Order (Ordine) whose members receive mailboxes.
type Order struct {
	ID         string
	Name       string
	PEC        string // the Order's own PEC address, for notices with legal weight
	Convention Convention
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// BatchSeq is the open batch sequence number: mailboxes enrolled now join the next batch.
	BatchSeq int
	Version  int
}

// ValidateOrderID checks the identifier format of api.md.
func ValidateOrderID(id string) error {
	if !orderIDPattern.MatchString(id) {
		return Invalid("orderId", "invalid_order_id", "orderId must be 2 to 32 characters among A-Z, 0-9 and -")
	}
	return nil
}

// Validate checks an Order's fields, normalising what has an obvious normal form.
func (o *Order) Validate() error {
	if err := ValidateOrderID(o.ID); err != nil {
		return err
	}
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" || utf8.RuneCountInString(o.Name) > 200 || hasControl(o.Name) {
		return Invalid("name", "invalid_name", "name is required, at most 200 characters, on one line")
	}
	pec, err := NormaliseEmail(o.PEC)
	if err != nil {
		return Invalid("pec", "invalid_pec", "pec must be an e-mail address")
	}
	o.PEC = pec
	c := &o.Convention
	if c.OfferCode != nil {
		code := strings.ToUpper(strings.TrimSpace(*c.OfferCode))
		if !offerCodePattern.MatchString(code) {
			return Invalid("convention.offerCode", "invalid_offer_code", "offerCode must be 2 to 40 characters among A-Z, 0-9 and -")
		}
		c.OfferCode = &code
	}
	if c.PriceCents < 0 || c.PriceCents > 1_000_000 {
		return Invalid("convention.priceCents", "invalid_price", "priceCents must be between 0 and 1000000")
	}
	if c.VATPercent < 0 || c.VATPercent > 100 || math.IsNaN(c.VATPercent) {
		return Invalid("convention.vatPercent", "invalid_vat", "vatPercent must be between 0 and 100")
	}
	if c.ValidityYears == 0 {
		c.ValidityYears = DefaultValidityYears
	}
	if c.ValidityYears < 1 || c.ValidityYears > 10 {
		return Invalid("convention.validityYears", "invalid_validity", "validityYears must be between 1 and 10")
	}
	return nil
}

// NormaliseEmail returns the bare, lower-cased address, or an error when s is not exactly one
// address (display names, lists, header line breaks and missing domains are refused).
func NormaliseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || strings.ContainsAny(s, "\r\n<>,; \t") {
		return "", errBadEmail
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", errBadEmail
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return "", errBadEmail
	}
	return strings.ToLower(s), nil
}

var errBadEmail = &Error{Kind: KindInvalid, Code: "invalid_email", Message: "not an e-mail address"}
