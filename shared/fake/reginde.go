package fake

import (
	"context"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.RegindeStore = (*Store)(nil)

// PutRegindeLink implements app.RegindeStore; a hash is recorded once.
func (s *Store) PutRegindeLink(_ context.Context, hash, orderID string, cf domain.CodiceFiscale, expires time.Time) error {
	if err := s.check("PutRegindeLink"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.regindeLinks[hash]; ok {
		return conditionFailed("put reginde link")
	}
	s.regindeLinks[hash] = link{orderID: orderID, cf: cf.Canonical(), expires: expires}
	return nil
}

// RegindeLink implements app.RegindeStore. An expired link is still found, as in DynamoDB,
// whose TTL deletes items late: the member's record says whether the link still works.
func (s *Store) RegindeLink(_ context.Context, hash string) (string, domain.CodiceFiscale, error) {
	if err := s.check("RegindeLink"); err != nil {
		return "", "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.regindeLinks[hash]
	if !ok {
		return "", "", domain.ErrNotFound
	}
	return l.orderID, l.cf, nil
}

// ListCTU implements app.RegindeStore: the Order's CTU members still in the albo (those who
// did or did not confirm, when asked), by surname, name and key, as the sparse CTU indexes
// sort them.
func (s *Store) ListCTU(_ context.Context, q app.CTUQuery) ([]*domain.Member, string, error) {
	if err := s.check("ListCTU"); err != nil {
		return nil, "", err
	}
	partition := "ORDER#" + q.OrderID + "#CTU"
	if q.Confirmed != nil {
		partition += map[bool]string{true: "#CONFIRMED", false: "#PENDING"}[*q.Confirmed]
	}
	s.mu.Lock()
	var items []sorted[*domain.Member]
	for _, r := range s.members {
		m := r.m
		if m.OrderID != q.OrderID || !m.CTU || m.Cancelled() || (q.Confirmed != nil && m.Reginde.Confirmed() != *q.Confirmed) {
			continue
		}
		key := strings.ToLower(m.Cognome) + "#" + strings.ToLower(m.Nome) + "#" + m.Key()
		items = append(items, sorted[*domain.Member]{key, clone(m)})
	}
	s.mu.Unlock()
	page, last, more, err := pageOf(items, partition, max(q.Limit, 1), q.Cursor, false)
	if err != nil || !more {
		return page, "", err
	}
	return page, encodeListCursor(partition, last), nil
}
