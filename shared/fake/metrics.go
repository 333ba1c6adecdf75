package fake

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/pecplatform/pec/shared/app"
)

// Metrics records every metric the use cases ask for.
type Metrics struct {
	mu      sync.Mutex
	records []app.Metric
}

var _ app.Metrics = (*Metrics)(nil)

// Record implements app.Metrics.
func (m *Metrics) Record(_ context.Context, r app.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, r)
}

// Counts returns the recorded counts as "Name" or "Name Dimension=Value" -> the sum.
func (m *Metrics) Counts() map[string]float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]float64{}
	for _, r := range m.records {
		if r.Unit != app.UnitCount {
			continue
		}
		k := r.Name
		if r.Dimension.Name != "" {
			k = fmt.Sprintf("%s %s=%s", r.Name, r.Dimension.Name, r.Dimension.Value)
		}
		out[k] += r.Value
	}
	return out
}

// Recorded returns every metric recorded, in order.
func (m *Metrics) Recorded() []app.Metric {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.records)
}
