package app

import (
	"context"
	"errors"

	"github.com/pecplatform/pec/shared/domain"
)

// candidateWindow is how many homonym numbers are checked in one read.
const candidateWindow = 8

// maxHomonyms bounds the search for a free address; reaching it means something is wrong.
const maxHomonyms = 100_000

// Enrol enrols a member in the Order. Without an own PEC, in an Order that adheres to the
// convention, it issues a mailbox in RICHIESTA whose address is the first homonym number free
// at the time of writing; the reservation is part of the same write, so two concurrent
// enrolments never share an address.
func (s *Service) Enrol(ctx context.Context, c Caller, orderID string, e domain.Enrolment) (*domain.Member, *domain.Mailbox, error) {
	if err := s.authorizeOrder(c, orderID); err != nil {
		return nil, nil, err
	}
	order, err := s.Store.GetOrder(ctx, orderID)
	if err != nil {
		return nil, nil, err
	}
	return s.enrol(ctx, c, order, e, "")
}

// enrol enrols into a known Order; importID, when set, marks the member as created by that
// import, so that an import resumed after a cut-off tells its own members from older ones.
func (s *Service) enrol(ctx context.Context, c Caller, order *domain.Order, e domain.Enrolment, importID string) (*domain.Member, *domain.Mailbox, error) {
	orderID := order.ID
	now := s.Now().UTC()
	albo, err := s.Domains.Resolve(e.Albo) // a code or a name, in any case: the code is stored
	if err != nil {
		return nil, nil, err
	}
	e.Albo = albo.Code
	m, err := e.Member(orderID, now)
	if err != nil {
		return nil, nil, err
	}
	m.ImportID = importID
	m.RequestKey = RequestKey(ctx)
	if !m.NeedsMailbox(order) {
		err := s.Store.CreateMember(ctx, m, nil, c.Actor())
		if errors.Is(err, domain.ErrMemberExists) {
			return s.ownEarlierEnrolment(ctx, m, err)
		}
		if err == nil {
			count(ctx, s.Metrics, MetricEnrolments, 1, Dimension{})
		}
		return m, nil, err
	}
	pecDomain := s.Domains.Domain(m.Albo)
	reloads := 0
	for n := 0; n < maxHomonyms; {
		addr, next, err := firstFreeAddress(ctx, s.Store, m, pecDomain, n)
		if err != nil {
			return nil, nil, err
		}
		mb := domain.NewMailbox(s.NewID(), addr, orderID, m.Albo, m.CodiceFiscale, now, c.Actor())
		mb.BatchSeq = order.BatchSeq
		m.MailboxID = mb.ID
		err = s.Store.CreateMember(ctx, m, mb, c.Actor())
		if errors.Is(err, domain.ErrMemberExists) {
			return s.ownEarlierEnrolment(ctx, m, err)
		}
		if errors.Is(err, domain.ErrAddressTaken) {
			n = next + 1 // someone took it between our read and our write
			continue
		}
		if errors.Is(err, domain.ErrConcurrentUpdate) && reloads < 5 {
			// The Order closed a batch meanwhile: join the next one.
			reloads++
			if order, err = s.Store.GetOrder(ctx, orderID); err != nil {
				return nil, nil, err
			}
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		count(ctx, s.Metrics, MetricEnrolments, 1, Dimension{})
		s.Crash.at(CrashAfterEnrolment, mb.Address)
		return m, mb, nil
	}
	return nil, nil, errors.New("no free homonym number for address")
}

// ownEarlierEnrolment answers an enrolment of a member who exists already. If the same request
// (same Idempotency-Key) enrolled them, this is its retry after the first answer was lost (the
// function died after writing, say): the retry gets the member and mailbox that the first
// attempt created. Anyone else gets exists.
func (s *Service) ownEarlierEnrolment(ctx context.Context, m *domain.Member, exists error) (*domain.Member, *domain.Mailbox, error) {
	if m.RequestKey == "" {
		return nil, nil, exists
	}
	old, err := s.Store.GetMember(ctx, m.OrderID, m.CodiceFiscale)
	if err != nil {
		return nil, nil, err
	}
	if old.RequestKey != m.RequestKey {
		return nil, nil, exists
	}
	var mb *domain.Mailbox
	if old.MailboxID != "" {
		if mb, err = s.Store.GetMailbox(ctx, old.MailboxID); err != nil {
			return nil, nil, err
		}
	}
	return old, mb, nil
}

// addressBook tells which addresses are already reserved.
type addressBook interface {
	TakenAddresses(ctx context.Context, addresses []string) (map[string]bool, error)
}

// firstFreeAddress returns the first address from homonym number n on that is not reserved.
func firstFreeAddress(ctx context.Context, book addressBook, m *domain.Member, pecDomain string, n int) (string, int, error) {
	for ; n < maxHomonyms; n += candidateWindow {
		candidates := make([]string, 0, candidateWindow)
		for i := n; i < n+candidateWindow; i++ {
			a, err := domain.ComposeAddress(m.Nome, m.Cognome, pecDomain, i)
			if err != nil {
				return "", 0, err
			}
			candidates = append(candidates, a)
		}
		taken, err := book.TakenAddresses(ctx, candidates)
		if err != nil {
			return "", 0, err
		}
		for i, a := range candidates {
			if !taken[a] {
				return a, n + i, nil
			}
		}
	}
	return "", 0, errors.New("no free homonym number for address")
}

// MemberFile is a member with the mailbox issued to them, if any.
type MemberFile struct {
	Member  *domain.Member
	Mailbox *domain.Mailbox
}

// GetMember returns the member's file. The codice fiscale may be given in any omocodic form.
func (s *Service) GetMember(ctx context.Context, c Caller, orderID, codiceFiscale string) (*MemberFile, error) {
	if err := s.authorizeOrder(c, orderID); err != nil {
		return nil, err
	}
	cf, err := domain.ParseCodiceFiscale(codiceFiscale)
	if err != nil {
		return nil, err
	}
	m, err := s.Store.GetMember(ctx, orderID, cf)
	if errors.Is(err, domain.ErrMemberNotFound) {
		if _, oerr := s.Store.GetOrder(ctx, orderID); oerr != nil {
			return nil, oerr
		}
	}
	if err != nil {
		return nil, err
	}
	f := &MemberFile{Member: m}
	if m.MailboxID != "" {
		if f.Mailbox, err = s.Store.GetMailbox(ctx, m.MailboxID); err != nil {
			return nil, err
		}
	}
	return f, nil
}
