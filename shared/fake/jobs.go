package fake

import (
	"context"
	"slices"
	"sync"

	"github.com/pecplatform/pec/shared/app"
)

// Continuer records the import runs asked for; Then, when set, runs one (say, Imports.Run
// with a new invocation id) as the asynchronous invocation would.
type Continuer struct {
	Faults
	Then func(ctx context.Context, importID string) error
	mu   sync.Mutex
	ids  []string
}

var _ app.Continuer = (*Continuer)(nil)

// Continue implements app.Continuer.
func (c *Continuer) Continue(ctx context.Context, importID string) error {
	if err := c.check("Continue"); err != nil {
		return err
	}
	c.mu.Lock()
	c.ids = append(c.ids, importID)
	c.mu.Unlock()
	if c.Then != nil {
		return c.Then(ctx, importID)
	}
	return nil
}

// Continued returns the imports a new run was asked for, in order.
func (c *Continuer) Continued() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ids)
}

// Exporter records the full exports asked for.
type Exporter struct {
	Faults
	mu     sync.Mutex
	orders []string
}

var _ app.Exporter = (*Exporter)(nil)

// StartExport implements app.Exporter.
func (e *Exporter) StartExport(_ context.Context, orderID string) error {
	if err := e.check("StartExport"); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.orders = append(e.orders, orderID)
	return nil
}

// Started returns the Orders whose export was asked for, in order.
func (e *Exporter) Started() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.orders)
}
