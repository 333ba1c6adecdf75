package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// Outcomes of CheckProvider.
const (
	CheckPending   = "pending"    // the provider is still working on the mailbox
	CheckApplied   = "applied"    // the provider's outcome was applied (or had been already)
	CheckNotWaited = "not-waited" // the mailbox no longer waits on the provider: nothing asked
)

// CheckProvider asks the provider where a mailbox that waits on it stands, and applies an
// outcome exactly as a callback carrying it would (ProviderEvent): a provider that calls
// nobody back is polled with it, and a callback that proves nothing by itself (Legalmail's)
// only makes the platform ask. A mailbox that waits on nothing is not asked about.
func (p *Provisioning) CheckProvider(ctx context.Context, mailboxID string) (string, error) {
	if p.Status == nil {
		return "", errors.New("the provider cannot be asked about a mailbox (no status reader configured)")
	}
	mb, err := p.Store.GetMailbox(ctx, mailboxID)
	if err != nil {
		return "", err
	}
	if mb.State != domain.StateRichiestaInviata {
		return CheckNotWaited, nil
	}
	st, err := p.Status.Status(ctx, ProviderMailbox{RequestID: mb.ID, Address: mb.Address, ProviderRef: mb.ProviderRef})
	if err != nil {
		return "", err
	}
	if st.Outcome == "" {
		if st.DocumentsRefused && p.Signatures != nil {
			if err := p.Signatures.Ask(ctx, mb.ID, true); err != nil {
				return "", err
			}
		}
		return CheckPending, nil
	}
	// One event per mailbox and outcome: a repeated or late poll finds it seen.
	ev := ProviderEvent{EventID: "status:" + mb.ID + ":" + st.Outcome, Type: st.Outcome, Address: mb.Address,
		ProviderRef: st.ProviderRef, Reason: reasonOr(st.State, st.Reason)}
	if err := p.ProviderEvent(ctx, ev); err != nil {
		return "", err
	}
	return CheckApplied, nil
}

// PollStore is what polling the provider needs from persistence.
type PollStore interface {
	ListOrders(ctx context.Context) ([]*domain.Order, error)
	ListMailboxes(ctx context.Context, q MailboxQuery) (items []*domain.Mailbox, next string, err error)
	MailboxUpdater
}

// ProviderPolls asks a provider that calls nobody back (Aruba) about the mailboxes waiting on
// it, each less often the longer it waits, within a budget of questions per run.
type ProviderPolls struct {
	Store        PollStore
	Provisioning *Provisioning
	// Budget is the most questions one run asks (200 when zero); First is the wait before a
	// mailbox is first asked about and the backoff's unit (1 minute when zero), doubling up to
	// Max (1 hour when zero).
	Budget     int
	First, Max time.Duration
	// Concurrency is how many questions are in flight at once (8 when zero).
	Concurrency int
	Now         func() time.Time
	Log         *slog.Logger
}

// PollReport says what one run did.
type PollReport struct {
	Asked    int `json:"asked"`
	Applied  int `json:"applied"`
	Pending  int `json:"pending"`
	Failed   int `json:"failed"`
	NotDue   int `json:"notDue"`
	LeftOver int `json:"leftOver"` // due, but past the budget or the deadline: the next run asks
}

// Run asks about every mailbox that waits on the provider and is due, Concurrency at a time.
func (r *ProviderPolls) Run(ctx context.Context) (PollReport, error) {
	var rep PollReport
	budget := cmp.Or(r.Budget, 200)
	orders, err := r.Store.ListOrders(ctx)
	if err != nil {
		return rep, err
	}
	var due []*domain.Mailbox
	for _, o := range orders {
		cursor := ""
		for {
			page, next, err := r.Store.ListMailboxes(ctx, MailboxQuery{OrderID: o.ID, State: string(domain.StateRichiestaInviata), Limit: 100, Cursor: cursor})
			if err != nil {
				return rep, fmt.Errorf("mailboxes waiting on the provider in order %s: %w", o.ID, err)
			}
			for _, mb := range page {
				switch {
				case !r.due(mb):
					rep.NotDue++
				case len(due) >= budget:
					rep.LeftOver++
				default:
					due = append(due, mb)
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	var mu sync.Mutex
	work := make(chan *domain.Mailbox)
	var wg sync.WaitGroup
	for range cmp.Or(r.Concurrency, 8) {
		wg.Go(func() {
			for mb := range work {
				var one PollReport
				r.poll(ctx, mb, &one)
				mu.Lock()
				rep.Asked++
				rep.Applied += one.Applied
				rep.Pending += one.Pending
				rep.Failed += one.Failed
				mu.Unlock()
			}
		})
	}
	for _, mb := range due {
		if r.late(ctx) {
			mu.Lock()
			rep.LeftOver++
			mu.Unlock()
			continue
		}
		work <- mb
	}
	close(work)
	wg.Wait()
	return rep, nil
}

func (r *ProviderPolls) now() time.Time { return utcNow(r.Now) }

// due: a mailbox is first asked about First after it was submitted, then after each backoff.
func (r *ProviderPolls) due(mb *domain.Mailbox) bool {
	if !mb.Poll.NextAt.IsZero() {
		return !r.now().Before(mb.Poll.NextAt)
	}
	return !r.now().Before(mb.UpdatedAt.Add(cmp.Or(r.First, time.Minute)))
}

// late: less than 10 seconds left before the run's deadline.
func (r *ProviderPolls) late(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < 10*time.Second
}

func (r *ProviderPolls) poll(ctx context.Context, mb *domain.Mailbox, rep *PollReport) {
	out, err := r.Provisioning.CheckProvider(ctx, mb.ID)
	switch {
	case err != nil:
		rep.Failed++
		if r.Log != nil {
			r.Log.WarnContext(ctx, "provider poll failed", "mailboxId", mb.ID, "error", err)
		}
	case out == CheckApplied || out == CheckNotWaited:
		rep.Applied++
		return
	default:
		rep.Pending++
	}
	// Still waiting (or the provider did not answer): ask again after a longer wait.
	_, _, err = r.Store.UpdateMailbox(ctx, mb.ID, func(m *domain.Mailbox) (bool, error) {
		if m.State != domain.StateRichiestaInviata {
			return false, nil
		}
		m.Poll.Attempts++
		wait := cmp.Or(r.First, time.Minute) << min(m.Poll.Attempts, 16)
		m.Poll.NextAt = r.now().Add(min(wait, cmp.Or(r.Max, time.Hour)))
		return true, nil
	})
	if err != nil && r.Log != nil {
		r.Log.WarnContext(ctx, "provider poll: cannot record the next poll", "mailboxId", mb.ID, "error", err)
	}
}

// maxTakenAtProvider bounds how many addresses in a row may be found taken at the provider
// before the submission gives up: beyond it something is wrong with the check.
const maxTakenAtProvider = 20

// finalAddress makes sure the provider can still give the mailbox its address, as the address
// becomes final only when the provider creates it: someone outside the platform may hold it
// there. Such an address is never offered again, and the mailbox moves to the next homonym
// number free both here and at the provider.
func (p *Provisioning) finalAddress(ctx context.Context, mb *domain.Mailbox, member *domain.Member) (*domain.Mailbox, error) {
	holder := ProviderHolder{Nome: member.Nome, Cognome: member.Cognome, CodiceFiscale: member.CodiceFiscale.Value(), Email: member.Email}
	_, pecDomain, _ := strings.Cut(mb.Address, "@")
	n := 0
	for range maxTakenAtProvider {
		free, err := p.Addresses.AddressAvailable(ctx, mb.Address, holder)
		if err != nil || free {
			return mb, err
		}
		if err := p.Store.MarkTakenAtProvider(ctx, mb.Address, mb.OrderID); err != nil {
			return nil, err
		}
		for {
			next, at, err := firstFreeAddress(ctx, p.Store, member, pecDomain, n)
			if err != nil {
				return nil, err
			}
			n = at + 1
			old := mb.Address
			moved, err := p.Store.MoveAddress(ctx, mb.ID, next, func(m *domain.Mailbox) (bool, error) {
				m.History = append(m.History, domain.Transition{State: m.State, At: p.now(), Actor: "provider",
					Reason: "address " + old + " is taken at the provider: now " + next})
				return true, nil
			})
			if errors.Is(err, domain.ErrAddressTaken) {
				continue // reserved meanwhile by an enrolment
			}
			if err != nil {
				return nil, err
			}
			mb = moved
			break
		}
	}
	return nil, fmt.Errorf("%w: %d addresses in a row taken at the provider", ErrProviderRefused, maxTakenAtProvider)
}
