// Package app holds the platform's use cases: it validates through the domain, decides through
// the domain, and persists through a Store. It knows nothing of HTTP or AWS.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// Store is what the use cases need from persistence.
type Store interface {
	// PutOrder creates or updates the Order; created is true when it did not exist.
	PutOrder(ctx context.Context, o *domain.Order, actor string) (created bool, err error)
	GetOrder(ctx context.Context, id string) (*domain.Order, error)
	// CreateMember enrols the member and, when mb is not nil, creates its mailbox and reserves
	// the mailbox's address, all or nothing. It fails with domain.ErrMemberExists or
	// domain.ErrAddressTaken.
	CreateMember(ctx context.Context, m *domain.Member, mb *domain.Mailbox, actor string) error
	GetMember(ctx context.Context, orderID string, cf domain.CodiceFiscale) (*domain.Member, error)
	GetMailbox(ctx context.Context, id string) (*domain.Mailbox, error)
	ListMailboxes(ctx context.Context, q MailboxQuery) (items []*domain.Mailbox, next string, err error)
	CountMailboxes(ctx context.Context, orderID string) (map[domain.State]int, error)
	// TakenAddresses reports which of the addresses are already reserved.
	TakenAddresses(ctx context.Context, addresses []string) (map[string]bool, error)
	MemberSearchStore
}

// MailboxQuery selects one page of an Order's mailboxes.
type MailboxQuery struct {
	OrderID string
	State   string // empty: every state
	Limit   int    // 0: the default
	Cursor  string
}

// Caller is who makes a request, as the authorizer established it.
type Caller struct {
	Role    string // "federation" or "order"
	OrderID string // set when Role is "order"
	// Subject is the person behind the token (its "sub" claim: the staff member's login), so
	// that the audit trail names who acted, not only for whom.
	Subject string
}

// Roles.
const (
	RoleFederation = "federation"
	RoleOrder      = "order"
)

// CanAccessOrder reports whether the caller may see and act on the Order's data.
func (c Caller) CanAccessOrder(orderID string) bool {
	return c.Role == RoleFederation || (c.Role == RoleOrder && c.OrderID == orderID)
}

// Party names for whom the caller acts: "federation" or "order:<id>". Two people of the same
// Order are the same party (an Idempotency-Key is the Order's, not the person's).
func (c Caller) Party() string {
	if c.Role == RoleOrder {
		return "order:" + c.OrderID
	}
	return c.Role
}

// Actor names the caller in the audit trail and the mailbox's history: the party and, when the
// token names one, the person, as "order:<id>/<subject>" (a party never holds a slash).
func (c Caller) Actor() string {
	if c.Subject == "" {
		return c.Party()
	}
	return c.Party() + "/" + c.Subject
}

// ParseActor splits an actor string of the audit trail into the party and the subject.
func ParseActor(actor string) (party, subject string) {
	party, subject, _ = strings.Cut(actor, "/")
	return party, subject
}

// Service runs the use cases.
type Service struct {
	Store Store
	// Albi is the federation's registry of albi: the albo an enrolment names, and its PEC domain.
	Domains *domain.Albi
	Now     func() time.Time
	NewID   func() string
	Crash   Crash // tests only: die between two writes (nil in production)
	Metrics Metrics
}

// New returns a Service with the real clock and random identifiers.
func New(store Store, domains *domain.Albi) *Service {
	return &Service{Store: store, Domains: domains, Now: time.Now, NewID: NewID}
}

// NewID returns a random 128-bit identifier, hex encoded.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b[:])
}
