package lambdahost

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a function that keeps the events it gets, by function.
type recorder struct {
	mu     sync.Mutex
	events map[string][]map[string]any
}

func (r *recorder) constructors(ids ...string) map[string]Constructor {
	out := map[string]Constructor{}
	for _, id := range ids {
		out[id] = func(context.Context, func(string) string) (any, error) {
			return func(ctx context.Context, ev map[string]any) error {
				r.mu.Lock()
				defer r.mu.Unlock()
				if r.events == nil {
					r.events = map[string][]map[string]any{}
				}
				r.events[id] = append(r.events[id], ev)
				return nil
			}, nil
		}
	}
	return out
}

func (r *recorder) take() map[string][]map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newInlineHost builds a Host over yml (no emulator) whose functions record their events.
func newInlineHost(t *testing.T, yml string, ids ...string) (*Host, *recorder, *lockedBuffer, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(p, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, logs := &recorder{}, &lockedBuffer{}
	h, err := New(context.Background(), Options{TemplatePath: p, Functions: rec.constructors(ids...), KeyDir: t.TempDir(),
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	return h, rec, logs, err
}

func waitIdle(t *testing.T, h *Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

const rulesTemplate = `
Resources:
  EmailConfigurationSet: {Type: AWS::SES::ConfigurationSet}
  Documents:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration: {EventBridgeConfiguration: {EventBridgeEnabled: true}}
  EmailEventsFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        SesEvents:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [aws.ses]
              detail-type: [Email Bounced, Email Complaint Received]
              resources: [!Sub "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${EmailConfigurationSet}"]
  BouncesFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Bounces:
          Type: EventBridgeRule
          Properties:
            Pattern: '{"source": ["aws.ses"], "detail-type": ["Email Bounced"]}'
  UploadsFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Uploaded:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [aws.s3]
              detail-type: [Object Created]
              detail:
                bucket: {name: [!Ref Documents]}
                object: {key: [{prefix: uploads/}]}
        Ec2:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [aws.ec2]}
        OtherBus:
          Type: EventBridgeRule
          Properties:
            EventBusName: orders
            Pattern: {source: [aws.s3]}
        Anything:
          Type: EventBridgeRule
          Properties:
            Pattern: {detail-type: [Object Deleted]}
            InputPath: $.detail
`

func TestEventBridgeRules_FromTheTemplate(t *testing.T) {
	h, _, logs, err := newInlineHost(t, rulesTemplate, "EmailEventsFunction", "BouncesFunction", "UploadsFunction")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	rules := map[string]*ebRule{}
	for _, r := range h.ebRules {
		got = append(got, r.fn.id+"."+r.event+" "+strings.Join(r.sources, ","))
		rules[r.event] = r
	}
	slices.Sort(got)
	want := []string{"BouncesFunction.Bounces aws.ses", "EmailEventsFunction.SesEvents aws.ses",
		"UploadsFunction.Anything aws.s3,aws.ses", "UploadsFunction.Uploaded aws.s3"}
	if !slices.Equal(got, want) {
		t.Errorf("rules %q, want %q", got, want)
	}
	if p, _ := json.Marshal(rules["Uploaded"].pattern); string(p) !=
		`{"detail":{"bucket":{"name":["pec-local-documents"]},"object":{"key":[{"prefix":"uploads/"}]}},"detail-type":["Object Created"],"source":["aws.s3"]}` {
		t.Errorf("Uploaded pattern %s", p)
	}
	for _, line := range []string{
		`"msg":"EventBridge rule never raised locally (only aws.s3 and aws.ses events are)","function":"UploadsFunction","event":"Ec2"`,
		`"msg":"EventBridge rule never raised locally (AWS services' events go to the default bus only)","function":"UploadsFunction","event":"OtherBus"`,
		`"msg":"EventBridge rule's InputPath not applied locally: the function gets the whole event","function":"UploadsFunction","event":"Anything"`,
	} {
		if n := strings.Count(logs.String(), line); n != 1 {
			t.Errorf("%d times in the log: %s\n%s", n, line, logs)
		}
	}

	// An S3 rule in a template whose buckets do not send their events to EventBridge.
	_, _, logs, err = newInlineHost(t, strings.Replace(rulesTemplate, "EventBridgeEnabled: true", "EventBridgeEnabled: false", 1),
		"EmailEventsFunction", "BouncesFunction", "UploadsFunction")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), `"msg":"EventBridge rule never raised: no bucket of the template sends its events to EventBridge`); n != 1 ||
		!strings.Contains(logs.String(), `EventBridgeEnabled)","function":"UploadsFunction","event":"Uploaded"`) {
		t.Errorf("%d warnings:\n%s", n, logs)
	}

	for name, pattern := range map[string]string{
		"not a list": `{source: aws.s3}`,
		"unknown":    `{source: [{contains: s3}]}`,
		"not an obj": `[aws.s3]`,
	} {
		_, _, _, err := newInlineHost(t, `
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: EventBridgeRule, Properties: {Pattern: `+pattern+`}}
`, "Fn")
		if err == nil || !strings.Contains(err.Error(), "function Fn: event E: Pattern") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// SES's events go through the rules: the pattern decides, resources included.
func TestRaiseSES_DeliversToTheMatchingRules(t *testing.T) {
	h, rec, _, err := newInlineHost(t, rulesTemplate, "EmailEventsFunction", "BouncesFunction", "UploadsFunction")
	if err != nil {
		t.Fatal(err)
	}
	send := sendEmail{FromEmailAddress: "noreply@pec.example", ConfigurationSetName: "EmailConfigurationSet"}
	send.EmailTags = append(send.EmailTags, struct{ Name, Value string }{"mailbox", "mb-1"})
	h.raiseSES(detailBounce, send, "msg-1", []string{simulatorBounce}, simulatorBounce)
	h.raiseSES(detailComplaint, send, "msg-2", []string{simulatorComplaint}, simulatorComplaint)
	waitIdle(t, h)
	got := rec.take()
	if len(got["EmailEventsFunction"]) != 2 || len(got["BouncesFunction"]) != 1 || len(got["UploadsFunction"]) != 0 {
		t.Fatalf("deliveries %v", got)
	}
	b := got["BouncesFunction"][0]
	detail, _ := b["detail"].(map[string]any)
	mail, _ := detail["mail"].(map[string]any)
	if b["source"] != "aws.ses" || b["detail-type"] != detailBounce || detail["eventType"] != "Bounce" || mail["messageId"] != "msg-1" ||
		b["resources"].([]any)[0] != "arn:aws:ses:eu-south-1:123456789012:configuration-set/EmailConfigurationSet" {
		t.Errorf("bounce event %v", b)
	}
	if tags, _ := json.Marshal(mail["tags"]); string(tags) != `{"mailbox":["mb-1"],"ses:configuration-set":["EmailConfigurationSet"]}` {
		t.Errorf("tags %s", tags)
	}

	// Another configuration set: only the rule that does not name one takes it.
	send.ConfigurationSetName = "other"
	h.raiseSES(detailBounce, send, "msg-3", []string{simulatorBounce}, simulatorBounce)
	waitIdle(t, h)
	if got := rec.take(); len(got["EmailEventsFunction"]) != 0 || len(got["BouncesFunction"]) != 1 {
		t.Errorf("deliveries %v", got)
	}
}
