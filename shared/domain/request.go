package domain

import (
	"bytes"
	"strings"
	"time"
)

// RequestState is where a member's self-service request stands (flow 2, seed 003). Once
// submitted, the request's mailbox follows the same lifecycle as flow 1 from RICHIESTA_INVIATA.
type RequestState string

const (
	RequestAwaitingPayment   RequestState = "AWAITING_PAYMENT"
	RequestAwaitingDocuments RequestState = "AWAITING_DOCUMENTS"
	RequestSubmitted         RequestState = "SUBMITTED"
	// RequestAbandoned: left unpaid past its time; its provisional mailbox is revoked.
	RequestAbandoned RequestState = "ABANDONED"
)

// DocumentKind names a document the member uploads.
type DocumentKind string

const (
	DocumentForm     DocumentKind = "form"     // the signed subscription form
	DocumentIdentity DocumentKind = "identity" // a copy of an identity document
)

// DocumentKinds lists the documents a request needs, in the order they are asked for.
var DocumentKinds = []DocumentKind{DocumentForm, DocumentIdentity}

// MaxDocument is the largest document accepted (10 MB).
const MaxDocument = 10 << 20

// Document is an uploaded document as the request records it; the content is in the files
// bucket under Key.
type Document struct {
	Key         string
	ContentType string
	Size        int64
	SHA256      string
	UploadedAt  time.Time
}

// DocumentRefusal is an upload the platform refused after it was stored: the member is told
// on the request's page until a document of that kind is accepted.
type DocumentRefusal struct {
	Key    string // the refused upload's key
	Reason string // the error code: unsupported_document_type, document_type_mismatch, document_too_large
	At     time.Time
}

// Payment is the member's payment of the convention's price.
type Payment struct {
	Reference   string
	AmountCents int
	PaidAt      time.Time
}

// Request is a member's self-service request for a mailbox under the Order's convention.
type Request struct {
	ID          string
	OrderID     string
	OfferCode   string
	MemberKey   string // the member's canonical codice fiscale
	MailboxID   string
	Address     string
	Email       string // the address the member gave for this request
	PriceCents  int
	VATPercent  float64
	AmountCents int // price with VAT
	TokenHash   string
	Payment     *Payment
	Documents   map[DocumentKind]Document
	// Refused holds, by kind, the last upload refused since the last accepted one.
	Refused     map[DocumentKind]DocumentRefusal
	Submitted   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	SubmittedAt time.Time
	// ExpiryNotified is when the member was told that the unpaid request is about to expire
	// (once); AbandonedAt when it expired.
	ExpiryNotified time.Time
	AbandonedAt    time.Time
	Version        int
}

// Unpaid reports whether the request still waits for its payment (and can be abandoned).
func (r *Request) Unpaid() bool {
	return r.Payment == nil && !r.Submitted && r.AbandonedAt.IsZero()
}

// ErrRequestAbandoned answers a request that expired unpaid.
var ErrRequestAbandoned = &Error{Kind: KindGone, Code: "request_abandoned", Message: "the request expired unpaid: start a new one"}

// Errors of self-service requests.
var (
	// ErrIdentityMismatch is the one answer to a codice fiscale that is not enrolled and to a
	// name that does not match, so that the endpoint reveals nobody's enrolment.
	ErrIdentityMismatch = &Error{Kind: KindInvalid, Code: "identity_mismatch", Message: "codice fiscale, cognome and nome do not match a member enrolled in the Order of this convention"}
	ErrOfferNotFound    = &Error{Kind: KindNotFound, Code: "offer_not_found", Message: "no convention has this offer code"}
	ErrRequestNotFound  = &Error{Kind: KindNotFound, Code: "request_not_found", Message: "no such request, or a wrong access token"}
	ErrMailboxExists    = &Error{Kind: KindConflict, Code: "mailbox_exists", Message: "the member already has a mailbox, or one on its way"}
	ErrHasDomicilio     = &Error{Kind: KindConflict, Code: "domicilio_exists", Message: "the member's records already hold a PEC as domicilio digitale"}
	ErrRequestPaid      = &Error{Kind: KindConflict, Code: "request_in_progress", Message: "the member's request is already paid; continue it with its access token"}
	ErrRequestSubmitted = &Error{Kind: KindConflict, Code: "request_submitted", Message: "the request was already sent to the provider"}
	ErrPaymentMismatch  = &Error{Kind: KindInvalid, Code: "amount_mismatch", Message: "amountCents must equal the request's amount", Field: "amountCents"}
	ErrPaidOtherRef     = &Error{Kind: KindConflict, Code: "already_paid", Message: "the request was paid with another reference"}
	ErrRateLimited      = &Error{Kind: KindRateLimited, Code: "rate_limited", Message: "too many requests from this client; retry later"}
)

// RequestInput is what the member types.
type RequestInput struct {
	CodiceFiscale string `json:"codiceFiscale"`
	Cognome       string `json:"cognome"`
	Nome          string `json:"nome"`
	Email         string `json:"email"`
}

// Validate checks the fields' form, naming the first bad one, and returns the parsed codice
// fiscale and e-mail. Whether they match a member is decided by Matches.
func (in RequestInput) Validate() (CodiceFiscale, string, error) {
	cf, err := ParseCodiceFiscale(in.CodiceFiscale)
	if err != nil {
		return "", "", err
	}
	if _, err := personName("cognome", in.Cognome); err != nil {
		return "", "", err
	}
	if _, err := personName("nome", in.Nome); err != nil {
		return "", "", err
	}
	email, err := NormaliseEmail(in.Email)
	if err != nil {
		return "", "", Invalid("email", "invalid_email", "email must be a single e-mail address")
	}
	return cf, email, nil
}

// Matches reports whether what the member typed names the enrolled member m: the codici
// fiscali are the same person (omocodia aside) and the names are the same up to case,
// accents, apostrophes and spacing. A member who left the albo matches nobody.
func (in RequestInput) Matches(m *Member) bool {
	cf, err := ParseCodiceFiscale(in.CodiceFiscale)
	return err == nil && m != nil && !m.Cancelled() && cf.SamePerson(m.CodiceFiscale) &&
		SameName(in.Cognome, m.Cognome) && SameName(in.Nome, m.Nome)
}

// State derives the request's state from what it has.
func (r *Request) State() RequestState {
	switch {
	case r.Submitted:
		return RequestSubmitted
	case !r.AbandonedAt.IsZero():
		return RequestAbandoned
	case r.Payment == nil:
		return RequestAwaitingPayment
	}
	return RequestAwaitingDocuments
}

// Missing lists what the request still needs before it can go to the provider: "payment",
// then the missing documents' kinds.
func (r *Request) Missing() []string {
	out := []string{}
	if r.Payment == nil {
		out = append(out, "payment")
	}
	for _, k := range DocumentKinds {
		if _, ok := r.Documents[k]; !ok {
			out = append(out, string(k))
		}
	}
	return out
}

// Ready reports whether the request is paid and documented but not yet submitted.
func (r *Request) Ready() bool { return !r.Submitted && len(r.Missing()) == 0 }

// Pay records the payment. The same reference again changes nothing; another one is refused.
func (r *Request) Pay(reference string, amountCents int, at time.Time) (changed bool, err error) {
	if !r.AbandonedAt.IsZero() {
		return false, ErrRequestAbandoned
	}
	reference = strings.TrimSpace(reference)
	if reference == "" || len(reference) > 128 || hasControl(reference) {
		return false, Invalid("reference", "invalid_reference", "reference is required, at most 128 characters")
	}
	if amountCents != r.AmountCents {
		return false, ErrPaymentMismatch
	}
	if r.Payment != nil {
		if r.Payment.Reference == reference {
			return false, nil
		}
		return false, ErrPaidOtherRef
	}
	r.Payment = &Payment{Reference: reference, AmountCents: amountCents, PaidAt: at.UTC()}
	r.UpdatedAt = at.UTC()
	return true, nil
}

// AddDocument records an uploaded document, replacing an earlier one of the same kind until
// the request is submitted.
func (r *Request) AddDocument(kind DocumentKind, d Document) error {
	if r.Submitted {
		return ErrRequestSubmitted
	}
	if !r.AbandonedAt.IsZero() {
		return ErrRequestAbandoned
	}
	if r.Documents == nil {
		r.Documents = map[DocumentKind]Document{}
	}
	r.Documents[kind] = d
	delete(r.Refused, kind)
	r.UpdatedAt = d.UploadedAt
	return nil
}

// RefuseDocument records that an upload of kind was refused, so that the member's page says
// why. An upload already recorded (as refused, or accepted as the kind's document) changes
// nothing, nor does one for a request that no longer takes documents.
func (r *Request) RefuseDocument(kind DocumentKind, f DocumentRefusal) bool {
	if r.Submitted || !r.AbandonedAt.IsZero() || r.Refused[kind].Key == f.Key {
		return false
	}
	if r.Refused == nil {
		r.Refused = map[DocumentKind]DocumentRefusal{}
	}
	r.Refused[kind] = f
	r.UpdatedAt = f.At.UTC()
	return true
}

// Submit marks a ready request submitted.
func (r *Request) Submit(at time.Time) bool {
	if !r.Ready() {
		return false
	}
	r.Submitted, r.SubmittedAt, r.UpdatedAt = true, at.UTC(), at.UTC()
	return true
}

// ParseDocumentKind accepts "form" or "identity".
func ParseDocumentKind(s string) (DocumentKind, error) {
	for _, k := range DocumentKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", Invalid(s, "unknown_document", "documents are form (the signed subscription form) and identity (an identity document)")
}

// SniffDocument returns the content type of a document by its content, not its name: PDF,
// JPEG or PNG. Anything else is refused, naming the field.
func SniffDocument(field string, head []byte) (string, error) {
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "application/pdf", nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg", nil
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", nil
	}
	return "", &Error{Kind: KindInvalid, Code: "unsupported_document_type", Message: field + " must be a PDF, JPEG or PNG file (checked by content)", Field: field}
}

// DocumentTypes are the content types a document may have.
var DocumentTypes = []string{"application/pdf", "image/jpeg", "image/png"}

// CheckDeclaredType sniffs a stored upload against the type it was declared with (the type
// the browser gave it, from the file's name): a file that is no PDF, JPEG or PNG, or one that
// is another of the three than it says, is refused, naming the field.
func CheckDeclaredType(field, declared string, content []byte) (string, error) {
	ct, err := SniffDocument(field, content)
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(strings.TrimSpace(declared), ct) {
		return "", &Error{Kind: KindInvalid, Code: "document_type_mismatch", Field: field,
			Message: field + " is not the kind of file its name says (" + declared + "; by content " + ct + ")"}
	}
	return ct, nil
}

// DocumentTooLarge is the error for a document over MaxDocument.
func DocumentTooLarge(field string) error {
	return &Error{Kind: KindTooLarge, Code: "document_too_large", Message: field + " is larger than 10 MB", Field: field}
}
