package lambdahost_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pecplatform/pec/infra/lambdahost"
)

// fakeEmulator records what reaches it.
type fakeEmulator struct {
	mu   sync.Mutex
	reqs []seen
	srv  *httptest.Server
}

type seen struct {
	method, uri, host, body string
	header                  http.Header
}

func newFakeEmulator(t *testing.T, name string) *fakeEmulator {
	e := &fakeEmulator{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.reqs = append(e.reqs, seen{r.Method, r.RequestURI, r.Host, string(b), r.Header.Clone()})
		e.mu.Unlock()
		w.Header().Set("X-Amzn-Requestid", name+"-id")
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{"from":"`+name+`"}`)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *fakeEmulator) got() []seen {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]seen(nil), e.reqs...)
}

const sigV4 = "AWS4-HMAC-SHA256 Credential=ak/20250101/eu-south-1/%s/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"

func sign(service string) string { return strings.Replace(sigV4, "%s", service, 1) }

func TestForwarding_SendsAWSCallsToTheirEmulatorUntouched(t *testing.T) {
	ddb, moto, ses := newFakeEmulator(t, "dynamodb"), newFakeEmulator(t, "moto"), newFakeEmulator(t, "ses")
	var intercepted []lambdahost.AWSCall
	f := newFixture(t, func(o *lambdahost.Options) {
		o.DynamoDBURL, o.MotoURL, o.SESURL = ddb.srv.URL, moto.srv.URL, ses.srv.URL
		o.Intercept = func(w http.ResponseWriter, r *http.Request, c lambdahost.AWSCall) bool {
			intercepted = append(intercepted, c)
			if c.Operation == "DeleteTable" { // answered by the hook itself
				w.Header().Set("X-Amzn-Errortype", "ThrottlingException")
				w.WriteHeader(400)
				return true
			}
			return false
		}
	})

	body := `{"TableName":"pec-local-orders","Item":{"pk":{"S":"RSSMRA80A01H501U"}}}`
	r := f.do(t, "POST", "/", strings.NewReader(body), map[string]string{
		"Authorization": sign("dynamodb"), "X-Amz-Target": "DynamoDB_20120810.PutItem",
		"Content-Type": "application/x-amz-json-1.0", "X-Amz-Date": "20250101T000000Z",
	})
	if r.Status != 200 || string(r.Body) != `{"from":"dynamodb"}` || r.Header.Get("X-Amzn-Requestid") != "dynamodb-id" {
		t.Fatalf("dynamodb: %d %s", r.Status, r.Body)
	}
	got := ddb.got()
	if len(got) != 1 || got[0].body != body || got[0].host != "127.0.0.1:3000" || got[0].uri != "/" ||
		got[0].header.Get("Authorization") != sign("dynamodb") || got[0].header.Get("X-Amz-Date") != "20250101T000000Z" ||
		got[0].header.Get("X-Amz-Target") != "DynamoDB_20120810.PutItem" {
		t.Errorf("dynamodb saw %+v", got)
	}

	// SES v2 by path, even on a path shape an API route could match.
	r = f.do(t, "POST", "/v2/email/outbound-emails", strings.NewReader(`{}`), map[string]string{"Authorization": sign("ses")})
	if string(r.Body) != `{"from":"ses"}` {
		t.Errorf("ses: %d %s", r.Status, r.Body)
	}
	// Everything else to moto: Step Functions (JSON 1.0 target), S3 (REST), a signed call on an API route.
	r = f.do(t, "POST", "/", strings.NewReader(`{}`), map[string]string{"Authorization": sign("states"), "X-Amz-Target": "AWSStepFunctions.StartExecution"})
	if string(r.Body) != `{"from":"moto"}` {
		t.Errorf("states: %s", r.Body)
	}
	r = f.do(t, "PUT", "/imports/a.csv?x=1", strings.NewReader("a;b"), map[string]string{"Authorization": sign("s3")})
	if string(r.Body) != `{"from":"moto"}` {
		t.Errorf("s3: %s", r.Body)
	}
	r = f.do(t, "GET", "/v1/orders/RM-01", nil, map[string]string{"Authorization": sign("execute-api")})
	if string(r.Body) != `{"from":"moto"}` || f.toys.count("echo") != 0 {
		t.Errorf("a signed call reached an API route: %s", r.Body)
	}
	// A pre-signed URL (no Authorization header) is an AWS call too.
	r = f.do(t, "PUT", "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ak%2F20250101%2Feu-south-1%2Fs3%2Faws4_request&X-Amz-Signature=abc", strings.NewReader("data"), nil)
	if string(r.Body) != `{"from":"moto"}` {
		t.Errorf("pre-signed: %s", r.Body)
	}
	mg := moto.got()
	if len(mg) != 4 || mg[1].uri != "/imports/a.csv?x=1" || mg[1].body != "a;b" || mg[1].method != "PUT" {
		t.Errorf("moto saw %+v", mg)
	}

	// The interceptor hook sees every call and may answer one itself.
	r = f.do(t, "POST", "/", strings.NewReader(`{}`), map[string]string{"Authorization": sign("dynamodb"), "X-Amz-Target": "DynamoDB_20120810.DeleteTable"})
	if r.Status != 400 || r.Header.Get("X-Amzn-Errortype") != "ThrottlingException" || len(ddb.got()) != 1 {
		t.Errorf("intercepted call: %d, dynamodb saw %d calls", r.Status, len(ddb.got()))
	}
	want := []lambdahost.AWSCall{
		{Backend: "dynamodb", Service: "dynamodb", Operation: "PutItem"},
		{Backend: "ses", Service: "ses"},
		{Backend: "moto", Service: "states", Operation: "StartExecution"},
		{Backend: "moto", Service: "s3"},
		{Backend: "moto", Service: "execute-api"},
		{Backend: "moto", Service: "s3"},
		{Backend: "dynamodb", Service: "dynamodb", Operation: "DeleteTable"},
	}
	if len(intercepted) != len(want) {
		t.Fatalf("intercepted %+v", intercepted)
	}
	for i := range want {
		if intercepted[i] != want[i] {
			t.Errorf("call %d = %+v, want %+v", i, intercepted[i], want[i])
		}
	}
	if logs := f.logs.String(); !strings.Contains(logs, `"route":"aws dynamodb dynamodb PutItem"`) || strings.Contains(logs, "RSSMRA80A01H501U") {
		t.Errorf("forwarded call log:\n%s", logs)
	}
}

func TestForwarding_UnreachableEmulatorIs502(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	f := newFixture(t, func(o *lambdahost.Options) { o.MotoURL = dead.URL })
	r := f.do(t, "POST", "/", strings.NewReader(`{}`), map[string]string{"X-Amz-Target": "AWSStepFunctions.ListStateMachines"})
	if r.Status != 502 {
		t.Errorf("status %d", r.Status)
	}
	r = f.do(t, "POST", "/v2/email/outbound-emails", strings.NewReader(`{}`), map[string]string{"Authorization": sign("ses")})
	if r.Status != 502 { // no SESURL configured
		t.Errorf("no emulator configured: %d", r.Status)
	}
}
