package lambdahost_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/pecplatform/pec/infra/lambdahost"
)

// NegativeError is the toy worker's named error: Step Functions matches its type name.
type NegativeError struct{ N int }

func (e *NegativeError) Error() string { return fmt.Sprintf("%d is negative", e.N) }

// toys are the toy functions of testdata/template.yaml, counting their calls.
type toys struct {
	mu    sync.Mutex
	calls map[string]int
	env   map[string]func(string) string
}

func (t *toys) called(fn string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls[fn]++
}

func (t *toys) count(fn string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.calls[fn]
}

func (t *toys) getenv(fn string) func(string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.env[fn]
}

func (t *toys) constructors() map[string]lambdahost.Constructor {
	keep := func(name string, getenv func(string) string) {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.env[name] = getenv
	}
	return map[string]lambdahost.Constructor{
		// The echo function answers with the event it received.
		"functions/echo/": func(_ context.Context, getenv func(string) string) (any, error) {
			keep("echo", getenv)
			return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				t.called("echo")
				body, err := json.Marshal(ev)
				return events.APIGatewayV2HTTPResponse{
					StatusCode:        201,
					Headers:           map[string]string{"Content-Type": "application/json", "X-Echo": "yes"},
					MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
					Cookies:           []string{"a=1; Path=/", "b=2"},
					Body:              string(body),
				}, err
			}, nil
		},
		// The literal function returns a plain object: API Gateway makes it a 200 JSON body.
		"functions/literal": func(context.Context, func(string) string) (any, error) {
			return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (map[string]any, error) {
				t.called("literal")
				return map[string]any{"routeKey": ev.RouteKey, "orderId": ev.PathParameters["orderId"]}, nil
			}, nil
		},
		"functions/fail": func(context.Context, func(string) string) (any, error) {
			return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				t.called("fail")
				switch ev.PathParameters["kind"] {
				case "panic":
					panic("boom")
				case "binary":
					return events.APIGatewayV2HTTPResponse{StatusCode: 200, IsBase64Encoded: true,
						Headers: map[string]string{"Content-Type": "application/pdf"},
						Body:    base64.StdEncoding.EncodeToString([]byte{0x25, 0x50, 0x44, 0x46, 0x00, 0xff})}, nil
				case "malformed":
					return events.APIGatewayV2HTTPResponse{StatusCode: 200, IsBase64Encoded: true, Body: "%%%"}, nil
				}
				return events.APIGatewayV2HTTPResponse{}, errors.New("toy failure")
			}, nil
		},
		// The worker doubles n; Step Functions calls it.
		"WorkerFunction": func(_ context.Context, getenv func(string) string) (any, error) {
			return func(ctx context.Context, in struct {
				N     int    `json:"n"`
				Table string `json:"table"`
			}) (map[string]any, error) {
				t.called("worker")
				if in.N < 0 {
					return nil, &NegativeError{N: in.N}
				}
				lc, _ := lambdacontext.FromContext(ctx)
				return map[string]any{"n": in.N * 2, "table": in.Table, "arn": lc.InvokedFunctionArn}, nil
			}, nil
		},
		"functions/batch": func(context.Context, func(string) string) (any, error) {
			return func(ctx context.Context, ev events.EventBridgeEvent) (map[string]any, error) {
				t.called("batch")
				return map[string]any{"source": ev.Source, "detailType": ev.DetailType, "resources": ev.Resources,
					"account": ev.AccountID, "region": ev.Region}, nil
			}, nil
		},
	}
}

type fixture struct {
	host   *lambdahost.Host
	toys   *toys
	keyDir string
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newFixture builds a Host over testdata/template.yaml with the toy functions.
func newFixture(t *testing.T, edit ...func(*lambdahost.Options)) *fixture {
	t.Helper()
	f := &fixture{toys: &toys{calls: map[string]int{}, env: map[string]func(string) string{}}, keyDir: t.TempDir(), logs: &syncBuffer{}}
	o := lambdahost.Options{
		TemplatePath: "testdata/template.yaml",
		Functions:    f.toys.constructors(),
		Env:          map[string]string{"FROM_ELSEWHERE": "local-value", "AWS_ENDPOINT_URL": "http://127.0.0.1:3000"},
		KeyDir:       f.keyDir,
		Logger:       slog.New(slog.NewJSONHandler(f.logs, nil)),
	}
	for _, e := range edit {
		e(&o)
	}
	h, err := lambdahost.New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.host = h
	return f
}

// token signs a valid portal token with the fixture's key, with extra claims merged in.
func (f *fixture) token(t *testing.T, extra map[string]any) string {
	t.Helper()
	claims := map[string]any{"iss": lambdahost.DefaultIssuer, "aud": lambdahost.DefaultAudience, "sub": "tester", "role": "federation"}
	for k, v := range extra {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	tok, err := lambdahost.SignToken(f.keyDir, claims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
}

// do sends a request to the host in-process.
func (f *fixture) do(t *testing.T, method, target string, body io.Reader, header map[string]string) reply {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	req.Host = "127.0.0.1:3000"
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.host.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return reply{Status: rec.Code, Header: rec.Result().Header, Body: b}
}

func (f *fixture) authed(t *testing.T, method, target string, body string) reply {
	t.Helper()
	return f.do(t, method, target, strings.NewReader(body), map[string]string{"Authorization": "Bearer " + f.token(t, nil)})
}
