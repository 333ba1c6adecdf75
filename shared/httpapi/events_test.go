package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pecplatform/pec/infra/openapicheck"
	"github.com/pecplatform/pec/shared/provider"
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
	v := openapicheck.NewValidator(doc)
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
			if tpl.public[rt] {
				checkAnonymous(t, ev)
			} else {
				checkClaims(t, ev, tpl)
			}
			checkParameters(t, ev, ops[rt], v)
			checkBody(t, ev, ops[rt], v)
			checkSignature(t, ev)
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
// localIssuer is the JWT issuer the local cloud passes as JwtIssuer.
const localIssuer = "http://127.0.0.1:3000/local"

func checkClaims(t *testing.T, ev events.APIGatewayV2HTTPRequest, tpl template) {
	t.Helper()
	a := ev.RequestContext.Authorizer
	if a == nil || a.JWT == nil {
		t.Error("no requestContext.authorizer.jwt: every route is behind the JWT authorizer")
		return
	}
	c := a.JWT.Claims
	// The issuer has no default in the template (production names its own); the sample events
	// are the local cloud's, whose issuer is lambdahost.DefaultIssuer.
	if c["iss"] != localIssuer || c["aud"] != tpl.params["JwtAudience"] {
		t.Errorf("claims iss %q, aud %q; want the local cloud's issuer %q and the template's audience %q", c["iss"], c["aud"], localIssuer, tpl.params["JwtAudience"])
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

// checkAnonymous: a route without an authorizer gets neither claims nor a token, as API Gateway
// passes a request it did not authorize.
func checkAnonymous(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
	t.Helper()
	if ev.RequestContext.Authorizer != nil {
		t.Error("requestContext.authorizer is set, but the route has no authorizer (Auth.Authorizer: NONE)")
	}
	if header(ev, "authorization") != "" {
		t.Error("an Authorization header on a public route: nobody sends a portal token there")
	}
}

// checkParameters: the path parameters are values their schemas accept, and every required
// header is there with such a value.
func checkParameters(t *testing.T, ev events.APIGatewayV2HTTPRequest, op operation, v *openapicheck.Validator) {
	t.Helper()
	for _, p := range parameters(t, v.Root, op) {
		name, _ := p["name"].(string)
		var value string
		var present bool
		switch p["in"] {
		case "path":
			value, present = ev.PathParameters[name]
		case "header":
			value = header(ev, name)
			present = value != ""
		default:
			continue
		}
		if !present {
			if p["required"] == true {
				t.Errorf("no %s parameter %s, which %s requires", p["in"], name, op)
			}
			continue
		}
		for _, e := range v.Validate(p["schema"], value) {
			t.Errorf("%s parameter %s: %s", p["in"], name, e)
		}
	}
}

// checkBody: a route that takes a body gets one its schema accepts, of a media type the route
// documents, sent as text (as API Gateway passes JSON and forms) or, for a multipart body of
// files, base64-encoded (as API Gateway passes it); other routes get none.
func checkBody(t *testing.T, ev events.APIGatewayV2HTTPRequest, op operation, v *openapicheck.Validator) {
	t.Helper()
	rb, ok := op.op["requestBody"]
	if !ok {
		if ev.Body != "" {
			t.Errorf("%s takes no body, the event has one", op)
		}
		return
	}
	mt, _, err := mime.ParseMediaType(header(ev, "content-type"))
	if err != nil {
		t.Fatalf("content-type %q: %v", header(ev, "content-type"), err)
	}
	media := obj(obj(deRef(t, v.Root, rb)["content"])[mt])
	if media == nil {
		t.Fatalf("%s: openapi.yaml has no %s request body", op, mt)
	}
	raw := []byte(ev.Body)
	if mt == "multipart/form-data" {
		if !ev.IsBase64Encoded {
			t.Errorf("a %s body must come base64-encoded (isBase64Encoded true), as API Gateway passes it", mt)
		} else if raw, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			t.Fatalf("body is not base64: %v", err)
		}
	} else if ev.IsBase64Encoded {
		t.Errorf("a %s body must come as text (isBase64Encoded false)", mt)
	}
	if n := header(ev, "content-length"); n != "" && n != strconv.Itoa(len(raw)) {
		t.Errorf("content-length %s, the body has %d bytes", n, len(raw))
	}
	var body any
	switch mt {
	case "multipart/form-data":
		// Each part is a file, named by its form name; the schema says which names there are.
		_, params, _ := mime.ParseMediaType(header(ev, "content-type"))
		if params["boundary"] == "" {
			t.Fatal("a multipart content-type needs a boundary")
		}
		mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
		parts := map[string]any{}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("body is not multipart: %v", err)
			}
			content, err := io.ReadAll(p)
			if err != nil {
				t.Fatalf("part %s: %v", p.FormName(), err)
			}
			if _, dup := parts[p.FormName()]; dup {
				t.Errorf("part %s is sent twice", p.FormName())
			}
			parts[p.FormName()] = string(content)
		}
		if len(parts) == 0 {
			t.Error("a multipart body without parts")
		}
		body = parts
	case "application/json":
		if err := json.Unmarshal([]byte(ev.Body), &body); err != nil {
			t.Fatalf("body is not JSON: %v", err)
		}
	case "application/x-www-form-urlencoded":
		// A form's fields are strings; a field sent twice is not something the schema can say.
		form, err := url.ParseQuery(ev.Body)
		if err != nil {
			t.Fatalf("body is not a form: %v", err)
		}
		fields := map[string]any{}
		for k, vs := range form {
			if len(vs) != 1 {
				t.Errorf("form field %s is sent %d times", k, len(vs))
			}
			fields[k] = vs[0]
		}
		body = fields
	case "text/csv":
		if !strings.Contains(strings.SplitN(ev.Body, "\n", 2)[0], ";") && !strings.Contains(strings.SplitN(ev.Body, "\n", 2)[0], ",") {
			t.Errorf("a CSV body starts with a header row of ; or , separated names")
		}
		body = ev.Body
	default:
		t.Fatalf("no check for a %s body", mt)
	}
	for _, e := range v.Validate(media["schema"], body) {
		t.Errorf("body: %s", e)
	}
}

// localWebhookSecret is the provider stand-in's secret in the local stack
// (infra/localcloud.ProviderWebhookSecret), which the sample callbacks are signed with.
const localWebhookSecret = "local-provider-webhook-secret"

// checkSignature: a signed callback is signed for its own body at the time of the request, so
// that invoking it with a fresh t (and v1) is the only change needed.
func checkSignature(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
	t.Helper()
	sig := header(ev, provider.SignatureHeader)
	if sig == "" {
		return
	}
	at := time.UnixMilli(ev.RequestContext.TimeEpoch)
	if err := provider.Verify([][]byte{[]byte(localWebhookSecret)}, sig, []byte(ev.Body), at, provider.DefaultTolerance); err != nil {
		t.Errorf("%s does not verify for the body with the local secret at the request's time (%s): %v", provider.SignatureHeader, at.UTC().Format(time.RFC3339), err)
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
