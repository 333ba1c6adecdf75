package emf_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/emf"
)

// The line follows the EMF specification: _aws.Timestamp in milliseconds, one
// CloudWatchMetrics directive naming the namespace, the dimension sets and the metric, and the
// metric's value and dimension as top-level members.
func TestRecord_WritesOneEMFLinePerMetric(t *testing.T) {
	var out bytes.Buffer
	w := &emf.Writer{Out: &out, Namespace: "PECPlatform/test", Now: func() time.Time { return time.UnixMilli(1764900000123) }}
	w.Record(t.Context(), app.Metric{Name: app.MetricTransitions, Value: 1, Unit: app.UnitCount, Dimension: app.Dimension{Name: "State", Value: "ATTIVATA"}})
	w.Record(t.Context(), app.Metric{Name: app.MetricEnrolments, Value: 2, Unit: app.UnitCount})

	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), out.String())
	}
	var got struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		State              string
		MailboxTransitions float64
	}
	if err := json.Unmarshal(lines[0], &got); err != nil {
		t.Fatal(err)
	}
	d := got.AWS.CloudWatchMetrics
	if got.AWS.Timestamp != 1764900000123 || len(d) != 1 || d[0].Namespace != "PECPlatform/test" ||
		len(d[0].Dimensions) != 2 || len(d[0].Dimensions[0]) != 0 || d[0].Dimensions[1][0] != "State" ||
		len(d[0].Metrics) != 1 || d[0].Metrics[0].Name != "MailboxTransitions" || d[0].Metrics[0].Unit != "Count" ||
		got.State != "ATTIVATA" || got.MailboxTransitions != 1 {
		t.Errorf("line %s", lines[0])
	}
	var plain map[string]any
	if err := json.Unmarshal(lines[1], &plain); err != nil {
		t.Fatal(err)
	}
	if plain["Enrolments"] != 2.0 || len(plain) != 2 {
		t.Errorf("line %s: want the value and _aws only", lines[1])
	}
}
