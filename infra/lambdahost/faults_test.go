package lambdahost_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/pecplatform/pec/infra/lambdahost"
)

func TestParseFaults_ReadsRatesKindsModesAndRefusesNonsense(t *testing.T) {
	rules, err := lambdahost.ParseFaults("dynamodb=0.1, states=0.25:lost, ses=0.5:throttle:delay=2s:before:lost")
	if err != nil {
		t.Fatal(err)
	}
	if r := rules["dynamodb"]; r.Rate != 0.1 || strings.Join(r.Kinds, ",") != "throttle,5xx" || strings.Join(r.Modes, ",") != "before" {
		t.Errorf("dynamodb: %+v", r)
	}
	if r := rules["states"]; strings.Join(r.Modes, ",") != "lost" {
		t.Errorf("states: %+v", r)
	}
	if r := rules["ses"]; strings.Join(r.Kinds, ",") != "throttle,delay" || r.Delay != 2*time.Second || len(r.Modes) != 2 {
		t.Errorf("ses: %+v", r)
	}
	for _, bad := range []string{"dynamodb", "dynamodb=2", "dynamodb=x", "ses=0.1:sometimes", "ses=0.1:delay=soon", "=0.1"} {
		if _, err := lambdahost.ParseFaults(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// faultHost serves a host whose emulators are fakes, with faults.
func faultHost(t *testing.T, spec string, seed int64) (url string, faults *lambdahost.Faults, ddb, moto, ses *fakeEmulator) {
	t.Helper()
	faults, err := lambdahost.NewFaults(spec, seed)
	if err != nil {
		t.Fatal(err)
	}
	ddb, moto, ses = newFakeEmulator(t, "dynamodb"), newFakeEmulator(t, "moto"), newFakeEmulator(t, "ses")
	f := newFixture(t, func(o *lambdahost.Options) {
		o.DynamoDBURL, o.MotoURL, o.SESURL = ddb.srv.URL, moto.srv.URL, ses.srv.URL
		o.Faults = faults
	})
	srv := httptest.NewServer(f.host)
	t.Cleanup(srv.Close)
	return srv.URL, faults, ddb, moto, ses
}

func sdkConfig(url string) aws.Config {
	return aws.Config{Region: "eu-south-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 3,
		Credentials: credentials.NewStaticCredentialsProvider("ak", "sk", "")}
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestFaults_EachServiceGetsItsOwnThrottlingErrorBeforeTheEmulator(t *testing.T) {
	url, faults, ddb, moto, ses := faultHost(t, "dynamodb=1:throttle,states=1:throttle,ses=1:throttle", 1)
	ctx := context.Background()
	cfg := sdkConfig(url)

	_, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
	if c := errorCode(err); c != "ThrottlingException" {
		t.Errorf("dynamodb: %v (code %q)", err, c)
	}
	_, err = sfn.NewFromConfig(cfg).SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("tok"), Output: aws.String("{}")})
	if c := errorCode(err); c != "ThrottlingException" {
		t.Errorf("states: %v (code %q)", err, c)
	}
	_, err = sesv2.NewFromConfig(cfg).SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("a@b.it"),
		Destination: &sestypes.Destination{ToAddresses: []string{"c@d.it"}},
		Content:     &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("b")}}}}})
	var tooMany *sestypes.TooManyRequestsException
	if !errors.As(err, &tooMany) {
		t.Errorf("ses: %v, want TooManyRequestsException", err)
	}
	if n := len(ddb.got()) + len(moto.got()) + len(ses.got()); n != 0 {
		t.Errorf("%d calls reached an emulator", n)
	}
	// The SDK's retryer took them for throttles: three attempts each.
	for _, s := range []string{"dynamodb", "states", "ses"} {
		if c := faults.Counts()[s]; c.Calls != 3 || c.Throttle != 3 || c.Lost != 0 {
			t.Errorf("%s counts %+v, want 3 calls, 3 throttles", s, c)
		}
	}
}

func TestFaults_LostAnswersReachTheEmulatorAndServerErrorsAreRetried(t *testing.T) {
	url, faults, ddb, _, _ := faultHost(t, "dynamodb=1:5xx:lost", 1)
	_, err := dynamodb.NewFromConfig(sdkConfig(url)).ListTables(context.Background(), &dynamodb.ListTablesInput{})
	if c := errorCode(err); c != "InternalServerError" {
		t.Errorf("dynamodb: %v (code %q)", err, c)
	}
	if n := len(ddb.got()); n != 3 {
		t.Errorf("the emulator carried out %d calls, want the 3 attempts", n)
	}
	if c := faults.Counts()["dynamodb"]; c.Server != 3 || c.Lost != 3 {
		t.Errorf("counts %+v", c)
	}
}

func TestFaults_ShareIsAboutTheRateAndTheSameSeedGivesTheSameFaults(t *testing.T) {
	run := func(seed int64) []bool {
		f, err := lambdahost.NewFaults("dynamodb=0.1", seed)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]bool, 2000)
		for i := range out {
			out[i] = f.Decide("dynamodb")
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	count := 0
	same, differ := true, false
	for i := range a {
		if a[i] {
			count++
		}
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
	}
	if count < 150 || count > 250 {
		t.Errorf("%d faults in 2000 calls at 10%%", count)
	}
	if !same || !differ {
		t.Errorf("same seed same faults: %v; another seed other faults: %v", same, differ)
	}
}

func TestFaults_DelayHoldsTheCallThenForwardsIt_CountersAreServed(t *testing.T) {
	url, _, ddb, _, _ := faultHost(t, "dynamodb=1:delay=300ms", 1)
	start := time.Now()
	if _, err := dynamodb.NewFromConfig(sdkConfig(url)).ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || len(ddb.got()) != 1 {
		t.Errorf("took %v, emulator saw %d calls", d, len(ddb.got()))
	}
	resp, err := http.Get(url + "/_local/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Counts map[string]lambdahost.FaultCount `json:"counts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Counts["dynamodb"].Delay != 1 {
		t.Errorf("GET /_local/faults: %v %+v", err, v)
	}
	req, _ := http.NewRequest(http.MethodPut, url+"/_local/faults", strings.NewReader(`{"spec":"dynamodb=0"}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT /_local/faults: %v", err)
	}
	start = time.Now()
	if _, err := dynamodb.NewFromConfig(sdkConfig(url)).ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil || time.Since(start) > 250*time.Millisecond {
		t.Errorf("after PUT: %v in %v", err, time.Since(start))
	}
}

func TestFaults_LambdaInvokeIsThrottledOrRunsWithItsAnswerLost(t *testing.T) {
	faults, err := lambdahost.NewFaults("lambda=1:throttle", 1)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(o *lambdahost.Options) { o.Faults = faults })
	invoke := func() reply {
		return f.do(t, "POST", "/2015-03-31/functions/LiteralFunction/invocations", strings.NewReader(`{}`), nil)
	}
	r := invoke()
	if r.Status != http.StatusTooManyRequests || !strings.HasPrefix(r.Header.Get("X-Amzn-Errortype"), "TooManyRequestsException") || f.toys.count("literal") != 0 {
		t.Errorf("throttled invoke: %d %s %q, the function ran %d times", r.Status, r.Body, r.Header.Get("X-Amzn-Errortype"), f.toys.count("literal"))
	}
	if err := faults.Set("lambda=1:5xx:lost", 1); err != nil {
		t.Fatal(err)
	}
	if r := invoke(); r.Status != http.StatusInternalServerError || f.toys.count("literal") != 1 {
		t.Errorf("lost invoke: %d %s, the function ran %d times, want once", r.Status, r.Body, f.toys.count("literal"))
	}
	if c := faults.Counts()["lambda"]; c.Calls != 2 || c.Throttle != 1 || c.Server != 1 || c.Lost != 1 {
		t.Errorf("counts %+v", c)
	}
}
