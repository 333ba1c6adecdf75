package domain

import (
	"strings"
	"time"
	"unicode/utf8"
)

// SuspensionKind is why a member is suspended from the albo.
type SuspensionKind string

const (
	// SuspensionDisciplinary: a disciplinary measure of the Order.
	SuspensionDisciplinary SuspensionKind = "disciplinary"
	// SuspensionArt37: D.L. 76/2020 art. 37 (L. 120/2020), a professional who did not give the
	// Order a domicilio digitale after the formal warning, until they give one.
	SuspensionArt37 SuspensionKind = "art37_dl76_2020"
)

// Suspension is a member's suspension from the albo.
type Suspension struct {
	From, To string // YYYY-MM-DD; To is empty when open-ended
	Kind     SuspensionKind
	Reason   string
	// Unpublished is true when the Order's convention takes the domicilio digitale off INI-PEC
	// while the member is suspended (SuspensionPolicy unpublish or revoke).
	Unpublished bool
}

// InForce reports whether the suspension applies on the day (YYYY-MM-DD).
func (s *Suspension) InForce(day string) bool {
	return s != nil && s.From <= day && (s.To == "" || day <= s.To)
}

// SuspensionPolicy is what an Order's convention does with a suspended member's domicilio
// digitale: Orders differ.
type SuspensionPolicy string

const (
	// SuspendKeep: the mailbox stays usable and INI-PEC keeps the domicilio (the obligation to
	// have one does not lapse with the suspension).
	SuspendKeep SuspensionPolicy = "keep"
	// SuspendUnpublish: the mailbox stays usable; INI-PEC gets the deletion, and the insertion
	// again at the reinstatement.
	SuspendUnpublish SuspensionPolicy = "unpublish"
	// SuspendRevoke: the convention mailbox is revoked (a new one is requested after the
	// reinstatement); INI-PEC gets the deletion, and an own PEC's insertion at the reinstatement.
	SuspendRevoke SuspensionPolicy = "revoke"
)

// ParseSuspensionPolicy reads the SuspensionPolicy setting.
func ParseSuspensionPolicy(s string) (SuspensionPolicy, bool) {
	switch p := SuspensionPolicy(s); p {
	case SuspendKeep, SuspendUnpublish, SuspendRevoke:
		return p, true
	}
	return "", false
}

// SuspensionInput is a suspension as the Order asks for it.
type SuspensionInput struct {
	From   string         `json:"from"`
	To     string         `json:"to"`
	Kind   SuspensionKind `json:"kind"`
	Reason string         `json:"reason"`
}

// Suspension validates the input: from a date not after today (a suspension is recorded when it
// takes effect, since what it does to the domicilio happens when it is recorded), to (optional)
// not before it, a known kind, a reason (the decision's reference, say).
func (in SuspensionInput) Suspension(today time.Time) (*Suspension, error) {
	from, err := time.Parse(time.DateOnly, strings.TrimSpace(in.From))
	if err != nil || from.Year() < 1900 || from.After(today) {
		return nil, Invalid("from", "invalid_from", "from must be a date YYYY-MM-DD, not after today: record a suspension when it takes effect")
	}
	s := &Suspension{From: from.Format(time.DateOnly), Kind: in.Kind}
	if t := strings.TrimSpace(in.To); t != "" {
		to, err := time.Parse(time.DateOnly, t)
		if err != nil || to.Before(from) {
			return nil, Invalid("to", "invalid_to", "to must be a date YYYY-MM-DD, not before from")
		}
		s.To = to.Format(time.DateOnly)
	}
	if s.Kind != SuspensionDisciplinary && s.Kind != SuspensionArt37 {
		return nil, Invalid("kind", "invalid_kind", "kind must be disciplinary or art37_dl76_2020")
	}
	s.Reason = strings.Join(strings.Fields(in.Reason), " ")
	if s.Reason == "" || utf8.RuneCountInString(s.Reason) > 500 || hasControl(s.Reason) {
		return nil, Invalid("reason", "invalid_reason", "reason is required, at most 500 characters")
	}
	return s, nil
}

// Same reports whether two suspensions are the same decision.
func (s *Suspension) Same(o *Suspension) bool {
	return s != nil && o != nil && s.From == o.From && s.To == o.To && s.Kind == o.Kind && s.Reason == o.Reason
}
