package app_test

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

func TestMeasuredProvider_RecordsLatencyAndRefusals(t *testing.T) {
	metrics := &fake.Metrics{}
	prov := &fake.Provider{}
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	p := app.MeasuredProvider{Next: prov, Metrics: metrics, Now: func() time.Time { clock = clock.Add(40 * time.Millisecond); return clock }}
	prov.Refuse("mb-2")

	if _, err := p.Submit(t.Context(), app.SubmitRequest{RequestID: "mb-1", Address: "a.b@pec.tsrm.org"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Submit(t.Context(), app.SubmitRequest{RequestID: "mb-2", Address: "c.d@pec.tsrm.org"}); !errors.Is(err, app.ErrProviderRefused) {
		t.Fatalf("refused submit: %v", err)
	}

	if got, want := metrics.Counts(), map[string]float64{"ProviderRejections Operation=submit": 1}; !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	var latencies int
	for _, m := range metrics.Recorded() {
		if m.Name == app.MetricProviderLatency {
			latencies++
			if m.Value != 40 || m.Unit != app.UnitMilliseconds || m.Dimension != (app.Dimension{Name: "Operation", Value: "submit"}) {
				t.Errorf("latency %+v", m)
			}
		}
	}
	if latencies != 2 {
		t.Errorf("%d latencies, want one per call", latencies)
	}
}

func TestActivate_CountsTheMembersChoiceOnce(t *testing.T) {
	f := newFederation(t)
	metrics := &fake.Metrics{}
	f.activations.Metrics = metrics
	f.mailbox(1, domain.StateAbilitata)
	link := f.sendActivation(1, "tok-1")

	if _, err := f.activations.Activate(f.ctx, link, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.activations.Activate(f.ctx, link, true, ""); !errors.Is(err, app.ErrLinkGone) { // the used link again
		t.Fatalf("second click: %v", err)
	}

	if got, want := metrics.Counts(), map[string]float64{"Activations Choice=confirmed": 1}; !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
}
