package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// AuditEntry is one line of an Order's audit trail: who did what to which record, and which
// fields it changed.
type AuditEntry struct {
	At     time.Time
	Actor  string // the party and the person: see Caller.Actor
	Action string // member.enrolled, member.corrected, mailbox.attivata, batch.confirmed, ...
	// Entity is the record: "member:<canonical codice fiscale>", "mailbox:<id>", "batch:<id>",
	// "order:<id>".
	Entity string
	// MemberKey is the member the entry concerns, when it concerns one (a member's record or
	// their mailbox).
	MemberKey string
	Changes   []FieldChange
}

// FieldChange is one field an audited change moved.
type FieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// AuditStore reads an Order's audit trail.
type AuditStore interface {
	OrderReader
	// ListAudit returns a page of the Order's entries, newest first; with memberKey, only the
	// entries of that member (their record and their mailbox).
	ListAudit(ctx context.Context, orderID, memberKey string, limit int, cursor string) ([]AuditEntry, string, error)
	GetMember(ctx context.Context, orderID string, cf domain.CodiceFiscale) (*domain.Member, error)
}

// AuditQuery selects a page of an Order's audit trail.
type AuditQuery struct {
	OrderID string
	Member  string // a codice fiscale in any omocodic form; empty: every entry
	Limit   int
	Cursor  string
}

// AuditLine is an entry as the caller may read it: the member named by codice fiscale only
// while the member is in the Order (a member transferred away is shown masked).
type AuditLine struct {
	AuditEntry
	Party, Subject string
	// CodiceFiscale is the member's, when the caller may see it; Masked otherwise.
	CodiceFiscale string
	Masked        string
}

// AuditTrail reads Orders' audit trails.
type AuditTrail struct {
	Store AuditStore
}

// List lists the Order's audit trail, newest first, for the Order's staff or the federation.
func (t *AuditTrail) List(ctx context.Context, c Caller, q AuditQuery) ([]AuditLine, string, error) {
	store := t.Store
	if !c.CanAccessOrder(q.OrderID) {
		return nil, "", domain.ErrForbidden
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 1 || q.Limit > MaxLimit:
		return nil, "", domain.Invalid("limit", "invalid_limit", "limit must be between 1 and 1000")
	}
	memberKey := ""
	if q.Member != "" {
		cf, err := domain.ParseCodiceFiscale(q.Member)
		if err != nil {
			return nil, "", domain.Invalid("member", "invalid_codice_fiscale", "member must be a codice fiscale")
		}
		memberKey = string(cf.Canonical())
	}
	if _, err := store.GetOrder(ctx, q.OrderID); err != nil {
		return nil, "", err
	}
	entries, next, err := store.ListAudit(ctx, q.OrderID, memberKey, q.Limit, q.Cursor)
	if err != nil {
		return nil, "", err
	}
	inOrder := map[string]string{} // member key -> codice fiscale as enrolled, "" when not in the Order
	lines := make([]AuditLine, 0, len(entries))
	for _, e := range entries {
		l := AuditLine{AuditEntry: e}
		l.Party, l.Subject = ParseActor(e.Actor)
		if e.MemberKey != "" {
			cf, seen := inOrder[e.MemberKey]
			if !seen {
				m, err := store.GetMember(ctx, q.OrderID, domain.CodiceFiscale(e.MemberKey))
				switch {
				case err == nil:
					cf = m.CodiceFiscale.Value()
				case errors.Is(err, domain.ErrMemberNotFound):
				default:
					return nil, "", err
				}
				inOrder[e.MemberKey] = cf
			}
			if cf != "" {
				l.CodiceFiscale = cf
			} else {
				l.Masked = domain.CodiceFiscale(e.MemberKey).Masked()
			}
			// The entity names the member by codice fiscale: not for a caller who may not see it.
			if l.CodiceFiscale == "" && strings.HasPrefix(e.Entity, "member:") {
				l.Entity = "member:" + l.Masked
			}
		}
		lines = append(lines, l)
	}
	return lines, next, nil
}

// MemberChanges lists the fields of the member's record that differ, for the audit trail.
func MemberChanges(before, after *domain.Member) []FieldChange {
	var out []FieldChange
	add := func(field, b, a string) {
		if b != a {
			out = append(out, FieldChange{Field: field, Before: b, After: a})
		}
	}
	flag := func(b bool) string {
		if b {
			return "true"
		}
		return "false"
	}
	add("nome", before.Nome, after.Nome)
	add("cognome", before.Cognome, after.Cognome)
	add("albo", before.Albo, after.Albo)
	add("numeroIscrizione", before.NumeroIscrizione, after.NumeroIscrizione)
	add("dataIscrizione", before.DataIscrizione, after.DataIscrizione)
	add("email", before.Email, after.Email)
	add("pec", before.PEC, after.PEC)
	add("ctu", flag(before.CTU), flag(after.CTU))
	add("telefono", before.Phone, after.Phone)
	add("residenza", domain.ResidenceText(before.Residence), domain.ResidenceText(after.Residence))
	add("mailboxId", before.MailboxID, after.MailboxID)
	add("cancelledOn", before.CancelledOn, after.CancelledOn)
	add("orderId", before.OrderID, after.OrderID)
	add("suspension", suspensionText(before.Suspension), suspensionText(after.Suspension))
	add("emailProblem", problemText(before.EmailProblem), problemText(after.EmailProblem))
	return out
}

// MailboxChanges lists the audited fields of a mailbox that differ: its state and address.
func MailboxChanges(before, after *domain.Mailbox) []FieldChange {
	var out []FieldChange
	if before.State != after.State {
		out = append(out, FieldChange{Field: "state", Before: string(before.State), After: string(after.State)})
	}
	if before.Address != after.Address {
		out = append(out, FieldChange{Field: "address", Before: before.Address, After: after.Address})
	}
	if before.OrderID != after.OrderID {
		out = append(out, FieldChange{Field: "orderId", Before: before.OrderID, After: after.OrderID})
	}
	return out
}

// MailboxAction names an audited change of a mailbox: its new state (mailbox.attivata, ...)
// or, when only its address moved, mailbox.address_changed.
func MailboxAction(before, after *domain.Mailbox) string {
	if before.State == after.State {
		return "mailbox.address_changed"
	}
	return "mailbox." + strings.ToLower(string(after.State))
}

func suspensionText(s *domain.Suspension) string {
	if s == nil {
		return ""
	}
	t := string(s.Kind) + " from " + s.From
	if s.To != "" {
		t += " to " + s.To
	}
	return t + ": " + s.Reason
}

func problemText(p *domain.EmailProblem) string {
	if p == nil {
		return ""
	}
	return string(p.Kind)
}
