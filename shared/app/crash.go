package app

import "context"

// Points where a test can make a use case die between two of its writes (see Crash).
const (
	CrashAfterEnrolment = "enrol"    // the member and the mailbox written, the answer not yet sent
	CrashAfterCallback  = "callback" // the provider's outcome written, the workflow not yet resumed
	CrashAfterClick     = "click"    // the member's choice written, the workflow not yet resumed
)

// Crash, when set, is called at each crash point with the mailbox's address; it panics to
// simulate a function that dies there. Only tests set it (FAULT_PANIC_AT): in production it
// is nil and costs nothing.
type Crash func(point, address string)

func (c Crash) at(point, address string) {
	if c != nil {
		c(point, address)
	}
}

type requestKey struct{}

// WithRequestKey marks ctx with the Idempotency-Key (already scoped to the caller and the
// route) of the request being served, so that a use case can recognise its own earlier work
// when the request is retried after its answer was lost.
func WithRequestKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, requestKey{}, key)
}

// RequestKey returns the request's scoped Idempotency-Key, "" when it has none.
func RequestKey(ctx context.Context) string {
	k, _ := ctx.Value(requestKey{}).(string)
	return k
}
