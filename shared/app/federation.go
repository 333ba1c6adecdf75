package app

import (
	"context"
	"errors"
	"sync"

	"github.com/pecplatform/pec/shared/domain"
)

// FederationStore reads across Orders.
type FederationStore interface {
	// ListOrdersPage returns a page of the Orders, by id.
	ListOrdersPage(ctx context.Context, limit int, cursor string) ([]*domain.Order, string, error)
	CountMailboxes(ctx context.Context, orderID string) (map[domain.State]int, error)
	// ListBatchesByState returns a page of every Order's batches in the state, oldest first.
	ListBatchesByState(ctx context.Context, state domain.BatchState, limit int, cursor string) ([]*domain.Batch, string, error)
}

// Federation is the federation's view across Orders.
type Federation struct {
	Store FederationStore
}

// OrderCounts is an Order with its mailboxes counted per state.
type OrderCounts struct {
	Order     *domain.Order
	Mailboxes map[domain.State]int
}

// countConcurrency bounds the Orders counted at once.
const countConcurrency = 8

// Orders lists the Orders with their mailbox counts, for the federation only.
func (f *Federation) Orders(ctx context.Context, c Caller, limit int, cursor string) ([]OrderCounts, string, error) {
	if c.Role != RoleFederation {
		return nil, "", domain.ErrForbidden
	}
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, "", err
	}
	orders, next, err := f.Store.ListOrdersPage(ctx, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	out := make([]OrderCounts, len(orders))
	errs := make([]error, len(orders))
	sem := make(chan struct{}, countConcurrency)
	var wg sync.WaitGroup
	for i, o := range orders {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			counts, err := f.Store.CountMailboxes(ctx, o.ID)
			out[i], errs[i] = OrderCounts{Order: o, Mailboxes: counts}, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// Batches lists every Order's batches in a state (oldest first), for the federation only.
func (f *Federation) Batches(ctx context.Context, c Caller, state string, limit int, cursor string) ([]*domain.Batch, string, error) {
	if c.Role != RoleFederation {
		return nil, "", domain.ErrForbidden
	}
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, "", err
	}
	st := domain.BatchState(state)
	if st != domain.BatchAwaitingAuthorization && st != domain.BatchSubmitted {
		return nil, "", domain.Invalid("state", "invalid_state", "state must be AWAITING_AUTHORIZATION or SUBMITTED")
	}
	return f.Store.ListBatchesByState(ctx, st, limit, cursor)
}

// pageLimit applies the contract's limit: 0 is the default, else 1 to MaxLimit.
func pageLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultLimit, nil
	case limit < 1 || limit > MaxLimit:
		return 0, domain.Invalid("limit", "invalid_limit", "limit must be between 1 and 1000")
	}
	return limit, nil
}
