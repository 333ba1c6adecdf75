package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// The sample events in events/ are what `make invoke` feeds the functions, so they must be events
// API Gateway could really send for a route of the template.

var (
	eventsDir      = filepath.Join("..", "..", "events")
	orderIDPattern = regexp.MustCompile(`^[A-Z0-9-]{2,32}$`)
)

func TestSampleEvents_AreRequestsForTemplateRoutes(t *testing.T) {
	tpl := readTemplate(t)
	doc := readOpenAPI(t)
	v := &validator{doc: doc}
	routes := map[string]route{}
	for _, r := range tpl.routes {
		routes[r.String()] = r
	}
	ops := map[route]operation{}
	for _, op := range operations(doc) {
		ops[op.route] = op
	}
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events in %s (%v)", eventsDir, err)
	}
	covered := map[route]bool{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ev := readEvent(t, file)
			rt, ok := routes[ev.RouteKey]
			if !ok {
				t.Fatalf("routeKey %q is not a route of %s", ev.RouteKey, templatePath)
			}
			covered[rt] = true
			if ev.Version != "2.0" {
				t.Errorf("version %q, want 2.0", ev.Version)
			}
			want, err := fillPath(rt.Path, ev.PathParameters)
			if err != nil {
				t.Error(err)
			} else if ev.RawPath != want {
				t.Errorf("rawPath %q, want %q (%s with pathParameters %v)", ev.RawPath, want, rt.Path, ev.PathParameters)
			}

			rc := ev.RequestContext
			if rc.RouteKey != ev.RouteKey || rc.HTTP.Method != rt.Method || rc.HTTP.Path != ev.RawPath {
				t.Errorf("requestContext (routeKey %q, http.method %q, http.path %q) disagrees with the event (%q, %q)", rc.RouteKey, rc.HTTP.Method, rc.HTTP.Path, ev.RouteKey, ev.RawPath)
			}
			if rc.Stage != "$default" || rc.RequestID == "" {
				t.Errorf("requestContext: stage %q, requestId %q; want $default and an id", rc.Stage, rc.RequestID)
			}
			checkQuery(t, ev)
			checkClaims(t, ev, tpl)
			checkBody(t, ev, ops[rt], v)
		})
	}
	for _, r := range tpl.routes {
		if !covered[r] {
			t.Errorf("no sample event in %s for %s", eventsDir, r)
		}
	}
}

// readEvent decodes a sample event strictly: a field the Go type does not know is a typo.
func readEvent(t *testing.T, file string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ev events.APIGatewayV2HTTPRequest
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("not an APIGatewayV2HTTPRequest: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatal("more than one JSON value")
	}
	return ev
}

// fillPath puts the path parameters into the route's path as API Gateway's rawPath has them.
func fillPath(tmpl string, params map[string]string) (string, error) {
	used := 0
	var missing []string
	path := pathParam.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := params[name]
		if !ok || v == "" {
			missing = append(missing, name)
			return m
		}
		used++
		return url.PathEscape(v)
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("pathParameters lacks %s", strings.Join(missing, ", "))
	}
	if used != len(params) {
		return "", fmt.Errorf("pathParameters %v has parameters that %s does not", params, tmpl)
	}
	return path, nil
}

// checkQuery: queryStringParameters is what rawQueryString says.
func checkQuery(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
	t.Helper()
	values, err := url.ParseQuery(ev.RawQueryString)
	if err != nil {
		t.Errorf("rawQueryString %q: %v", ev.RawQueryString, err)
		return
	}
	if len(values) != len(ev.QueryStringParameters) {
		t.Errorf("rawQueryString %q and queryStringParameters %v disagree", ev.RawQueryString, ev.QueryStringParameters)
		return
	}
	for k, vs := range values {
		if got := ev.QueryStringParameters[k]; got != strings.Join(vs, ",") {
			t.Errorf("queryStringParameters[%q] = %q, rawQueryString says %q", k, got, strings.Join(vs, ","))
		}
	}
}

// checkClaims: the JWT authorizer's claims are those of a token the template's authorizer
// accepts and the functions understand.
func checkClaims(t *testing.T, ev events.APIGatewayV2HTTPRequest, tpl template) {
	t.Helper()
	a := ev.RequestContext.Authorizer
	if a == nil || a.JWT == nil {
		t.Error("no requestContext.authorizer.jwt: every route is behind the JWT authorizer")
		return
	}
	c := a.JWT.Claims
	if c["iss"] != tpl.params["JwtIssuer"] || c["aud"] != tpl.params["JwtAudience"] {
		t.Errorf("claims iss %q, aud %q; want the template's defaults %q, %q", c["iss"], c["aud"], tpl.params["JwtIssuer"], tpl.params["JwtAudience"])
	}
	switch c["role"] {
	case "federation":
		if _, ok := c["order"]; ok {
			t.Error("a federation token carries no order claim")
		}
	case "order":
		if !orderIDPattern.MatchString(c["order"]) {
			t.Errorf("order claim %q is not an Order id", c["order"])
		}
	default:
		t.Errorf("role claim %q, want federation or order", c["role"])
	}
	if !strings.HasPrefix(header(ev, "authorization"), "Bearer ") {
		t.Error("no Authorization: Bearer header")
	}
}

// checkBody: a route that takes a JSON body gets one its schema accepts, sent as API Gateway
// passes text (not base64); other routes get none.
func checkBody(t *testing.T, ev events.APIGatewayV2HTTPRequest, op operation, v *validator) {
	t.Helper()
	rb, ok := op.op["requestBody"]
	if !ok {
		if ev.Body != "" {
			t.Errorf("%s takes no body, the event has one", op)
		}
		return
	}
	media := obj(obj(deRef(t, v.doc, rb)["content"])["application/json"])
	if media == nil {
		t.Fatalf("%s: openapi.yaml has no application/json request body", op)
	}
	if ev.IsBase64Encoded || !strings.HasPrefix(header(ev, "content-type"), "application/json") {
		t.Error("a JSON body must come as text with Content-Type: application/json")
	}
	if n := header(ev, "content-length"); n != "" && n != strconv.Itoa(len(ev.Body)) {
		t.Errorf("content-length %s, the body has %d bytes", n, len(ev.Body))
	}
	var body any
	if err := json.Unmarshal([]byte(ev.Body), &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	for _, e := range v.validate(media["schema"], body, "") {
		t.Errorf("body: %s", e)
	}
}

func header(ev events.APIGatewayV2HTTPRequest, name string) string {
	for k, v := range ev.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
