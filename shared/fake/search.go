package fake

import (
	"context"
	"fmt"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// SearchMembers implements app.MemberSearchStore: the Order's members in NameKey order, those
// the query keeps, a page at a time.
func (s *Store) SearchMembers(_ context.Context, q app.MemberQuery) ([]app.MemberFile, string, error) {
	if err := s.check("SearchMembers"); err != nil {
		return nil, "", err
	}
	partition := "ORDER#" + q.OrderID + "#MEMBERS"
	s.mu.Lock()
	var items []sorted[app.MemberFile]
	for _, r := range s.members {
		if r.m.OrderID != q.OrderID {
			continue
		}
		f := app.MemberFile{Member: clone(r.m)}
		if mb, ok := s.mailboxes[r.m.MailboxID]; ok {
			f.Mailbox = clone(mb)
		}
		if q.Keeps(f) {
			items = append(items, sorted[app.MemberFile]{r.m.NameKey(), f})
		}
	}
	s.mu.Unlock()
	page, last, more, err := pageOf(items, partition, max(q.Limit, 1), q.Cursor, false)
	if err != nil || !more {
		return page, "", err
	}
	return page, encodeListCursor(partition, last), nil
}

// ListAudit implements app.AuditStore: the Order's entries (or a member's), newest first.
func (s *Store) ListAudit(_ context.Context, orderID, memberKey string, limit int, cursor string) ([]app.AuditEntry, string, error) {
	if err := s.check("ListAudit"); err != nil {
		return nil, "", err
	}
	partition := "ORDER#" + orderID + "#AUDIT#" + memberKey
	s.mu.Lock()
	var items []sorted[app.AuditEntry]
	for _, e := range s.audit {
		if e.OrderID != orderID || (memberKey != "" && e.MemberKey != memberKey) {
			continue
		}
		key := keyStamp(e.At) + fmt.Sprintf("#%012d", e.seq)
		items = append(items, sorted[app.AuditEntry]{key, app.AuditEntry{At: e.At, Actor: e.Actor, Action: e.Action,
			Entity: e.Entity, MemberKey: e.MemberKey, Changes: e.Changes}})
	}
	s.mu.Unlock()
	page, last, more, err := pageOf(items, partition, max(limit, 1), cursor, true)
	if err != nil || !more {
		return page, "", err
	}
	return page, encodeListCursor(partition, last), nil
}

var _ app.AuditStore = (*Store)(nil)

var _ app.FederationStore = (*Store)(nil)

// ListOrdersPage implements app.FederationStore.
func (s *Store) ListOrdersPage(ctx context.Context, limit int, cursor string) ([]*domain.Order, string, error) {
	all, err := s.ListOrders(ctx)
	if err != nil {
		return nil, "", err
	}
	items := make([]sorted[*domain.Order], 0, len(all))
	for _, o := range all {
		items = append(items, sorted[*domain.Order]{o.ID, o})
	}
	page, last, more, err := pageOf(items, "ORDERS", max(limit, 1), cursor, false)
	if err != nil || !more {
		return page, "", err
	}
	return page, encodeListCursor("ORDERS", last), nil
}

// ListBatchesByState implements app.FederationStore.
func (s *Store) ListBatchesByState(_ context.Context, state domain.BatchState, limit int, cursor string) ([]*domain.Batch, string, error) {
	if err := s.check("ListBatchesByState"); err != nil {
		return nil, "", err
	}
	partition := "BATCHES#" + string(state)
	s.mu.Lock()
	var items []sorted[*domain.Batch]
	for _, r := range s.batches {
		if r.b.State == state {
			items = append(items, sorted[*domain.Batch]{keyStamp(r.b.CreatedAt) + "#" + r.b.ID, clone(r.b)})
		}
	}
	s.mu.Unlock()
	page, last, more, err := pageOf(items, partition, max(limit, 1), cursor, false)
	if err != nil || !more {
		return page, "", err
	}
	return page, encodeListCursor(partition, last), nil
}

var _ app.SuspensionEndStore = (*Store)(nil)

// SuspensionsEnded implements app.SuspensionEndStore.
func (s *Store) SuspensionsEnded(_ context.Context, day string, limit int, cursor string) ([][2]string, string, error) {
	if err := s.check("SuspensionsEnded"); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	var items []sorted[[2]string]
	for _, r := range s.members {
		if sp := r.m.Suspension; sp != nil && sp.To != "" && sp.To < day && !r.m.Cancelled() {
			items = append(items, sorted[[2]string]{sp.To + "#" + r.m.OrderID + "#" + r.m.Key(), [2]string{r.m.OrderID, r.m.Key()}})
		}
	}
	s.mu.Unlock()
	page, last, more, err := pageOf(items, "SUSPENSIONS#ENDING", max(limit, 1), cursor, false)
	if err != nil || !more {
		return page, "", err
	}
	return page, encodeListCursor("SUSPENSIONS#ENDING", last), nil
}
