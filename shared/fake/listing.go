package fake

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.Store = (*Store)(nil)

// keyTime is how the DynamoDB store writes a time in a sort key: fixed width, so that keys
// sort as the times compare.
const keyTime = "2006-01-02T15:04:05.000000000Z"

func keyStamp(t time.Time) string { return t.UTC().Format(keyTime) }

// sorted is one item of an index partition with its sort key.
type sorted[T any] struct {
	key string
	v   T
}

// errInvalidCursor is the DynamoDB store's answer to a cursor it did not hand out, or handed
// out for another listing.
var errInvalidCursor = &domain.Error{Kind: domain.KindMalformed, Code: "invalid_cursor", Message: "cursor is not one this API returned", Field: "cursor"}

// conditionFailed is the error of a conditional write that found its item already there,
// where the DynamoDB store reports no sentinel (the caller never expects it).
func conditionFailed(what string) error {
	return fmt.Errorf("%s: the item exists (conditional check failed)", what)
}

// listCursor is the fake's opaque cursor: the partition it was handed out for and the sort key
// of the last item of the page.
type listCursor struct {
	Partition string `json:"p"`
	Key       string `json:"k"`
}

func encodeListCursor(partition, key string) string {
	b, _ := json.Marshal(listCursor{partition, key})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeListCursor returns the sort key a cursor of the partition resumes after.
func decodeListCursor(s, partition string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c listCursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.Partition != partition || c.Key == "" {
		return "", errInvalidCursor
	}
	return c.Key, nil
}

// pageOf returns up to limit items of a partition, in key order (descending when desc), after
// the cursor's key, and whether more items follow the page. A limit below 1 takes them all.
func pageOf[T any](items []sorted[T], partition string, limit int, cursor string, desc bool) ([]T, string, bool, error) {
	after := ""
	if cursor != "" {
		var err error
		if after, err = decodeListCursor(cursor, partition); err != nil {
			return nil, "", false, err
		}
	}
	slices.SortFunc(items, func(a, b sorted[T]) int {
		if desc {
			return strings.Compare(b.key, a.key)
		}
		return strings.Compare(a.key, b.key)
	})
	out := []T{}
	last := ""
	for i, it := range items {
		if after != "" && ((!desc && it.key <= after) || (desc && it.key >= after)) {
			continue
		}
		if limit > 0 && len(out) == limit {
			return out, last, true, nil
		}
		out, last = append(out, items[i].v), it.key
	}
	return out, last, false, nil
}

// ListMailboxes implements app.Store: one page of the Order's mailboxes (in one state, when
// asked), oldest first, as the DynamoDB store reads them from its indexes.
func (s *Store) ListMailboxes(_ context.Context, q app.MailboxQuery) ([]*domain.Mailbox, string, error) {
	if err := s.check("ListMailboxes"); err != nil {
		return nil, "", err
	}
	partition := "ORDER#" + q.OrderID + "#MAILBOXES"
	if q.State != "" {
		partition = "ORDER#" + q.OrderID + "#STATE#" + q.State
	}
	s.mu.Lock()
	var items []sorted[*domain.Mailbox]
	for _, mb := range s.mailboxes {
		if mb.OrderID == q.OrderID && (q.State == "" || string(mb.State) == q.State) {
			items = append(items, sorted[*domain.Mailbox]{keyStamp(mb.CreatedAt) + "#" + mb.ID, clone(mb)})
		}
	}
	s.mu.Unlock()
	page, last, more, err := pageOf(items, partition, max(q.Limit, 1), q.Cursor, false)
	if err != nil || !more {
		return page, "", err
	}
	return page, encodeListCursor(partition, last), nil
}

// CountMailboxes implements app.Store: every state is counted, zero included.
func (s *Store) CountMailboxes(_ context.Context, orderID string) (map[domain.State]int, error) {
	if err := s.check("CountMailboxes"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := map[domain.State]int{}
	for _, st := range domain.States {
		counts[st] = 0
	}
	for _, mb := range s.mailboxes {
		if mb.OrderID == orderID {
			counts[mb.State]++
		}
	}
	return counts, nil
}
