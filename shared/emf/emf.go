// Package emf writes the platform's metrics in CloudWatch's Embedded Metric Format: one JSON
// line per metric on the function's log output, which CloudWatch Logs turns into a metric (no
// API call, no client). Each metric is published without dimensions, for the totals the alarms
// watch, and, when it has one, by its dimension (the dashboard's breakdown).
package emf

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/pecplatform/pec/shared/app"
)

// DefaultNamespace is the metrics' namespace when none is configured; the template sets
// METRICS_NAMESPACE to PECPlatform/<stack name>.
const DefaultNamespace = "PECPlatform"

// Writer is app.Metrics in EMF.
type Writer struct {
	Out       io.Writer
	Namespace string
	Now       func() time.Time // time.Now when nil

	mu sync.Mutex
}

var _ app.Metrics = (*Writer)(nil)

type directive struct {
	Namespace  string     `json:"Namespace"`
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []metric   `json:"Metrics"`
}

type metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Record implements app.Metrics. A line that cannot be written is dropped: a metric never
// fails the work it measures.
func (w *Writer) Record(_ context.Context, m app.Metric) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	dims := [][]string{{}}
	line := map[string]any{m.Name: m.Value}
	if m.Dimension.Name != "" {
		dims = append(dims, []string{m.Dimension.Name})
		line[m.Dimension.Name] = m.Dimension.Value
	}
	ns := w.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	line["_aws"] = map[string]any{
		"Timestamp":         now().UnixMilli(),
		"CloudWatchMetrics": []directive{{Namespace: ns, Dimensions: dims, Metrics: []metric{{Name: m.Name, Unit: m.Unit}}}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.Out.Write(append(b, '\n'))
}
