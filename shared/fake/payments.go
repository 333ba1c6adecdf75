package fake

import (
	"context"
	"sync"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/payments"
)

// Payments is an in-memory payment service: it confirms the payments it was told were made
// (Confirm), for their amount and their request, and nothing else.
type Payments struct {
	Faults
	mu    sync.Mutex
	paid  map[string]paidFor // by reference
	calls int
}

type paidFor struct {
	amountCents int
	requestID   string
}

var _ app.Payments = (*Payments)(nil)

// Confirm records that reference paid amountCents for the request.
func (p *Payments) Confirm(reference string, amountCents int, requestID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paid == nil {
		p.paid = map[string]paidFor{}
	}
	p.paid[reference] = paidFor{amountCents, requestID}
}

// Verify implements app.Payments with the real adapter's answer to a payment it does not
// confirm (payments.ErrNotConfirmed).
func (p *Payments) Verify(_ context.Context, reference string, amountCents int, requestID string) error {
	p.mu.Lock()
	p.calls++
	paid, ok := p.paid[reference]
	p.mu.Unlock()
	if err := p.check("Verify"); err != nil {
		return err
	}
	if !ok || paid != (paidFor{amountCents, requestID}) {
		return payments.ErrNotConfirmed
	}
	return nil
}

// Calls counts the calls of Verify.
func (p *Payments) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}
