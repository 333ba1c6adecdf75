package fake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var (
	_ app.INIPECStore = (*Store)(nil)
	_ app.FullStore   = (*Store)(nil)
)

// copyDelivery copies a delivery (clone cannot: the JSON form leaves out the key range).
func copyDelivery(d *app.Delivery) *app.Delivery {
	c := *d
	if c.Kind == "" {
		c.Kind = "delta" // as the DynamoDB store reads a delivery recorded without a kind
	}
	return &c
}

// Changes implements app.INIPECStore: the Order's outbox after key `after` ("" for the
// start), up to `upTo` inclusive, in key order.
func (s *Store) Changes(_ context.Context, orderID, after, upTo string, limit int) ([]app.Change, error) {
	if err := s.check("Changes"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []app.Change{}
	for _, c := range s.changes[orderID] {
		if c.Key > after && c.Key <= upTo && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

// LastDelivery implements app.INIPECStore: the daily delivery with the highest number.
func (s *Store) LastDelivery(_ context.Context, orderID string) (*app.Delivery, error) {
	if err := s.check("LastDelivery"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.deliveries[orderID]
	if len(ds) == 0 {
		return nil, nil
	}
	return copyDelivery(ds[len(ds)-1]), nil
}

// PrepareDelivery implements app.INIPECStore: delivery number d.N is recorded once.
func (s *Store) PrepareDelivery(_ context.Context, d *app.Delivery) error {
	if err := s.check("PrepareDelivery"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.deliveries[d.OrderID]
	i, found := slices.BinarySearchFunc(ds, d.N, func(e *app.Delivery, n int) int { return e.N - n })
	if found {
		return domain.ErrConcurrentUpdate
	}
	s.deliveries[d.OrderID] = slices.Insert(ds, i, copyDelivery(d))
	return nil
}

// CompleteDelivery implements app.INIPECStore: it writes d over its prepared record; a
// delivery completed already (or never prepared) is left as it is, and that is no error.
func (s *Store) CompleteDelivery(_ context.Context, d *app.Delivery) error {
	if err := s.check("CompleteDelivery"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.deliveries[d.OrderID]
	i, found := slices.BinarySearchFunc(ds, d.N, func(e *app.Delivery, n int) int { return e.N - n })
	if found && ds[i].State == app.DeliveryPrepared {
		ds[i] = copyDelivery(d)
	}
	return nil
}

// ListDeliveries implements app.INIPECStore, newest first: the numbered daily deliveries, or
// the full exports (kind "full") by the time they were made.
func (s *Store) ListDeliveries(_ context.Context, orderID, kind string, limit int, cursor string) ([]*app.Delivery, string, error) {
	if err := s.check("ListDeliveries"); err != nil {
		return nil, "", err
	}
	partition := "INIPEC#" + orderID
	s.mu.Lock()
	var items []sorted[*app.Delivery]
	if kind == "full" {
		for _, d := range s.exports[orderID] {
			items = append(items, sorted[*app.Delivery]{exportKey(d), copyDelivery(d)})
		}
	} else {
		for _, d := range s.deliveries[orderID] {
			items = append(items, sorted[*app.Delivery]{fmt.Sprintf("DELIVERY#%09d", d.N), copyDelivery(d)})
		}
	}
	s.mu.Unlock()
	page, last, more, err := pageOf(items, partition, max(limit, 1), cursor, true)
	if err != nil || !more {
		return page, "", err
	}
	return page, encodeListCursor(partition, last), nil
}

func exportKey(d *app.Delivery) string { return "EXPORT#" + keyStamp(d.PreparedAt) }

// MembersByKey implements app.INIPECStore: the members that exist among the canonical keys.
func (s *Store) MembersByKey(_ context.Context, orderID string, keys []string) (map[string]*domain.Member, error) {
	if err := s.check("MembersByKey"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]*domain.Member{}
	for _, k := range keys {
		if r, ok := s.members[orderID+"#"+k]; ok {
			out[k] = clone(r.m)
		}
	}
	return out, nil
}

// MembersPage implements app.FullStore: the Order's members by key. As a DynamoDB query with
// a limit, a full page hands out a cursor even when nothing follows it.
func (s *Store) MembersPage(_ context.Context, orderID string, limit int, cursor string) ([]*domain.Member, string, error) {
	if err := s.check("MembersPage"); err != nil {
		return nil, "", err
	}
	if limit < 1 {
		return nil, "", errors.New("members page: limit must be at least 1")
	}
	partition := "ORDER#" + orderID
	items := s.orderMembers(orderID)
	page, last, _, err := pageOf(items, partition, limit, cursor, false)
	if err != nil || len(page) < limit {
		return page, "", err
	}
	return page, encodeListCursor(partition, last), nil
}

// orderMembers copies the Order's members, keyed as in the Order's partition.
func (s *Store) orderMembers(orderID string) []sorted[*domain.Member] {
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []sorted[*domain.Member]
	for k, r := range s.members {
		if id, key, _ := strings.Cut(k, "#"); id == orderID {
			items = append(items, sorted[*domain.Member]{"MEMBER#" + key, clone(r.m)})
		}
	}
	return items
}

// PutExport implements app.FullStore: the export is kept beside the daily deliveries, by the
// time it was made (an export made at the same instant replaces it).
func (s *Store) PutExport(_ context.Context, d *app.Delivery) error {
	if err := s.check("PutExport"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	es := slices.DeleteFunc(s.exports[d.OrderID], func(e *app.Delivery) bool { return exportKey(e) == exportKey(d) })
	s.exports[d.OrderID] = append(es, copyDelivery(d))
	return nil
}
