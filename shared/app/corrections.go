package app

import (
	"context"
	"errors"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// CorrectionStore is what corrections of a member need from persistence.
type CorrectionStore interface {
	MailboxRecords
	MemberUpdater
	TakenAddresses(ctx context.Context, addresses []string) (map[string]bool, error)
	MoveAddress(ctx context.Context, id, to string, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, error)
}

// Corrections apply an Order's corrections to its members' records (PATCH of a member).
type Corrections struct {
	Store       CorrectionStore
	Domains     *domain.Albi
	Activations *Activations // a corrected e-mail gets a fresh activation link
	Revocations *Revocations // an own PEC given revokes a convention mailbox not yet activated
	Suspensions *Suspensions // an own PEC given ends an art. 37 suspension; nil: nothing
	Now         func() time.Time
}

var errMemberCancelled = &domain.Error{Kind: domain.KindConflict, Code: "member_cancelled",
	Message: "the member has left the albo: their record is no longer corrected"}

var errEmptyCorrection = &domain.Error{Kind: domain.KindInvalid, Code: "empty_correction", Field: "body",
	Message: "the correction names no field to change: send at least one of email, pec, numeroIscrizione, dataIscrizione, ctu, nome, cognome, albo"}

func (k *Corrections) now() time.Time { return utcNow(k.Now) }

// Correct corrects the member's record, audited with the fields it changed (before and after),
// then brings what depends on it in line, each step decided from the records as they are, so
// that a retry after a failure finishes the job:
//   - a new own PEC replaces the domicilio digitale (INI-PEC: an update, or an insertion) and
//     revokes a convention mailbox not yet ATTIVATA;
//   - a new nome, cognome or albo, while the mailbox is still RICHIESTA (the provider has not
//     seen it), moves the mailbox to the address composed from them (the old one is never
//     given again); later, the address stays and the correction is only recorded;
//   - a new e-mail, while the mailbox waits for its member (ABILITATA), sends a fresh activation
//     link to it; the old link dies.
func (k *Corrections) Correct(ctx context.Context, c Caller, orderID, codiceFiscale string, fix domain.Correction) (*domain.Member, *domain.Mailbox, error) {
	if err := orderAccess(ctx, k.Store, c, orderID); err != nil {
		return nil, nil, err
	}
	cf, err := domain.ParseCodiceFiscale(codiceFiscale)
	if err != nil {
		return nil, nil, err
	}
	if fix.Empty() {
		return nil, nil, errEmptyCorrection
	}
	if fix.Albo != nil {
		a, err := k.Domains.Resolve(*fix.Albo)
		if err != nil {
			return nil, nil, err
		}
		fix.Albo = &a.Code
	}
	now := k.now()
	m, err := k.Store.UpdateMember(ctx, orderID, cf, Audit{c.Actor(), "member.corrected"}, func(m *domain.Member) (bool, error) {
		if m.Cancelled() {
			return false, errMemberCancelled
		}
		next, err := fix.Apply(m, now)
		if err != nil || domain.SameRecord(m, next) {
			return false, err
		}
		if next.Email != m.Email {
			next.EmailProblem = nil // a new address: nothing is known against it
		}
		*m = *next
		m.UpdatedAt = now
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if m, err = k.Suspensions.DomicilioGiven(ctx, m); err != nil {
		return nil, nil, err
	}
	if m.MailboxID == "" {
		return m, nil, nil
	}
	mb, err := k.Store.GetMailbox(ctx, m.MailboxID)
	if err != nil {
		return nil, nil, err
	}
	if mb.MemberEmail != "" && m.EmailProblem == nil { // the address was corrected: its problem is gone
		if mb, _, err = k.Store.UpdateMailbox(ctx, mb.ID, func(x *domain.Mailbox) (bool, error) {
			changed := x.MemberEmail != ""
			x.MemberEmail = ""
			return changed, nil
		}); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case m.PEC != "" && mb.State != domain.StateAttivata && mb.State != domain.StateRevocata:
		mb, err = k.Revocations.RevokeIf(ctx, mb.ID, c.Actor(), "the member gave their own PEC", func(mb *domain.Mailbox) bool {
			return mb.State != domain.StateAttivata
		})
	case mb.State == domain.StateRichiesta:
		mb, err = k.recompose(ctx, c, m, mb)
	case fix.Email != nil && mb.State == domain.StateAbilitata && mb.Activation.SentTo != m.Email:
		mb, err = k.Activations.issue(ctx, mb, mb.Activation.Sent, nil)
		if errors.Is(err, errNotAwaitingActivation) { // activated or revoked meanwhile
			mb, err = k.Store.GetMailbox(ctx, mb.ID)
		}
	}
	return m, mb, err
}

// recompose moves a mailbox not yet sent to the provider to the address its member's names
// and albo compose now, if it has another one.
func (k *Corrections) recompose(ctx context.Context, c Caller, m *domain.Member, mb *domain.Mailbox) (*domain.Mailbox, error) {
	pecDomain := k.Domains.Domain(m.Albo)
	if domain.AddressFits(mb.Address, m.Nome, m.Cognome, pecDomain) && mb.Albo == m.Albo {
		return mb, nil
	}
	now := k.now()
	for n := 0; n < maxHomonyms; {
		next, at, err := firstFreeAddress(ctx, k.Store, m, pecDomain, n)
		if err != nil {
			return nil, err
		}
		old := mb.Address
		moved, err := k.Store.MoveAddress(ctx, mb.ID, next, func(x *domain.Mailbox) (bool, error) {
			if x.State != domain.StateRichiesta {
				return false, nil // sent to the provider meanwhile: the address stays
			}
			x.Albo, x.UpdatedAt = m.Albo, now
			x.History = append(x.History, domain.Transition{State: x.State, At: now, Actor: c.Actor(),
				Reason: "names corrected: address " + old + " is now " + next})
			return true, nil
		})
		if errors.Is(err, domain.ErrAddressTaken) {
			n = at + 1
			continue
		}
		if err != nil {
			return nil, err
		}
		if moved.State != domain.StateRichiesta {
			return k.Store.GetMailbox(ctx, mb.ID) // nothing moved: read it as it is
		}
		return moved, nil
	}
	return nil, errors.New("no free homonym number for address")
}
