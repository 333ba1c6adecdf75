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
	was := before != nil && before.PEC != "" && !before.Cancelled()
	is := after.PEC != "" && !after.Cancelled()
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
