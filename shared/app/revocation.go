package app

import (
	"context"
	"errors"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// RevocationStore is what revocations need from persistence.
type RevocationStore interface {
	MailboxRecords
	MemberUpdater
}

// Revocations make mailboxes REVOCATA (by the Order, by the member's cancellation from the
// albo, by the expiry run) and tell whoever must know: the parked workflow, else the provider.
type Revocations struct {
	Store    RevocationStore
	Workflow Workflow
	Provider Provider
	Now      func() time.Time
}

func (r *Revocations) now() time.Time { return utcNow(r.Now) }

// Revoke makes a mailbox REVOCATA from any state. Revoking a revoked mailbox is a success that
// changes nothing. A waiting workflow is failed with MailboxRevoked and tells the provider
// itself; otherwise, if the provider knows the mailbox, it is told from here.
func (r *Revocations) Revoke(ctx context.Context, c Caller, id, reason string) (*domain.Mailbox, error) {
	reason, err := domain.ValidateReason(reason)
	if err != nil {
		return nil, err
	}
	mb, err := r.Store.GetMailbox(ctx, id)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !c.CanAccessOrder(mb.OrderID)) {
		return nil, errMailboxNotFound
	}
	if err != nil {
		return nil, err
	}
	return r.RevokeIf(ctx, id, c.Actor(), reason, nil)
}

// RevokeIf revokes the mailbox, but only if cond (when given) holds for the mailbox as it is
// written, so that the decision and the revocation are one conditional write.
func (r *Revocations) RevokeIf(ctx context.Context, id, actor, reason string, cond func(*domain.Mailbox) bool) (*domain.Mailbox, error) {
	var token string
	mb, changed, err := r.Store.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
		if cond != nil && !cond(m) {
			return false, nil
		}
		changed, err := m.Transition(domain.StateRevocata, r.now(), actor, reason)
		token = ""
		if changed {
			m.Activation.Hash = ""
			token, _ = m.Unpark(m.Park.Waiting)
		}
		return changed, err
	})
	if err != nil {
		return mb, err
	}
	if !changed {
		// Already revoked: if telling the provider failed the first time, this retry tells it
		// again (the provider's deactivation is idempotent).
		return mb, r.DeactivateAtProvider(ctx, id)
	}
	if token != "" {
		gone, err := r.Workflow.FailOrGone(ctx, token, ErrNameRevoked, "revoked")
		if err != nil || !gone {
			return mb, err
		}
		// The workflow had already ended (say, the activation reminders were exhausted): it
		// will not tell the provider, so this does.
	}
	return mb, r.DeactivateAtProvider(ctx, id)
}

// CancelMember records that the member left the albo and revokes their mailbox, if any.
func (r *Revocations) CancelMember(ctx context.Context, c Caller, orderID, codiceFiscale, date, reason string) (*domain.Member, *domain.Mailbox, error) {
	if err := orderAccess(ctx, r.Store, c, orderID); err != nil {
		return nil, nil, err
	}
	cf, err := domain.ParseCodiceFiscale(codiceFiscale)
	if err != nil {
		return nil, nil, err
	}
	on, reason, err := domain.ValidateCancellation(date, reason, r.now())
	if err != nil {
		return nil, nil, err
	}
	m, err := r.Store.UpdateMember(ctx, orderID, cf, Audit{c.Actor(), "member.cancelled"}, func(m *domain.Member) (bool, error) {
		if m.Cancelled() {
			return false, nil
		}
		m.CancelledOn, m.CancelReason, m.UpdatedAt = on, reason, r.now()
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if m.MailboxID == "" {
		return m, nil, nil
	}
	mb, err := r.RevokeIf(ctx, m.MailboxID, c.Actor(), "member cancelled from the albo: "+m.CancelReason, nil)
	return m, mb, err
}

// DeactivateAtProvider tells the provider to close a revoked mailbox it knows of.
func (r *Revocations) DeactivateAtProvider(ctx context.Context, mailboxID string) error {
	mb, err := r.Store.GetMailbox(ctx, mailboxID)
	if err != nil {
		return err
	}
	if mb.State != domain.StateRevocata || !mb.KnownToProvider() {
		return nil
	}
	return r.Provider.Deactivate(ctx, ProviderMailbox{RequestID: mb.ID, Address: mb.Address, ProviderRef: mb.ProviderRef}, lastReason(mb))
}
