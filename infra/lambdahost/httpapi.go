package lambdahost

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.yaml.in/yaml/v3"
)

// maxAPIBody is API Gateway's request payload limit.
const maxAPIBody = 10 << 20

// Route is one HttpApi route of the template.
type Route struct {
	Method     string // GET, POST, ..., or ANY
	Path       string // as in the template: /v1/orders/{orderId}, /files/{proxy+}, or $default
	Function   string // logical ID
	Authorizer string // the JWT authorizer's name, "" for a public route
}

// RouteKey is the route as API Gateway names it: "GET /v1/orders/{orderId}".
func (r Route) RouteKey() string {
	if r.Path == "$default" {
		return "$default"
	}
	return r.Method + " " + r.Path
}

type segKind int

const (
	segLiteral segKind = iota
	segParam
	segGreedy
)

type segment struct {
	kind  segKind
	value string // the literal, or the parameter's name
}

type route struct {
	Route
	segs     []segment
	fn       *function
	auth     *authorizer
	scopes   []string
	throttle *throttle   // nil: not throttled
	cors     *corsConfig // its HttpApi's CorsConfiguration; nil: none
}

func parseRoutePath(p string) ([]segment, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("path %q does not start with /", p)
	}
	if p == "/" {
		return nil, nil
	}
	parts := strings.Split(p[1:], "/")
	segs := make([]segment, len(parts))
	for i, s := range parts {
		switch {
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "+}"):
			if i != len(parts)-1 {
				return nil, fmt.Errorf("path %q: a greedy variable must be last", p)
			}
			segs[i] = segment{segGreedy, s[1 : len(s)-2]}
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			segs[i] = segment{segParam, s[1 : len(s)-1]}
		default:
			segs[i] = segment{segLiteral, s}
		}
	}
	return segs, nil
}

// match reports whether the escaped request path matches, with the decoded path parameters.
func (rt *route) match(method string, escapedPath string) (map[string]string, bool) {
	if rt.Method != "ANY" && rt.Method != method {
		return nil, false
	}
	if rt.Path == "$default" {
		return nil, true
	}
	var parts []string
	if escapedPath != "/" && escapedPath != "" {
		parts = strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	}
	var params map[string]string
	set := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, s := range rt.segs {
		if i >= len(parts) {
			return nil, false
		}
		switch s.kind {
		case segLiteral:
			if unescape(parts[i]) != s.value {
				return nil, false
			}
		case segParam:
			if parts[i] == "" {
				return nil, false
			}
			set(s.value, unescape(parts[i]))
		case segGreedy:
			rest := strings.Join(parts[i:], "/")
			if rest == "" {
				return nil, false
			}
			set(s.value, unescape(rest))
			return params, true
		}
	}
	if len(parts) != len(rt.segs) {
		return nil, false
	}
	return params, true
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// moreSpecific orders routes as API Gateway prefers them: segment by segment a literal beats a
// variable, which beats a greedy variable; then a method beats ANY; $default comes last.
func moreSpecific(a, b *route) bool {
	if (a.Path == "$default") != (b.Path == "$default") {
		return b.Path == "$default"
	}
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if a.segs[i].kind != b.segs[i].kind {
			return a.segs[i].kind < b.segs[i].kind
		}
	}
	if len(a.segs) != len(b.segs) {
		return len(a.segs) > len(b.segs)
	}
	if (a.Method == "ANY") != (b.Method == "ANY") {
		return b.Method == "ANY"
	}
	return a.RouteKey() < b.RouteKey()
}

func sortRoutes(rs []*route) {
	sort.SliceStable(rs, func(i, j int) bool { return moreSpecific(rs[i], rs[j]) })
}

func (h *Host) findRoute(r *http.Request) (*route, map[string]string) {
	p := r.URL.EscapedPath()
	for _, rt := range h.routes { // most specific first
		if params, ok := rt.match(r.Method, p); ok {
			return rt, params
		}
	}
	return nil, nil
}

// buildRoutes reads the HttpApi events of a function.
func (h *Host) buildRoutes(r *resource, f *function) ([]*route, error) {
	var out []*route
	evs := get(r.Props, "Events")
	for _, name := range sortedKeys(evs) {
		ev := get(evs, name)
		if scalar(get(ev, "Type")) != "HttpApi" {
			continue
		}
		props := get(ev, "Properties")
		rt := &route{fn: f}
		rt.Function = f.id
		var err error
		if rt.Path, err = h.tpl.resolveString(get(props, "Path")); err != nil {
			return nil, fmt.Errorf("event %s: Path: %w", name, err)
		}
		if rt.Method, err = h.tpl.resolveString(get(props, "Method")); err != nil {
			return nil, fmt.Errorf("event %s: Method: %w", name, err)
		}
		rt.Method = strings.ToUpper(rt.Method)
		if rt.Path == "" && rt.Method == "" {
			rt.Path, rt.Method = "$default", "ANY" // an HttpApi event without Path and Method is the $default route
		}
		if rt.Method == "X-AMAZON-APIGATEWAY-ANY-METHOD" || rt.Method == "*" {
			rt.Method = "ANY"
		}
		if rt.Path != "$default" {
			if rt.segs, err = parseRoutePath(rt.Path); err != nil {
				return nil, fmt.Errorf("event %s: %w", name, err)
			}
		}
		if v := scalar(get(props, "PayloadFormatVersion")); v != "" && v != "2.0" {
			return nil, fmt.Errorf("event %s: PayloadFormatVersion %s is not supported locally (only 2.0)", name, v)
		}
		api, err := h.apiFor(props)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", name, err)
		}
		if rt.throttle, err = h.routeThrottle(api, rt.Method+" "+rt.Path); err != nil {
			return nil, fmt.Errorf("event %s: %w", name, err)
		}
		rt.cors = api.cors
		authName := api.defaultAuthorizer
		auth := get(props, "Auth")
		if n := get(auth, "Authorizer"); n != nil {
			if authName, err = h.tpl.resolveString(n); err != nil {
				return nil, fmt.Errorf("event %s: Auth.Authorizer: %w", name, err)
			}
		}
		if authName != "" && authName != "NONE" {
			a, ok := api.authorizers[authName]
			if !ok {
				return nil, fmt.Errorf("event %s: authorizer %q is not a JWT authorizer of its HttpApi", name, authName)
			}
			rt.auth, rt.Authorizer = a, authName
			if n := get(auth, "AuthorizationScopes"); n != nil {
				list, err := h.tpl.resolveList(n)
				if err != nil {
					return nil, fmt.Errorf("event %s: AuthorizationScopes: %w", name, err)
				}
				for _, s := range list {
					str, _ := stringify(s)
					rt.scopes = append(rt.scopes, str)
				}
			}
		}
		out = append(out, rt)
	}
	return out, nil
}

// httpAPI is the part of an AWS::Serverless::HttpApi (explicit, or SAM's implicit one configured
// by Globals.HttpApi) that the host enforces.
type httpAPI struct {
	defaultAuthorizer    string
	authorizers          map[string]*authorizer
	defaultRouteSettings *yaml.Node
	routeSettings        *yaml.Node // by route key
	cors                 *corsConfig
}

func (h *Host) apiFor(eventProps *yaml.Node) (*httpAPI, error) {
	id := implicitHTTPAPI
	if n := get(eventProps, "ApiId"); n != nil {
		fn, arg, ok := intrinsic(n)
		if !ok || fn != "Ref" {
			return nil, errors.New("ApiId must be !Ref to an AWS::Serverless::HttpApi")
		}
		id = arg.Value
		if r, ok := h.tpl.resources[id]; !ok || r.Type != typeHTTPAPI {
			return nil, fmt.Errorf("ApiId %s is not an AWS::Serverless::HttpApi of the template", id)
		}
	}
	if api, ok := h.apis[id]; ok {
		return api, nil
	}
	var props *yaml.Node
	if r, ok := h.tpl.resources[id]; ok {
		props = r.Props
	}
	globalAuth := get(h.tpl.globalsFor("HttpApi"), "Auth")
	auth := get(props, "Auth")
	if auth == nil {
		auth = globalAuth
	}
	api := &httpAPI{authorizers: map[string]*authorizer{},
		defaultRouteSettings: get(props, "DefaultRouteSettings"), routeSettings: get(props, "RouteSettings")}
	if api.defaultRouteSettings == nil {
		api.defaultRouteSettings = get(h.tpl.globalsFor("HttpApi"), "DefaultRouteSettings")
	}
	corsNode := get(props, "CorsConfiguration")
	if corsNode == nil {
		corsNode = get(h.tpl.globalsFor("HttpApi"), "CorsConfiguration")
	}
	var err error
	if api.cors, err = h.buildCORS(corsNode); err != nil {
		return nil, fmt.Errorf("%s CorsConfiguration: %w", id, err)
	}
	if n := get(auth, "DefaultAuthorizer"); n != nil {
		s, err := h.tpl.resolveString(n)
		if err != nil {
			return nil, fmt.Errorf("%s DefaultAuthorizer: %w", id, err)
		}
		api.defaultAuthorizer = s
	}
	auths := get(auth, "Authorizers")
	for _, name := range sortedKeys(auths) {
		a, err := h.buildAuthorizer(name, get(auths, name))
		if err != nil {
			return nil, fmt.Errorf("%s authorizer %s: %w", id, name, err)
		}
		if a != nil {
			api.authorizers[name] = a
		}
	}
	h.apis[id] = api
	return api, nil
}

// serveAPI runs the route's function with the payload format 2.0 event.
func (h *Host) serveAPI(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	requestID := newAPIRequestID()
	info.requestID = requestID
	w.Header().Set("Apigw-Requestid", requestID)
	if isPreflight(r) {
		if c := h.corsForPath(r); c != nil {
			c.preflight(w, r)
			return
		}
	}
	rt, params := h.findRoute(r)
	if rt == nil {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	if rt.cors != nil {
		rt.cors.decorate(w.Header(), r)
	}
	info.route, info.function = rt.RouteKey(), rt.fn.id
	if rt.throttle != nil && !rt.throttle.allow(time.Now()) {
		writeMessage(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	}
	if r.ContentLength > maxAPIBody {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAPIBody+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > maxAPIBody {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev := apiEvent(r, rt, params, body, requestID, time.Now())
	if rt.auth != nil {
		jwtCtx, status := rt.auth.authorize(r, rt.scopes, h.key)
		if status != 0 {
			if status == http.StatusUnauthorized {
				w.Header().Set("Www-Authenticate", "Bearer")
				writeMessage(w, status, "Unauthorized")
			} else {
				writeMessage(w, status, "Forbidden")
			}
			return
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: jwtCtx}
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		h.log.Error("cannot encode the API event", "function", rt.fn.id, "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	info.invocationID = newUUID()
	out, ferr := rt.fn.invoke(r.Context(), info.invocationID, payload)
	if ferr != nil {
		h.log.Error("function failed", "function", rt.fn.id, "request_id", requestID, "error_type", ferr.Type, "error", ferr.Message)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := writeAPIResponse(w, out); err != nil {
		h.log.Error("malformed function response", "function", rt.fn.id, "request_id", requestID, "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// apiEvent builds the request as API Gateway's payload format 2.0 has it.
func apiEvent(r *http.Request, rt *route, params map[string]string, body []byte, requestID string, now time.Time) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	headers["host"] = r.Host
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		headers["x-forwarded-port"] = port
	}
	if len(body) > 0 {
		headers["content-length"] = fmt.Sprint(len(body))
	}

	var query map[string]string
	if r.URL.RawQuery != "" {
		values, _ := url.ParseQuery(r.URL.RawQuery)
		query = make(map[string]string, len(values))
		for k, vs := range values {
			query[k] = strings.Join(vs, ",")
		}
	}

	domain := r.Host
	prefix := domain
	if h, _, err := net.SplitHostPort(domain); err == nil {
		prefix = h
	}
	if i := strings.IndexByte(prefix, '.'); i > 0 && net.ParseIP(prefix) == nil {
		prefix = prefix[:i]
	}

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.RouteKey(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.RouteKey(),
			AccountID:    AccountID,
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        APIID,
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isTextual(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isTextual reports whether API Gateway passes a body of this type as text rather than base64.
func isTextual(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(contentType)
	}
	if strings.HasPrefix(mt, "text/") {
		return true
	}
	for _, s := range []string{"json", "xml", "x-www-form-urlencoded", "javascript"} {
		if strings.Contains(mt, s) {
			return true
		}
	}
	return false
}

// writeAPIResponse writes a function's output as API Gateway does for payload format 2.0: an
// object with a statusCode is a response; any other valid JSON is a 200 application/json body.
func writeAPIResponse(w http.ResponseWriter, out []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(out, &probe); err != nil || probe["statusCode"] == nil {
		if !json.Valid(out) {
			return errors.New("the output is not JSON")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
		return nil
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return err
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("statusCode %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("body: %w", err)
		}
		body = b
	}
	hdr := w.Header()
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			hdr.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		hdr.Set(k, v)
	}
	for _, c := range resp.Cookies {
		hdr.Add("Set-Cookie", c)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, bytes.NewReader(body))
	return nil
}

// writeMessage answers as API Gateway does for its own errors: {"message": "..."}.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": msg})
	_, _ = w.Write(b)
}
