package httpapi

import (
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// The contract's JSON shapes. Domain types never go on the wire directly, so that a change
// inside the domain cannot silently change the contract.

type orderView struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	PEC        string            `json:"pec"`
	Convention domain.Convention `json:"convention"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
}

func viewOrder(o *domain.Order) orderView {
	c := o.Convention
	c.ValidityYears = c.Validity()
	return orderView{ID: o.ID, Name: o.Name, PEC: o.PEC, Convention: c, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

type memberView struct {
	OrderID           string            `json:"orderId"`
	CodiceFiscale     string            `json:"codiceFiscale"`
	Nome              string            `json:"nome"`
	Cognome           string            `json:"cognome"`
	Albo              string            `json:"albo"`
	NumeroIscrizione  string            `json:"numeroIscrizione"`
	DataIscrizione    string            `json:"dataIscrizione"`
	Email             string            `json:"email"`
	PEC               *string           `json:"pec"`
	CTU               bool              `json:"ctu"`
	Telefono          *string           `json:"telefono"`
	Residenza         *domain.Residence `json:"residenza"`
	EnrolledAt        time.Time         `json:"enrolledAt"`
	CancelledOn       *string           `json:"cancelledOn"`
	CancelReason      *string           `json:"cancelReason"`
	DomicilioDigitale *domain.Domicilio `json:"domicilioDigitale"`
	Suspension        *suspensionView   `json:"suspension"`
	// EmailProblem: the ordinary e-mail bounced or the member complained; nothing is sent to it.
	EmailProblem *emailProblemView `json:"emailProblem"`
}

type emailProblemView struct {
	Kind domain.EmailProblemKind `json:"kind"`
	At   time.Time               `json:"at"`
}

type suspensionView struct {
	From    string                `json:"from"`
	To      *string               `json:"to"`
	Kind    domain.SuspensionKind `json:"kind"`
	Reason  string                `json:"reason"`
	InForce bool                  `json:"inForce"` // today
	// Unpublished: INI-PEC does not hold the domicilio while the suspension lasts.
	Unpublished bool `json:"unpublished"`
}

func viewMember(m *domain.Member, mb *domain.Mailbox) memberView {
	v := memberView{
		OrderID: m.OrderID, CodiceFiscale: m.CodiceFiscale.Value(), Nome: m.Nome, Cognome: m.Cognome,
		Albo: m.Albo, NumeroIscrizione: m.NumeroIscrizione, DataIscrizione: m.DataIscrizione,
		Email: m.Email, CTU: m.CTU, EnrolledAt: m.EnrolledAt, DomicilioDigitale: m.DomicilioDigitale(mb),
	}
	if m.PEC != "" {
		v.PEC = &m.PEC
	}
	if m.Phone != "" {
		v.Telefono = &m.Phone
	}
	v.Residenza = m.Residence
	if m.Cancelled() {
		v.CancelledOn, v.CancelReason = &m.CancelledOn, &m.CancelReason
	}
	if p := m.EmailProblem; p != nil {
		v.EmailProblem = &emailProblemView{Kind: p.Kind, At: p.At}
	}
	if s := m.Suspension; s != nil {
		v.Suspension = &suspensionView{From: s.From, Kind: s.Kind, Reason: s.Reason, Unpublished: s.Unpublished,
			InForce: s.InForce(domain.Today(time.Now()).Format(time.DateOnly))}
		if s.To != "" {
			v.Suspension.To = &s.To
		}
	}
	return v
}

type mailboxView struct {
	ID        string              `json:"id"`
	Address   string              `json:"address"`
	State     domain.State        `json:"state"`
	OrderID   string              `json:"orderId"`
	Albo      string              `json:"albo"`
	BatchID   *string             `json:"batchId"`
	CreatedAt time.Time           `json:"createdAt"`
	UpdatedAt time.Time           `json:"updatedAt"`
	History   []domain.Transition `json:"history"`
	ExpiresOn *string             `json:"expiresOn,omitempty"` // once ATTIVATA: the last day of validity
	// RenewalBatchID is the open renewal batch the mailbox is in, if any.
	RenewalBatchID *string `json:"renewalBatchId,omitempty"`
	// Quota is the storage in use, as the provider last told it, if it tells.
	Quota *quotaView `json:"quota,omitempty"`
	// RequestID is the member's self-service request the mailbox was issued for, if any: such
	// a mailbox is paid by the member and never joins the Order's batches.
	RequestID *string `json:"requestId,omitempty"`
	// MemberEmail is what SES reported of the member's ordinary e-mail, if anything.
	MemberEmail *domain.EmailProblemKind `json:"memberEmail,omitempty"`
}

func viewMailbox(m *domain.Mailbox) *mailboxView {
	if m == nil {
		return nil
	}
	v := &mailboxView{ID: m.ID, Address: m.Address, State: m.State, OrderID: m.OrderID, Albo: m.Albo,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, History: m.History}
	if m.BatchID != "" {
		v.BatchID = &m.BatchID
	}
	if m.ExpiresOn != "" {
		v.ExpiresOn = &m.ExpiresOn
	}
	if m.RenewalBatchID != "" {
		v.RenewalBatchID = &m.RenewalBatchID
	}
	if m.RequestID != "" {
		v.RequestID = &m.RequestID
	}
	if m.MemberEmail != "" {
		v.MemberEmail = &m.MemberEmail
	}
	if !m.Quota.At.IsZero() {
		q := app.Quota{UsedBytes: m.Quota.UsedBytes, LimitBytes: m.Quota.LimitBytes}
		v.Quota = &quotaView{UsedBytes: q.UsedBytes, LimitBytes: q.LimitBytes, Percent: q.Percent(), At: m.Quota.At}
	}
	return v
}

type listView[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

type quotaView struct {
	UsedBytes  int64     `json:"usedBytes"`
	LimitBytes int64     `json:"limitBytes"`
	Percent    int       `json:"percent"`
	At         time.Time `json:"at"`
}

type orderCountsView struct {
	orderView
	Mailboxes map[domain.State]int `json:"mailboxes"`
}

type auditActorView struct {
	Role    string  `json:"role"`
	OrderID *string `json:"orderId"`
	Subject *string `json:"subject"`
}

type auditSubjectView struct {
	Type string `json:"type"` // member, mailbox, batch, order
	ID   string `json:"id"`   // the codice fiscale (masked when the caller may not see it), or the id
}

type auditView struct {
	At      time.Time         `json:"at"`
	Actor   auditActorView    `json:"actor"`
	Action  string            `json:"action"`
	Subject auditSubjectView  `json:"subject"`
	Member  *string           `json:"member"` // the member concerned: codice fiscale, or masked
	Changes []app.FieldChange `json:"changes"`
}

func viewAudit(l app.AuditLine) auditView {
	v := auditView{At: l.At, Action: l.Action, Changes: l.Changes}
	if v.Changes == nil {
		v.Changes = []app.FieldChange{}
	}
	role, order, _ := strings.Cut(l.Party, ":")
	v.Actor.Role = role
	if order != "" {
		v.Actor.OrderID = &order
	}
	if l.Subject != "" {
		sub := l.Subject
		v.Actor.Subject = &sub
	}
	typ, id, _ := strings.Cut(l.Entity, ":")
	v.Subject = auditSubjectView{Type: typ, ID: id}
	switch {
	case l.CodiceFiscale != "":
		v.Member = &l.CodiceFiscale
		if typ == "member" {
			v.Subject.ID = l.CodiceFiscale
		}
	case l.Masked != "":
		v.Member = &l.Masked
	}
	return v
}
