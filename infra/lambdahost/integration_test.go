package lambdahost_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pecplatform/pec/infra/emulators"
	"github.com/pecplatform/pec/infra/lambdahost"
)

// started handles an emulator's start: when it is not installed the test is skipped on a
// developer's machine and fails in CI (CI=true), where install-deps.sh must have run.
func started(t *testing.T, p *emulators.Process, err error) *emulators.Process {
	t.Helper()
	if err != nil {
		if errors.Is(err, emulators.ErrNotInstalled) && os.Getenv("CI") != "true" {
			t.Skipf("emulator not installed (run infra/scripts/install-deps.sh): %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := emulators.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cloud is a host served on a real port, with the emulators behind it.
type cloud struct {
	*fixture
	url                     string
	ddbURL, motoURL, sesURL string
}

// startCloud starts DynamoDB Local, moto (its MOTO_PORT = the host's port) and the SES emulator,
// and serves a host over testdata/template.yaml in front of them.
func startCloud(t *testing.T) *cloud {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	root, err := emulators.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	dirs := emulators.DefaultDirs(root)
	dirs.Logs = t.TempDir()
	ctx := context.Background()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hostPort := ln.Addr().(*net.TCPAddr).Port
	p, err := emulators.StartDynamoDB(ctx, dirs, freePort(t))
	ddb := started(t, p, err)
	p, err = emulators.StartMoto(ctx, dirs, freePort(t), hostPort)
	moto := started(t, p, err)
	p, err = emulators.StartSES(ctx, dirs, freePort(t))
	ses := started(t, p, err)

	f := newFixture(t, func(o *lambdahost.Options) {
		o.DynamoDBURL, o.MotoURL, o.SESURL = ddb.URL, moto.URL, ses.URL
	})
	srv := &http.Server{Handler: f.host, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	c := &cloud{fixture: f, url: fmt.Sprintf("http://127.0.0.1:%d", hostPort), ddbURL: ddb.URL, motoURL: moto.URL, sesURL: ses.URL}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("host log:\n%s", f.logs)
			for _, p := range []*emulators.Process{ddb, moto, ses} {
				b, _ := os.ReadFile(p.LogPath())
				t.Logf("%s log (tail):\n%s", p.Name, tail(string(b), 3000))
			}
		}
	})
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

var testCreds = credentials.NewStaticCredentialsProvider("test", "test", "")

func TestIntegration(t *testing.T) {
	t.Parallel()
	c := startCloud(t)
	ctx := context.Background()
	t0 := time.Now()
	if err := c.host.Setup(ctx); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Logf("Setup took %v", time.Since(t0).Round(time.Millisecond))

	// Every SDK client below talks to the host only: it forwards to the right emulator.
	db := dynamodb.New(dynamodb.Options{Region: "eu-south-1", BaseEndpoint: aws.String(c.url), Credentials: testCreds,
		DisableValidateResponseChecksum: true})
	sf := sfn.New(sfn.Options{Region: "eu-south-1", BaseEndpoint: aws.String(c.url), Credentials: testCreds})

	t.Run("Setup created the table with its GSI and TTL", func(t *testing.T) {
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("pec-local-orders")})
		if err != nil {
			t.Fatal(err)
		}
		tbl := d.Table
		if len(tbl.KeySchema) != 2 || len(tbl.GlobalSecondaryIndexes) != 1 {
			t.Fatalf("table %+v", tbl)
		}
		g := tbl.GlobalSecondaryIndexes[0]
		if aws.ToString(g.IndexName) != "gsi1" || g.Projection.ProjectionType != ddbtypes.ProjectionTypeInclude ||
			len(g.Projection.NonKeyAttributes) != 1 || g.Projection.NonKeyAttributes[0] != "state" {
			t.Errorf("gsi %+v", g)
		}
		if tbl.BillingModeSummary == nil || tbl.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
			t.Errorf("billing %+v", tbl.BillingModeSummary)
		}
		ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("pec-local-orders")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expiresAt" || ttl.TimeToLiveDescription.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled {
			t.Errorf("ttl %+v", ttl.TimeToLiveDescription)
		}
	})

	t.Run("Setup is idempotent", func(t *testing.T) {
		if err := c.host.Setup(ctx); err != nil {
			t.Fatalf("second Setup: %v", err)
		}
		l, err := sf.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.StateMachines) != 1 || aws.ToString(l.StateMachines[0].StateMachineArn) != c.host.StateMachines()[0] {
			t.Errorf("state machines %+v", l.StateMachines)
		}
	})

	t.Run("Setup updates a changed definition", func(t *testing.T) {
		// Another host over the same emulators, with a different substitution value.
		other := newFixture(t, func(o *lambdahost.Options) {
			o.DynamoDBURL, o.MotoURL = c.ddbURL, c.motoURL
			o.Parameters = map[string]string{"BigThreshold": "1000"}
		})
		if err := other.host.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		d, err := sf.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(c.host.StateMachines()[0])})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(aws.ToString(d.Definition), `"NumericGreaterThan": 1000`) {
			t.Errorf("definition not updated:\n%s", aws.ToString(d.Definition))
		}
		if err := c.host.Setup(ctx); err != nil { // back to the template's default
			t.Fatal(err)
		}
		d, _ = sf.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(c.host.StateMachines()[0])})
		if !strings.Contains(aws.ToString(d.Definition), `"NumericGreaterThan": 10,`) {
			t.Errorf("definition not restored:\n%s", aws.ToString(d.Definition))
		}
	})

	t.Run("DynamoDB calls through the host", func(t *testing.T) {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("pec-local-orders"), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "ORDER#RM-01"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "META"},
			"gsi1pk": &ddbtypes.AttributeValueMemberS{Value: "ORDERS"}, "state": &ddbtypes.AttributeValueMemberS{Value: "ACTIVE"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		q, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("pec-local-orders"), IndexName: aws.String("gsi1"),
			KeyConditionExpression:    aws.String("gsi1pk = :p"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": &ddbtypes.AttributeValueMemberS{Value: "ORDERS"}}})
		if err != nil || len(q.Items) != 1 {
			t.Fatalf("query: %v %+v", err, q)
		}
		// DynamoDB Local's own validation reaches the client as the typed error.
		_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("pec-local-orders"),
			Item:                map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "x"}},
			ConditionExpression: aws.String("attribute_not_exists(pk)")})
		var ve interface{ ErrorCode() string }
		if !errors.As(err, &ve) || ve.ErrorCode() != "ValidationException" {
			t.Errorf("missing sort key: %v", err)
		}
	})

	t.Run("SES v2 calls through the host", func(t *testing.T) {
		ses := sesv2.New(sesv2.Options{Region: "eu-south-1", BaseEndpoint: aws.String(c.url), Credentials: testCreds})
		_, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("noreply@pec.example"),
			Destination:      &sestypes.Destination{ToAddresses: []string{"mario@example.it"}},
			Content: &sestypes.EmailContent{Simple: &sestypes.Message{
				Subject: &sestypes.Content{Data: aws.String("Attivazione")},
				Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("ciao")}},
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(c.sesURL + "/store")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), "mario@example.it") || !strings.Contains(string(b), "Attivazione") {
			t.Errorf("SES store: %s", b)
		}
	})

	t.Run("a state machine's Lambda task runs the function through the Invoke API", func(t *testing.T) {
		arn := c.host.StateMachines()[0]
		cases := []struct {
			name, input, size string
			check             func(out map[string]any) error
		}{
			{"big", `{"n":7}`, "big", func(out map[string]any) error {
				if out["n"] != 14.0 || out["table"] != "pec-local-orders" {
					return fmt.Errorf("worker result not in output")
				}
				// The interpreter's dynamodb:putItem went through the host to DynamoDB Local.
				g, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("pec-local-orders"), Key: map[string]ddbtypes.AttributeValue{
					"pk": &ddbtypes.AttributeValueMemberS{Value: "RUN#14"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "RUN"}}})
				if err != nil || g.Item == nil {
					return fmt.Errorf("the DynamoDB task's item is missing (%v)", err)
				}
				return nil
			}},
			{"negative", `{"n":-1}`, "rejected", func(out map[string]any) error {
				e, _ := out["error"].(map[string]any)
				if e["Error"] != "NegativeError" { // the Go type name, matched by Catch
					return fmt.Errorf("error %v", e)
				}
				return nil
			}},
			{"small", `{"n":2}`, "small", nil},
		}
		for i, tc := range cases {
			start, err := sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn),
				Name: aws.String(fmt.Sprintf("run-%d-%s", i, tc.name)), Input: aws.String(tc.input)})
			if err != nil {
				t.Fatalf("%s: StartExecution: %v", tc.name, err)
			}
			d := waitExecution(t, sf, aws.ToString(start.ExecutionArn))
			if d.Status != sfntypes.ExecutionStatusSucceeded {
				t.Errorf("%s: status %s, error %s cause %s", tc.name, d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
				continue
			}
			var out map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil {
				t.Fatalf("%s: output %q", tc.name, aws.ToString(d.Output))
			}
			if out["size"] != tc.size {
				t.Errorf("%s: output %s", tc.name, aws.ToString(d.Output))
			}
			if tc.check != nil {
				if err := tc.check(out); err != nil {
					t.Errorf("%s: %v: %s", tc.name, err, aws.ToString(d.Output))
				}
			}
		}
		if n := c.toys.count("worker"); n != 3 {
			t.Errorf("worker ran %d times, want 3", n)
		}
		if !strings.Contains(c.logs.String(), `"route":"POST /2015-03-31/functions/{name}/invocations"`) {
			t.Errorf("no Invoke API call in the host log")
		}
	})
}

func waitExecution(t *testing.T, sf *sfn.Client, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := sf.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeExecution: %v", err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning || time.Now().After(deadline) {
			return d
		}
		time.Sleep(100 * time.Millisecond)
	}
}
