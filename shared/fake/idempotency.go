package fake

import (
	"context"
	"time"

	"github.com/pecplatform/pec/shared/app"
)

var _ app.Idempotency = (*Store)(nil)

// Claim implements app.Idempotency: the key is free when unknown, or when its first request
// never completed and its lease ran out. Leases run on the real clock, in whole seconds, as
// in the DynamoDB store.
//
// A pending claim keeps its lease's end (Unix seconds) in Status, which means nothing until
// the answer is complete; Claim never hands it out.
func (s *Store) Claim(_ context.Context, key, fingerprint string, lease time.Duration) (*app.IdempotentResponse, error) {
	if err := s.check("Claim"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	old, ok := s.idempotency[key]
	if !ok || (!old.Done && int64(old.Status) < now.Unix()) {
		s.idempotency[key] = &app.IdempotentResponse{Fingerprint: fingerprint, Status: int(now.Add(lease).Unix())}
		return nil, nil
	}
	r := *old
	if !r.Done {
		r.Status = 0
	}
	return &r, nil
}

// Complete implements app.Idempotency. The answer is kept for good (ttl is DynamoDB's to
// honour, late, through TTL).
func (s *Store) Complete(_ context.Context, key string, r app.IdempotentResponse, _ time.Duration) error {
	if err := s.check("Complete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Done = true
	s.idempotency[key] = &r
	return nil
}

// Release implements app.Idempotency: a pending claim is dropped; a completed answer stays.
func (s *Store) Release(_ context.Context, key string) error {
	if err := s.check("Release"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.idempotency[key]; ok && !r.Done {
		delete(s.idempotency, key)
	}
	return nil
}
