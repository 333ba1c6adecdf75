package app

import (
	"context"
	"errors"
	"time"
)

// Metrics records the platform's business events; in AWS they become CloudWatch metrics
// (shared/emf writes them as Embedded Metric Format log lines). A nil Metrics records nothing.
// Metrics carry no personal data: names, counts and a dimension such as a state.
type Metrics interface {
	Record(ctx context.Context, m Metric)
}

// Metric is one measurement, with at most one dimension.
type Metric struct {
	Name      string
	Value     float64
	Unit      string    // UnitCount or UnitMilliseconds
	Dimension Dimension // zero: none
}

// Dimension splits a metric, e.g. {"State", "ATTIVATA"}.
type Dimension struct{ Name, Value string }

// Units.
const (
	UnitCount        = "Count"
	UnitMilliseconds = "Milliseconds"
)

// The business metrics. A dashboard and alarms in template.yaml read them.
const (
	MetricEnrolments         = "Enrolments"         // members enrolled
	MetricTransitions        = "MailboxTransitions" // mailboxes entering a state (dimension State)
	MetricActivations        = "Activations"        // members' choices on the activation page (dimension Choice: confirmed, declined)
	MetricProviderLatency    = "ProviderLatency"    // a provider call's time (dimension Operation: submit, deactivate, renew)
	MetricProviderRejections = "ProviderRejections" // requests the provider refused for good (dimension Operation; callback for a mailbox.rejected)
	MetricINIPECDeliveries   = "INIPECDeliveries"   // files INI-PEC accepted
	MetricINIPECFailures     = "INIPECFailures"     // deliveries that failed (sent again by the next run)
	MetricQuotaWarnings      = "QuotaWarnings"      // members warned that their mailbox is 90% full
	MetricQuotaFull          = "QuotaFull"          // full mailboxes the Orders were told of
	MetricImportRows         = "ImportRows"         // albo rows imported by jobs (dimension Outcome: created, existing, failed)
	MetricBounces            = "Bounces"            // members' addresses marked as bounced (a permanent bounce of an e-mail sent to them)
)

// count records n of the metric, if m is set.
func count(ctx context.Context, m Metrics, name string, n int, dim Dimension) {
	if m != nil && n > 0 {
		m.Record(ctx, Metric{Name: name, Value: float64(n), Unit: UnitCount, Dimension: dim})
	}
}

// MeasuredProvider is a Provider that records each call's latency and the provider's refusals.
type MeasuredProvider struct {
	Next    Provider
	Metrics Metrics
	Now     func() time.Time
}

var _ Provider = MeasuredProvider{}

func (p MeasuredProvider) measure(ctx context.Context, op string, call func() error) error {
	start := p.Now()
	err := call()
	if p.Metrics != nil {
		p.Metrics.Record(ctx, Metric{Name: MetricProviderLatency, Value: float64(p.Now().Sub(start).Milliseconds()),
			Unit: UnitMilliseconds, Dimension: Dimension{"Operation", op}})
	}
	if errors.Is(err, ErrProviderRefused) {
		count(ctx, p.Metrics, MetricProviderRejections, 1, Dimension{"Operation", op})
	}
	return err
}

// Submit implements Provider.
func (p MeasuredProvider) Submit(ctx context.Context, r SubmitRequest) (ref string, err error) {
	err = p.measure(ctx, "submit", func() error { ref, err = p.Next.Submit(ctx, r); return err })
	return ref, err
}

// Deactivate implements Provider.
func (p MeasuredProvider) Deactivate(ctx context.Context, mb ProviderMailbox, reason string) error {
	return p.measure(ctx, "deactivate", func() error { return p.Next.Deactivate(ctx, mb, reason) })
}

// Renew implements Provider.
func (p MeasuredProvider) Renew(ctx context.Context, r RenewRequest) error {
	return p.measure(ctx, "renew", func() error { return p.Next.Renew(ctx, r) })
}
