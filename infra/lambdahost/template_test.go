package lambdahost

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadInline(t *testing.T, yml string, overrides map[string]string) *template {
	t.Helper()
	p := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(p, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := loadTemplate(p, "eu-south-1", overrides)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

const intrinsicsTemplate = `
Parameters:
  Stage: {Type: String, Default: local}
  Domains: {Type: CommaDelimitedList, Default: "a.it,b.it"}
  NoDefault: {Type: String}
Mappings:
  Albo:
    TSRM: {Domain: pec.tsrm.org}
Conditions:
  IsLocal: !Equals [local, !Ref Stage]
  Both: !And [!Condition IsLocal, !Not [!Equals [!Ref Stage, prod]]]
  Either: !Or [!Equals [x, y], {Condition: Both}]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub ${AWS::StackName}-fn
      Values:
        ref: !Ref Stage
        long: {Ref: Stage}
        getAttList: !GetAtt [Fn, Arn]
        getAttLong: {"Fn::GetAtt": [Table, Arn]}
        stream: !GetAtt Table.StreamArn
        machineName: !GetAtt Machine.Name
        sub: !Sub "${Stage}:${Table}:${Machine}:${Fn.Arn}:${AWS::URLSuffix}"
        join: !Join [",", !Ref Domains]
        select: !Select [1, !Ref Domains]
        split: !Select [0, !Split ["@", "user@pec.it"]]
        map: !FindInMap [Albo, TSRM, Domain]
        both: !If [Both, yes, no]
        either: !If [Either, yes, no]
        nested: !Sub ["${A}-${B}", {A: !Ref Stage, B: !Join ["", [x, !Ref Stage]]}]
        list: [a, !Ref AWS::NoValue, !Ref Stage]
        bool: true
        queue: !Ref Queue
        queueArn: !GetAtt Queue.Arn
        bucket: !Ref Bucket
        other: !Ref Other
      Bad:
        getAtt: !GetAtt Other.Something
        noDefault: !Ref NoDefault
        missing: !Ref Nowhere
        unsupported: !ImportValue x
  Table: {Type: AWS::DynamoDB::Table}
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties: {Name: !Sub "${Stage}-flow"}
  Queue: {Type: AWS::SQS::Queue}
  Bucket: {Type: AWS::S3::Bucket, Properties: {BucketName: Pec-Uploads}}
  Other: {Type: AWS::Events::Rule}
`

func TestResolve_Intrinsics(t *testing.T) {
	tpl := loadInline(t, intrinsicsTemplate, nil)
	values, err := tpl.resolve(get(tpl.resources["Fn"].Props, "Values"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(values)
	want := map[string]any{
		"ref":         "local",
		"long":        "local",
		"getAttList":  "arn:aws:lambda:eu-south-1:123456789012:function:pec-local-fn",
		"getAttLong":  "arn:aws:dynamodb:eu-south-1:123456789012:table/Table",
		"stream":      "arn:aws:dynamodb:eu-south-1:123456789012:table/Table/stream/local",
		"machineName": "local-flow",
		"sub":         "local:Table:arn:aws:states:eu-south-1:123456789012:stateMachine:local-flow:arn:aws:lambda:eu-south-1:123456789012:function:pec-local-fn:amazonaws.com",
		"join":        "a.it,b.it",
		"select":      "b.it",
		"split":       "user",
		"map":         "pec.tsrm.org",
		"both":        "yes",
		"either":      "yes",
		"nested":      "local-xlocal",
		"list":        []any{"a", "local"},
		"bool":        true,
		"queue":       "https://sqs.eu-south-1.amazonaws.com/123456789012/Queue",
		"queueArn":    "arn:aws:sqs:eu-south-1:123456789012:Queue",
		"bucket":      "pec-uploads",
		"other":       "Other",
	}
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("resolved\n%s\nwant\n%s", got, wantJSON)
	}
	for _, k := range []string{"getAtt", "noDefault", "missing", "unsupported"} {
		if _, err := tpl.resolve(get(get(tpl.resources["Fn"].Props, "Bad"), k)); err == nil {
			t.Errorf("Bad.%s resolved without error", k)
		}
	}
	over := loadInline(t, intrinsicsTemplate, map[string]string{"Stage": "prod", "NoDefault": "given"})
	if s, err := over.resolveString(get(get(over.resources["Fn"].Props, "Values"), "both")); err != nil || s != "no" {
		t.Errorf("with Stage=prod: both = %q, %v", s, err)
	}
	if s, err := over.resolveString(get(get(over.resources["Fn"].Props, "Bad"), "noDefault")); err != nil || s != "given" {
		t.Errorf("parameter override: %q, %v", s, err)
	}
}

func TestStateMachine_DefinitionSubstituted(t *testing.T) {
	h := &Host{region: "eu-south-1", apis: map[string]*httpAPI{}}
	var err error
	if h.tpl, err = loadTemplate("testdata/template.yaml", h.region, nil); err != nil {
		t.Fatal(err)
	}
	m, err := h.buildStateMachine(h.tpl.resources["Workflow"])
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Workflow" || m.Type != "STANDARD" || m.Arn != "arn:aws:states:eu-south-1:123456789012:stateMachine:Workflow" {
		t.Errorf("machine %+v", m)
	}
	if !strings.Contains(m.Definition, `"FunctionName": "arn:aws:lambda:eu-south-1:123456789012:function:WorkerFunction"`) ||
		!strings.Contains(m.Definition, `"table": "pec-local-orders"`) || strings.Contains(m.Definition, "${") {
		t.Errorf("definition not substituted:\n%s", m.Definition)
	}
}

func TestTable_FromCloudFormationProperties(t *testing.T) {
	h := &Host{region: "eu-south-1"}
	var err error
	if h.tpl, err = loadTemplate("testdata/template.yaml", h.region, nil); err != nil {
		t.Fatal(err)
	}
	spec, err := h.buildTable(h.tpl.resources["OrdersTable"])
	if err != nil {
		t.Fatal(err)
	}
	in := spec.create
	if spec.Name != "pec-local-orders" || in.BillingMode != "PAY_PER_REQUEST" || len(in.AttributeDefinitions) != 3 ||
		len(in.KeySchema) != 2 || len(in.GlobalSecondaryIndexes) != 1 || spec.ttl == nil || *spec.ttl.AttributeName != "expiresAt" {
		t.Fatalf("spec %+v", spec)
	}
	g := in.GlobalSecondaryIndexes[0]
	if *g.IndexName != "gsi1" || g.Projection.ProjectionType != "INCLUDE" || len(g.Projection.NonKeyAttributes) != 1 {
		t.Errorf("gsi %+v", g)
	}
}

func TestCheckASL(t *testing.T) {
	cases := map[string]string{
		`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`:                                                                  "",
		`{"StartAt":"B","States":{"A":{"Type":"Pass","End":true}}}`:                                                                  "StartAt",
		`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Z"}}}`:                                                                  `Next "Z"`,
		`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"x"}}}`:                                                              "neither Next nor End",
		`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Next":"Q"}],"Default":"A"}}}`:                                    `Choices.Next "Q"`,
		`{"StartAt":"A","States":{"A":{"Type":"Task","End":true,"Catch":[{"Next":"Nope"}]}}}`:                                        `Catch.Next "Nope"`,
		`{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"X","States":{}}]}}}`:                     "branch 0",
		`{"StartAt":"A","States":{"A":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Succeed"}}}}}}`: "",
	}
	for def, want := range cases {
		var m map[string]any
		if err := json.Unmarshal([]byte(def), &m); err != nil {
			t.Fatal(err)
		}
		err := checkASL(m)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: unexpected %v", def, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want one mentioning %q", def, err, want)
		}
	}
}

func TestParseRate(t *testing.T) {
	for expr, want := range map[string]string{"rate(1 minute)": "1m0s", "rate(5 minutes)": "5m0s", "rate(2 hours)": "2h0m0s", "rate(1 day)": "24h0m0s", "rate(10 seconds)": "10s"} {
		d, err := parseRate(expr)
		if err != nil || d.String() != want {
			t.Errorf("%s = %v, %v; want %s", expr, d, err, want)
		}
	}
	for _, bad := range []string{"rate(0 minutes)", "rate(minutes)", "rate(5 fortnights)", "rate(5 minutes"} {
		if _, err := parseRate(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

const implicitAPITemplate = `
Globals:
  HttpApi:
    Auth:
      DefaultAuthorizer: Jwt
      Authorizers:
        Jwt:
          JwtConfiguration:
            issuer: https://issuer.example
            audience: [aud]
Resources:
  Slow:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Timeout: 0.1
      Events:
        Get:
          Type: HttpApi
          Properties:
            Path: /slow
            Method: GET
        Open:
          Type: HttpApi
          Properties:
            Path: /open
            Method: GET
            Auth:
              Authorizer: NONE
  Inline:
    Type: AWS::Serverless::StateMachine
    Properties:
      Type: EXPRESS
      Definition:
        StartAt: Call
        States:
          Call:
            Type: Task
            Resource: !GetAtt Slow.Arn
            End: true
`

// Events without ApiId belong to SAM's implicit API, configured by Globals.HttpApi; a function
// still running at its Timeout is reported as Lambda does.
func TestImplicitAPIAndTimeout(t *testing.T) {
	p := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(p, []byte(implicitAPITemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	h, err := New(context.Background(), Options{
		TemplatePath: p,
		KeyDir:       t.TempDir(),
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Functions: map[string]Constructor{"Slow": func(context.Context, func(string) string) (any, error) {
			return func(ctx context.Context) error { <-release; return nil }, nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rs := h.Routes()
	if len(rs) != 2 || rs[0].Path != "/open" || rs[0].Authorizer != "" || rs[1].Path != "/slow" || rs[1].Authorizer != "Jwt" {
		t.Errorf("routes %+v", rs)
	}
	if h.routes[1].auth.issuer != "https://issuer.example" || h.routes[1].auth.audience[0] != "aud" {
		t.Errorf("authorizer %+v", h.routes[1].auth)
	}
	_, err = h.Invoke(context.Background(), "Slow", nil)
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" || !strings.Contains(fe.Message, "Task timed out after 0.10 seconds") {
		t.Errorf("timeout: %v", err)
	}
	m := h.machines[0]
	if m.Type != "EXPRESS" || !strings.Contains(m.Definition, `"Resource":"arn:aws:lambda:eu-south-1:123456789012:function:Slow"`) {
		t.Errorf("inline definition: %+v", m)
	}
}
