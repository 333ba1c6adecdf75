package domain

import "time"

// PublicationKind is how a change of a domicilio digitale reaches INI-PEC.
type PublicationKind string

const (
	PublishInsert PublicationKind = "insert"
	PublishUpdate PublicationKind = "update"
	PublishDelete PublicationKind = "delete"
)

// Publication is one change INI-PEC must learn: written in the same transaction as the change
// itself, and delivered in exactly one daily file.
type Publication struct {
	Kind      PublicationKind
	OrderID   string
	MemberKey string // the member's canonical codice fiscale
	Address   string
	At        time.Time
}

// MailboxPublication is what a mailbox change means for INI-PEC: a mailbox becomes a
// domicilio digitale when ATTIVATA and stops being one when revoked after that.
func MailboxPublication(before, after *Mailbox) *Publication {
	switch {
	case before.State != StateAttivata && after.State == StateAttivata:
		return &Publication{Kind: PublishInsert, OrderID: after.OrderID, MemberKey: after.MemberKey, Address: after.Address, At: after.UpdatedAt}
	case before.State == StateAttivata && after.State == StateRevocata:
		return &Publication{Kind: PublishDelete, OrderID: after.OrderID, MemberKey: after.MemberKey, Address: after.Address, At: after.UpdatedAt}
	}
	return nil
}

// MemberPublication is what a change of the member's own PEC or of their enrolment means for
// INI-PEC (a convention mailbox is published through MailboxPublication). before is nil for a
// new member.
func MemberPublication(before, after *Member) *Publication {
	p := &Publication{OrderID: after.OrderID, MemberKey: after.Key(), Address: after.PEC, At: after.UpdatedAt}
	was := before != nil && before.PEC != "" && !before.Cancelled() && !before.unpublished()
	is := after.PEC != "" && !after.Cancelled() && !after.unpublished()
	switch {
	case !was && is:
		p.Kind = PublishInsert
	case was && !is:
		p.Kind, p.Address = PublishDelete, before.PEC
	case was && is && before.PEC != after.PEC:
		p.Kind = PublishUpdate
	default:
		return nil
	}
	return p
}

// PublishedDomicilio is the address INI-PEC holds for the member: the own PEC, else the
// convention mailbox's once ATTIVATA, else none ("", also once the member has left the albo).
func PublishedDomicilio(m *Member, mb *Mailbox) string {
	switch {
	case m.Cancelled(), m.unpublished():
		return ""
	case m.PEC != "":
		return m.PEC
	case mb != nil && mb.State == StateAttivata:
		return mb.Address
	}
	return ""
}

// DomicilioChange is what a change of the member's own PEC means for INI-PEC when the member
// also has a convention mailbox: an own PEC given over an active mailbox replaces it (an
// update), an own PEC removed falls back to the active mailbox (an update again).
func DomicilioChange(before, after *Member, mb *Mailbox) *Publication {
	was, is := PublishedDomicilio(before, mb), PublishedDomicilio(after, mb)
	p := &Publication{OrderID: after.OrderID, MemberKey: after.Key(), Address: is, At: after.UpdatedAt}
	switch {
	case was == is:
		return nil
	case was == "":
		p.Kind = PublishInsert
	case is == "":
		p.Kind, p.Address = PublishDelete, was
	default:
		p.Kind = PublishUpdate
	}
	return p
}

// OwnPECPrevails drops a convention mailbox's publication when the member's own PEC is their
// domicilio digitale: INI-PEC holds the own PEC, which the mailbox's activation or revocation
// does not change.
func OwnPECPrevails(p *Publication, m *Member) *Publication {
	if p != nil && m != nil && ((m.PEC != "" && !m.Cancelled()) || m.unpublished()) {
		return nil // (nor while a suspension keeps the member off INI-PEC)
	}
	return p
}

// unpublished reports whether a suspension keeps the member's domicilio off INI-PEC.
func (m *Member) unpublished() bool { return m.Suspension != nil && m.Suspension.Unpublished }

// DomicilioMayChange reports whether the member's change can change what INI-PEC holds beyond
// the own PEC alone (a convention mailbox is involved).
func DomicilioMayChange(before, after *Member) bool {
	return before.PEC != after.PEC || before.unpublished() != after.unpublished()
}
