package app

import (
	"context"
	"errors"

	"github.com/pecplatform/pec/shared/domain"
)

// Page size limits of the contract.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// ListMailboxes returns one page of the Order's mailboxes, optionally in one state.
func (s *Service) ListMailboxes(ctx context.Context, c Caller, q MailboxQuery) ([]*domain.Mailbox, string, error) {
	if err := s.authorizeOrder(c, q.OrderID); err != nil {
		return nil, "", err
	}
	if q.State != "" {
		if _, err := domain.ParseState(q.State); err != nil {
			return nil, "", err
		}
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 1 || q.Limit > MaxLimit:
		return nil, "", domain.Invalid("limit", "invalid_limit", "limit must be between 1 and 1000")
	}
	if _, err := s.Store.GetOrder(ctx, q.OrderID); err != nil {
		return nil, "", err
	}
	return s.Store.ListMailboxes(ctx, q)
}

// MailboxSummary counts the Order's mailboxes in every state.
func (s *Service) MailboxSummary(ctx context.Context, c Caller, orderID string) (map[domain.State]int, error) {
	if err := s.authorizeOrder(c, orderID); err != nil {
		return nil, err
	}
	if _, err := s.Store.GetOrder(ctx, orderID); err != nil {
		return nil, err
	}
	counts, err := s.Store.CountMailboxes(ctx, orderID)
	if err != nil {
		return nil, err
	}
	for _, st := range domain.States {
		counts[st] += 0
	}
	return counts, nil
}

// GetMailbox returns a mailbox to the federation or to its Order. Another Order gets
// not-found, because even the existence of a mailbox is the Order's private data.
func (s *Service) GetMailbox(ctx context.Context, c Caller, id string) (*domain.Mailbox, error) {
	mb, err := s.Store.GetMailbox(ctx, id)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !c.CanAccessOrder(mb.OrderID)) {
		return nil, &domain.Error{Kind: domain.KindNotFound, Code: "mailbox_not_found", Message: "no such mailbox"}
	}
	return mb, err
}
