package fake

import (
	"context"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.TransferStore = (*Store)(nil)

// TransferMember implements app.TransferStore, all or nothing under the store's lock, deciding
// again when the member or the mailbox changed since the read.
func (s *Store) TransferMember(ctx context.Context, orderID string, cf domain.CodiceFiscale, toOrderID string,
	decide func(m *domain.Member, mb *domain.Mailbox, to *domain.Order) (*app.MemberTransfer, error)) (*app.MemberTransfer, error) {
	if err := s.check("TransferMember"); err != nil {
		return nil, err
	}
	k := memberKey(orderID, cf)
	for range optimisticAttempts {
		s.mu.Lock()
		r, ok := s.members[k]
		if !ok {
			s.mu.Unlock()
			return nil, domain.ErrMemberNotFound
		}
		to, ok := s.orders[toOrderID]
		if !ok {
			s.mu.Unlock()
			return nil, domain.ErrOrderNotFound
		}
		m, version, to := clone(r.m), r.version, clone(to)
		var mb *domain.Mailbox
		if cur, ok := s.mailboxes[m.MailboxID]; ok {
			mb = clone(cur)
		}
		s.mu.Unlock()
		tr, err := decide(m, mb, to)
		if err != nil || tr.Done {
			return tr, err
		}
		s.mu.Lock()
		if s.members[k].version != version || (mb != nil && s.mailboxes[mb.ID].Version != mb.Version) ||
			(tr.Mailbox != nil && tr.Mailbox.State == domain.StateRichiesta && s.orders[toOrderID].BatchSeq != tr.Mailbox.BatchSeq) {
			s.mu.Unlock()
			continue
		}
		nk := memberKey(toOrderID, cf)
		if _, ok := s.members[nk]; ok {
			s.mu.Unlock()
			return nil, domain.ErrMemberExists
		}
		s.members[k] = &memberRow{m: clone(tr.Left), version: version + 1}
		s.members[nk] = &memberRow{m: clone(tr.Member)}
		if tr.Mailbox != nil {
			tr.Mailbox.Version++
			s.mailboxes[tr.Mailbox.ID] = clone(tr.Mailbox)
		}
		changes := app.MemberChanges(m, tr.Member)
		s.record(orderID, "member:"+m.Key(), "member.transferred_out", tr.Audit.Actor, tr.Member.UpdatedAt, changes...)
		s.record(toOrderID, "member:"+m.Key(), "member.transferred_in", tr.Audit.Actor, tr.Member.UpdatedAt, changes...)
		for _, p := range tr.Publications {
			s.publish(p)
		}
		s.mu.Unlock()
		return tr, nil
	}
	return nil, domain.ErrConcurrentUpdate
}
