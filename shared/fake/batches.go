package fake

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// CountOpen implements app.BatchStore: the Order's RICHIESTA mailboxes of sequence seq that
// wait for a batch (a self-service one never does), as the DynamoDB store's sparse open index
// holds them.
func (s *Store) CountOpen(_ context.Context, orderID string, seq int) (int, error) {
	if err := s.check("CountOpen"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.openEntries(orderID, seq)), nil
}

// OpenMailboxIDs implements app.BatchStore, oldest first.
func (s *Store) OpenMailboxIDs(_ context.Context, orderID string, seq, limit int, cursor string) ([]string, string, error) {
	if err := s.check("OpenMailboxIDs"); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return limitPage(fmt.Sprintf("open#%s#%d", orderID, seq), s.openEntries(orderID, seq), limit, cursor)
}

func (s *Store) openEntries(orderID string, seq int) []indexEntry {
	var out []indexEntry
	for _, mb := range s.mailboxes {
		if mb.OrderID == orderID && mb.State == domain.StateRichiesta && mb.RequestID == "" && mb.BatchSeq == seq {
			out = append(out, indexEntry{key: createdKey(mb.CreatedAt, mb.ID), id: mb.ID})
		}
	}
	return sortedEntries(out, false)
}

// CreateBatch implements app.BatchStore: the Order's sequence b.Seq must still be open; the
// batch closes it, so that an enrolment that read it fails (see CreateMember).
func (s *Store) CreateBatch(_ context.Context, b *domain.Batch) error {
	if err := s.check("CreateBatch"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[b.OrderID]
	if !ok || o.BatchSeq != b.Seq {
		return domain.ErrConcurrentUpdate
	}
	if _, ok := s.batches[b.ID]; ok {
		return fmt.Errorf("create batch: batch %s exists", b.ID) // as DynamoDB's cancelled transaction
	}
	o.BatchSeq++
	o.Version++
	s.batches[b.ID] = &batchRow{b: clone(b), version: b.Version}
	s.record(b.OrderID, "batch:"+b.ID, "batch.created", "system", b.CreatedAt)
	return nil
}

// PutRenewalBatch implements app.RenewalStore.
func (s *Store) PutRenewalBatch(_ context.Context, b *domain.Batch) error {
	if err := s.check("PutRenewalBatch"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.batches[b.ID]; ok {
		return domain.ErrConcurrentUpdate
	}
	s.batches[b.ID] = &batchRow{b: clone(b), version: b.Version}
	s.record(b.OrderID, "batch:"+b.ID, "batch.created", "system", b.CreatedAt)
	return nil
}

// GetBatch implements app.BatchReader.
func (s *Store) GetBatch(_ context.Context, id string) (*domain.Batch, app.BatchPark, error) {
	if err := s.check("GetBatch"); err != nil {
		return nil, app.BatchPark{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.batches[id]
	if !ok {
		return nil, app.BatchPark{}, domain.ErrBatchNotFound
	}
	return clone(r.b), r.park, nil
}

// UpdateBatch implements app.BatchStore: under the batch's version, with the audit entry.
func (s *Store) UpdateBatch(_ context.Context, id string, audit app.Audit, change func(*domain.Batch, *app.BatchPark) (bool, error)) (*domain.Batch, app.BatchPark, bool, error) {
	if err := s.check("UpdateBatch"); err != nil {
		return nil, app.BatchPark{}, false, err
	}
	for range optimisticAttempts {
		s.mu.Lock()
		r, ok := s.batches[id]
		if !ok {
			s.mu.Unlock()
			return nil, app.BatchPark{}, false, domain.ErrBatchNotFound
		}
		b, park, version := clone(r.b), r.park, r.version
		s.mu.Unlock()
		changed, err := change(b, &park)
		if err != nil || !changed {
			return b, park, false, err
		}
		s.mu.Lock()
		if s.batches[id].version != version {
			s.mu.Unlock()
			continue
		}
		b.Version = version + 1
		s.batches[id] = &batchRow{b: clone(b), park: park, version: b.Version}
		s.record(b.OrderID, "batch:"+b.ID, audit.Action, audit.Actor, b.UpdatedAt)
		s.mu.Unlock()
		return b, park, true, nil
	}
	return nil, app.BatchPark{}, false, domain.ErrConcurrentUpdate
}

// ListBatches implements app.BatchStore, newest first; a cursor only when more follow.
func (s *Store) ListBatches(_ context.Context, orderID string, limit int, cursor string) ([]*domain.Batch, string, error) {
	if err := s.check("ListBatches"); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var entries []indexEntry
	for _, r := range s.batches {
		if r.b.OrderID == orderID {
			entries = append(entries, indexEntry{key: createdKey(r.b.CreatedAt, r.b.ID), id: r.b.ID})
		}
	}
	partition := "batches#" + orderID
	page, more, err := indexPage(partition, sortedEntries(entries, true), true, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	out := make([]*domain.Batch, 0, len(page))
	for _, e := range page {
		out = append(out, clone(s.batches[e.id].b))
	}
	next := ""
	if more {
		next = encodeListCursor(partition, page[len(page)-1].key)
	}
	return out, next, nil
}

// RenewalCandidates implements app.RenewalStore: the Order's ATTIVATA mailboxes expiring before
// the day, oldest first. each runs without the store's lock (it may read the store).
func (s *Store) RenewalCandidates(_ context.Context, orderID, before string, each func(mailboxID, renewalBatchID string) error) error {
	if err := s.check("RenewalCandidates"); err != nil {
		return err
	}
	type candidate struct{ key, id, batch string }
	var found []candidate
	s.mu.Lock()
	for _, mb := range s.mailboxes {
		// DynamoDB's filter expiresOn < :before is false where expiresOn is absent.
		if mb.OrderID == orderID && mb.State == domain.StateAttivata && mb.ExpiresOn != "" && mb.ExpiresOn < before {
			found = append(found, candidate{createdKey(mb.CreatedAt, mb.ID), mb.ID, mb.RenewalBatchID})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(found, func(a, b candidate) int { return strings.Compare(a.key, b.key) })
	for _, c := range found {
		if err := each(c.id, c.batch); err != nil {
			return err
		}
	}
	return nil
}

// AddToRenewal implements app.RenewalStore: the mailbox's mark and the batch's line for it are
// written together, so the batch lists exactly the mailboxes marked with it.
func (s *Store) AddToRenewal(_ context.Context, batchID, mailboxID string, change func(*domain.Mailbox) (bool, error)) (bool, error) {
	if err := s.check("AddToRenewal"); err != nil {
		return false, err
	}
	_, changed, err := s.updateMailbox(mailboxID, change, func(*domain.Mailbox) {
		if !slices.Contains(s.renewalLines[batchID], mailboxID) {
			s.renewalLines[batchID] = append(s.renewalLines[batchID], mailboxID)
		}
	})
	return changed, err
}

// RenewalMailboxIDs implements app.RenewalStore. The DynamoDB store reads a batch's lines by
// their sort key, the mailbox id, so this does too (not in joining order).
func (s *Store) RenewalMailboxIDs(_ context.Context, batchID string, limit int, cursor string) ([]string, string, error) {
	if err := s.check("RenewalMailboxIDs"); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var entries []indexEntry
	for _, id := range s.renewalLines[batchID] {
		entries = append(entries, indexEntry{key: id, id: id})
	}
	return limitPage("renewal#"+batchID, sortedEntries(entries, false), limit, cursor)
}

// indexEntry is one item of an index partition: its sort key and the record it points to.
type indexEntry struct{ key, id string }

// createdKey sorts records by creation time as the DynamoDB store's sort keys do.
func createdKey(at time.Time, id string) string {
	return at.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + id
}

func sortedEntries(entries []indexEntry, newestFirst bool) []indexEntry {
	slices.SortFunc(entries, func(a, b indexEntry) int {
		if newestFirst {
			return strings.Compare(b.key, a.key)
		}
		return strings.Compare(a.key, b.key)
	})
	return entries
}

// limitPage reads a page of ids as a DynamoDB query with Limit does: up to limit entries after
// the cursor's, and a cursor whenever the page is full, even when nothing follows.
func limitPage(partition string, entries []indexEntry, limit int, cursor string) ([]string, string, error) {
	page, _, err := indexPage(partition, entries, false, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, 0, len(page))
	for _, e := range page {
		ids = append(ids, e.id)
	}
	next := ""
	if len(page) == limit {
		next = encodeListCursor(partition, page[len(page)-1].key)
	}
	return ids, next, nil
}

// indexPage returns up to limit entries (sorted as the partition reads) after the cursor's
// key, and whether more follow. As with DynamoDB's ExclusiveStartKey, the cursor's entry need
// not exist any more.
func indexPage(partition string, entries []indexEntry, newestFirst bool, limit int, cursor string) ([]indexEntry, bool, error) {
	if limit < 1 {
		return nil, false, fmt.Errorf("query %s: limit %d: DynamoDB's Limit must be at least 1", partition, limit)
	}
	if cursor != "" {
		after, err := decodeListCursor(cursor, partition)
		if err != nil {
			return nil, false, err
		}
		i := 0
		for i < len(entries) && (entries[i].key == after || (entries[i].key < after) != newestFirst) {
			i++
		}
		entries = entries[i:]
	}
	if len(entries) > limit {
		return entries[:limit], true, nil
	}
	return entries, false, nil
}
