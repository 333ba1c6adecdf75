package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
	"github.com/pecplatform/pec/shared/provider"
)

// Workflow is what the lifecycle needs from Step Functions.
type Workflow interface {
	// StartBatch and StartMailbox start the named execution; a start that already happened is
	// not an error, so a retried start never makes a second lifecycle.
	StartBatch(ctx context.Context, batchID string) error
	StartMailbox(ctx context.Context, mailboxID, batchID string) error
	// Resume completes a parked step; Fail fails it with a named error that the state machine
	// catches. A token whose step is gone (timed out, already resumed) is not an error.
	Resume(ctx context.Context, token string) error
	// ResumeOrGone is Resume, reporting whether the step was gone (the workflow moved on or
	// ended), so that the caller can do itself what the workflow would have done.
	ResumeOrGone(ctx context.Context, token string) (gone bool, err error)
	Fail(ctx context.Context, token, errorName, cause string) error
}

// Mailer delivers a message to one address: ordinary e-mail (SES) for members, PEC (SMTP)
// for Orders.
type Mailer interface {
	Send(ctx context.Context, to string, m notice.Message) (messageID string, err error)
}

// Error names the state machines catch. They are the Go type names of the errors the task
// functions return, which is how Lambda reports them to Step Functions.
const (
	ErrNameRevoked  = "MailboxRevoked"
	ErrNameRejected = "MailboxRejected"
	ErrNameDeclined = "MailboxDeclined"
)

// MailboxRevoked is returned by a task whose mailbox was revoked meanwhile.
type MailboxRevoked struct{ ID string }

func (e *MailboxRevoked) Error() string { return "mailbox " + e.ID + " is revoked" }

// MailboxRejected is returned by a task whose mailbox the provider refused.
type MailboxRejected struct{ ID string }

func (e *MailboxRejected) Error() string { return "mailbox " + e.ID + " was refused by the provider" }

// Lifecycle runs the mailbox lifecycle: batches, the provider, the member's activation,
// revocation. The state in the store is the truth; the workflow only sequences.
type Lifecycle struct {
	Store      LifecycleStore
	Workflow   Workflow
	Provider   provider.Provider
	MemberMail Mailer
	// ActivationMail sends the activation links (MemberMail when nil). Its failures must be
	// real: the workflow retries SendActivation with a fresh link, so a send retried below it
	// after a lost answer would put one link in two e-mails.
	ActivationMail Mailer
	OrderMail      Mailer
	Log            *slog.Logger
	Now            func() time.Time
	NewID          func() string
	PublicURL      string        // base of the links sent to members, e.g. https://pec.example.it
	ActivationTTL  time.Duration // how long an activation link works
	StartPage      int           // mailbox executions started per StartMailboxes call
	RepairAfter    time.Duration // how long a submitted batch may take to start its mailboxes
	Reginde        *Reginde      // what follows a CTU's activation; nil: nothing
	Documents      DocumentLinks // links to self-service requests' documents for the provider
	DocumentTTL    time.Duration // how long those links work
	Crash          Crash         // tests only: die between two writes (nil in production)
}

// DocumentLinks makes expiring download links to stored documents.
type DocumentLinks interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}

func (l *Lifecycle) now() time.Time { return l.Now().UTC() }

// ---- Batches ----

var errNotYourBatch = domain.ErrBatchNotFound

func (l *Lifecycle) batchFor(ctx context.Context, c Caller, id string) (*domain.Batch, BatchPark, error) {
	b, park, err := l.Store.GetBatch(ctx, id)
	if err != nil {
		return nil, park, err
	}
	if !c.CanAccessOrder(b.OrderID) {
		return nil, park, errNotYourBatch
	}
	return b, park, nil
}

// orderAccess checks the Order id, the caller's right to it, and that it exists.
func (l *Lifecycle) orderAccess(ctx context.Context, c Caller, orderID string) error {
	if err := domain.ValidateOrderID(orderID); err != nil {
		return err
	}
	if !c.CanAccessOrder(orderID) {
		return domain.ErrForbidden
	}
	_, err := l.Store.GetOrder(ctx, orderID)
	return err
}

// CreateBatch gathers the Order's RICHIESTA mailboxes not yet in a batch and asks the Order,
// by PEC, to authorise and pay (through the batch workflow).
func (l *Lifecycle) CreateBatch(ctx context.Context, c Caller, orderID string) (*domain.Batch, error) {
	if err := domain.ValidateOrderID(orderID); err != nil {
		return nil, err
	}
	if !c.CanAccessOrder(orderID) {
		return nil, domain.ErrForbidden
	}
	for attempt := 0; ; attempt++ {
		order, err := l.Store.GetOrder(ctx, orderID)
		if err != nil {
			return nil, err
		}
		n, err := l.Store.CountOpen(ctx, orderID, order.BatchSeq)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, domain.ErrNothingToAuthorize
		}
		now := l.now()
		b := &domain.Batch{ID: l.NewID(), OrderID: orderID, Seq: order.BatchSeq, MailboxCount: n,
			AmountCents: domain.Amount(n, order.Convention), State: domain.BatchAwaitingAuthorization, CreatedAt: now, UpdatedAt: now}
		err = l.Store.CreateBatch(ctx, b)
		if errors.Is(err, domain.ErrConcurrentUpdate) && attempt < 3 {
			continue // another batch closed the sequence first
		}
		if err != nil {
			return nil, err
		}
		// Enrolments that raced the close joined this sequence: count again, now exactly.
		if exact, err := l.Store.CountOpen(ctx, orderID, b.Seq); err == nil && exact != n {
			b, _, _, err = l.Store.UpdateBatch(ctx, b.ID, Audit{"system", "batch.recounted"}, func(b *domain.Batch, _ *BatchPark) (bool, error) {
				b.MailboxCount, b.AmountCents = exact, domain.Amount(exact, order.Convention)
				return true, nil
			})
			if err != nil {
				return nil, err
			}
		}
		if err := l.Workflow.StartBatch(ctx, b.ID); err != nil {
			// The scheduled batching run starts it again; the batch is not lost.
			l.Log.ErrorContext(ctx, "start batch workflow", "batchId", b.ID, "error", err)
		}
		return b, nil
	}
}

// GetBatch returns a batch to the federation or its Order.
func (l *Lifecycle) GetBatch(ctx context.Context, c Caller, id string) (*domain.Batch, error) {
	b, _, err := l.batchFor(ctx, c, id)
	return b, err
}

// ListBatches lists an Order's batches, newest first.
func (l *Lifecycle) ListBatches(ctx context.Context, c Caller, orderID string, limit int, cursor string) ([]*domain.Batch, string, error) {
	if err := l.orderAccess(ctx, c, orderID); err != nil {
		return nil, "", err
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return nil, "", domain.Invalid("limit", "invalid_limit", "limit must be between 1 and 1000")
	}
	return l.Store.ListBatches(ctx, orderID, limit, cursor)
}

// ConfirmBatch records the Order's authorisation; only the Order's own staff may give it.
func (l *Lifecycle) ConfirmBatch(ctx context.Context, c Caller, id string) (*domain.Batch, error) {
	if _, _, err := l.batchFor(ctx, c, id); err != nil {
		return nil, err
	}
	if c.Role != RoleOrder {
		return nil, &domain.Error{Kind: domain.KindForbidden, Code: "order_staff_only", Message: "only the Order's own staff can authorise its batch"}
	}
	return l.advanceBatch(ctx, id, Audit{c.Actor(), "batch.confirmed"}, func(b *domain.Batch) (bool, error) { return b.Confirm(l.now(), c.Actor()), nil })
}

// PayBatch records the payment of a batch.
func (l *Lifecycle) PayBatch(ctx context.Context, c Caller, id, reference string, amountCents int) (*domain.Batch, error) {
	if _, _, err := l.batchFor(ctx, c, id); err != nil {
		return nil, err
	}
	return l.advanceBatch(ctx, id, Audit{c.Actor(), "batch.paid"}, func(b *domain.Batch) (bool, error) { return b.Pay(reference, amountCents, l.now()) })
}

// advanceBatch applies change and, once the batch is submitted, resumes its parked workflow.
// If the workflow has not parked yet, AwaitAuthorization will find the batch submitted.
func (l *Lifecycle) advanceBatch(ctx context.Context, id string, audit Audit, change func(*domain.Batch) (bool, error)) (*domain.Batch, error) {
	var token string
	b, _, _, err := l.Store.UpdateBatch(ctx, id, audit, func(b *domain.Batch, p *BatchPark) (bool, error) {
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
		if err := l.Workflow.Resume(ctx, token); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// AwaitAuthorization is the batch workflow's parked step: it keeps the task token with the
// batch and sends the Order the authorisation request (or a reminder), unless the batch is
// already confirmed and paid, in which case it resumes at once.
func (l *Lifecycle) AwaitAuthorization(ctx context.Context, batchID, token string) error {
	var reminder int
	b, _, _, err := l.Store.UpdateBatch(ctx, batchID, Audit{}, func(b *domain.Batch, p *BatchPark) (bool, error) {
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
		return l.Workflow.Resume(ctx, token)
	}
	order, err := l.Store.GetOrder(ctx, b.OrderID)
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
	_, err = l.OrderMail.Send(ctx, order.PEC, m)
	return err
}

// StartMailboxes starts the lifecycle of one page of a submitted batch's mailboxes and returns
// where to go on from; the state machine calls it until done, pacing the calls, so a batch of
// 10^5 mailboxes stays within Step Functions' start limits and resumes where it was cut off.
func (l *Lifecycle) StartMailboxes(ctx context.Context, batchID, cursor string) (next string, err error) {
	b, _, err := l.Store.GetBatch(ctx, batchID)
	if err != nil {
		return "", err
	}
	if b.IsRenewal() {
		return l.RenewMailboxes(ctx, b, cursor)
	}
	ids, next, err := l.Store.OpenMailboxIDs(ctx, b.OrderID, b.Seq, max(l.StartPage, 1), cursor)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		if err := l.Workflow.StartMailbox(ctx, id, b.ID); err != nil {
			return "", err
		}
	}
	return next, nil
}

// ---- The mailbox's own workflow ----

// SubmitMailbox moves the mailbox to RICHIESTA_INVIATA, parks the workflow until the
// provider calls back, and asks the provider for the mailbox.
func (l *Lifecycle) SubmitMailbox(ctx context.Context, mailboxID, batchID, token string) error {
	mb, _, err := l.Store.UpdateMailbox(ctx, mailboxID, func(m *domain.Mailbox) (bool, error) {
		if m.State == domain.StateRevocata {
			return false, nil
		}
		if _, err := m.Transition(domain.StateRichiestaInviata, l.now(), "system", "authorized and paid"); err != nil {
			return false, err
		}
		if m.State != domain.StateRichiestaInviata {
			return false, nil // the provider answered already: nothing to wait for
		}
		m.BatchID = batchID
		m.Park = domain.Park{Token: token, Waiting: domain.WaitingProvider}
		return true, nil
	})
	if err != nil {
		return err
	}
	switch mb.State {
	case domain.StateRevocata:
		return &MailboxRevoked{ID: mailboxID}
	case domain.StateRichiestaInviata:
	default:
		return l.Workflow.Resume(ctx, token)
	}
	member, err := l.memberOf(ctx, mb)
	if err != nil {
		return err
	}
	req := provider.SubmitRequest{RequestID: mb.ID, Address: mb.Address,
		Nome: member.Nome, Cognome: member.Cognome, CodiceFiscale: member.CodiceFiscale.Value()}
	if mb.RequestID != "" {
		if req.Documents, err = l.documentsOf(ctx, mb.RequestID); err != nil {
			return err
		}
	}
	ref, err := l.Provider.Submit(ctx, req)
	if errors.Is(err, provider.ErrPermanent) {
		if _, _, err := l.Store.UpdateMailbox(ctx, mailboxID, func(m *domain.Mailbox) (bool, error) {
			m.Park = domain.Park{}
			return m.Transition(domain.StateRevocata, l.now(), "provider", "rejected: the provider refused the request")
		}); err != nil {
			return err
		}
		return &MailboxRejected{ID: mailboxID}
	}
	if err != nil {
		return err // ProviderUnavailable: the state machine retries with backoff
	}
	_, _, err = l.Store.UpdateMailbox(ctx, mailboxID, func(m *domain.Mailbox) (bool, error) {
		if m.ProviderRef == ref {
			return false, nil
		}
		m.ProviderRef = ref
		return true, nil
	})
	return err
}

// documentsOf links the provider to a self-service request's documents.
func (l *Lifecycle) documentsOf(ctx context.Context, requestID string) ([]provider.Document, error) {
	r, err := l.Store.GetRequest(ctx, requestID)
	if err != nil {
		return nil, err
	}
	if l.Documents == nil {
		return nil, errors.New("self-service mailbox, but no documents bucket configured (DOCUMENTS_BUCKET)")
	}
	ttl := cmp.Or(l.DocumentTTL, 7*24*time.Hour)
	var out []provider.Document
	for _, k := range domain.DocumentKinds {
		d, ok := r.Documents[k]
		if !ok {
			continue
		}
		url, err := l.Documents.PresignGet(ctx, d.Key, ttl)
		if err != nil {
			return nil, err
		}
		out = append(out, provider.Document{Kind: string(k), ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256,
			URL: url, ExpiresAt: l.now().Add(ttl)})
	}
	return out, nil
}

func (l *Lifecycle) memberOf(ctx context.Context, mb *domain.Mailbox) (*domain.Member, error) {
	return l.Store.GetMember(ctx, mb.OrderID, domain.CodiceFiscale(mb.MemberKey))
}

// SendActivation issues a fresh activation link (killing any older one), parks the workflow
// until the member acts, and e-mails the member. reminder is 0 for the first e-mail.
func (l *Lifecycle) SendActivation(ctx context.Context, mailboxID, token string, reminder int) error {
	mb, err := l.Store.GetMailbox(ctx, mailboxID)
	if err != nil {
		return err
	}
	switch mb.State {
	case domain.StateRevocata:
		return &MailboxRevoked{ID: mailboxID}
	case domain.StateAttivata:
		return l.Workflow.Resume(ctx, token)
	}
	_, err = l.issueActivation(ctx, mb, reminder, &domain.Park{Token: token, Waiting: domain.WaitingMember})
	return err
}

// errNotAwaitingActivation: a link is only sent to a mailbox waiting for its member.
var errNotAwaitingActivation = &domain.Error{Kind: domain.KindConflict, Code: "not_awaiting_activation", Message: "the mailbox is not waiting for its member's activation (state ABILITATA)"}

// issueActivation stores a new link's hash on the mailbox (with the parked step, if given)
// and e-mails the link. The raw link exists only in the e-mail.
func (l *Lifecycle) issueActivation(ctx context.Context, mb *domain.Mailbox, reminder int, park *domain.Park) (*domain.Mailbox, error) {
	raw, hash := newLinkToken()
	expires := l.now().Add(l.ActivationTTL)
	mb, _, err := l.Store.UpdateActivation(ctx, mb.ID, hash, expires, func(m *domain.Mailbox) (bool, error) {
		if m.State != domain.StateAbilitata {
			return false, errNotAwaitingActivation
		}
		m.Activation = domain.Activation{Hash: hash, ExpiresAt: expires, Sent: m.Activation.Sent + 1}
		if park != nil {
			m.Park = *park
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	member, err := l.memberOf(ctx, mb)
	if err != nil {
		return nil, err
	}
	order, err := l.Store.GetOrder(ctx, mb.OrderID)
	if err != nil {
		return nil, err
	}
	m, err := notice.ActivationEmail(notice.ActivationData{Nome: member.Nome, Cognome: member.Cognome,
		Address: mb.Address, OrderName: order.Name, Link: l.PublicURL + "/activate/" + raw, ExpiresAt: expires, Reminder: reminder})
	if err != nil {
		return nil, err
	}
	_, err = cmp.Or[Mailer](l.ActivationMail, l.MemberMail).Send(ctx, member.Email, m)
	return mb, err
}

// newLinkToken returns an unguessable link token (256 bits) and the hash that is stored.
func newLinkToken() (raw, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	raw = base64.RawURLEncoding.EncodeToString(b[:])
	return raw, HashLinkToken(raw)
}

// HashLinkToken is how a link token is stored and looked up.
func HashLinkToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// NoticeKind names a notice to the Order about one mailbox.
type NoticeKind string

const (
	NoticeDeclined    NoticeKind = "declined"
	NoticeRejected    NoticeKind = "rejected"
	NoticeUnactivated NoticeKind = "unactivated"
)

// NotifyOrder tells the Order, by PEC, what happened to one of its members' mailboxes.
func (l *Lifecycle) NotifyOrder(ctx context.Context, kind NoticeKind, mailboxID string) error {
	mb, err := l.Store.GetMailbox(ctx, mailboxID)
	if err != nil {
		return err
	}
	member, err := l.memberOf(ctx, mb)
	if err != nil {
		return err
	}
	order, err := l.Store.GetOrder(ctx, mb.OrderID)
	if err != nil {
		return err
	}
	d := notice.MemberNoticeData{OrderName: order.Name, Nome: member.Nome, Cognome: member.Cognome,
		NumeroIscrizione: member.NumeroIscrizione, Address: mb.Address, OwnPEC: member.PEC,
		Reminders: max(mb.Activation.Sent-1, 0)}
	if n := len(mb.History); n > 0 {
		d.Reason = mb.History[n-1].Reason
	}
	var m notice.Message
	switch kind {
	case NoticeDeclined:
		m, err = notice.DeclineNotice(d)
	case NoticeRejected:
		m, err = notice.RejectionNotice(d)
	case NoticeUnactivated:
		m, err = notice.UnactivatedNotice(d)
	default:
		return fmt.Errorf("unknown notice %q", kind)
	}
	if err != nil {
		return err
	}
	_, err = l.OrderMail.Send(ctx, order.PEC, m)
	return err
}

// DeactivateAtProvider tells the provider to close a revoked mailbox it knows of.
func (l *Lifecycle) DeactivateAtProvider(ctx context.Context, mailboxID string) error {
	mb, err := l.Store.GetMailbox(ctx, mailboxID)
	if err != nil {
		return err
	}
	if mb.State != domain.StateRevocata || !mb.KnownToProvider() {
		return nil
	}
	reason := ""
	if n := len(mb.History); n > 0 {
		reason = mb.History[n-1].Reason
	}
	return l.Provider.Deactivate(ctx, mb.ID, mb.Address, reason)
}
