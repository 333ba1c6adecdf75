package domain

import "time"

// Reginde is what the platform knows of a court-appointed expert's (CTU) registration in
// ReGIndE, the Ministry of Justice's register of electronic addresses. Registration needs the
// member's own smart card, so the platform can only explain, remind and record the member's
// word that it is done.
type Reginde struct {
	// Address is the PEC the member was last asked to register: the domicilio digitale at the
	// time of the notice. A registration confirmed for another address does not count.
	Address string
	// NotifiedFor is what the last completed notice was for: the id of the mailbox whose
	// activation triggered it, or "own:<address>" for a PEC of the member's own. It makes the
	// notice after an activation happen once.
	NotifiedFor string
	NotifiedAt  time.Time // when the last notice was sent
	Notices     int       // how many notices were sent
	// The member's current confirmation link, stored only as a hash.
	LinkHash      string
	LinkExpiresAt time.Time
	ConfirmedAt   time.Time // when the member said they registered Address; zero: not yet
}

// Confirmed reports whether the member has confirmed registering the address they were asked to.
func (r Reginde) Confirmed() bool { return !r.ConfirmedAt.IsZero() }

// LinkUsable reports whether a link with this hash is the member's current one and unexpired.
// A confirmed link stays usable, so that opening it again says the confirmation is recorded.
func (r Reginde) LinkUsable(hash string, now time.Time) bool {
	return r.LinkHash != "" && r.LinkHash == hash && now.Before(r.LinkExpiresAt)
}

// IssueLink records a new confirmation link for address; any older link dies. Asking for a
// new address starts over: a registration confirmed for another PEC is not one for this PEC.
func (r *Reginde) IssueLink(address, hash string, expires time.Time) {
	if r.Address != address {
		r.Address, r.ConfirmedAt = address, time.Time{}
	}
	r.LinkHash, r.LinkExpiresAt = hash, expires
}

// Notified records that the notice carrying the link with this hash was sent. It reports false
// when a newer link replaced that one meanwhile (that newer notice records itself).
func (r *Reginde) Notified(hash, key string, at time.Time) bool {
	if r.LinkHash != hash {
		return false
	}
	r.NotifiedFor, r.NotifiedAt = key, at
	r.Notices++
	return true
}

// Confirm records the member's confirmation; false when it was already recorded.
func (r *Reginde) Confirm(at time.Time) bool {
	if r.Confirmed() {
		return false
	}
	r.ConfirmedAt = at
	return true
}

// ActiveDomicilio returns the address of the member's domicilio digitale when it is usable
// (an own PEC, or the convention mailbox in ATTIVATA), and what it is: the mailbox's id, or
// "own:<address>". Both are empty when the member has none or has left the albo.
func (m *Member) ActiveDomicilio(mb *Mailbox) (address, key string) {
	d := m.DomicilioDigitale(mb)
	if d == nil || d.State != StateAttivata {
		return "", ""
	}
	if d.Source == SourceOwn {
		return d.Address, "own:" + d.Address
	}
	return d.Address, mb.ID
}
