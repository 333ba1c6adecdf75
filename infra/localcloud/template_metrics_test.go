package localcloud_test

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/emf"
)

// TestTemplate_DashboardAndAlarmsReadTheMetricsTheCodeWrites: the functions' namespace, the
// two business alarms and the dashboard name the namespace and the metric names of the code.
func TestTemplate_DashboardAndAlarmsReadTheMetricsTheCodeWrites(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Globals struct {
			Function struct {
				Environment struct {
					Variables map[string]yaml.Node `yaml:"Variables"`
				} `yaml:"Environment"`
			} `yaml:"Function"`
		} `yaml:"Globals"`
		Resources map[string]struct {
			Type       string         `yaml:"Type"`
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	ns := emf.DefaultNamespace + "/${AWS::StackName}"
	if v := doc.Globals.Function.Environment.Variables["METRICS_NAMESPACE"]; v.Tag != "!Sub" || v.Value != ns {
		t.Errorf("Globals METRICS_NAMESPACE = %s %q, want !Sub %q", v.Tag, v.Value, ns)
	}
	for id, metric := range map[string]string{"ProviderRejectionsAlarm": app.MetricProviderRejections, "INIPECFailuresAlarm": app.MetricINIPECFailures} {
		r, ok := doc.Resources[id]
		if !ok || r.Type != "AWS::CloudWatch::Alarm" {
			t.Errorf("no alarm %s", id)
			continue
		}
		if r.Properties["MetricName"] != metric || r.Properties["Namespace"] != ns || r.Properties["AlarmActions"] == nil {
			t.Errorf("%s watches %v in %v, acting on %v; want %s in %s, to the alarm topic", id, r.Properties["MetricName"], r.Properties["Namespace"], r.Properties["AlarmActions"], metric, ns)
		}
	}
	if d, ok := doc.Resources["Dashboard"]; !ok || d.Type != "AWS::CloudWatch::Dashboard" {
		t.Fatal("no Dashboard")
	}
	body := string(raw[strings.Index(string(raw), "  Dashboard:"):])
	for _, m := range []string{app.MetricEnrolments, app.MetricTransitions, app.MetricActivations, app.MetricProviderLatency,
		app.MetricProviderRejections, app.MetricINIPECDeliveries, app.MetricINIPECFailures, app.MetricImportRows, app.MetricBounces, app.MetricQuotaWarnings, app.MetricQuotaFull} {
		if !strings.Contains(body, `"`+m+`"`) {
			t.Errorf("the dashboard does not show %s", m)
		}
	}
}
