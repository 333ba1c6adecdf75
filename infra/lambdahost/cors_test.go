package lambdahost_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pecplatform/pec/infra/lambdahost"
)

// corsHost serves testdata/cors.yaml; calls counts the function's invocations.
func corsHost(t *testing.T, params map[string]string) (*lambdahost.Host, string, *int) {
	t.Helper()
	keyDir, calls := t.TempDir(), new(int)
	h, err := lambdahost.New(context.Background(), lambdahost.Options{
		TemplatePath: "testdata/cors.yaml", KeyDir: keyDir, Parameters: params,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Functions: map[string]lambdahost.Constructor{"EchoFunction": func(context.Context, func(string) string) (any, error) {
			return func(events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				*calls++
				return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "{}"}, nil
			}, nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := lambdahost.SignToken(keyDir, map[string]any{"iss": lambdahost.DefaultIssuer, "aud": lambdahost.DefaultAudience, "sub": "t"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return h, tok, calls
}

func do(h http.Handler, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// The host answers CORS as API Gateway does for an HttpApi with a CorsConfiguration: the
// preflight itself (the function never sees it), and the allow headers on every answer to an
// allowed origin, the authorizer's 401 included; nothing for another origin.
func TestCORS_AsAPIGatewayAnswersIt(t *testing.T) {
	h, tok, calls := corsHost(t, nil)
	const portal = "https://portal.example.it"
	pre := do(h, http.MethodOptions, "/v1/things/1", map[string]string{"Origin": portal, "Access-Control-Request-Method": "GET",
		"Access-Control-Request-Headers": "authorization"})
	want := map[string]string{"Access-Control-Allow-Origin": portal, "Access-Control-Allow-Methods": "GET,POST",
		"Access-Control-Allow-Headers": "authorization,content-type", "Access-Control-Max-Age": "600"}
	if pre.Code != http.StatusNoContent {
		t.Errorf("preflight: %d", pre.Code)
	}
	for k, v := range want {
		if got := pre.Header().Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}
	if *calls != 0 {
		t.Errorf("the function ran for the preflight")
	}
	if got := do(h, http.MethodOptions, "/v1/things/1", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}); got.Code != http.StatusNoContent || got.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d, allow-origin %q", got.Code, got.Header().Get("Access-Control-Allow-Origin"))
	}
	if got := do(h, http.MethodOptions, "/v1/nothing", map[string]string{"Origin": portal, "Access-Control-Request-Method": "GET"}); got.Code != http.StatusNotFound {
		t.Errorf("preflight on no route: %d, want 404", got.Code)
	}

	unauth := do(h, http.MethodGet, "/v1/things/1", map[string]string{"Origin": portal})
	if unauth.Code != http.StatusUnauthorized || unauth.Header().Get("Access-Control-Allow-Origin") != portal {
		t.Errorf("401: %d, allow-origin %q: the portal could not read it", unauth.Code, unauth.Header().Get("Access-Control-Allow-Origin"))
	}
	ok := do(h, http.MethodGet, "/v1/things/1", map[string]string{"Origin": portal, "Authorization": "Bearer " + tok})
	if ok.Code != http.StatusOK || ok.Header().Get("Access-Control-Allow-Origin") != portal || ok.Header().Get("Access-Control-Expose-Headers") != "idempotent-replayed" {
		t.Errorf("200: %d %v", ok.Code, ok.Header())
	}
	other := do(h, http.MethodGet, "/v1/things/1", map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer " + tok})
	if other.Code != http.StatusOK || other.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin: %d, allow-origin %q", other.Code, other.Header().Get("Access-Control-Allow-Origin"))
	}
}

// AllowOrigins comes from a parameter: "*" allows every origin; none (the configuration is
// AWS::NoValue) is no CORS at all, as in API Gateway: the preflight finds no route.
func TestCORS_OriginsFromAParameter(t *testing.T) {
	h, _, _ := corsHost(t, map[string]string{"AllowedOrigins": "*"})
	pre := map[string]string{"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"}
	if got := do(h, http.MethodOptions, "/v1/things/1", pre); got.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("allow-origin %q, want *", got.Header().Get("Access-Control-Allow-Origin"))
	}
	h, _, _ = corsHost(t, map[string]string{"AllowedOrigins": ""})
	if got := do(h, http.MethodOptions, "/v1/things/1", pre); got.Code != http.StatusNotFound || got.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("without origins: %d, allow-origin %q", got.Code, got.Header().Get("Access-Control-Allow-Origin"))
	}
}
