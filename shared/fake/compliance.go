package fake

import (
	"context"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.ComplianceStore = (*Store)(nil)

// WithoutOwnPEC implements app.ComplianceStore: the Order's members still in the albo, with
// no PEC of their own, enrolled in the albo on or before enrolledBy (YYYY-MM-DD), by key. A
// limit below 1 takes them all.
func (s *Store) WithoutOwnPEC(_ context.Context, orderID, enrolledBy string, limit int, cursor string) ([]*domain.Member, string, error) {
	if err := s.check("WithoutOwnPEC"); err != nil {
		return nil, "", err
	}
	partition := "ORDER#" + orderID
	var items []sorted[*domain.Member]
	for _, it := range s.orderMembers(orderID) {
		if m := it.v; m.PEC == "" && !m.Cancelled() && m.DataIscrizione <= enrolledBy {
			items = append(items, it)
		}
	}
	page, last, more, err := pageOf(items, partition, limit, cursor, false)
	if err != nil || !more {
		return page, "", err
	}
	return page, encodeListCursor(partition, last), nil
}
