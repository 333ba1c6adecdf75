package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// ActivationStore is what the member's activation needs from persistence.
type ActivationStore interface {
	MailboxRecords
	MemberUpdater
	// UpdateActivation is UpdateMailbox that also records a new activation link's hash for the
	// mailbox until it expires, in the same write: only if change changes the mailbox.
	UpdateActivation(ctx context.Context, id, hash string, expires time.Time, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, bool, error)
	// ActivationMailbox returns the mailbox an activation link's hash was issued for.
	ActivationMailbox(ctx context.Context, hash string) (string, error)
}

// Activations sends members their activation links, applies their choice (confirm or decline),
// and runs what follows an activation (validity, ReGIndE, the Order's notice).
type Activations struct {
	Store    ActivationStore
	Workflow Workflow
	// ActivationMail sends the activation links. Its failures must be real: the workflow
	// retries SendActivation with a fresh link, so a send retried below it after a lost
	// answer would put one link in two e-mails.
	ActivationMail Mailer
	Notices        *OrderNotices // the Order's notices after a late decline or a self-service activation
	Revocations    *Revocations  // tells the provider to close a mailbox declined after its workflow ended
	Reginde        *Reginde      // what follows a CTU's activation; nil: nothing
	Log            *slog.Logger
	Now            func() time.Time
	PublicURL      string        // base of the links sent to members, e.g. https://pec.example.it
	ActivationTTL  time.Duration // how long an activation link works
	Crash          Crash         // tests only: die between two writes (nil in production)
	Metrics        Metrics
	// Access is how members reach a new mailbox (the provider adapter's facts): the confirmed
	// page shows it and, once ATTIVATA, WelcomeMail sends it (nil: not sent).
	Access      FirstAccess
	WelcomeMail Mailer
}

// Errors of the activation link, shown to members as pages without detail.
var (
	ErrLinkUnknown = &domain.Error{Kind: domain.KindNotFound, Code: "link_unknown", Message: "unknown activation link"}
	ErrLinkGone    = &domain.Error{Kind: domain.KindGone, Code: "link_gone", Message: "the activation link expired or was used"}
)

// errNotAwaitingActivation: a link is only sent to a mailbox waiting for its member.
var errNotAwaitingActivation = &domain.Error{Kind: domain.KindConflict, Code: "not_awaiting_activation", Message: "the mailbox is not waiting for its member's activation (state ABILITATA)"}

func (a *Activations) now() time.Time { return utcNow(a.Now) }

// SendActivation issues a fresh activation link (killing any older one), parks the workflow
// until the member acts, and e-mails the member. reminder is 0 for the first e-mail.
func (a *Activations) SendActivation(ctx context.Context, mailboxID, token string, reminder int) error {
	mb, err := a.Store.GetMailbox(ctx, mailboxID)
	if err != nil {
		return err
	}
	switch mb.State {
	case domain.StateRevocata:
		return &MailboxRevoked{ID: mailboxID}
	case domain.StateAttivata:
		return a.Workflow.Resume(ctx, token)
	}
	_, err = a.issue(ctx, mb, reminder, &domain.Park{Token: token, Waiting: domain.WaitingMember})
	return err
}

// ResendActivation sends a fresh link to a mailbox waiting for its member; the old link dies.
func (a *Activations) ResendActivation(ctx context.Context, c Caller, id string) (*domain.Mailbox, error) {
	mb, err := a.Store.GetMailbox(ctx, id)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !c.CanAccessOrder(mb.OrderID)) {
		return nil, errMailboxNotFound
	}
	if err != nil {
		return nil, err
	}
	if mb.State != domain.StateAbilitata {
		return nil, errNotAwaitingActivation
	}
	return a.issue(ctx, mb, mb.Activation.Sent, nil)
}

// issue stores a new link's hash on the mailbox (with the parked step, if given) and e-mails
// the link. The raw link exists only in the e-mail.
func (a *Activations) issue(ctx context.Context, mb *domain.Mailbox, reminder int, park *domain.Park) (*domain.Mailbox, error) {
	member, err := memberOf(ctx, a.Store, mb)
	if err != nil {
		return nil, err
	}
	raw, hash := newLinkToken()
	expires := a.now().Add(a.ActivationTTL)
	mb, _, err = a.Store.UpdateActivation(ctx, mb.ID, hash, expires, func(m *domain.Mailbox) (bool, error) {
		if m.State != domain.StateAbilitata {
			return false, errNotAwaitingActivation
		}
		m.Activation = domain.Activation{Hash: hash, ExpiresAt: expires, Sent: m.Activation.Sent + 1, SentTo: member.Email}
		if park != nil {
			m.Park = *park
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	order, err := a.Store.GetOrder(ctx, mb.OrderID)
	if err != nil {
		return nil, err
	}
	m, err := notice.ActivationEmail(notice.ActivationData{Nome: member.Nome, Cognome: member.Cognome,
		Address: mb.Address, OrderName: order.Name, Link: a.PublicURL + "/activate/" + raw, ExpiresAt: expires, Reminder: reminder})
	if err != nil {
		return nil, err
	}
	m.OrderID, m.MemberKey, m.MailboxID = member.OrderID, member.Key(), mb.ID
	_, err = a.ActivationMail.Send(ctx, member.Email, m)
	return mb, err
}

// newLinkToken returns an unguessable link token (256 bits) and the hash that is stored.
func newLinkToken() (raw, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	raw = base64.RawURLEncoding.EncodeToString(b[:])
	return raw, HashLinkToken(raw)
}

// HashLinkToken is how a link token is stored and looked up.
func HashLinkToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// ActivationView is what the activation page shows.
type ActivationView struct {
	Mailbox *domain.Mailbox
	Member  *domain.Member
	Order   *domain.Order
}

// ViewActivation resolves a link for the page.
func (a *Activations) ViewActivation(ctx context.Context, raw string) (*ActivationView, error) {
	hash := HashLinkToken(raw)
	id, err := a.Store.ActivationMailbox(ctx, hash)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, ErrLinkUnknown
	}
	if err != nil {
		return nil, err
	}
	mb, err := a.Store.GetMailbox(ctx, id)
	if err != nil {
		return nil, err
	}
	if !mb.ActivationUsable(hash, a.now()) && !mb.ActivationUsed(hash) {
		return nil, ErrLinkGone
	}
	member, err := memberOf(ctx, a.Store, mb)
	if err != nil {
		return nil, err
	}
	order, err := a.Store.GetOrder(ctx, mb.OrderID)
	if err != nil {
		return nil, err
	}
	return &ActivationView{Mailbox: mb, Member: member, Order: order}, nil
}

// Activate applies the member's choice. Confirming makes the mailbox ATTIVATA; declining
// revokes it (reason "declined") and, when the member gives an existing PEC, records it as
// their domicilio digitale. The link works once: the choice clears it.
func (a *Activations) Activate(ctx context.Context, raw string, confirm bool, ownPEC string) (*ActivationView, error) {
	if !confirm && strings.TrimSpace(ownPEC) != "" {
		pec, err := domain.NormaliseEmail(ownPEC)
		if err != nil {
			return nil, domain.Invalid("pec", "invalid_pec", "pec must be an e-mail address")
		}
		ownPEC = pec
	} else {
		ownPEC = ""
	}
	v, err := a.ViewActivation(ctx, raw)
	if err != nil {
		return nil, err
	}
	hash := HashLinkToken(raw)
	var token string
	mb, chose, err := a.Store.UpdateMailbox(ctx, v.Mailbox.ID, func(m *domain.Mailbox) (bool, error) {
		token = ""
		if m.ActivationUsed(hash) {
			// This link's choice is written but its step was never told: finish that.
			token, _ = m.Parked(domain.WaitingMember)
			return false, nil
		}
		if !m.ActivationUsable(hash, a.now()) {
			return false, ErrLinkGone // a second click racing the first
		}
		var err error
		if confirm {
			var changed bool
			if changed, err = m.Transition(domain.StateAttivata, a.now(), "member", "confirmed"); changed {
				// In the same conditional write as the activation: never an active mailbox without it.
				m.StartValidity(domain.Today(a.now()), v.Order.Convention.Validity())
			}
		} else {
			_, err = m.Transition(domain.StateRevocata, a.now(), "member", "declined")
		}
		// The link and the parked step stay until the step is told (forgetPark): the link is
		// no longer usable, but clicking it again finishes a choice whose resumption was lost.
		token, _ = m.Parked(domain.WaitingMember)
		return true, err
	})
	if err != nil {
		return nil, err
	}
	v.Mailbox = mb
	confirmed := mb.State == domain.StateAttivata
	if chose {
		choice := "declined"
		if confirmed {
			choice = "confirmed"
		}
		count(ctx, a.Metrics, MetricActivations, 1, Dimension{"Choice", choice})
		if confirmed {
			if err := a.welcome(ctx, mb); err != nil { // the page the member sees says the same
				a.Log.WarnContext(ctx, "first-access e-mail not sent", "mailboxId", mb.ID, "error", err)
			}
		}
	}
	if !confirmed && ownPEC != "" {
		if v.Member, err = a.Store.UpdateMember(ctx, mb.OrderID, v.Member.CodiceFiscale, Audit{"member", "member.own_pec_given"}, func(m *domain.Member) (bool, error) {
			m.PEC, m.UpdatedAt = ownPEC, a.now()
			return true, nil
		}); err != nil {
			return nil, err
		}
	}
	a.Crash.at(CrashAfterClick, mb.Address)
	switch {
	case token != "" && confirmed:
		var gone bool
		if gone, err = a.Workflow.ResumeOrGone(ctx, token); err == nil && gone {
			a.afterLateActivation(ctx, mb.ID) // the workflow ended (reminders exhausted)
		}
	case token != "":
		var gone bool
		if gone, err = a.Workflow.FailOrGone(ctx, token, ErrNameDeclined, "declined by the member"); err == nil && gone {
			err = a.afterLateDecline(ctx, mb.ID) // the workflow ended (reminders exhausted)
		}
	case !confirmed:
		err = a.afterLateDecline(ctx, mb.ID) // no workflow waits on this mailbox any more
	default:
		a.afterLateActivation(ctx, mb.ID) // no workflow waits on this mailbox any more
	}
	if err == nil && token != "" {
		err = forgetPark(ctx, a.Store, mb.ID, token)
	}
	return v, err
}

// afterLateActivation does what the workflow's AfterActivation step would have done, for a
// member who confirmed after the workflow ended. The activation itself is recorded: a
// failure here is logged, not shown to the member.
func (a *Activations) afterLateActivation(ctx context.Context, mailboxID string) {
	if err := a.Activated(ctx, mailboxID); err != nil {
		a.Log.ErrorContext(ctx, "after a late activation", "mailboxId", mailboxID, "error", err)
	}
}

// afterLateDecline does what the workflow's Declined branch would have done, for a member who
// declined after the workflow ended: it tells the Order, and the provider that created the
// mailbox.
func (a *Activations) afterLateDecline(ctx context.Context, mailboxID string) error {
	if err := a.Notices.NotifyOrder(ctx, NoticeDeclined, mailboxID); err != nil {
		return err
	}
	return a.Revocations.DeactivateAtProvider(ctx, mailboxID)
}

// Activated runs what follows a mailbox's activation. The workflow calls it once the member
// has confirmed, and retries it on failure, so each of its steps is idempotent: a CTU member
// gets the ReGIndE e-mail once.
func (a *Activations) Activated(ctx context.Context, mailboxID string) error {
	mb, err := a.Store.GetMailbox(ctx, mailboxID)
	if err != nil || mb.State != domain.StateAttivata {
		return err
	}
	if err := a.ensureValidity(ctx, mb); err != nil {
		return err
	}
	// ReGIndE first: it records what it sent, so a retry after a failed notice below does
	// not send it again.
	if a.Reginde != nil {
		if err := a.Reginde.NotifyActivated(ctx, mb); err != nil {
			return err
		}
	}
	if mb.RequestID != "" {
		return a.Notices.SelfServiceActive(ctx, mb)
	}
	return nil
}

// welcome e-mails the member how to reach the new mailbox. It is sent from the click that
// activated it, once (a click again on the used link is answered without it); a function dying
// between the activation's write and the send loses it, and the confirmation page the member is
// looking at says the same.
func (a *Activations) welcome(ctx context.Context, mb *domain.Mailbox) error {
	if a.WelcomeMail == nil {
		return nil
	}
	member, err := memberOf(ctx, a.Store, mb)
	if err != nil {
		return err
	}
	order, err := a.Store.GetOrder(ctx, mb.OrderID)
	if err != nil {
		return err
	}
	msg, err := notice.FirstAccessEmail(notice.FirstAccessData{Nome: member.Nome, Cognome: member.Cognome, Address: mb.Address,
		OrderName: order.Name, ProviderName: a.Access.ProviderName, WebmailURL: a.Access.WebmailURL,
		CredentialsBySMS: a.Access.CredentialsBy == CredentialsBySMS, SupportURL: a.Access.SupportURL})
	if err != nil {
		return err
	}
	msg.OrderID, msg.MemberKey, msg.MailboxID = member.OrderID, member.Key(), mb.ID
	_, err = a.WelcomeMail.Send(ctx, member.Email, msg)
	return err
}

// ensureValidity gives an ATTIVATA mailbox without a validity one, from the day it was
// activated. Activation sets it in the same write; this covers mailboxes activated by another
// path or before validities existed.
func (a *Activations) ensureValidity(ctx context.Context, mb *domain.Mailbox) error {
	if mb.ExpiresOn != "" {
		return nil
	}
	order, err := a.Store.GetOrder(ctx, mb.OrderID)
	if err != nil {
		return err
	}
	activated := cmp.Or(activatedAt(mb), a.now())
	_, _, err = a.Store.UpdateMailbox(ctx, mb.ID, func(m *domain.Mailbox) (bool, error) {
		if m.State != domain.StateAttivata || m.ExpiresOn != "" {
			return false, nil
		}
		m.StartValidity(domain.Today(activated), order.Convention.Validity())
		return true, nil
	})
	return err
}

// activatedAt is when the mailbox became ATTIVATA (zero if it never did).
func activatedAt(mb *domain.Mailbox) time.Time {
	for _, h := range mb.History {
		if h.State == domain.StateAttivata {
			return h.At
		}
	}
	return time.Time{}
}
