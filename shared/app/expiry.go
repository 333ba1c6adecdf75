package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// ExpiryStore is what the expiry run needs from persistence.
type ExpiryStore interface {
	MailboxRecords
	BatchReader
	ListOrders(ctx context.Context) ([]*domain.Order, error)
	// DueMailboxIDs pages through the Order's ATTIVATA mailboxes the expiry run must look at on
	// or before the day today (YYYY-MM-DD), and only those.
	DueMailboxIDs(ctx context.Context, orderID, today string, limit int, cursor string) (ids []string, next string, err error)
}

// Expiry is the daily expiry run: reminders to members before their mailbox expires, and the
// revocation of mailboxes past their expiry that were not renewed.
type Expiry struct {
	Store       ExpiryStore
	Renewals    *Renewals    // applies a paid renewal the batch workflow has not applied yet
	Revocations *Revocations // revokes what expired
	MemberMail  Mailer       // the reminders
	Log         *slog.Logger
	// ReminderDays are the reminder thresholds, days before expiry, largest first
	// (domain.ParseReminderDays).
	ReminderDays []int
	Page         int // mailboxes read per query; 100 when zero
	Workers      int // mailboxes handled at once; 4 when zero
}

// ExpiryResult is what a run did.
type ExpiryResult struct {
	Day      string `json:"day"`
	Reminded int    `json:"reminded"`
	Revoked  int    `json:"revoked"`
	Renewed  int    `json:"renewed"`
	Failed   int    `json:"failed"`
	// Requests counts the unpaid self-service requests told or abandoned by the same run.
	Requests *AbandonResult `json:"requests,omitempty"`
	// Reinstated counts the members whose suspension's stated end had passed.
	Reinstated int `json:"reinstated"`
}

// Run handles every mailbox due on or before today (a date, as domain.Today gives it), Order by
// Order, page by page. Each mailbox's step is one conditional write that moves the mailbox out
// of what is due, so a run that repeats does nothing twice and a run cut off halfway is
// completed by the next. A mailbox that fails is logged, counted and left for the next run.
func (e *Expiry) Run(ctx context.Context, today time.Time) (*ExpiryResult, error) {
	res := &ExpiryResult{Day: domain.FormatDate(today)}
	orders, err := e.Store.ListOrders(ctx)
	if err != nil {
		return res, err
	}
	var mu sync.Mutex
	count := func(n *int) { mu.Lock(); *n++; mu.Unlock() }
	for _, o := range orders {
		for cursor := ""; ; {
			ids, next, err := e.Store.DueMailboxIDs(ctx, o.ID, res.Day, positiveOr(e.Page, 100), cursor)
			if err != nil {
				return res, err
			}
			err = forEach(ctx, ids, positiveOr(e.Workers, 4), func(ctx context.Context, id string) error {
				what, err := e.one(ctx, o, id, today)
				switch {
				case err != nil:
					e.Log.ErrorContext(ctx, "expiry step failed", "mailboxId", id, "error", err)
					count(&res.Failed)
				case what == "reminded":
					count(&res.Reminded)
				case what == "revoked":
					count(&res.Revoked)
				case what == "renewed":
					count(&res.Renewed)
				}
				return ctx.Err()
			})
			if err != nil {
				return res, err
			}
			if cursor = next; cursor == "" {
				break
			}
		}
	}
	e.Log.InfoContext(ctx, "expiry run", "day", res.Day, "reminded", res.Reminded, "revoked", res.Revoked, "renewed", res.Renewed, "failed", res.Failed)
	if res.Failed > 0 {
		return res, errors.New("some mailboxes failed their expiry step; the next run takes them again")
	}
	return res, nil
}

// positiveOr is v, or def when v is not positive.
func positiveOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// one takes one due mailbox a step: a renewal that was paid but not yet applied is applied; a
// mailbox past its expiry is revoked (reason "expired") through the revoke path, which tells the
// provider and, in the same write, INI-PEC; a due reminder is recorded under the mailbox's lock
// and then sent.
func (e *Expiry) one(ctx context.Context, o *domain.Order, id string, today time.Time) (string, error) {
	mb, err := e.Store.GetMailbox(ctx, id)
	if err != nil {
		return "", err
	}
	if mb.RenewalBatchID != "" {
		b, _, err := e.Store.GetBatch(ctx, mb.RenewalBatchID)
		if err != nil && !errors.Is(err, domain.ErrBatchNotFound) {
			return "", err
		}
		if err == nil && b.IsRenewal() && b.Submitted() {
			if renewed, err := e.Renewals.renewOne(ctx, b, o.Convention.Validity(), id); err != nil || renewed {
				return "renewed", err
			}
		}
	}
	var action domain.ExpiryAction
	var days, before int
	mb, changed, err := e.Store.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
		due, last := m.ExpiryDueOn, m.LastReminder
		before = last
		action, days = m.ExpiryStep(today, e.ReminderDays)
		return m.ExpiryDueOn != due || m.LastReminder != last, nil
	})
	if err != nil {
		return "", err
	}
	switch {
	case action == domain.ExpiryRevoke:
		_, err := e.Revocations.RevokeIf(ctx, id, "system", "expired", func(m *domain.Mailbox) bool {
			a, _ := m.ExpiryStep(today, e.ReminderDays)
			return a == domain.ExpiryRevoke
		})
		return "revoked", err
	case action == domain.ExpiryRemind && changed:
		if err := e.remind(ctx, o, mb, today); err != nil {
			// Give the threshold back, so the next run sends it; a run cut off right here
			// loses this one reminder rather than ever sending it twice.
			_, _, uerr := e.Store.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
				if m.LastReminder != days || m.ExpiresOn != mb.ExpiresOn {
					return false, nil
				}
				m.LastReminder, m.ExpiryDueOn = before, domain.FormatDate(today)
				return true, nil
			})
			return "", errors.Join(err, uerr)
		}
		return "reminded", nil
	}
	return "", nil
}

func (e *Expiry) remind(ctx context.Context, o *domain.Order, mb *domain.Mailbox, today time.Time) error {
	member, err := memberOf(ctx, e.Store, mb)
	if err != nil {
		return err
	}
	exp, err := domain.ParseDate(mb.ExpiresOn)
	if err != nil {
		return err
	}
	m, err := notice.ExpiryReminder(notice.ExpiryData{Nome: member.Nome, Cognome: member.Cognome, Address: mb.Address,
		OrderName: o.Name, OrderPEC: o.PEC, ExpiresOn: exp, DaysLeft: int(exp.Sub(today).Hours() / 24)})
	if err != nil {
		return err
	}
	m.OrderID, m.MemberKey, m.MailboxID = member.OrderID, member.Key(), mb.ID
	_, err = e.MemberMail.Send(ctx, member.Email, m)
	return err
}
