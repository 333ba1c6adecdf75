package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// BatchPark is the batch workflow's parked step: its task token, and how many authorisation
// requests the Order has been sent.
type BatchPark struct {
	Token    string
	Requests int
}

// BatchStore is what the batches need from persistence.
type BatchStore interface {
	OrderReader
	ListOrders(ctx context.Context) ([]*domain.Order, error)
	// CountOpen counts the Order's RICHIESTA mailboxes enrolled under batch sequence seq.
	CountOpen(ctx context.Context, orderID string, seq int) (int, error)
	// OpenMailboxIDs pages through them.
	OpenMailboxIDs(ctx context.Context, orderID string, seq, limit int, cursor string) (ids []string, next string, err error)
	// CreateBatch closes the Order's batch sequence b.Seq (it must still be open) and stores b.
	CreateBatch(ctx context.Context, b *domain.Batch) error
	BatchReader
	// UpdateBatch reads the batch and its parked step, lets change decide, and writes both under
	// an optimistic lock, with an entry in the Order's audit trail.
	UpdateBatch(ctx context.Context, id string, audit Audit, change func(*domain.Batch, *BatchPark) (bool, error)) (*domain.Batch, BatchPark, bool, error)
	ListBatches(ctx context.Context, orderID string, limit int, cursor string) ([]*domain.Batch, string, error)
}

// BatchReader reads a batch and its parked workflow step.
type BatchReader interface {
	GetBatch(ctx context.Context, id string) (*domain.Batch, BatchPark, error)
}

// Batches gathers an Order's requested mailboxes into batches, asks the Order to authorise and
// pay each, and starts the mailboxes' lifecycles once it has (issue and renewal batches alike).
type Batches struct {
	Store     BatchStore
	Workflow  Workflow
	OrderMail Mailer    // the authorisation requests, by PEC (the functions that send none leave it nil)
	Renewals  *Renewals // applies a submitted renewal batch (nil where no renewal batch is started)
	Log       *slog.Logger
	Now       func() time.Time
	NewID     func() string
	// StartPage is how many mailbox executions one StartMailboxes call starts.
	StartPage int
	// RepairAfter is how long a submitted batch may take to start its mailboxes before the
	// scheduled run starts them.
	RepairAfter time.Duration
}

var errNotYourBatch = domain.ErrBatchNotFound

func (s *Batches) now() time.Time { return utcNow(s.Now) }

func (s *Batches) batchFor(ctx context.Context, c Caller, id string) (*domain.Batch, BatchPark, error) {
	b, park, err := s.Store.GetBatch(ctx, id)
	if err != nil {
		return nil, park, err
	}
	if !c.CanAccessOrder(b.OrderID) {
		return nil, park, errNotYourBatch
	}
	return b, park, nil
}

// CreateBatch gathers the Order's RICHIESTA mailboxes not yet in a batch and asks the Order,
// by PEC, to authorise and pay (through the batch workflow).
func (s *Batches) CreateBatch(ctx context.Context, c Caller, orderID string) (*domain.Batch, error) {
	if err := domain.ValidateOrderID(orderID); err != nil {
		return nil, err
	}
	if !c.CanAccessOrder(orderID) {
		return nil, domain.ErrForbidden
	}
	for attempt := 0; ; attempt++ {
		order, err := s.Store.GetOrder(ctx, orderID)
		if err != nil {
			return nil, err
		}
		n, err := s.Store.CountOpen(ctx, orderID, order.BatchSeq)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, domain.ErrNothingToAuthorize
		}
		now := s.now()
		b := &domain.Batch{ID: s.NewID(), OrderID: orderID, Seq: order.BatchSeq, MailboxCount: n,
			AmountCents: domain.Amount(n, order.Convention), State: domain.BatchAwaitingAuthorization, CreatedAt: now, UpdatedAt: now}
		err = s.Store.CreateBatch(ctx, b)
		if errors.Is(err, domain.ErrConcurrentUpdate) && attempt < 3 {
			continue // another batch closed the sequence first
		}
		if err != nil {
			return nil, err
		}
		// Enrolments that raced the close joined this sequence: count again, now exactly.
		if exact, err := s.Store.CountOpen(ctx, orderID, b.Seq); err == nil && exact != n {
			b, _, _, err = s.Store.UpdateBatch(ctx, b.ID, Audit{"system", "batch.recounted"}, func(b *domain.Batch, _ *BatchPark) (bool, error) {
				b.MailboxCount, b.AmountCents = exact, domain.Amount(exact, order.Convention)
				return true, nil
			})
			if err != nil {
				return nil, err
			}
		}
		if err := s.Workflow.StartBatch(ctx, b.ID); err != nil {
			// The scheduled batching run starts it again; the batch is not lost.
			s.Log.ErrorContext(ctx, "start batch workflow", "batchId", b.ID, "error", err)
		}
		return b, nil
	}
}

// GetBatch returns a batch to the federation or its Order.
func (s *Batches) GetBatch(ctx context.Context, c Caller, id string) (*domain.Batch, error) {
	b, _, err := s.batchFor(ctx, c, id)
	return b, err
}

// ListBatches lists an Order's batches, newest first.
func (s *Batches) ListBatches(ctx context.Context, c Caller, orderID string, limit int, cursor string) ([]*domain.Batch, string, error) {
	if err := orderAccess(ctx, s.Store, c, orderID); err != nil {
		return nil, "", err
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return nil, "", domain.Invalid("limit", "invalid_limit", "limit must be between 1 and 1000")
	}
	return s.Store.ListBatches(ctx, orderID, limit, cursor)
}

// ConfirmBatch records the Order's authorisation; only the Order's own staff may give it.
func (s *Batches) ConfirmBatch(ctx context.Context, c Caller, id string) (*domain.Batch, error) {
	if _, _, err := s.batchFor(ctx, c, id); err != nil {
		return nil, err
	}
	if c.Role != RoleOrder {
		return nil, &domain.Error{Kind: domain.KindForbidden, Code: "order_staff_only", Message: "only the Order's own staff can authorise its batch"}
	}
	return s.advance(ctx, id, Audit{c.Actor(), "batch.confirmed"}, func(b *domain.Batch) (bool, error) { return b.Confirm(s.now(), c.Actor()), nil })
}

// PayBatch records the payment of a batch.
func (s *Batches) PayBatch(ctx context.Context, c Caller, id, reference string, amountCents int) (*domain.Batch, error) {
	if _, _, err := s.batchFor(ctx, c, id); err != nil {
		return nil, err
	}
	return s.advance(ctx, id, Audit{c.Actor(), "batch.paid"}, func(b *domain.Batch) (bool, error) { return b.Pay(reference, amountCents, s.now()) })
}

// advance applies change and, once the batch is submitted, resumes its parked workflow.
// If the workflow has not parked yet, AwaitAuthorization will find the batch submitted.
func (s *Batches) advance(ctx context.Context, id string, audit Audit, change func(*domain.Batch) (bool, error)) (*domain.Batch, error) {
	var token string
	b, _, _, err := s.Store.UpdateBatch(ctx, id, audit, func(b *domain.Batch, p *BatchPark) (bool, error) {
		token = ""
		changed, err := change(b)
		if err != nil || !changed {
			return false, err
		}
		if b.Submitted() && p.Token != "" {
			token, p.Token = p.Token, ""
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if token != "" {
		if err := s.Workflow.Resume(ctx, token); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// AwaitAuthorization is the batch workflow's parked step: it keeps the task token with the
// batch and sends the Order the authorisation request (or a reminder), unless the batch is
// already confirmed and paid, in which case it resumes at once.
func (s *Batches) AwaitAuthorization(ctx context.Context, batchID, token string) error {
	var reminder int
	b, _, _, err := s.Store.UpdateBatch(ctx, batchID, Audit{}, func(b *domain.Batch, p *BatchPark) (bool, error) {
		if b.Submitted() {
			return false, nil
		}
		p.Token = token
		reminder = p.Requests
		p.Requests++
		return true, nil
	})
	if err != nil {
		return err
	}
	if b.Submitted() {
		return s.Workflow.Resume(ctx, token)
	}
	order, err := s.Store.GetOrder(ctx, b.OrderID)
	if err != nil {
		return err
	}
	m, err := notice.AuthorizationRequest(notice.AuthorizationData{
		OrderName: order.Name, BatchID: b.ID, MailboxCount: b.MailboxCount, AmountCents: b.AmountCents,
		PriceCents: order.Convention.PriceCents, VATPercent: order.Convention.VATPercent, Reminder: reminder,
		Renewal: b.IsRenewal(),
	})
	if err != nil {
		return err
	}
	if _, err = s.OrderMail.Send(ctx, order.PEC, m); err != nil {
		// Give the count back, so that the state machine's retry sends this request again
		// rather than a reminder of one the Order never received.
		_, _, _, uerr := s.Store.UpdateBatch(ctx, batchID, Audit{}, func(_ *domain.Batch, p *BatchPark) (bool, error) {
			if p.Token != token || p.Requests != reminder+1 {
				return false, nil
			}
			p.Requests = reminder
			return true, nil
		})
		return errors.Join(err, uerr)
	}
	return nil
}

// StartMailboxes starts the lifecycle of one page of a submitted batch's mailboxes and returns
// where to go on from; the state machine calls it until done, pacing the calls, so a batch of
// 10^5 mailboxes stays within Step Functions' start limits and resumes where it was cut off.
// A renewal batch's page is renewed instead (Renewals.RenewMailboxes).
func (s *Batches) StartMailboxes(ctx context.Context, batchID, cursor string) (next string, err error) {
	b, _, err := s.Store.GetBatch(ctx, batchID)
	if err != nil {
		return "", err
	}
	if b.IsRenewal() {
		if s.Renewals == nil {
			return "", errors.New("renewal batch " + b.ID + ": no renewals configured")
		}
		return s.Renewals.RenewMailboxes(ctx, b, cursor)
	}
	ids, next, err := s.Store.OpenMailboxIDs(ctx, b.OrderID, b.Seq, max(s.StartPage, 1), cursor)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		if err := s.Workflow.StartMailbox(ctx, id, b.ID); err != nil {
			return "", err
		}
	}
	return next, nil
}

// RunBatching is the scheduled batching: for every Order in the convention it gathers the new
// RICHIESTA mailboxes into a batch, as POST /v1/orders/{id}/batches would. It also repairs,
// for batches untouched for RepairAfter: a batch confirmed and paid whose mailboxes have not
// all started (its workflow ended first, say because the Order paid after every reminder) is
// started from here, and a batch that never asked the Order (its workflow failed to start)
// gets its workflow started.
func (s *Batches) RunBatching(ctx context.Context) (created, repaired int, err error) {
	orders, err := s.Store.ListOrders(ctx)
	if err != nil {
		return 0, 0, err
	}
	var errs []error
	for _, o := range orders {
		n, err := s.repair(ctx, o.ID)
		repaired += n
		if err != nil {
			errs = append(errs, err)
		}
		if !o.Convention.WebPEC {
			continue
		}
		_, err = s.CreateBatch(ctx, Caller{Role: RoleFederation}, o.ID)
		switch {
		case errors.Is(err, domain.ErrNothingToAuthorize):
		case err != nil:
			errs = append(errs, err)
		default:
			created++
		}
	}
	return created, repaired, errors.Join(errs...)
}

// restartUnasked starts again the workflow of a batch that never asked the Order (its start
// failed when the batch was created): starting is idempotent on the batch, so a workflow that
// exists is left as it is.
func (s *Batches) restartUnasked(ctx context.Context, b *domain.Batch) (int, error) {
	if b.MailboxCount == 0 {
		return 0, nil // a renewal batch that gathered nothing is never started
	}
	_, park, err := s.Store.GetBatch(ctx, b.ID)
	if err != nil || park.Token != "" || park.Requests > 0 {
		return 0, err
	}
	s.Log.WarnContext(ctx, "starting the workflow of a batch that never asked the Order", "batchId", b.ID)
	if err := s.Workflow.StartBatch(ctx, b.ID); err != nil {
		return 0, err
	}
	return 1, nil
}

// repair looks at the Order's recent batches (a batch is repaired long before twenty newer
// ones exist).
func (s *Batches) repair(ctx context.Context, orderID string) (int, error) {
	batches, _, err := s.Store.ListBatches(ctx, orderID, 20, "")
	if err != nil {
		return 0, err
	}
	repaired := 0
	for _, b := range batches {
		if s.now().Sub(b.UpdatedAt) < s.RepairAfter {
			continue
		}
		if !b.Submitted() {
			n, err := s.restartUnasked(ctx, b)
			repaired += n
			if err != nil {
				return repaired, err
			}
			continue
		}
		// A renewal batch is repaired mailbox by mailbox, by the expiry run (see Expiry).
		if b.IsRenewal() {
			continue
		}
		open, err := s.Store.CountOpen(ctx, orderID, b.Seq)
		if err != nil || open == 0 {
			if err != nil {
				return repaired, err
			}
			continue
		}
		s.Log.WarnContext(ctx, "starting the mailboxes of a submitted batch", "batchId", b.ID, "open", open)
		for cursor := ""; ; {
			if cursor, err = s.StartMailboxes(ctx, b.ID, cursor); err != nil {
				return repaired, err
			}
			if cursor == "" {
				break
			}
		}
		repaired++
	}
	return repaired, nil
}
