package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// RegindeStore is what the ReGIndE use cases need from persistence.
type RegindeStore interface {
	GetOrder(ctx context.Context, id string) (*domain.Order, error)
	GetMember(ctx context.Context, orderID string, cf domain.CodiceFiscale) (*domain.Member, error)
	GetMailbox(ctx context.Context, id string) (*domain.Mailbox, error)
	MailboxesByID(ctx context.Context, ids []string) (map[string]*domain.Mailbox, error)
	UpdateMember(ctx context.Context, orderID string, cf domain.CodiceFiscale, audit Audit, change func(*domain.Member) (bool, error)) (*domain.Member, error)
	// PutRegindeLink records a confirmation link's hash for the member until it expires;
	// RegindeLink returns the member it was issued to.
	PutRegindeLink(ctx context.Context, hash, orderID string, cf domain.CodiceFiscale, expires time.Time) error
	RegindeLink(ctx context.Context, hash string) (orderID string, cf domain.CodiceFiscale, err error)
	// ListCTU pages through the Order's CTU members still in the albo, by surname.
	ListCTU(ctx context.Context, q CTUQuery) (members []*domain.Member, next string, err error)
}

// CTUQuery selects one page of an Order's CTU members.
type CTUQuery struct {
	OrderID   string
	Confirmed *bool // nil: all; else only those who did (or did not) confirm ReGIndE
	Limit     int
	Cursor    string
}

// Reginde runs what the platform does about ReGIndE, the Ministry of Justice's register where
// court-appointed experts (CTU) must register the same PEC their Order has. Registration needs
// the member's own smart card, so the platform explains it by e-mail, lets the member confirm
// it from a link, and shows the Order who did.
type Reginde struct {
	Store     RegindeStore
	Mail      Mailer // ordinary e-mail to members (SES)
	Log       *slog.Logger
	Now       func() time.Time
	PublicURL string        // base of the links, as for activation links
	LinkTTL   time.Duration // how long a confirmation link works (365 days by default)
}

// Errors of the ReGIndE routes.
var (
	ErrNotCTU             = &domain.Error{Kind: domain.KindConflict, Code: "not_ctu", Message: "the member is not a court-appointed expert (ctu)"}
	ErrNoActiveDomicilio  = &domain.Error{Kind: domain.KindConflict, Code: "no_active_domicilio", Message: "the member has no active domicilio digitale to register in ReGIndE"}
	ErrRegindeConfirmed   = &domain.Error{Kind: domain.KindConflict, Code: "reginde_already_confirmed", Message: "the member already confirmed the ReGIndE registration of this address"}
	ErrRegindeLinkUnknown = &domain.Error{Kind: domain.KindNotFound, Code: "reginde_link_unknown", Message: "unknown ReGIndE link"}
	ErrRegindeLinkGone    = &domain.Error{Kind: domain.KindGone, Code: "reginde_link_gone", Message: "the ReGIndE link expired or was replaced"}
	errInvalidConfirmed   = domain.Invalid("confirmed", "invalid_confirmed", "confirmed must be true or false")
)

// errNoticeDone stops a notice whose work another run already completed.
var errNoticeDone = errors.New("reginde notice already sent")

func (r *Reginde) now() time.Time { return r.Now().UTC() }

// NotifyActivated sends a CTU member, once their convention mailbox is ATTIVATA, the e-mail
// that explains ReGIndE registration. It runs in the mailbox workflow, which retries it: a run
// records the new link before sending and the sending after, so a retry after a completed
// notice sends nothing, and only a retry after a lost send sends again (with a new link).
func (r *Reginde) NotifyActivated(ctx context.Context, mb *domain.Mailbox) error {
	if mb.State != domain.StateAttivata {
		return nil
	}
	m, err := r.Store.GetMember(ctx, mb.OrderID, domain.CodiceFiscale(mb.MemberKey))
	if err != nil {
		return err
	}
	if !m.CTU || m.MailboxID != mb.ID {
		return nil
	}
	address, key := m.ActiveDomicilio(mb)
	if address == "" || m.Reginde.NotifiedFor == key {
		return nil
	}
	_, err = r.notify(ctx, m, address, key, "system", false, func(m *domain.Member) error {
		if m.Reginde.NotifiedFor == key {
			return errNoticeDone
		}
		return nil
	})
	if errors.Is(err, errNoticeDone) {
		return nil
	}
	return err
}

// notify issues a new confirmation link (the old one dies), e-mails it, and records the
// notice. check runs on the member under the store's lock before the link is recorded.
func (r *Reginde) notify(ctx context.Context, m *domain.Member, address, key, actor string, reminder bool, check func(*domain.Member) error) (*domain.Member, error) {
	raw, hash := newLinkToken()
	expires := r.now().Add(r.LinkTTL)
	if err := r.Store.PutRegindeLink(ctx, hash, m.OrderID, m.CodiceFiscale, expires); err != nil {
		return nil, err
	}
	m, err := r.Store.UpdateMember(ctx, m.OrderID, m.CodiceFiscale, Audit{}, func(m *domain.Member) (bool, error) {
		if err := check(m); err != nil {
			return false, err
		}
		m.Reginde.IssueLink(address, hash, expires)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	order, err := r.Store.GetOrder(ctx, m.OrderID)
	if err != nil {
		return nil, err
	}
	msg, err := notice.RegindeEmail(notice.RegindeData{Nome: m.Nome, Cognome: m.Cognome, Address: address,
		OrderName: order.Name, Link: r.PublicURL + "/reginde/" + raw, ExpiresAt: expires, Reminder: reminder})
	if err != nil {
		return nil, err
	}
	msg.OrderID, msg.MemberKey, msg.MailboxID = m.OrderID, m.Key(), m.MailboxID
	if _, err := r.Mail.Send(ctx, m.Email, msg); err != nil {
		return nil, err
	}
	return r.Store.UpdateMember(ctx, m.OrderID, m.CodiceFiscale, Audit{actor, "member.reginde_notified"}, func(m *domain.Member) (bool, error) {
		return m.Reginde.Notified(hash, key, r.now()), nil
	})
}

// SendReminder e-mails a CTU member a new ReGIndE notice at the Order's request; the previous
// link dies. It is also how an Order asks a CTU whose domicilio is a PEC of their own (the
// platform sends nobody's notice unasked but after a convention mailbox's activation).
func (r *Reginde) SendReminder(ctx context.Context, c Caller, orderID, codiceFiscale string) (CTUEntry, error) {
	if err := orderAccess(ctx, r.Store, c, orderID); err != nil {
		return CTUEntry{}, err
	}
	cf, err := domain.ParseCodiceFiscale(codiceFiscale)
	if err != nil {
		return CTUEntry{}, err
	}
	m, err := r.Store.GetMember(ctx, orderID, cf)
	if err != nil {
		return CTUEntry{}, err
	}
	var mb *domain.Mailbox
	if m.MailboxID != "" && m.PEC == "" {
		if mb, err = r.Store.GetMailbox(ctx, m.MailboxID); err != nil {
			return CTUEntry{}, err
		}
	}
	address, key := m.ActiveDomicilio(mb)
	check := func(m *domain.Member) error {
		switch {
		case !m.CTU:
			return ErrNotCTU
		case address == "" || m.Cancelled():
			return ErrNoActiveDomicilio
		case m.Reginde.Confirmed() && m.Reginde.Address == address:
			return ErrRegindeConfirmed
		}
		return nil
	}
	if err := check(m); err != nil {
		return CTUEntry{}, err
	}
	reminder := m.Reginde.Address == address && m.Reginde.Notices > 0
	if m, err = r.notify(ctx, m, address, key, c.Actor(), reminder, check); err != nil {
		return CTUEntry{}, err
	}
	return CTUEntry{Member: m, Address: address}, nil
}

// CTUEntry is one CTU member in the Order's list: Address is the active domicilio digitale,
// or "" when there is none.
type CTUEntry struct {
	Member  *domain.Member
	Address string
}

// ListCTU returns one page of the Order's CTU members, optionally only those who did
// (confirmed "true") or did not ("false") confirm their ReGIndE registration.
func (r *Reginde) ListCTU(ctx context.Context, c Caller, orderID, confirmed string, limit int, cursor string) ([]CTUEntry, string, error) {
	if err := domain.ValidateOrderID(orderID); err != nil {
		return nil, "", err
	}
	if !c.CanAccessOrder(orderID) {
		return nil, "", domain.ErrForbidden
	}
	q := CTUQuery{OrderID: orderID, Limit: limit, Cursor: cursor}
	switch confirmed {
	case "":
	case "true", "false":
		b := confirmed == "true"
		q.Confirmed = &b
	default:
		return nil, "", errInvalidConfirmed
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 1 || q.Limit > MaxLimit:
		return nil, "", domain.Invalid("limit", "invalid_limit", "limit must be between 1 and 1000")
	}
	if _, err := r.Store.GetOrder(ctx, orderID); err != nil {
		return nil, "", err
	}
	members, next, err := r.Store.ListCTU(ctx, q)
	if err != nil {
		return nil, "", err
	}
	var ids []string
	for _, m := range members {
		if m.MailboxID != "" && m.PEC == "" {
			ids = append(ids, m.MailboxID)
		}
	}
	mailboxes, err := r.Store.MailboxesByID(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]CTUEntry, 0, len(members))
	for _, m := range members {
		address, _ := m.ActiveDomicilio(mailboxes[m.MailboxID])
		out = append(out, CTUEntry{Member: m, Address: address})
	}
	return out, next, nil
}

// RegindeView is what the confirmation page shows.
type RegindeView struct {
	Member  *domain.Member
	Order   *domain.Order
	Address string // the PEC the member was asked to register
}

// ViewConfirmation resolves a confirmation link for the page. A link works while it is the
// member's newest and unexpired, and while the address it asks about is still the member's
// active domicilio digitale.
func (r *Reginde) ViewConfirmation(ctx context.Context, raw string) (*RegindeView, error) {
	hash := HashLinkToken(raw)
	orderID, cf, err := r.Store.RegindeLink(ctx, hash)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, ErrRegindeLinkUnknown
	}
	if err != nil {
		return nil, err
	}
	m, err := r.Store.GetMember(ctx, orderID, cf)
	if errors.Is(err, domain.ErrMemberNotFound) {
		return nil, ErrRegindeLinkUnknown
	}
	if err != nil {
		return nil, err
	}
	if !m.Reginde.LinkUsable(hash, r.now()) {
		return nil, ErrRegindeLinkGone
	}
	var mb *domain.Mailbox
	if m.MailboxID != "" && m.PEC == "" {
		if mb, err = r.Store.GetMailbox(ctx, m.MailboxID); err != nil {
			return nil, err
		}
	}
	if address, _ := m.ActiveDomicilio(mb); !m.CTU || address == "" || address != m.Reginde.Address {
		return nil, ErrRegindeLinkGone
	}
	order, err := r.Store.GetOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	return &RegindeView{Member: m, Order: order, Address: m.Reginde.Address}, nil
}

// Confirm records that the member registered the address in ReGIndE (audited). Confirming
// again changes nothing and reports already.
func (r *Reginde) Confirm(ctx context.Context, raw string) (v *RegindeView, already bool, err error) {
	if v, err = r.ViewConfirmation(ctx, raw); err != nil {
		return nil, false, err
	}
	hash := HashLinkToken(raw)
	m, err := r.Store.UpdateMember(ctx, v.Member.OrderID, v.Member.CodiceFiscale, Audit{"member", "member.reginde_confirmed"}, func(m *domain.Member) (bool, error) {
		already = false
		if !m.Reginde.LinkUsable(hash, r.now()) {
			return false, ErrRegindeLinkGone // a newer link replaced this one meanwhile
		}
		if !m.Reginde.Confirm(r.now()) {
			already = true
			return false, nil
		}
		m.UpdatedAt = r.now()
		return true, nil
	})
	if err != nil {
		return nil, false, err
	}
	v.Member = m
	return v, already, nil
}
