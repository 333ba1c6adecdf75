package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pecplatform/pec/shared/app"
)

// Event types the provider calls back with.
const (
	EventCreated     = "mailbox.created"
	EventRejected    = "mailbox.rejected"
	EventDeactivated = "mailbox.deactivated"
)

// Event is a provider callback's body.
type Event struct {
	EventID     string    `json:"eventId"`
	Type        string    `json:"type"`
	Address     string    `json:"address"`
	ProviderRef string    `json:"providerRef"`
	OccurredAt  time.Time `json:"occurredAt"`
	Reason      string    `json:"reason,omitempty"`
}

// Outcome is what the event tells the lifecycle.
func (e Event) Outcome() app.ProviderEvent {
	return app.ProviderEvent{EventID: e.EventID, Type: e.Type, Address: e.Address, ProviderRef: e.ProviderRef, Reason: e.Reason}
}

// Limits on what ParseEvent accepts; the platform stores these values.
const (
	maxEventID     = 128
	maxProviderRef = 128
	maxReason      = 1000
	maxAddress     = 254
)

// EventError says which field of a callback body is wrong (Field is empty when the body is not
// a JSON object at all). Its message holds no value from the body.
type EventError struct {
	Field   string
	Message string
}

func (e *EventError) Error() string {
	if e.Field == "" {
		return "provider event: " + e.Message
	}
	return "provider event: " + e.Field + ": " + e.Message
}

// ParseEvent decodes and validates a callback body: eventId of 1 to 128 characters, type one of
// the three Event* constants, address a bare e-mail address (returned lower-cased, as the
// platform composes them), occurredAt in RFC 3339 (returned in UTC); providerRef and reason are
// optional and bounded. Unknown fields are ignored. Errors are *EventError.
func ParseEvent(body []byte) (Event, error) {
	var raw struct {
		EventID     string `json:"eventId"`
		Type        string `json:"type"`
		Address     string `json:"address"`
		ProviderRef string `json:"providerRef"`
		OccurredAt  string `json:"occurredAt"`
		Reason      string `json:"reason"`
	}
	if !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
		return Event{}, &EventError{Message: "the body must be a JSON object"}
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			return Event{}, &EventError{Field: te.Field, Message: "must be a string"}
		}
		return Event{}, &EventError{Message: "the body is not valid JSON"}
	}
	if n := utf8.RuneCountInString(raw.EventID); n < 1 || n > maxEventID {
		return Event{}, &EventError{Field: "eventId", Message: "must be 1 to 128 characters"}
	}
	switch raw.Type {
	case EventCreated, EventRejected, EventDeactivated:
	default:
		return Event{}, &EventError{Field: "type", Message: "must be mailbox.created, mailbox.rejected or mailbox.deactivated"}
	}
	if !isAddress(raw.Address) {
		return Event{}, &EventError{Field: "address", Message: "must be an e-mail address"}
	}
	at, err := time.Parse(time.RFC3339, raw.OccurredAt)
	if err != nil {
		return Event{}, &EventError{Field: "occurredAt", Message: "must be an RFC 3339 time"}
	}
	if utf8.RuneCountInString(raw.ProviderRef) > maxProviderRef {
		return Event{}, &EventError{Field: "providerRef", Message: "must be at most 128 characters"}
	}
	if utf8.RuneCountInString(raw.Reason) > maxReason {
		return Event{}, &EventError{Field: "reason", Message: "must be at most 1000 characters"}
	}
	return Event{
		EventID:     raw.EventID,
		Type:        raw.Type,
		Address:     strings.ToLower(raw.Address),
		ProviderRef: raw.ProviderRef,
		OccurredAt:  at.UTC(),
		Reason:      raw.Reason,
	}, nil
}

// isAddress accepts exactly one bare address with a dotted domain: no display name, no list,
// nothing that could break a header line.
func isAddress(s string) bool {
	if s == "" || len(s) > maxAddress || strings.ContainsAny(s, "\r\n<>,; \t") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at >= 1 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}
