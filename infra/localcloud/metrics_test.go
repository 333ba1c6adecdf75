package localcloud_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/localcloud"
)

// emfLine is a business metric as the functions log it (CloudWatch Embedded Metric Format).
type emfLine struct {
	AWS struct {
		CloudWatchMetrics []struct {
			Namespace string
			Metrics   []struct{ Name, Unit string }
		}
	} `json:"_aws"`
	fields map[string]any
}

// metricLines returns the EMF lines of the local cloud's log.
func metricLines(t *testing.T) []emfLine {
	t.Helper()
	var out []emfLine
	for _, l := range strings.Split(localcloud.ForTests(t).Logs(), "\n") {
		if !strings.Contains(l, `"_aws"`) {
			continue
		}
		var e emfLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("an EMF line that is not JSON: %s", l)
		}
		_ = json.Unmarshal([]byte(l), &e.fields)
		out = append(out, e)
	}
	return out
}

// hasMetric reports whether a line records the metric, with the dimension value when given.
func hasMetric(lines []emfLine, name, dim, value string) bool {
	for _, e := range lines {
		for _, d := range e.AWS.CloudWatchMetrics {
			for _, m := range d.Metrics {
				if m.Name == name && strings.HasPrefix(d.Namespace, "PECPlatform/") && (dim == "" || e.fields[dim] == value) {
					return true
				}
			}
		}
	}
	return false
}

// TestMetrics_TheLifecycleLogsItsBusinessMetrics: an enrolment taken to ATTIVATA leaves, in the
// functions' log, the EMF lines the dashboard and the alarms read.
func TestMetrics_TheLifecycleLogsItsBusinessMetrics(t *testing.T) {
	s := newScenario(t, "Metrica", freshSurname("Conti"))
	s.authorize(t)
	link := s.link(t, 1)
	waitState(t, s.order, s.mailboxID, "ABILITATA", 5*time.Second)
	if code, _ := click(t, link, url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("POST confirm: %d", code)
	}
	waitState(t, s.order, s.mailboxID, "ATTIVATA", 5*time.Second)

	lines := metricLines(t)
	for _, want := range []struct{ name, dim, value string }{
		{"Enrolments", "", ""},
		{"MailboxTransitions", "State", "RICHIESTA"},
		{"MailboxTransitions", "State", "RICHIESTA_INVIATA"},
		{"MailboxTransitions", "State", "ABILITATA"},
		{"MailboxTransitions", "State", "ATTIVATA"},
		{"ProviderLatency", "Operation", "submit"},
		{"Activations", "Choice", "confirmed"},
	} {
		if !hasMetric(lines, want.name, want.dim, want.value) {
			t.Errorf("no EMF line for %s %s=%s among %d metric lines", want.name, want.dim, want.value, len(lines))
		}
	}
}
