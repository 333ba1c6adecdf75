package lambdahost_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pecplatform/pec/infra/lambdahost"
)

func TestNew_FunctionWithoutConstructorFails(t *testing.T) {
	cons := (&toys{calls: map[string]int{}, env: map[string]func(string) string{}}).constructors()
	delete(cons, "functions/batch")
	_, err := lambdahost.New(context.Background(), lambdahost.Options{
		TemplatePath: "testdata/template.yaml", Functions: cons, KeyDir: t.TempDir(),
		Env: map[string]string{"FROM_ELSEWHERE": "x"},
	})
	if err == nil || !strings.Contains(err.Error(), "BatchFunction") {
		t.Fatalf("err = %v, want one naming BatchFunction", err)
	}
}

func TestNew_UnresolvableEnvironmentNeedsALocalValue(t *testing.T) {
	_, err := lambdahost.New(context.Background(), lambdahost.Options{
		TemplatePath: "testdata/template.yaml",
		Functions:    (&toys{calls: map[string]int{}, env: map[string]func(string) string{}}).constructors(),
		KeyDir:       t.TempDir(),
	})
	if err == nil || !strings.Contains(err.Error(), "FROM_ELSEWHERE") {
		t.Fatalf("err = %v, want one naming FROM_ELSEWHERE (an !ImportValue)", err)
	}
}

func TestEnvironment_ResolvesTemplateIntrinsics(t *testing.T) {
	f := newFixture(t)
	getenv := f.toys.getenv("echo")
	const arnFn = "arn:aws:lambda:eu-south-1:123456789012:function:"
	want := map[string]string{
		"STAGE":                    "overridden-by-function", // the function's own variable beats Globals
		"TABLE":                    "pec-local-orders",       // Globals, !Ref to a table with a TableName
		"TABLE_ARN":                "arn:aws:dynamodb:eu-south-1:123456789012:table/pec-local-orders",
		"WORKER_ARN":               arnFn + "WorkerFunction",
		"MACHINE_ARN":              "arn:aws:states:eu-south-1:123456789012:stateMachine:Workflow",
		"SUBBED":                   "pec-local|local|pec-local-orders|eu-south-1|123456789012|aws|" + arnFn + "WorkerFunction|arn:aws:dynamodb:eu-south-1:123456789012:table/pec-local-orders",
		"SUB_VARS":                 "pec-local-orders/local",
		"SUB_LITERAL":              "${NotSubstituted}",
		"JOINED":                   "a-local-b",
		"CHOSEN":                   "local-value",
		"MAYBE":                    "", // AWS::NoValue: not set at all
		"API_URL":                  "https://local.execute-api.eu-south-1.amazonaws.com",
		"NUMBER":                   "42",
		"FROM_ELSEWHERE":           "local-value", // Options.Env
		"AWS_ENDPOINT_URL":         "http://127.0.0.1:3000",
		"AWS_REGION":               "eu-south-1",
		"AWS_LAMBDA_FUNCTION_NAME": "EchoFunction",
	}
	for k, v := range want {
		if got := getenv(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestNew_ParametersOverrideDefaults(t *testing.T) {
	f := newFixture(t, func(o *lambdahost.Options) {
		o.Parameters = map[string]string{"Stage": "prod"}
		o.Region = "eu-west-1"
		o.Functions["functions/prod-only"] = func(context.Context, func(string) string) (any, error) {
			return func() error { return nil }, nil
		}
	})
	getenv := f.toys.getenv("echo")
	if got := getenv("CHOSEN"); got != "prod-value" {
		t.Errorf("CHOSEN = %q, want prod-value", got)
	}
	if got := getenv("MAYBE"); got != "prod-only" {
		t.Errorf("MAYBE = %q, want prod-only", got)
	}
	if got := getenv("TABLE_ARN"); got != "arn:aws:dynamodb:eu-west-1:123456789012:table/pec-local-orders" {
		t.Errorf("TABLE_ARN = %q", got)
	}
	if !slices.Contains(f.host.Functions(), "ProdOnlyFunction") {
		t.Errorf("Functions() = %v, want ProdOnlyFunction (its Condition holds in prod)", f.host.Functions())
	}
}

func TestListings(t *testing.T) {
	f := newFixture(t)
	if got, want := f.host.Functions(), []string{"BatchFunction", "EchoFunction", "FailFunction", "LiteralFunction", "WorkerFunction"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Functions() = %v, want %v", got, want)
	}
	if got, want := f.host.Tables(), []string{"pec-local-orders"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Tables() = %v, want %v", got, want)
	}
	if got, want := f.host.StateMachines(), []string{"arn:aws:states:eu-south-1:123456789012:stateMachine:Workflow"}; !reflect.DeepEqual(got, want) {
		t.Errorf("StateMachines() = %v, want %v", got, want)
	}
	var keys []string
	for _, r := range f.host.Routes() {
		keys = append(keys, r.RouteKey()+" -> "+r.Function+" ["+r.Authorizer+"]")
	}
	want := []string{
		"GET /v1/orders/special -> LiteralFunction [Portal]",
		"GET /v1/orders/{orderId}/members/{codiceFiscale} -> EchoFunction [Portal]",
		"POST /v1/orders/{orderId}/members:import -> EchoFunction [Portal]",
		"GET /public/fail/{kind} -> FailFunction []",
		"GET /v1/orders/{orderId} -> EchoFunction [Portal]",
		"PUT /v1/orders/{orderId} -> LiteralFunction [Portal]",
		"ANY /public/{name} -> EchoFunction []",
		"ANY /v1/{proxy+} -> EchoFunction [Portal]",
		"POST /throttled -> EchoFunction []",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("Routes() =\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
	sch := f.host.Schedules()
	got := map[string]time.Duration{}
	for _, s := range sch {
		got[s.Function+"/"+s.Event+" "+s.Expression] = s.Every
	}
	wantSch := map[string]time.Duration{
		"BatchFunction/Every rate(1 hour)":        time.Hour,
		"BatchFunction/Nightly cron(0 2 * * ? *)": 0, // cron: run on demand only
		"FailFunction/Disabled rate(5 minutes)":   0, // Enabled: false
	}
	if !reflect.DeepEqual(got, wantSch) {
		t.Errorf("Schedules() = %v, want %v", got, wantSch)
	}
}

// routeOf tells which route answered: the echo function reports its event, literal its route key.
func routeOf(t *testing.T, r reply) string {
	t.Helper()
	var ev struct {
		RouteKey string `json:"routeKey"`
	}
	if r.Status >= 300 {
		return fmt.Sprintf("status %d", r.Status)
	}
	r.json(t, &ev)
	return ev.RouteKey
}

func TestRoutes_MostSpecificWins(t *testing.T) {
	f := newFixture(t)
	cases := []struct{ method, path, want string }{
		{"GET", "/v1/orders/special", "GET /v1/orders/special"}, // literal beats {orderId}
		{"GET", "/v1/orders/RM-01", "GET /v1/orders/{orderId}"}, // variable beats greedy
		{"PUT", "/v1/orders/RM-01", "PUT /v1/orders/{orderId}"}, // by method
		{"DELETE", "/v1/orders/RM-01", "ANY /v1/{proxy+}"},      // no DELETE route: greedy ANY
		{"GET", "/v1/orders/RM-01/members/RSSMRA80A01H501U", "GET /v1/orders/{orderId}/members/{codiceFiscale}"},
		{"POST", "/v1/orders/RM-01/members:import", "POST /v1/orders/{orderId}/members:import"},
		{"GET", "/v1/orders/RM-01/members:import", "ANY /v1/{proxy+}"}, // method mismatch falls to greedy
		{"GET", "/v1/a/b/c", "ANY /v1/{proxy+}"},
		{"PATCH", "/public/someone", "ANY /public/{name}"},
		{"GET", "/public/fail", "ANY /public/{name}"},
		{"GET", "/v1", "status 404"},      // a greedy variable needs at least one segment
		{"GET", "/nowhere", "status 404"}, // no route
		{"GET", "/v1/orders/", "ANY /v1/{proxy+}"},
	}
	for _, c := range cases {
		got := routeOf(t, f.authed(t, c.method, c.path, ""))
		if got != c.want {
			t.Errorf("%s %s -> %q, want %q", c.method, c.path, got, c.want)
		}
	}
	r := f.do(t, "GET", "/nowhere", nil, nil)
	if string(r.Body) != `{"message":"Not Found"}` {
		t.Errorf("404 body = %s", r.Body)
	}
}

func TestAPIEvent_HasPayloadFormat2Shape(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, map[string]any{"role": "order", "order": "RM-01", "scope": "read write", "groups": []string{"a", "b"}, "n": 7})
	req := f.do(t, "GET", "/v1/orders/RM%2F01/members/RSSMRA80A01H501U?x=1&x=2&y=%C3%A8&flag", nil, map[string]string{
		"Authorization": "Bearer " + tok,
		"User-Agent":    "probe/1",
		"Cookie":        "a=1; b=2",
		"X-Custom":      "v",
	})
	if req.Status != 201 {
		t.Fatalf("status %d: %s", req.Status, req.Body)
	}
	var ev events.APIGatewayV2HTTPRequest
	req.json(t, &ev)
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("version", ev.Version, "2.0")
	check("routeKey", ev.RouteKey, "GET /v1/orders/{orderId}/members/{codiceFiscale}")
	check("rawPath", ev.RawPath, "/v1/orders/RM%2F01/members/RSSMRA80A01H501U")
	check("rawQueryString", ev.RawQueryString, "x=1&x=2&y=%C3%A8&flag")
	check("queryStringParameters", ev.QueryStringParameters, map[string]string{"x": "1,2", "y": "è", "flag": ""})
	check("pathParameters", ev.PathParameters, map[string]string{"orderId": "RM/01", "codiceFiscale": "RSSMRA80A01H501U"})
	check("cookies", ev.Cookies, []string{"a=1", "b=2"})
	check("headers[x-custom]", ev.Headers["x-custom"], "v")
	check("headers[host]", ev.Headers["host"], "127.0.0.1:3000")
	check("headers[cookie]", ev.Headers["cookie"], "")
	check("headers[user-agent]", ev.Headers["user-agent"], "probe/1")
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q is not lower-case", k)
		}
	}
	check("body", ev.Body, "")
	check("isBase64Encoded", ev.IsBase64Encoded, false)
	rc := ev.RequestContext
	check("accountId", rc.AccountID, "123456789012")
	check("apiId", rc.APIID, "local")
	check("stage", rc.Stage, "$default")
	check("requestContext.routeKey", rc.RouteKey, ev.RouteKey)
	check("domainName", rc.DomainName, "127.0.0.1:3000")
	check("http.method", rc.HTTP.Method, "GET")
	check("http.path", rc.HTTP.Path, "/v1/orders/RM%2F01/members/RSSMRA80A01H501U")
	check("http.protocol", rc.HTTP.Protocol, "HTTP/1.1")
	check("http.sourceIp", rc.HTTP.SourceIP, "192.0.2.1") // httptest's RemoteAddr
	check("http.userAgent", rc.HTTP.UserAgent, "probe/1")
	if rc.RequestID == "" || rc.RequestID != req.Header.Get("Apigw-Requestid") {
		t.Errorf("requestId %q, Apigw-Requestid header %q", rc.RequestID, req.Header.Get("Apigw-Requestid"))
	}
	if ts, err := time.Parse("02/Jan/2006:15:04:05 -0700", rc.Time); err != nil || time.Since(ts) > time.Minute {
		t.Errorf("time %q: %v", rc.Time, err)
	}
	if d := time.Since(time.UnixMilli(rc.TimeEpoch)); d < 0 || d > time.Minute {
		t.Errorf("timeEpoch %d", rc.TimeEpoch)
	}
	if rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		t.Fatalf("no JWT authorizer context: %#v", rc.Authorizer)
	}
	claims := rc.Authorizer.JWT.Claims
	check("claims.role", claims["role"], "order")
	check("claims.order", claims["order"], "RM-01")
	check("claims.iss", claims["iss"], lambdahost.DefaultIssuer)
	check("claims.aud", claims["aud"], lambdahost.DefaultAudience)
	check("claims.n", claims["n"], "7")
	check("claims.groups", claims["groups"], "[a b]")
	if len(claims["exp"]) != 10 || strings.ContainsAny(claims["exp"], ".e") {
		t.Errorf("claims.exp = %q, want unix seconds as text", claims["exp"])
	}
	check("scopes", rc.Authorizer.JWT.Scopes, []string{"read", "write"})
}

func TestAPIEvent_Body(t *testing.T) {
	f := newFixture(t)
	tok := "Bearer " + f.token(t, nil)
	cases := []struct {
		contentType, body string
		base64            bool
	}{
		{"application/json; charset=utf-8", `{"name":"Ordine"}`, false},
		{"text/csv", "codiceFiscale;nome\nX;Y\n", false},
		{"application/x-www-form-urlencoded", "choice=confirm", false},
		{"application/xml", "<a/>", false},
		{"application/octet-stream", "\x00\x01binary", true},
		{"multipart/form-data; boundary=x", "--x\r\n\r\n--x--", true},
		{"", "no type", true},
	}
	for _, c := range cases {
		r := f.do(t, "POST", "/v1/orders/RM-01/members:import", strings.NewReader(c.body),
			map[string]string{"Authorization": tok, "Content-Type": c.contentType})
		var ev events.APIGatewayV2HTTPRequest
		r.json(t, &ev)
		if ev.IsBase64Encoded != c.base64 {
			t.Errorf("%q: isBase64Encoded = %v, want %v", c.contentType, ev.IsBase64Encoded, c.base64)
		}
		got := ev.Body
		if ev.IsBase64Encoded {
			b, _ := base64.StdEncoding.DecodeString(ev.Body)
			got = string(b)
		}
		if got != c.body {
			t.Errorf("%q: body %q, want %q", c.contentType, got, c.body)
		}
	}
}

func TestAPIResponse(t *testing.T) {
	f := newFixture(t)
	r := f.authed(t, "GET", "/v1/orders/RM-01", "")
	if r.Status != 201 || r.Header.Get("X-Echo") != "yes" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("echo: status %d headers %v", r.Status, r.Header)
	}
	if got := r.Header.Values("X-Multi"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("multi-value header = %v", got)
	}
	if got := r.Header.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{"a=1; Path=/", "b=2"}) {
		t.Errorf("cookies = %v", got)
	}

	// No statusCode in the output: 200, the output is the JSON body.
	r = f.authed(t, "PUT", "/v1/orders/RM-01", "")
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" ||
		string(r.Body) != `{"orderId":"RM-01","routeKey":"PUT /v1/orders/{orderId}"}` {
		t.Errorf("plain output: %d %v %s", r.Status, r.Header, r.Body)
	}

	r = f.do(t, "GET", "/public/fail/binary", nil, nil)
	if r.Status != 200 || string(r.Body) != "%PDF\x00\xff" || r.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("binary: %d %q", r.Status, r.Body)
	}

	for _, kind := range []string{"error", "panic", "malformed"} {
		r = f.do(t, "GET", "/public/fail/"+kind, nil, nil)
		if r.Status != 500 || string(r.Body) != `{"message":"Internal Server Error"}` {
			t.Errorf("%s: %d %s", kind, r.Status, r.Body)
		}
	}
	if !strings.Contains(f.logs.String(), "toy failure") || !strings.Contains(f.logs.String(), "boom") {
		t.Errorf("handler failures are not logged:\n%s", f.logs)
	}
}

func TestAPI_BodyOver10MBIs413(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	big := strings.Repeat("x", 10<<20+1)
	r := f.do(t, "POST", "/public/x", strings.NewReader(big), map[string]string{"Content-Type": "text/plain"})
	if r.Status != 413 || string(r.Body) != `{"message":"Request Entity Too Large"}` {
		t.Errorf("status %d body %s", r.Status, r.Body)
	}
	if n := f.toys.count("echo"); n != 0 {
		t.Errorf("function called %d times", n)
	}
	r = f.do(t, "POST", "/public/x", strings.NewReader(big[:10<<20]), map[string]string{"Content-Type": "text/plain"})
	if r.Status != 201 {
		t.Errorf("exactly 10 MB: status %d", r.Status)
	}
}

// TestAPI_RouteThrottling: RouteSettings throttle their route (a burst of 2, then one request
// every 2 seconds) with API Gateway's 429, before the function runs; other routes are not
// affected.
func TestAPI_RouteThrottling(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var codes []int
	for range 4 {
		codes = append(codes, f.do(t, "POST", "/throttled", nil, nil).Status)
	}
	if codes[0] != 201 || codes[1] != 201 || codes[2] != 429 || codes[3] != 429 {
		t.Fatalf("statuses %v, want 201 201 429 429", codes)
	}
	r := f.do(t, "POST", "/throttled", nil, nil)
	if r.Status != 429 || string(r.Body) != `{"message":"Too Many Requests"}` {
		t.Errorf("status %d body %s", r.Status, r.Body)
	}
	if n := f.toys.count("echo"); n != 2 {
		t.Errorf("function called %d times, want 2", n)
	}
	if r := f.do(t, "POST", "/public/x", nil, nil); r.Status != 201 {
		t.Errorf("another route: status %d", r.Status)
	}
}

func TestJWTAuthorizer(t *testing.T) {
	f := newFixture(t)
	other := &fixture{keyDir: t.TempDir()}
	now := time.Now()
	cases := []struct {
		name   string
		header string
		status int
	}{
		{"valid", "Bearer " + f.token(t, nil), 201},
		{"valid without the Bearer prefix", f.token(t, nil), 201},
		{"valid, aud a list containing ours", "Bearer " + f.token(t, map[string]any{"aud": []string{"x", lambdahost.DefaultAudience}}), 201},
		{"no token", "", 401},
		{"not a JWT", "Bearer nonsense", 401},
		{"signed by another key", "Bearer " + other.token(t, nil), 401},
		{"wrong audience", "Bearer " + f.token(t, map[string]any{"aud": "someone-else"}), 401},
		{"no audience", "Bearer " + f.token(t, map[string]any{"aud": nil}), 401},
		{"wrong issuer", "Bearer " + f.token(t, map[string]any{"iss": "https://evil.example"}), 401},
		{"expired", "Bearer " + f.token(t, map[string]any{"exp": now.Add(-time.Minute).Unix()}), 401},
		{"not yet valid", "Bearer " + f.token(t, map[string]any{"nbf": now.Add(time.Hour).Unix()}), 401},
		{"issued in the future", "Bearer " + f.token(t, map[string]any{"iat": now.Add(time.Hour).Unix()}), 401},
	}
	for _, c := range cases {
		before := f.toys.count("echo")
		r := f.do(t, "GET", "/v1/orders/RM-01", nil, map[string]string{"Authorization": c.header})
		if r.Status != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, r.Status, c.status, r.Body)
		}
		called := f.toys.count("echo") > before
		if c.status == 401 {
			if called {
				t.Errorf("%s: the function was called", c.name)
			}
			if string(r.Body) != `{"message":"Unauthorized"}` {
				t.Errorf("%s: body %s", c.name, r.Body)
			}
		}
	}
	// A token without exp is refused too (API Gateway requires it).
	tok, _ := lambdahost.SignToken(f.keyDir, map[string]any{"iss": lambdahost.DefaultIssuer, "aud": lambdahost.DefaultAudience}, 0)
	if r := f.do(t, "GET", "/v1/orders/RM-01", nil, map[string]string{"Authorization": "Bearer " + tok}); r.Status != 401 {
		t.Errorf("no exp: status %d", r.Status)
	}
	// Public routes need no token, and get no authorizer context.
	r := f.do(t, "GET", "/public/someone", nil, nil)
	var ev events.APIGatewayV2HTTPRequest
	r.json(t, &ev)
	if r.Status != 201 || ev.RequestContext.Authorizer != nil {
		t.Errorf("public route: %d authorizer %#v", r.Status, ev.RequestContext.Authorizer)
	}
}

func TestJWKS_VerifiesLocalTokens(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "GET", "/_local/jwks.json", nil, nil)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	r.json(t, &set)
	if r.Status != 200 || len(set.Keys) != 1 {
		t.Fatalf("jwks: %d %s", r.Status, r.Body)
	}
	k := set.Keys[0]
	if k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" || k["e"] != "AQAB" || len(k["n"]) < 300 {
		t.Errorf("jwk = %v", k)
	}
	tok := f.token(t, nil)
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h map[string]string
	_ = json.Unmarshal(hdr, &h)
	if h["kid"] != k["kid"] || h["alg"] != "RS256" {
		t.Errorf("token header %v, jwk kid %s", h, k["kid"])
	}
}

func TestLoadOrCreateKey_CreatesOnceWithMode0600(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "jwt")
	k1, err := lambdahost.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := lambdahost.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) || k1.N.BitLen() != 2048 {
		t.Errorf("keys differ or wrong size (%d bits)", k1.N.BitLen())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("key dir holds %d files", len(entries))
	}
	st, err := os.Stat(filepath.Join(dir, entries[0].Name()))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v (%v)", st.Mode().Perm(), err)
	}
}

func TestInvokeAPI(t *testing.T) {
	f := newFixture(t)
	const arn = "arn:aws:lambda:eu-south-1:123456789012:function:WorkerFunction"
	for _, name := range []string{"WorkerFunction", url.PathEscape(arn), arn + ":$LATEST", "123456789012:function:WorkerFunction", "WorkerFunction:live"} {
		r := f.do(t, "POST", "/2015-03-31/functions/"+name+"/invocations", strings.NewReader(`{"n":21,"table":"t"}`), nil)
		if r.Status != 200 || r.Header.Get("X-Amzn-Requestid") == "" || r.Header.Get("X-Amz-Function-Error") != "" {
			t.Errorf("%s: %d %v %s", name, r.Status, r.Header, r.Body)
			continue
		}
		var out map[string]any
		r.json(t, &out)
		if out["n"] != 42.0 || out["table"] != "t" || out["arn"] != arn {
			t.Errorf("%s: output %v", name, out)
		}
	}

	// A function with a FunctionName answers to it too.
	r := f.do(t, "POST", "/2015-03-31/functions/pec-local-fail/invocations", strings.NewReader(`{}`), nil)
	if r.Status != 200 || r.Header.Get("X-Amz-Function-Error") != "Unhandled" {
		t.Errorf("by FunctionName: %d %v", r.Status, r.Header)
	}
	var ferr map[string]string
	r.json(t, &ferr)
	if ferr["errorType"] != "errorString" || ferr["errorMessage"] != "toy failure" {
		t.Errorf("errors.New: %v (aws-lambda-go reports *errors.errorString as errorString)", ferr)
	}

	r = f.do(t, "POST", "/2015-03-31/functions/WorkerFunction/invocations", strings.NewReader(`{"n":-1}`), nil)
	r.json(t, &ferr)
	if r.Status != 200 || r.Header.Get("X-Amz-Function-Error") != "Unhandled" ||
		ferr["errorType"] != "NegativeError" || ferr["errorMessage"] != "-1 is negative" {
		t.Errorf("handler error: %d %v %s", r.Status, r.Header, r.Body)
	}

	r = f.do(t, "POST", "/2015-03-31/functions/Nobody/invocations", strings.NewReader(`{}`), nil)
	if r.Status != 404 || r.Header.Get("X-Amzn-Errortype") != "ResourceNotFoundException" || r.Header.Get("X-Amzn-Requestid") == "" {
		t.Errorf("unknown: %d %v", r.Status, r.Header)
	}

	r = f.do(t, "POST", "/2015-03-31/functions/WorkerFunction/invocations", strings.NewReader(`{"n":1}`), map[string]string{"X-Amz-Invocation-Type": "Event"})
	if r.Status != 202 {
		t.Errorf("Event invocation: %d", r.Status)
	}
}

func TestHostInvoke(t *testing.T) {
	f := newFixture(t)
	out, err := f.host.Invoke(context.Background(), "WorkerFunction", []byte(`{"n":2}`))
	if err != nil || !strings.Contains(string(out), `"n":4`) {
		t.Errorf("Invoke: %s %v", out, err)
	}
	_, err = f.host.Invoke(context.Background(), "WorkerFunction", []byte(`{"n":-2}`))
	var fe *lambdahost.FunctionError
	if !errors.As(err, &fe) || fe.Type != "NegativeError" {
		t.Errorf("Invoke error = %v", err)
	}
	if _, err = f.host.Invoke(context.Background(), "Nobody", nil); !errors.Is(err, lambdahost.ErrUnknownFunction) {
		t.Errorf("unknown: %v", err)
	}
}

func TestRunSchedule(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "POST", "/_local/run/BatchFunction", nil, nil)
	var got struct {
		LogicalID string `json:"logicalId"`
		Result    struct {
			Source, DetailType, Account, Region string
			Resources                           []string
		} `json:"result"`
	}
	r.json(t, &got)
	if r.Status != 200 || got.LogicalID != "BatchFunction" || got.Result.Source != "aws.events" ||
		got.Result.DetailType != "Scheduled Event" || got.Result.Account != "123456789012" || got.Result.Region != "eu-south-1" ||
		!reflect.DeepEqual(got.Result.Resources, []string{"arn:aws:events:eu-south-1:123456789012:rule/BatchFunctionEvery"}) {
		t.Errorf("run: %d %s", r.Status, r.Body)
	}
	if f.toys.count("batch") != 1 {
		t.Errorf("batch ran %d times", f.toys.count("batch"))
	}

	r = f.do(t, "POST", "/_local/run/FailFunction", nil, nil) // disabled schedule: still runnable on demand
	var fail map[string]string
	r.json(t, &fail)
	if r.Status != 500 || fail["errorMessage"] != "toy failure" || fail["logicalId"] != "FailFunction" {
		t.Errorf("failing run: %d %s", r.Status, r.Body)
	}
	if r = f.do(t, "POST", "/_local/run/EchoFunction", nil, nil); r.Status != 404 {
		t.Errorf("unscheduled function: %d", r.Status)
	}
	if r = f.do(t, "POST", "/_local/run/Nobody", nil, nil); r.Status != 404 {
		t.Errorf("unknown: %d", r.Status)
	}
	if r = f.do(t, "GET", "/_local/run/BatchFunction", nil, nil); r.Status != 405 {
		t.Errorf("GET: %d", r.Status)
	}
}

func TestStartSchedules_FiresRates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *lambdahost.Options) { o.Parameters = map[string]string{"BatchRate": "rate(1 second)"} })
	ctx, cancel := context.WithCancel(context.Background())
	f.host.StartSchedules(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for f.toys.count("batch") < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if n := f.toys.count("batch"); n < 2 {
		t.Fatalf("batch ran %d times in 5 s at rate(1 second)", n)
	}
	time.Sleep(100 * time.Millisecond) // a run in flight at cancel time may still finish
	n := f.toys.count("batch")
	time.Sleep(1500 * time.Millisecond)
	if f.toys.count("batch") != n {
		t.Errorf("schedules still fire after ctx is done")
	}
	if f.toys.count("fail") != 0 {
		t.Errorf("a disabled schedule fired")
	}
}

func TestRequestLog_HasRouteTemplateNotPersonalData(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, nil)
	f.do(t, "GET", "/v1/orders/RM-01/members/RSSMRA80A01H501U?email=mario%40example.it", nil, map[string]string{"Authorization": "Bearer " + tok})
	f.do(t, "GET", "/no/route/RSSMRA80A01H501U", nil, nil)
	logs := f.logs.String()
	for _, secret := range []string{"RSSMRA80A01H501U", "mario", "email=", tok[:20]} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(logs, "\n", 2)[0]), &line); err != nil {
		t.Fatalf("log line is not JSON: %v\n%s", err, logs)
	}
	if line["route"] != "GET /v1/orders/{orderId}/members/{codiceFiscale}" || line["method"] != "GET" ||
		line["status"] != 201.0 || line["request_id"] == "" || line["duration_ms"] == nil || line["function"] != "EchoFunction" {
		t.Errorf("log line = %v", line)
	}
}
