// Package httpapi is the HTTP edge of the Lambda functions behind the HttpApi: it turns API
// Gateway payload 2.0 events into use-case calls and their results into the contract's JSON.
package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// Request and Response are API Gateway HTTP API (payload format 2.0) events.
type (
	Request  = events.APIGatewayV2HTTPRequest
	Response = events.APIGatewayV2HTTPResponse
)

// Handler is an HTTP API function's Lambda handler.
type Handler func(context.Context, Request) (Response, error)

// MaxBody is the largest JSON body the API accepts.
const MaxBody = 1 << 20

// Result is what a route returns: a status and a value to encode as JSON (nil: no body), or,
// when ContentType is set, Text as it is.
type Result struct {
	Status      int
	Body        any
	ContentType string
	Text        string
	Binary      []byte            // with ContentType: sent base64-encoded, as API Gateway expects
	Headers     map[string]string // extra response headers
}

// RouteFunc serves one route for an authenticated caller.
type RouteFunc func(ctx context.Context, r *Request, c app.Caller) (Result, error)

type route struct {
	fn         RouteFunc
	idempotent bool
	public     bool
	maxBody    int
}

// Router dispatches on the route key API Gateway matched ("POST /v1/orders/{orderId}/members").
type Router struct {
	routes map[string]route
	log    *slog.Logger
	idem   app.Idempotency
}

// NewRouter returns a router; idem keeps Idempotency-Key answers for routes marked idempotent.
func NewRouter(log *slog.Logger, idem app.Idempotency) *Router {
	return &Router{routes: map[string]route{}, log: log, idem: idem}
}

// Handle registers fn for the route key.
func (rt *Router) Handle(routeKey string, fn RouteFunc) {
	rt.routes[routeKey] = route{fn: fn, maxBody: MaxBody}
}

// HandleIdempotent registers fn for a write that honours the Idempotency-Key header.
func (rt *Router) HandleIdempotent(routeKey string, fn RouteFunc) {
	rt.routes[routeKey] = route{fn: fn, idempotent: true, maxBody: MaxBody}
}

// HandleUpload registers fn for a route that takes a file of up to maxBody bytes (API Gateway
// itself stops at 10 MB).
func (rt *Router) HandleUpload(routeKey string, maxBody int, fn RouteFunc) {
	rt.routes[routeKey] = route{fn: fn, maxBody: maxBody}
}

// HandlePublic registers fn for a route without the portal's JWT (Authorizer: NONE in the
// template): the caller is anonymous and fn authenticates whatever it needs itself.
func (rt *Router) HandlePublic(routeKey string, maxBody int, fn RouteFunc) {
	rt.routes[routeKey] = route{fn: fn, public: true, maxBody: maxBody}
}

// Serve is the Lambda handler.
func (rt *Router) Serve(ctx context.Context, r Request) (resp Response, err error) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			rt.log.ErrorContext(ctx, "panic", "route", r.RouteKey, "panic", p, "stack", string(debug.Stack()))
			resp = errorResponse(http.StatusInternalServerError, "internal", "internal error", "")
		}
		rt.log.InfoContext(ctx, "request", "route", r.RouteKey, "status", resp.StatusCode,
			"apiRequestId", r.RequestContext.RequestID, "ms", time.Since(start).Milliseconds())
	}()
	rte, ok := rt.routes[r.RouteKey]
	if !ok {
		return errorResponse(http.StatusNotFound, "not_found", "no such route", ""), nil
	}
	var caller app.Caller
	if !rte.public {
		if caller, err = callerOf(&r); err != nil {
			return rt.fail(ctx, &r, err), nil
		}
	}
	if len(r.Body) > rte.maxBody*4/3+4 || (!r.IsBase64Encoded && len(r.Body) > rte.maxBody) {
		return errorResponse(http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("the body is larger than %d MB", rte.maxBody>>20), ""), nil
	}
	if rte.idempotent {
		if k := header(&r, "idempotency-key"); k != "" {
			return rt.serveIdempotent(ctx, &r, caller, rte.fn, k), nil
		}
	}
	return rt.run(ctx, &r, caller, rte.fn), nil
}

func (rt *Router) run(ctx context.Context, r *Request, c app.Caller, fn RouteFunc) Response {
	res, err := fn(ctx, r, c)
	if err != nil {
		return rt.fail(ctx, r, err)
	}
	if res.ContentType != "" {
		h := jsonHeaders()
		h["Content-Type"] = res.ContentType
		maps.Copy(h, res.Headers)
		if res.Binary != nil {
			return Response{StatusCode: res.Status, Headers: h, Body: base64.StdEncoding.EncodeToString(res.Binary), IsBase64Encoded: true}
		}
		return Response{StatusCode: res.Status, Headers: h, Body: res.Text}
	}
	resp := jsonResponse(res.Status, res.Body)
	maps.Copy(resp.Headers, res.Headers)
	return resp
}

// serveIdempotent answers a retried request with the first answer. The key is scoped to the
// caller and the route, so two Orders can never see each other's answers.
func (rt *Router) serveIdempotent(ctx context.Context, r *Request, c app.Caller, fn RouteFunc, k string) Response {
	if len(k) > 255 {
		return errorResponse(http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key is at most 255 characters", "Idempotency-Key")
	}
	scope := sha256.Sum256([]byte(c.Party() + "\n" + r.RouteKey + "\n" + r.RawPath + "\n" + k))
	scoped := hex.EncodeToString(scope[:])
	sum := sha256.Sum256([]byte(r.Body))
	fingerprint := hex.EncodeToString(sum[:])
	prev, err := rt.idem.Claim(ctx, scoped, fingerprint, 30*time.Second)
	if err != nil {
		return rt.fail(ctx, r, err)
	}
	switch {
	case prev != nil && prev.Fingerprint != fingerprint:
		return errorResponse(http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was used with another request body", "Idempotency-Key")
	case prev != nil && !prev.Done:
		return errorResponse(http.StatusConflict, "idempotency_in_progress", "a request with this Idempotency-Key is still being served; retry later", "Idempotency-Key")
	case prev != nil:
		resp := Response{StatusCode: prev.Status, Headers: jsonHeaders(), Body: prev.Body}
		resp.Headers["Idempotent-Replayed"] = "true"
		return resp
	}
	resp := rt.runClaimed(app.WithRequestKey(ctx, scoped), r, c, fn, scoped)
	if resp.StatusCode >= 500 {
		if err := rt.idem.Release(ctx, scoped); err != nil {
			rt.log.ErrorContext(ctx, "idempotency release failed", "error", err)
		}
		return resp
	}
	rec := app.IdempotentResponse{Fingerprint: fingerprint, Done: true, Status: resp.StatusCode, Body: resp.Body}
	if err := rt.idem.Complete(ctx, scoped, rec, 24*time.Hour); err != nil {
		// The work is done; losing the record only means a retry is answered by the use case
		// itself (which refuses duplicates), so the answer still stands.
		rt.log.ErrorContext(ctx, "idempotency complete failed", "error", err)
	}
	return resp
}

// runClaimed runs fn for a claimed key. A panic gives the key up before it goes on (Serve
// answers it), so that the client's retry does the work again at once rather than after the
// claim's lease: each use case recognises what its first attempt already wrote.
func (rt *Router) runClaimed(ctx context.Context, r *Request, c app.Caller, fn RouteFunc, scoped string) Response {
	defer func() {
		if p := recover(); p != nil {
			if err := rt.idem.Release(context.WithoutCancel(ctx), scoped); err != nil {
				rt.log.ErrorContext(ctx, "idempotency release failed", "error", err)
			}
			panic(p)
		}
	}()
	return rt.run(ctx, r, c, fn)
}

func (rt *Router) fail(ctx context.Context, r *Request, err error) Response {
	var de *domain.Error
	if errors.As(err, &de) && de.Kind != domain.KindInternal {
		return errorResponse(statusOf(de.Kind), de.Code, de.Message, de.Field)
	}
	rt.log.ErrorContext(ctx, "internal error", "route", r.RouteKey, "error", err.Error())
	return errorResponse(http.StatusInternalServerError, "internal", "internal error", "")
}

func statusOf(k domain.Kind) int {
	switch k {
	case domain.KindMalformed:
		return http.StatusBadRequest
	case domain.KindUnauthorized:
		return http.StatusUnauthorized
	case domain.KindForbidden:
		return http.StatusForbidden
	case domain.KindNotFound:
		return http.StatusNotFound
	case domain.KindConflict:
		return http.StatusConflict
	case domain.KindGone:
		return http.StatusGone
	case domain.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case domain.KindInvalid:
		return http.StatusUnprocessableEntity
	case domain.KindRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

var errUnauthorized = &domain.Error{Kind: domain.KindUnauthorized, Code: "unauthorized", Message: "missing or invalid credentials"}

// callerOf reads the claims the JWT authorizer verified. A token without a usable role is
// refused here even though its signature was good.
func callerOf(r *Request) (app.Caller, error) {
	a := r.RequestContext.Authorizer
	if a == nil || a.JWT == nil {
		return app.Caller{}, errUnauthorized
	}
	c := app.Caller{Role: a.JWT.Claims["role"], OrderID: a.JWT.Claims["order"], Subject: subjectOf(a.JWT.Claims["sub"])}
	switch {
	case c.Role == app.RoleFederation:
		c.OrderID = ""
	case c.Role == app.RoleOrder && domain.ValidateOrderID(c.OrderID) == nil:
	default:
		return app.Caller{}, errUnauthorized
	}
	return c, nil
}

// subjectOf keeps a token's subject as the audit trail's name for the person: printable, at
// most 128 characters (anything else is dropped rather than stored).
func subjectOf(sub string) string {
	sub = strings.TrimSpace(sub)
	if sub == "" || len(sub) > 128 || strings.ContainsFunc(sub, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return ""
	}
	return sub
}

func header(r *Request, name string) string {
	if v, ok := r.Headers[name]; ok {
		return strings.TrimSpace(v)
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// DecodeJSON reads the request's JSON body into v.
func DecodeJSON(r *Request, v any) error {
	body := []byte(r.Body)
	if r.IsBase64Encoded {
		return &domain.Error{Kind: domain.KindMalformed, Code: "unsupported_media_type", Message: "the body must be JSON (Content-Type: application/json)"}
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &domain.Error{Kind: domain.KindInvalid, Code: "invalid_type", Message: te.Field + " has the wrong type", Field: te.Field}
		}
		return &domain.Error{Kind: domain.KindMalformed, Code: "malformed_json", Message: "the body is not valid JSON"}
	}
	return nil
}

func jsonHeaders() map[string]string {
	return map[string]string{
		"Content-Type":           "application/json; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	}
}

func jsonResponse(status int, body any) Response {
	resp := Response{StatusCode: status, Headers: jsonHeaders()}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return errorResponse(http.StatusInternalServerError, "internal", "internal error", "")
		}
		resp.Body = string(b)
	}
	return resp
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

func errorResponse(status int, code, message, field string) Response {
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Field = code, message, field
	return jsonResponse(status, b)
}

// Body returns the request body, decoding it when API Gateway passed it as base64 (as it does
// for content types it does not consider text).
func Body(r *Request) ([]byte, error) {
	if !r.IsBase64Encoded {
		return []byte(r.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(r.Body)
	if err != nil {
		return nil, &domain.Error{Kind: domain.KindMalformed, Code: "malformed_body", Message: "the body is not valid base64"}
	}
	return b, nil
}

// NoRoute is the answer to a route the function does not serve.
func NoRoute() Response { return errorResponse(http.StatusNotFound, "not_found", "no such route", "") }

// LimitBody refuses, with 413 payload_too_large, a request whose body is over limit bytes,
// before next sees it.
func LimitBody(next Handler, limit int) Handler {
	return func(ctx context.Context, r Request) (Response, error) {
		if body, ok := rawBody(&r, limit); !ok || len(body) > limit {
			return errorResponse(http.StatusRequestEntityTooLarge, "payload_too_large", "the body is too large", ""), nil
		}
		return next(ctx, r)
	}
}
