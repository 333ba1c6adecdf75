package app

import (
	"context"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// BatchPark is the batch workflow's parked step: its task token, and how many authorisation
// requests the Order has been sent.
type BatchPark struct {
	Token    string
	Requests int
}

// Audit names who makes a change and what it is, for the Order's audit trail. An empty
// Action records nothing (workflow bookkeeping such as a parked token is not a change of the
// Order's records).
type Audit struct {
	Actor, Action string
}

// LifecycleStore is what the lifecycle's use cases need from persistence, beyond Store.
type LifecycleStore interface {
	Store
	// UpdateMailbox reads the mailbox, lets change decide, and writes the result under an
	// optimistic lock, deciding again if someone wrote in between.
	UpdateMailbox(ctx context.Context, id string, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, bool, error)
	UpdateMember(ctx context.Context, orderID string, cf domain.CodiceFiscale, audit Audit, change func(*domain.Member) (bool, error)) (*domain.Member, error)
	ListOrders(ctx context.Context) ([]*domain.Order, error)

	// CountOpen counts the Order's RICHIESTA mailboxes enrolled under batch sequence seq.
	CountOpen(ctx context.Context, orderID string, seq int) (int, error)
	// OpenMailboxIDs pages through them.
	OpenMailboxIDs(ctx context.Context, orderID string, seq, limit int, cursor string) (ids []string, next string, err error)
	// CreateBatch closes the Order's batch sequence b.Seq (it must still be open) and stores b.
	CreateBatch(ctx context.Context, b *domain.Batch) error
	GetBatch(ctx context.Context, id string) (*domain.Batch, BatchPark, error)
	UpdateBatch(ctx context.Context, id string, audit Audit, change func(*domain.Batch, *BatchPark) (bool, error)) (*domain.Batch, BatchPark, bool, error)
	ListBatches(ctx context.Context, orderID string, limit int, cursor string) ([]*domain.Batch, string, error)

	// UpdateActivation is UpdateMailbox that also records a new activation link's hash for the
	// mailbox until it expires, in the same write: only if change changes the mailbox.
	UpdateActivation(ctx context.Context, id, hash string, expires time.Time, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, bool, error)
	// ActivationMailbox returns the mailbox an activation link's hash was issued for.
	ActivationMailbox(ctx context.Context, hash string) (string, error)

	// MailboxIDForAddress returns the mailbox an address was assigned to.
	MailboxIDForAddress(ctx context.Context, address string) (string, error)

	// GetRequest reads a member's self-service request.
	GetRequest(ctx context.Context, id string) (*domain.Request, error)

	// SeenEvent reports whether a provider event was already processed; RecordEvent marks it.
	SeenEvent(ctx context.Context, eventID string) (bool, error)
	RecordEvent(ctx context.Context, eventID, mailboxID string) error

	ExpiryStore
}

// ExpiryStore is what validity, reminders and renewals need from persistence.
type ExpiryStore interface {
	// DueMailboxIDs pages through the Order's ATTIVATA mailboxes the expiry run must look at on
	// or before the day today (YYYY-MM-DD), and only those.
	DueMailboxIDs(ctx context.Context, orderID, today string, limit int, cursor string) (ids []string, next string, err error)
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
