package app

import (
	"context"
	"errors"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// Suspensions record members' suspensions from the albo and their reinstatement, and do to the
// domicilio digitale what the convention's SuspensionPolicy says.
type Suspensions struct {
	Store       RevocationStore
	Revocations *Revocations
	Policy      domain.SuspensionPolicy
	Now         func() time.Time
}

var (
	errNotSuspended = &domain.Error{Kind: domain.KindConflict, Code: "not_suspended", Message: "the member is not suspended"}
	errSuspended    = &domain.Error{Kind: domain.KindConflict, Code: "already_suspended",
		Message: "the member is suspended already, by another decision: reinstate them first"}
)

// Suspend records the member's suspension. The same suspension again changes nothing. Under
// SuspendUnpublish and SuspendRevoke the domicilio leaves INI-PEC in the same write; under
// SuspendRevoke the convention mailbox is revoked.
func (s *Suspensions) Suspend(ctx context.Context, c Caller, orderID, codiceFiscale string, in domain.SuspensionInput) (*domain.Member, *domain.Mailbox, error) {
	if err := orderAccess(ctx, s.Store, c, orderID); err != nil {
		return nil, nil, err
	}
	cf, err := domain.ParseCodiceFiscale(codiceFiscale)
	if err != nil {
		return nil, nil, err
	}
	susp, err := in.Suspension(domain.Today(utcNow(s.Now)))
	if err != nil {
		return nil, nil, err
	}
	susp.Unpublished = s.policy() != domain.SuspendKeep
	now := utcNow(s.Now)
	m, err := s.Store.UpdateMember(ctx, orderID, cf, Audit{c.Actor(), "member.suspended"}, func(m *domain.Member) (bool, error) {
		switch {
		case m.Cancelled():
			return false, errMemberCancelled
		case m.Suspension.Same(susp):
			return false, nil
		case m.Suspension != nil:
			return false, errSuspended
		}
		m.Suspension, m.UpdatedAt = susp, now
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	mb, err := s.mailboxOf(ctx, m)
	if err != nil || mb == nil || s.policy() != domain.SuspendRevoke || mb.State == domain.StateRevocata {
		return m, mb, err
	}
	mb, err = s.Revocations.RevokeIf(ctx, mb.ID, c.Actor(), "member suspended from the albo: "+susp.Reason, nil)
	return m, mb, err
}

// Reinstate ends the member's suspension: INI-PEC gets the domicilio again when the suspension
// had taken it off (the own PEC, or the convention mailbox still ATTIVATA).
func (s *Suspensions) Reinstate(ctx context.Context, c Caller, orderID, codiceFiscale string) (*domain.Member, *domain.Mailbox, error) {
	if err := orderAccess(ctx, s.Store, c, orderID); err != nil {
		return nil, nil, err
	}
	cf, err := domain.ParseCodiceFiscale(codiceFiscale)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.reinstate(ctx, orderID, cf, Audit{c.Actor(), "member.reinstated"}, false)
	if err != nil {
		return nil, nil, err
	}
	mb, err := s.mailboxOf(ctx, m)
	return m, mb, err
}

// reinstate ends the suspension; onlyArt37 ends only one for want of a domicilio (the member
// has given one).
func (s *Suspensions) reinstate(ctx context.Context, orderID string, cf domain.CodiceFiscale, audit Audit, onlyArt37 bool) (*domain.Member, error) {
	now := utcNow(s.Now)
	return s.Store.UpdateMember(ctx, orderID, cf, audit, func(m *domain.Member) (bool, error) {
		switch {
		case m.Suspension == nil && onlyArt37:
			return false, nil
		case m.Suspension == nil:
			return false, errNotSuspended
		case onlyArt37 && m.Suspension.Kind != domain.SuspensionArt37:
			return false, nil
		}
		m.Suspension, m.UpdatedAt = nil, now
		return true, nil
	})
}

// DomicilioGiven ends an art. 37 suspension once the member has a domicilio digitale again:
// the law suspends them until they give one.
func (s *Suspensions) DomicilioGiven(ctx context.Context, m *domain.Member) (*domain.Member, error) {
	if s == nil || m.Suspension == nil || m.Suspension.Kind != domain.SuspensionArt37 || m.PEC == "" {
		return m, nil
	}
	return s.reinstate(ctx, m.OrderID, m.CodiceFiscale, Audit{"system", "member.reinstated"}, true)
}

func (s *Suspensions) policy() domain.SuspensionPolicy {
	if s.Policy == "" {
		return domain.SuspendKeep
	}
	return s.Policy
}

func (s *Suspensions) mailboxOf(ctx context.Context, m *domain.Member) (*domain.Mailbox, error) {
	if m.MailboxID == "" {
		return nil, nil
	}
	return s.Store.GetMailbox(ctx, m.MailboxID)
}

// SuspensionEndStore finds the suspensions whose stated end has passed.
type SuspensionEndStore interface {
	// SuspensionsEnded pages through the members (order id, member key) whose suspension ended
	// before day (YYYY-MM-DD).
	SuspensionsEnded(ctx context.Context, day string, limit int, cursor string) ([][2]string, string, error)
}

// EndDue reinstates the members whose suspension's stated end (to) is before today: the daily
// run does it, so that a suspension with an end ends by itself (INI-PEC gets the domicilio back
// under unpublish). It returns how many it reinstated.
func (s *Suspensions) EndDue(ctx context.Context, ending SuspensionEndStore, today time.Time) (int, error) {
	day := today.Format(time.DateOnly)
	n := 0
	var errs []error
	for cursor := ""; ; {
		due, next, err := ending.SuspensionsEnded(ctx, day, 100, cursor)
		if err != nil {
			return n, err
		}
		for _, d := range due {
			m, err := s.Store.UpdateMember(ctx, d[0], domain.CodiceFiscale(d[1]), Audit{"system", "member.reinstated"}, func(m *domain.Member) (bool, error) {
				if m.Suspension == nil || m.Suspension.To == "" || m.Suspension.To >= day {
					return false, nil
				}
				m.Suspension, m.UpdatedAt = nil, utcNow(s.Now)
				return true, nil
			})
			switch {
			case err != nil:
				errs = append(errs, err)
			case m.Suspension == nil:
				n++
			}
		}
		if next == "" {
			return n, errors.Join(errs...)
		}
		cursor = next
	}
}
