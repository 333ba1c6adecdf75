// Package domain holds the PEC lifecycle's types and rules. It knows nothing of AWS or HTTP.
package domain

import "fmt"

// Kind classifies an error so that the edge can map it to a status code.
type Kind int

const (
	KindInternal     Kind = iota
	KindMalformed         // the request cannot be read (400)
	KindUnauthorized      // no or bad credentials (401)
	KindForbidden         // the caller may not do this (403)
	KindNotFound          // 404
	KindConflict          // the current state forbids it (409)
	KindGone              // it existed but is no longer usable (410)
	KindTooLarge          // 413
	KindInvalid           // readable but invalid data (422)
	KindRateLimited       // too many requests (429)
)

// Error is an error with a machine code, a message safe to show to the caller and, for
// validation errors, the field at fault. Internal detail never goes in Message.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

// Is makes errors.Is match two *Error values by code, so callers can test against sentinels.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Invalid returns a validation error naming the field.
func Invalid(field, code, message string) *Error {
	return &Error{Kind: KindInvalid, Code: code, Message: message, Field: field}
}

// Sentinels compared with errors.Is.
var (
	ErrNotFound          = &Error{Kind: KindNotFound, Code: "not_found", Message: "not found"}
	ErrMemberExists      = &Error{Kind: KindConflict, Code: "member_exists", Message: "a member with this codice fiscale is already enrolled in the Order"}
	ErrInvalidTransition = &Error{Kind: KindConflict, Code: "invalid_transition", Message: "the mailbox cannot move to that state from its current one"}
	ErrForbidden         = &Error{Kind: KindForbidden, Code: "forbidden", Message: "not allowed for this caller"}
	ErrConcurrentUpdate  = &Error{Kind: KindConflict, Code: "concurrent_update", Message: "the record changed while it was being updated; retry"}
)

// ErrAddressTaken is returned by a store when the address chosen for a new mailbox was reserved
// by someone else in the meantime; the caller picks the next candidate.
var ErrAddressTaken = &Error{Kind: KindConflict, Code: "address_taken", Message: "the address is already assigned"}

// ErrOfferCodeTaken is returned when another Order already owns the convention offer code.
var ErrOfferCodeTaken = &Error{Kind: KindConflict, Code: "offer_code_taken", Message: "another Order already uses this offer code", Field: "convention.offerCode"}

// ErrMemberNotFound is returned when the Order has no member with that codice fiscale.
var ErrMemberNotFound = &Error{Kind: KindNotFound, Code: "member_not_found", Message: "no such member in the Order"}

// ErrOrderNotFound is returned when the Order does not exist.
var ErrOrderNotFound = &Error{Kind: KindNotFound, Code: "order_not_found", Message: "no such Order"}
