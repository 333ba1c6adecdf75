package domain

import (
	"math"
	"strings"
	"time"
)

// BatchState is where a batch stands in the Order's authorisation.
type BatchState string

const (
	BatchAwaitingAuthorization BatchState = "AWAITING_AUTHORIZATION"
	BatchSubmitted             BatchState = "SUBMITTED"
)

// BatchKind says what a batch authorises: the issuance of RICHIESTA mailboxes or the renewal
// of ATTIVATA ones.
type BatchKind string

const (
	BatchIssuance BatchKind = "issuance"
	BatchRenewal  BatchKind = "renewal"
)

// Batch gathers the RICHIESTA mailboxes of an Order for one authorisation and payment
// (circolare 21/2019, steps 4-5): when the Order has confirmed and paid, in either order, its
// mailboxes go to the provider.
type Batch struct {
	ID           string
	OrderID      string
	Seq          int // the Order's batch sequence number whose mailboxes this batch holds
	MailboxCount int
	AmountCents  int
	Confirmed    bool
	ConfirmedAt  time.Time
	ConfirmedBy  string
	Paid         bool
	PaidAt       time.Time
	PaymentRef   string
	State        BatchState
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int
	Kind         BatchKind // empty: issuance (batches stored before renewals existed)
}

// IsRenewal reports whether the batch renews mailboxes rather than issuing them.
func (b *Batch) IsRenewal() bool { return b.Kind == BatchRenewal }

// KindOrDefault is the batch's kind, issuance when not recorded.
func (b *Batch) KindOrDefault() BatchKind {
	if b.Kind == "" {
		return BatchIssuance
	}
	return b.Kind
}

// Amount is the gross amount for n mailboxes at the convention's price plus VAT, in cents,
// rounded half up once on the total (as an invoice would).
func Amount(n int, c Convention) int {
	return int(math.Round(float64(n) * float64(c.PriceCents) * (100 + c.VATPercent) / 100))
}

// Errors of the authorisation.
var (
	ErrNothingToAuthorize = &Error{Kind: KindConflict, Code: "nothing_to_authorize", Message: "the Order has no mailbox in RICHIESTA waiting for a batch"}
	ErrAmountMismatch     = &Error{Kind: KindInvalid, Code: "amount_mismatch", Message: "amountCents must equal the batch's amount", Field: "amountCents"}
	ErrAlreadyPaid        = &Error{Kind: KindConflict, Code: "already_paid", Message: "the batch was paid with another reference"}
	ErrBatchNotFound      = &Error{Kind: KindNotFound, Code: "batch_not_found", Message: "no such batch"}
)

// Confirm records the Order's authorisation. Confirming twice changes nothing.
func (b *Batch) Confirm(at time.Time, actor string) (changed bool) {
	if b.Confirmed {
		return false
	}
	b.Confirmed, b.ConfirmedAt, b.ConfirmedBy = true, at.UTC(), actor
	return b.advance(at)
}

// Pay records the payment. The same reference again changes nothing; another is a conflict.
func (b *Batch) Pay(reference string, amountCents int, at time.Time) (changed bool, err error) {
	reference = strings.TrimSpace(reference)
	if reference == "" || len(reference) > 128 || hasControl(reference) {
		return false, Invalid("reference", "invalid_reference", "reference is required, at most 128 characters")
	}
	if amountCents != b.AmountCents {
		return false, ErrAmountMismatch
	}
	if b.Paid {
		if b.PaymentRef == reference {
			return false, nil
		}
		return false, ErrAlreadyPaid
	}
	b.Paid, b.PaidAt, b.PaymentRef = true, at.UTC(), reference
	return b.advance(at), nil
}

// advance submits the batch once it is both confirmed and paid.
func (b *Batch) advance(at time.Time) bool {
	b.UpdatedAt = at.UTC()
	if b.Confirmed && b.Paid {
		b.State = BatchSubmitted
	}
	return true
}

// Submitted reports whether the batch's mailboxes may go to the provider.
func (b *Batch) Submitted() bool { return b.State == BatchSubmitted }
