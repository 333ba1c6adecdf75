package app

import (
	"context"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// Lacking is a member without a domicilio digitale past the grace period (D.L. 76/2020 art.
// 37: the Order must warn them, then suspend them).
type Lacking struct {
	Member      *domain.Member
	Mailbox     *domain.Mailbox // the convention mailbox not yet ATTIVATA, if any
	DaysWithout int             // days since enrolment in the albo
}

// ComplianceStore is what the report needs.
type ComplianceStore interface {
	GetOrder(ctx context.Context, id string) (*domain.Order, error)
	// WithoutOwnPEC pages through the Order's members still in the albo, enrolled on or before
	// the date, who gave no PEC of their own.
	WithoutOwnPEC(ctx context.Context, orderID, enrolledBy string, limit int, cursor string) ([]*domain.Member, string, error)
	MailboxesByID(ctx context.Context, ids []string) (map[string]*domain.Mailbox, error)
}

// Compliance reports the members the Order must warn.
type Compliance struct {
	Store     ComplianceStore
	Now       func() time.Time
	GraceDays int // 30 by default
}

// Report returns one page (of at most limit; the edge bounds it) of the members without a domicilio digitale more than GraceDays
// after their enrolment in the albo.
func (c *Compliance) Report(ctx context.Context, caller Caller, orderID string, limit int, cursor string) ([]Lacking, string, error) {
	if err := domain.ValidateOrderID(orderID); err != nil {
		return nil, "", err
	}
	if !caller.CanAccessOrder(orderID) {
		return nil, "", domain.ErrForbidden
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 {
		return nil, "", domain.Invalid("limit", "invalid_limit", "limit must be between 1 and 1000")
	}
	if _, err := c.Store.GetOrder(ctx, orderID); err != nil {
		return nil, "", err
	}
	now := c.Now().UTC()
	enrolledBy := now.AddDate(0, 0, -c.GraceDays).Format(time.DateOnly)
	var out []Lacking
	for len(out) < limit {
		members, next, err := c.Store.WithoutOwnPEC(ctx, orderID, enrolledBy, limit-len(out), cursor)
		if err != nil {
			return nil, "", err
		}
		var ids []string
		for _, m := range members {
			if m.MailboxID != "" {
				ids = append(ids, m.MailboxID)
			}
		}
		mailboxes, err := c.Store.MailboxesByID(ctx, ids)
		if err != nil {
			return nil, "", err
		}
		for _, m := range members {
			mb := mailboxes[m.MailboxID]
			if mb != nil && mb.State == domain.StateAttivata {
				continue
			}
			d, _ := time.Parse(time.DateOnly, m.DataIscrizione)
			out = append(out, Lacking{Member: m, Mailbox: mb, DaysWithout: int(now.Sub(d).Hours() / 24)})
		}
		cursor = next
		if next == "" {
			break
		}
	}
	return out, cursor, nil
}
