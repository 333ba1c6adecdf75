package fake

import (
	"context"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// The lifecycle's store ports the fake implements, as the DynamoDB store does.
var (
	_ app.BatchStore        = (*Store)(nil)
	_ app.RenewalStore      = (*Store)(nil)
	_ app.ProvisioningStore = (*Store)(nil)
	_ app.ActivationStore   = (*Store)(nil)
	_ app.RevocationStore   = (*Store)(nil)
	_ app.NoticeStore       = (*Store)(nil)
	_ app.ExpiryStore       = (*Store)(nil)
)

// UpdateActivation implements app.ActivationStore: the link's record is written with the
// mailbox's change, and only with it.
func (s *Store) UpdateActivation(_ context.Context, id, hash string, expires time.Time, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, bool, error) {
	if err := s.check("UpdateActivation"); err != nil {
		return nil, false, err
	}
	// The DynamoDB store also refuses a hash already recorded; 256 random bits never repeat.
	return s.updateMailbox(id, change, func(mb *domain.Mailbox) {
		s.activations[hash] = link{mailboxID: id, orderID: mb.OrderID, expires: expires}
	})
}

// ActivationMailbox implements app.ActivationStore. A link's record outlives its expiry, as
// DynamoDB's time-to-live deletes items only some time after they expire: the use case decides
// from the mailbox whether a link still works.
func (s *Store) ActivationMailbox(_ context.Context, hash string) (string, error) {
	if err := s.check("ActivationMailbox"); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.activations[hash]
	if !ok {
		return "", domain.ErrNotFound
	}
	return l.mailboxID, nil
}

// SeenEvent implements app.ProvisioningStore.
func (s *Store) SeenEvent(_ context.Context, eventID string) (bool, error) {
	if err := s.check("SeenEvent"); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.events[eventID]
	return ok, nil
}

// RecordEvent implements app.ProvisioningStore.
func (s *Store) RecordEvent(_ context.Context, eventID, mailboxID string) error {
	if err := s.check("RecordEvent"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[eventID] = mailboxID
	return nil
}

// DueMailboxIDs implements app.ExpiryStore as the DynamoDB store's sparse expiry index: the
// Order's ATTIVATA mailboxes by the day they are next due, those due on or before today.
func (s *Store) DueMailboxIDs(_ context.Context, orderID, today string, limit int, cursor string) ([]string, string, error) {
	if err := s.check("DueMailboxIDs"); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var entries []indexEntry
	for _, mb := range s.mailboxes {
		if mb.OrderID == orderID && mb.State == domain.StateAttivata && mb.ExpiryDueOn != "" && mb.ExpiryDueOn <= today {
			entries = append(entries, indexEntry{key: mb.ExpiryDueOn + "#" + mb.ID, id: mb.ID})
		}
	}
	return limitPage("expiry#"+orderID, sortedEntries(entries, false), limit, cursor)
}
