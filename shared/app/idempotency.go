package app

import (
	"context"
	"time"
)

// IdempotentResponse is the answer kept for an Idempotency-Key, so that a retried request gets
// the same answer without doing the work twice.
type IdempotentResponse struct {
	Fingerprint string // a hash of the request that first used the key
	Done        bool   // false while the first request is still being served
	Status      int
	Body        string
}

// Idempotency keeps the answers to requests that carried an Idempotency-Key.
type Idempotency interface {
	// Claim reserves the key for a request with this fingerprint. It returns nil when the caller
	// now owns the key and must serve the request, or what is already recorded for the key.
	// A claim whose request died without completing lapses after lease.
	Claim(ctx context.Context, key, fingerprint string, lease time.Duration) (*IdempotentResponse, error)
	// Complete records the answer; it is kept for ttl.
	Complete(ctx context.Context, key string, r IdempotentResponse, ttl time.Duration) error
	// Release gives the key up after a failure, so a retry can do the work.
	Release(ctx context.Context, key string) error
}
