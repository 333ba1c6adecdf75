package fake

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.RequestStore = (*Store)(nil)

// CreateRequest implements app.RequestStore: the request, its mailbox, the address reservation
// and the member's link to the mailbox, all or nothing. As in the DynamoDB store's
// transaction, a member who changed meanwhile (another mailbox, an own PEC, out of the albo)
// is reported before a taken address.
func (s *Store) CreateRequest(_ context.Context, r *domain.Request, mb *domain.Mailbox, m *domain.Member, prevMailboxID string) error {
	if err := s.check("CreateRequest"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := memberKey(m.OrderID, m.CodiceFiscale)
	row, ok := s.members[k]
	switch {
	case !ok || row.m.PEC != "" || row.m.Cancelled() || row.m.MailboxID != prevMailboxID:
		return domain.ErrConcurrentUpdate
	case s.addresses[mb.Address] != "":
		return domain.ErrAddressTaken
	case s.mailboxes[mb.ID] != nil:
		return fmt.Errorf("create request: mailbox %s exists", mb.ID)
	case s.requests[r.ID] != nil:
		return fmt.Errorf("create request: request %s exists", r.ID)
	}
	linked := clone(row.m)
	linked.MailboxID, linked.UpdatedAt = mb.ID, r.CreatedAt
	s.members[k] = &memberRow{m: linked, version: row.version + 1}
	s.mailboxes[mb.ID] = clone(mb)
	s.addresses[mb.Address] = mb.ID
	s.requests[r.ID] = &requestRow{r: clone(r)}
	s.record(m.OrderID, "member:"+m.Key(), "request.created", "member", r.CreatedAt)
	return nil
}

// UpdateRequest implements app.RequestStore: read, let change decide, write back under the
// request's version, deciding again if someone wrote in between. The audit entry is stamped
// with the request's UpdatedAt (the DynamoDB store's with the wall clock).
func (s *Store) UpdateRequest(_ context.Context, id string, audit app.Audit, change func(*domain.Request) (bool, error)) (*domain.Request, error) {
	if err := s.check("UpdateRequest"); err != nil {
		return nil, err
	}
	for range optimisticAttempts {
		s.mu.Lock()
		row, ok := s.requests[id]
		if !ok {
			s.mu.Unlock()
			return nil, domain.ErrRequestNotFound
		}
		r, version := clone(row.r), row.version
		s.mu.Unlock()
		changed, err := change(r)
		if err != nil || !changed {
			return r, err
		}
		s.mu.Lock()
		if s.requests[id].version != version {
			s.mu.Unlock()
			continue
		}
		r.Version++
		s.requests[id] = &requestRow{r: clone(r), version: version + 1}
		s.record(r.OrderID, "member:"+r.MemberKey, audit.Action, audit.Actor, r.UpdatedAt)
		s.mu.Unlock()
		return r, nil
	}
	return nil, domain.ErrConcurrentUpdate
}

// Hit implements app.RequestStore. As the DynamoDB store's conditional counter, the first hit
// of a window always counts, and a hit over max is not counted.
func (s *Store) Hit(_ context.Context, client string, start time.Time, window time.Duration, max int) (bool, error) {
	if err := s.check("Hit"); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := client + "#" + strconv.FormatInt(int64(window/time.Second), 10) + "#" + strconv.FormatInt(start.Unix(), 10)
	if hits, ok := s.rates[k]; ok && hits >= max {
		return false, nil
	}
	s.rates[k]++
	return true, nil
}

var _ app.AbandonedStore = (*Store)(nil)

// UnpaidRequests implements app.AbandonedStore.
func (s *Store) UnpaidRequests(_ context.Context, createdBefore time.Time, limit int, cursor string) ([]string, string, error) {
	if err := s.check("UnpaidRequests"); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	var items []sorted[string]
	for _, r := range s.requests {
		if r.r.Unpaid() && !r.r.CreatedAt.After(createdBefore) { // on or before, as the index query
			items = append(items, sorted[string]{keyStamp(r.r.CreatedAt) + "#" + r.r.ID, r.r.ID})
		}
	}
	s.mu.Unlock()
	page, last, more, err := pageOf(items, "REQUESTS#UNPAID", max(limit, 1), cursor, false)
	if err != nil || !more {
		return page, "", err
	}
	return page, encodeListCursor("REQUESTS#UNPAID", last), nil
}
