package app

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// Storage thresholds, in per cent: a full PEC counts as a missing domicilio digitale (CNDCEC,
// Pronto Ordini 63/2025), so the member is warned first and the Order told when it is full.
const (
	QuotaWarnAt = 90
	QuotaFullAt = 100
)

// QuotaStore is what the quota watch needs from persistence.
type QuotaStore interface {
	MailboxRecords
	ListOrders(ctx context.Context) ([]*domain.Order, error)
	ListMailboxes(ctx context.Context, q MailboxQuery) (items []*domain.Mailbox, next string, err error)
}

// QuotaWatch asks the provider, where it tells them, how full the active mailboxes are: the
// member is e-mailed when theirs crosses 90%, the Order told by PEC of its mailboxes that
// reached 100%, each at most once per crossing (under 90% the mailbox may be warned again).
type QuotaWatch struct {
	Store      QuotaStore
	Status     ProviderStatusReader
	MemberMail Mailer // ordinary e-mail
	OrderMail  Mailer // PEC
	// Budget is the most questions one run asks the provider (5 000 when zero); the others wait
	// for the next run.
	Budget int
	// Fresh is how old a reading may be and still be trusted (6 days when zero): a mailbox read
	// more recently is not asked again, so runs over the budget move on to the others.
	Fresh   time.Duration
	Now     func() time.Time
	Log     *slog.Logger
	Metrics Metrics
}

// QuotaReport says what one run did.
type QuotaReport struct {
	Asked    int `json:"asked"`
	Warned   int `json:"warned"`   // members e-mailed at 90%
	Full     int `json:"full"`     // mailboxes the Orders were told of at 100%
	Orders   int `json:"orders"`   // Orders told
	Unknown  int `json:"unknown"`  // mailboxes whose storage the provider does not tell
	Fresh    int `json:"fresh"`    // read recently: not asked again
	Failed   int `json:"failed"`   // questions or notices that failed: asked again next run
	LeftOver int `json:"leftOver"` // past the budget: asked next run
}

// Run looks at every ATTIVATA mailbox of every Order.
func (q *QuotaWatch) Run(ctx context.Context) (QuotaReport, error) {
	var rep QuotaReport
	orders, err := q.Store.ListOrders(ctx)
	if err != nil {
		return rep, err
	}
	for _, o := range orders {
		if err := q.runOrder(ctx, o, &rep); err != nil {
			return rep, err
		}
	}
	q.Log.InfoContext(ctx, "quota watch", "asked", rep.Asked, "warned", rep.Warned, "full", rep.Full, "failed", rep.Failed, "leftOver", rep.LeftOver)
	return rep, nil
}

func (q *QuotaWatch) runOrder(ctx context.Context, o *domain.Order, rep *QuotaReport) error {
	var full []notice.QuotaData
	cursor := ""
	for {
		page, next, err := q.Store.ListMailboxes(ctx, MailboxQuery{OrderID: o.ID, State: string(domain.StateAttivata), Limit: 100, Cursor: cursor})
		if err != nil {
			return fmt.Errorf("active mailboxes of order %s: %w", o.ID, err)
		}
		for _, mb := range page {
			if !mb.Quota.At.IsZero() && utcNow(q.Now).Sub(mb.Quota.At) < cmp.Or(q.Fresh, 6*24*time.Hour) {
				rep.Fresh++
				continue
			}
			if rep.Asked >= cmp.Or(q.Budget, 5000) {
				rep.LeftOver++
				continue
			}
			rep.Asked++
			if d, ok := q.check(ctx, o, mb, rep); ok {
				full = append(full, d)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(full) == 0 {
		return nil
	}
	msg, err := notice.QuotaFullNotice(o.Name, full)
	if err == nil {
		_, err = q.OrderMail.Send(ctx, o.PEC, msg)
	}
	if err != nil {
		rep.Failed++
		q.Log.ErrorContext(ctx, "quota watch: the Order could not be told of its full mailboxes", "orderId", o.ID, "mailboxes", len(full), "error", err)
		return nil
	}
	rep.Orders++
	rep.Full += len(full)
	count(ctx, q.Metrics, MetricQuotaFull, len(full), Dimension{})
	return nil
}

// check reads one mailbox's storage, records it and the threshold crossed, then warns the
// member; it reports the mailbox when it has just become full. The threshold is written before
// the notice is sent, under the mailbox's lock: two runs never both send it, and a run that
// dies in between loses that one notice rather than sending it twice.
func (q *QuotaWatch) check(ctx context.Context, o *domain.Order, mb *domain.Mailbox, rep *QuotaReport) (notice.QuotaData, bool) {
	st, err := q.Status.Status(ctx, ProviderMailbox{RequestID: mb.ID, Address: mb.Address, ProviderRef: mb.ProviderRef})
	if err != nil {
		rep.Failed++
		q.Log.WarnContext(ctx, "quota watch: the provider did not answer", "mailboxId", mb.ID, "error", err)
		return notice.QuotaData{}, false
	}
	if st.Quota == nil {
		rep.Unknown++
		return notice.QuotaData{}, false
	}
	pct := st.Quota.Percent()
	var warn, becameFull bool
	mb, _, err = q.Store.UpdateMailbox(ctx, mb.ID, func(m *domain.Mailbox) (bool, error) {
		warn, becameFull = false, false
		m.Quota = domain.MailboxQuota{UsedBytes: st.Quota.UsedBytes, LimitBytes: st.Quota.LimitBytes, At: utcNow(q.Now)}
		switch {
		case pct < QuotaWarnAt:
			m.QuotaAlert = 0 // a later crossing warns again
		case pct >= QuotaFullAt && m.QuotaAlert < QuotaFullAt:
			warn, becameFull = m.QuotaAlert < QuotaWarnAt, true
			m.QuotaAlert = QuotaFullAt
		case m.QuotaAlert < QuotaWarnAt:
			warn = true
			m.QuotaAlert = QuotaWarnAt
		}
		return true, nil
	})
	if err != nil {
		rep.Failed++
		q.Log.WarnContext(ctx, "quota watch: cannot record the reading", "mailboxId", mb.ID, "error", err)
		return notice.QuotaData{}, false
	}
	if !warn && !becameFull {
		return notice.QuotaData{}, false
	}
	member, err := memberOf(ctx, q.Store, mb)
	if err != nil {
		rep.Failed++
		return notice.QuotaData{}, false
	}
	d := notice.QuotaData{Nome: member.Nome, Cognome: member.Cognome, NumeroIscrizione: member.NumeroIscrizione,
		Address: mb.Address, Percent: pct, OrderName: o.Name, OrderPEC: o.PEC}
	if warn {
		msg, err := notice.QuotaWarning(d)
		if err == nil {
			msg.OrderID, msg.MemberKey, msg.MailboxID = member.OrderID, member.Key(), mb.ID
			_, err = q.MemberMail.Send(ctx, member.Email, msg)
		}
		if err != nil {
			rep.Failed++
			q.Log.WarnContext(ctx, "quota watch: the member could not be warned", "mailboxId", mb.ID, "error", err)
		} else {
			rep.Warned++
			count(ctx, q.Metrics, MetricQuotaWarnings, 1, Dimension{})
		}
	}
	return d, becameFull
}
