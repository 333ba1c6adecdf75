package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// AbandonedStore is what the expiry of unpaid requests needs from persistence.
type AbandonedStore interface {
	OrderReader
	// UnpaidRequests pages through the ids of the unpaid requests created at or before the time,
	// oldest first.
	UnpaidRequests(ctx context.Context, createdBefore time.Time, limit int, cursor string) ([]string, string, error)
	GetRequest(ctx context.Context, id string) (*domain.Request, error)
	UpdateRequest(ctx context.Context, id string, audit Audit, change func(*domain.Request) (bool, error)) (*domain.Request, error)
}

// DefaultAbandonAfter is how long a request may stay unpaid unless configured; the member is
// told NoticeBefore that.
const (
	DefaultAbandonAfter = 30 * 24 * time.Hour
	AbandonNoticeBefore = 7 * 24 * time.Hour
)

// AbandonedRequests expire the self-service requests left unpaid: a week before, the member is
// told once; at the end, the request is abandoned and its provisional mailbox revoked (reason
// abandoned), so that the address it held is the member's no longer.
type AbandonedRequests struct {
	Store       AbandonedStore
	Revocations *Revocations
	MemberMail  Mailer
	After       time.Duration // DefaultAbandonAfter when zero
	Log         *slog.Logger
	Now         func() time.Time
	Page        int // ids read at a time; 100 when zero
}

// AbandonResult counts a run.
type AbandonResult struct {
	Notified  int `json:"notified"`
	Abandoned int `json:"abandoned"`
	Failed    int `json:"failed"`
}

// Run tells and expires what is due now. A request failing is counted and left for the next
// run; the others go on.
func (a *AbandonedRequests) Run(ctx context.Context) (AbandonResult, error) {
	var res AbandonResult
	after := a.After
	if after <= 0 {
		after = DefaultAbandonAfter
	}
	now := utcNow(a.Now)
	page := a.Page
	if page <= 0 {
		page = 100
	}
	var errs []error
	for cursor := ""; ; {
		ids, next, err := a.Store.UnpaidRequests(ctx, now.Add(-(after - AbandonNoticeBefore)), page, cursor)
		if err != nil {
			return res, err
		}
		for _, id := range ids {
			if err := a.one(ctx, id, now, after, &res); err != nil {
				res.Failed++
				errs = append(errs, err)
				a.Log.ErrorContext(ctx, "unpaid request not expired", "request", id, "error", err)
			}
		}
		if next == "" {
			return res, errors.Join(errs...)
		}
		cursor = next
	}
}

func (a *AbandonedRequests) one(ctx context.Context, id string, now time.Time, after time.Duration, res *AbandonResult) error {
	r, err := a.Store.GetRequest(ctx, id)
	if err != nil || !r.Unpaid() {
		return err
	}
	expires := r.CreatedAt.Add(after)
	if !now.Before(expires) {
		r, err = a.Store.UpdateRequest(ctx, id, Audit{"system", "request.abandoned"}, func(r *domain.Request) (bool, error) {
			if !r.Unpaid() {
				return false, nil // paid meanwhile
			}
			r.AbandonedAt, r.UpdatedAt = now, now
			return true, nil
		})
		if err != nil || r.AbandonedAt.IsZero() {
			return err
		}
		if _, err := a.Revocations.RevokeIf(ctx, r.MailboxID, "system", "abandoned", func(mb *domain.Mailbox) bool {
			return mb.RequestID == r.ID && mb.State == domain.StateRichiesta
		}); err != nil {
			return err
		}
		res.Abandoned++
		return nil
	}
	if !r.ExpiryNotified.IsZero() {
		return nil
	}
	order, err := a.Store.GetOrder(ctx, r.OrderID)
	if err != nil {
		return err
	}
	msg, err := notice.RequestExpiring(notice.RequestExpiringData{Address: r.Address, OrderName: order.Name,
		ExpiresOn: expires, AmountCents: r.AmountCents})
	if err != nil {
		return err
	}
	msg.OrderID, msg.MemberKey, msg.RequestID = r.OrderID, r.MemberKey, r.ID
	if _, err := a.MemberMail.Send(ctx, r.Email, msg); err != nil {
		return err
	}
	_, err = a.Store.UpdateRequest(ctx, id, Audit{}, func(r *domain.Request) (bool, error) {
		if !r.ExpiryNotified.IsZero() {
			return false, nil
		}
		r.ExpiryNotified = now
		return true, nil
	})
	if err == nil {
		res.Notified++
	}
	return err
}
