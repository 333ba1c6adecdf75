package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// The holder's signature on the provider's own form. Some providers (Legalmail) register a
// mailbox at once but activate it only once they have their form signed by the holder and a
// copy of the holder's identity document. When the mailbox is submitted the member is
// e-mailed a personal link to a page that gives the provider's form to print and sign and
// takes it back with the identity document; the platform hands both to the provider. When
// the provider refuses them the member is asked again, once per refusal. The mailbox waits
// on the provider meanwhile (RICHIESTA_INVIATA), as for any provider.

// SignLink is an issued link to the signing page, stored by the hash of its token.
type SignLink struct {
	MailboxID string
	Round     int
	ExpiresAt time.Time
}

// SigningStore is what the signing step needs from persistence.
type SigningStore interface {
	MailboxRecords
	PutSignLink(ctx context.Context, hash string, l SignLink) error
	// GetSignLink fails with domain.ErrNotFound for a hash never issued (or long expired).
	GetSignLink(ctx context.Context, hash string) (*SignLink, error)
}

// DefaultSignLinkTTL is how long a signing link works.
const DefaultSignLinkTTL = 30 * 24 * time.Hour

// Errors of the signing page.
var (
	ErrSignLinkGone   = &domain.Error{Kind: domain.KindGone, Code: "link_gone", Message: "the link expired or was replaced by a newer one"}
	ErrSigningClosed  = &domain.Error{Kind: domain.KindConflict, Code: "signing_closed", Message: "the mailbox no longer waits for the holder's documents"}
	ErrFormNotPDF     = domain.Invalid("modulo", "unsupported_document_type", "modulo must be the signed form as a PDF (checked by content)")
	ErrNoSigningParts = domain.Invalid("modulo", "no_documents", "send modulo (the signed form) and documento (the identity document)")
)

// Signatures asks members for the provider's form signed and hands it to the provider.
type Signatures struct {
	Store        SigningStore
	Provider     ProviderActivationDocuments
	Mail         Mailer // the member's e-mails
	PublicURL    string
	ProviderName string
	TTL          time.Duration // DefaultSignLinkTTL when zero
	Now          func() time.Time
	Log          *slog.Logger
}

// SigningPath is the signing page's path: its token is the credential.
func SigningPath(token string) string { return "/firma/" + token }

func (s *Signatures) now() time.Time { return utcNow(s.Now) }

// Ask e-mails the member a link to sign the provider's form: the first time the mailbox is
// submitted, and again (again=true) when the provider refused the documents of the current
// round. Asking twice for the same round sends one e-mail, unless the first was lost before
// it was recorded as sent.
func (s *Signatures) Ask(ctx context.Context, mailboxID string, again bool) error {
	now := s.now()
	mb, _, err := s.Store.UpdateMailbox(ctx, mailboxID, func(m *domain.Mailbox) (bool, error) {
		switch {
		case m.State != domain.StateRichiestaInviata:
			return false, nil
		case m.Signing == nil:
			m.Signing = &domain.Signing{Round: 1, AskedAt: now}
			return true, nil
		case again && !m.Signing.SentAt.IsZero():
			m.Signing = &domain.Signing{Round: m.Signing.Round + 1, AskedAt: now, Refused: true}
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	if mb.State != domain.StateRichiestaInviata || mb.Signing == nil || !mb.Signing.MailedAt.IsZero() {
		return nil // not waiting, or this round's e-mail is out
	}
	member, err := s.Store.GetMember(ctx, mb.OrderID, domain.CodiceFiscale(mb.MemberKey))
	if err != nil {
		return err
	}
	order, err := s.Store.GetOrder(ctx, mb.OrderID)
	if err != nil {
		return err
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultSignLinkTTL
	}
	raw, hash := newLinkToken()
	round := mb.Signing.Round
	if err := s.Store.PutSignLink(ctx, hash, SignLink{MailboxID: mb.ID, Round: round, ExpiresAt: now.Add(ttl)}); err != nil {
		return err
	}
	msg, err := notice.SigningEmail(notice.SigningData{Nome: member.Nome, Address: mb.Address, OrderName: order.Name,
		ProviderName: s.ProviderName, Link: s.PublicURL + SigningPath(raw), Until: inRome(now.Add(ttl)), Again: mb.Signing.Refused})
	if err != nil {
		return err
	}
	msg.OrderID, msg.MemberKey, msg.MailboxID = mb.OrderID, mb.MemberKey, mb.ID
	// To the member's address on record, as the activation e-mail that follows.
	if _, err := s.Mail.Send(ctx, member.Email, msg); err != nil {
		return err
	}
	_, _, err = s.Store.UpdateMailbox(ctx, mailboxID, func(m *domain.Mailbox) (bool, error) {
		if m.Signing == nil || m.Signing.Round != round || !m.Signing.MailedAt.IsZero() {
			return false, nil
		}
		m.Signing.MailedAt = s.now()
		return true, nil
	})
	s.Log.InfoContext(ctx, "holder asked to sign the provider's form", "mailboxId", mb.ID, "round", round)
	return err
}

// SigningView is what the signing page shows.
type SigningView struct {
	Mailbox   *domain.Mailbox
	Order     *domain.Order
	Nome      string
	ExpiresAt time.Time
	// Sent: this round's documents went to the provider; Open: the page still takes them.
	Sent, Open bool
}

// link resolves a signing link's token: ErrNotFound for a token never issued, ErrSignLinkGone
// for an expired one or one of an earlier round.
func (s *Signatures) link(ctx context.Context, token string) (*SignLink, *domain.Mailbox, error) {
	if len(token) < 20 || len(token) > 64 {
		return nil, nil, domain.ErrNotFound
	}
	l, err := s.Store.GetSignLink(ctx, HashLinkToken(token))
	if err != nil {
		return nil, nil, err
	}
	if !s.now().Before(l.ExpiresAt) {
		return nil, nil, ErrSignLinkGone
	}
	mb, err := s.Store.GetMailbox(ctx, l.MailboxID)
	if err != nil {
		return nil, nil, err
	}
	if mb.Signing == nil || mb.Signing.Round != l.Round {
		return nil, nil, ErrSignLinkGone
	}
	return l, mb, nil
}

// Page returns what the signing page shows for the link's token.
func (s *Signatures) Page(ctx context.Context, token string) (*SigningView, error) {
	l, mb, err := s.link(ctx, token)
	if err != nil {
		return nil, err
	}
	order, err := s.Store.GetOrder(ctx, mb.OrderID)
	if err != nil {
		return nil, err
	}
	member, err := s.Store.GetMember(ctx, mb.OrderID, domain.CodiceFiscale(mb.MemberKey))
	if err != nil {
		return nil, err
	}
	sent := !mb.Signing.SentAt.IsZero()
	return &SigningView{Mailbox: mb, Order: order, Nome: member.Nome, ExpiresAt: l.ExpiresAt, Sent: sent,
		Open: !sent && mb.State == domain.StateRichiestaInviata}, nil
}

// Form returns the provider's form to sign.
func (s *Signatures) Form(ctx context.Context, token string) ([]byte, error) {
	_, mb, err := s.link(ctx, token)
	if err != nil {
		return nil, err
	}
	if mb.State != domain.StateRichiestaInviata {
		return nil, ErrSigningClosed
	}
	return s.Provider.ActivationForm(ctx, ProviderMailbox{RequestID: mb.ID, Address: mb.Address, ProviderRef: mb.ProviderRef})
}

// Send checks the signed form (a PDF) and the identity document (PDF, JPEG or PNG) by content
// and hands them to the provider, once per round: sending again after it was sent changes
// nothing.
func (s *Signatures) Send(ctx context.Context, token string, form, identity []byte) (*SigningView, error) {
	_, mb, err := s.link(ctx, token)
	if err != nil {
		return nil, err
	}
	if !mb.Signing.SentAt.IsZero() {
		return s.Page(ctx, token)
	}
	if mb.State != domain.StateRichiestaInviata {
		return nil, ErrSigningClosed
	}
	switch {
	case len(form) == 0:
		return nil, ErrNoSigningParts
	case len(identity) == 0:
		return nil, domain.Invalid("documento", "no_documents", "send documento (the identity document) with the signed form")
	case len(form) > domain.MaxDocument:
		return nil, domain.DocumentTooLarge("modulo")
	case len(identity) > domain.MaxDocument:
		return nil, domain.DocumentTooLarge("documento")
	}
	if ct, err := domain.SniffDocument("modulo", form); err != nil || ct != "application/pdf" {
		return nil, ErrFormNotPDF
	}
	identityType, err := domain.SniffDocument("documento", identity)
	if err != nil {
		return nil, err
	}
	round := mb.Signing.Round
	if err := s.Provider.SendActivationDocuments(ctx, ProviderMailbox{RequestID: mb.ID, Address: mb.Address, ProviderRef: mb.ProviderRef},
		form, identity, identityType); err != nil {
		return nil, err
	}
	if _, _, err := s.Store.UpdateMailbox(ctx, mb.ID, func(m *domain.Mailbox) (bool, error) {
		if m.Signing == nil || m.Signing.Round != round || !m.Signing.SentAt.IsZero() {
			return false, nil
		}
		m.Signing.SentAt = s.now()
		return true, nil
	}); err != nil {
		return nil, err
	}
	s.Log.InfoContext(ctx, "holder's documents sent to the provider", "mailboxId", mb.ID, "round", round)
	return s.Page(ctx, token)
}
