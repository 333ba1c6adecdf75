package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// MaxRenewalBatch bounds the mailboxes one renewal batch takes; with expiringBefore, the rest
// wait for the next batch.
const MaxRenewalBatch = 10_000

// abandonedAfter: a renewal batch still without mailboxes this long after its creation was cut
// off while gathering them; its marks no longer keep mailboxes from another batch.
const abandonedAfter = 10 * time.Minute

// renewalWorkers mark mailboxes in parallel, so that 10^4 of them fit in one API request.
const renewalWorkers = 16

// RenewalStore is what renewals need from persistence.
type RenewalStore interface {
	OrderReader
	MailboxUpdater
	BatchReader
	GetMailbox(ctx context.Context, id string) (*domain.Mailbox, error)
	UpdateBatch(ctx context.Context, id string, audit Audit, change func(*domain.Batch, *BatchPark) (bool, error)) (*domain.Batch, BatchPark, bool, error)
	// RenewalCandidates hands each of the Order's ATTIVATA mailboxes expiring before the date
	// (YYYY-MM-DD) to each, with the renewal batch it is marked with, if any.
	RenewalCandidates(ctx context.Context, orderID, before string, each func(mailboxID, renewalBatchID string) error) error
	// AddToRenewal lets change decide whether the mailbox joins renewal batch batchID and, if so,
	// writes the mailbox (under its optimistic lock) and the batch's line for it together.
	AddToRenewal(ctx context.Context, batchID, mailboxID string, change func(*domain.Mailbox) (bool, error)) (bool, error)
	// RenewalMailboxIDs pages through the mailboxes of a renewal batch.
	RenewalMailboxIDs(ctx context.Context, batchID string, limit int, cursor string) (ids []string, next string, err error)
	// PutRenewalBatch stores a new renewal batch.
	PutRenewalBatch(ctx context.Context, b *domain.Batch) error
}

// Renewals extend active mailboxes' validity: the Order gathers them into a renewal batch,
// authorises and pays it as an issuance batch (Batches), and each mailbox is then renewed at
// the provider and extended.
type Renewals struct {
	Store     RenewalStore
	Workflow  Workflow
	Provider  Provider
	Log       *slog.Logger
	Now       func() time.Time
	NewID     func() string
	StartPage int // mailboxes renewed per RenewMailboxes call
}

func (s *Renewals) now() time.Time { return utcNow(s.Now) }

var errEnough = errors.New("enough candidates")

// CreateRenewal gathers the Order's ATTIVATA mailboxes of the selection that are not already in
// an open renewal batch into a renewal batch, and asks the Order, by PEC, to authorise and pay
// (through the batch workflow, as for issuance).
//
// The batch is stored first, without mailboxes; each mailbox then joins it in a transaction
// that marks the mailbox and writes the batch's line for it; the count and amount follow. Two
// requests at once cannot take the same mailbox, and a request cut off halfway leaves a batch
// of no mailboxes whose marks lapse after abandonedAfter.
func (s *Renewals) CreateRenewal(ctx context.Context, c Caller, orderID string, sel domain.RenewalSelection) (*domain.Batch, error) {
	if err := orderAccess(ctx, s.Store, c, orderID); err != nil {
		return nil, err
	}
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	order, err := s.Store.GetOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	// The candidates, read first so that a selection with none creates nothing; each is decided
	// again when it joins.
	open := s.openRenewals(ctx)
	var ids []string
	if sel.ExpiringBefore != "" {
		err = s.Store.RenewalCandidates(ctx, orderID, sel.ExpiringBefore, func(id, marked string) error {
			if marked != "" {
				if taken, err := open(marked); err != nil || taken {
					return err
				}
			}
			ids = append(ids, id)
			if len(ids) == MaxRenewalBatch {
				return errEnough
			}
			return nil
		})
		if err != nil && !errors.Is(err, errEnough) {
			return nil, err
		}
	} else if ids, err = s.renewable(ctx, orderID, sel.MailboxIDs, open); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, domain.ErrNothingToRenew
	}

	now := s.now()
	b := &domain.Batch{ID: s.NewID(), OrderID: orderID, Kind: domain.BatchRenewal,
		State: domain.BatchAwaitingAuthorization, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.PutRenewalBatch(ctx, b); err != nil {
		return nil, err
	}
	var joined atomic.Int64
	err = forEach(ctx, ids, renewalWorkers, func(ctx context.Context, id string) error {
		added, err := s.Store.AddToRenewal(ctx, b.ID, id, func(m *domain.Mailbox) (bool, error) {
			if m.OrderID != orderID {
				return false, nil
			}
			inOpen := false
			if m.RenewalBatchID != "" && m.RenewalBatchID != b.ID {
				var err error
				if inOpen, err = open(m.RenewalBatchID); err != nil {
					return false, err
				}
			}
			return m.JoinRenewal(b.ID, inOpen), nil
		})
		if added {
			joined.Add(1)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	n := int(joined.Load())
	if n == 0 {
		return nil, domain.ErrNothingToRenew // the empty batch stays, lists as of no mailboxes, and is never started
	}
	b, _, _, err = s.Store.UpdateBatch(ctx, b.ID, Audit{c.Actor(), "batch.renewal_gathered"}, func(b *domain.Batch, _ *BatchPark) (bool, error) {
		b.MailboxCount, b.AmountCents = n, domain.Amount(n, order.Convention)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.Workflow.StartBatch(ctx, b.ID); err != nil {
		s.Log.ErrorContext(ctx, "start renewal batch workflow", "batchId", b.ID, "error", err)
	}
	return b, nil
}

// renewable returns the ids that name ATTIVATA mailboxes of the Order free to renew. An id of
// no mailbox, or of another Order's, is an error (the same, so as not to tell them apart).
func (s *Renewals) renewable(ctx context.Context, orderID string, ids []string, open func(string) (bool, error)) ([]string, error) {
	var mu sync.Mutex
	var out []string
	err := forEach(ctx, ids, renewalWorkers, func(ctx context.Context, id string) error {
		mb, err := s.Store.GetMailbox(ctx, id)
		if errors.Is(err, domain.ErrNotFound) || (err == nil && mb.OrderID != orderID) {
			return domain.ErrUnknownMailbox
		}
		if err != nil {
			return err
		}
		taken := false
		if mb.RenewalBatchID != "" {
			if taken, err = open(mb.RenewalBatchID); err != nil {
				return err
			}
		}
		if mb.State == domain.StateAttivata && mb.ExpiresOn != "" && !taken {
			mu.Lock()
			out = append(out, id)
			mu.Unlock()
		}
		return nil
	})
	return out, err
}

// openRenewals reports, with a cache for the request, whether a renewal batch still holds the
// mailboxes marked with it: it exists and has not been abandoned while gathering.
func (s *Renewals) openRenewals(ctx context.Context) func(id string) (bool, error) {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(id string) (bool, error) {
		mu.Lock()
		open, ok := seen[id]
		mu.Unlock()
		if ok {
			return open, nil
		}
		b, _, err := s.Store.GetBatch(ctx, id)
		switch {
		case errors.Is(err, domain.ErrBatchNotFound):
			open = false
		case err != nil:
			return false, err
		default:
			open = b.MailboxCount > 0 || s.now().Sub(b.CreatedAt) < abandonedAfter
		}
		mu.Lock()
		seen[id] = open
		mu.Unlock()
		return open, nil
	}
}

// RenewMailboxes renews one page of a submitted renewal batch's mailboxes and returns where to
// go on from; the batch workflow calls it until done, as it starts an issuance batch's
// mailboxes.
func (s *Renewals) RenewMailboxes(ctx context.Context, b *domain.Batch, cursor string) (next string, err error) {
	if !b.Submitted() {
		return "", errors.New("renewal batch " + b.ID + " is not confirmed and paid")
	}
	if b.MailboxCount == 0 {
		return "", nil
	}
	order, err := s.Store.GetOrder(ctx, b.OrderID)
	if err != nil {
		return "", err
	}
	ids, next, err := s.Store.RenewalMailboxIDs(ctx, b.ID, max(s.StartPage, 1), cursor)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		if _, err := s.renewOne(ctx, b, order.Convention.Validity(), id); err != nil {
			return "", err
		}
	}
	return next, nil
}

// renewOne tells the provider and then extends the mailbox, once: the provider's renewal is
// idempotent on the batch and mailbox, and the extension is a conditional write that takes the
// mailbox out of the batch, so a repeated or retried step extends nothing twice. A mailbox
// revoked while in the batch is not renewed (and the provider is not told).
func (s *Renewals) renewOne(ctx context.Context, b *domain.Batch, years int, id string) (bool, error) {
	mb, err := s.Store.GetMailbox(ctx, id)
	if err != nil {
		return false, err
	}
	if mb.State != domain.StateAttivata || mb.RenewalBatchID != b.ID {
		return false, nil
	}
	until, err := mb.RenewedUntil(years)
	if err != nil {
		return false, err
	}
	err = s.Provider.Renew(ctx, RenewRequest{RequestID: mb.ID, ProviderRef: mb.ProviderRef, RenewalID: b.ID, Address: mb.Address, ValidUntil: domain.FormatDate(until)})
	if errors.Is(err, ErrProviderRefused) {
		// Not retried: the mailbox stays in the batch for operators, and expires if nobody acts.
		s.Log.ErrorContext(ctx, "the provider refused a renewal", "batchId", b.ID, "mailboxId", id, "error", err)
		return false, nil
	}
	if err != nil {
		return false, err // ProviderUnavailable: the state machine retries the page
	}
	actor := b.ConfirmedBy
	if actor == "" {
		actor = "system"
	}
	_, changed, err := s.Store.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
		return m.ApplyRenewal(b.ID, years, s.now(), actor), nil
	})
	return changed, err
}

// forEach runs fn for every id with n workers and returns the first error; the others stop
// taking ids once one fails.
func forEach(ctx context.Context, ids []string, n int, fn func(context.Context, string) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(n, len(ids)) {
		wg.Go(func() {
			for id := range work {
				if err := fn(ctx, id); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}
