// Package openapicheck holds HTTP answers to an OpenAPI 3.1 document: it finds the operation a
// request went to, and checks that the answer's status, media type, headers and body are what the
// document says. The end-to-end tests (infra/localcloud) check every answer of the API with it, and
// shared/httpapi's tests check the document's own examples with its schema validator.
//
// The document and the answers are validated by github.com/pb33f/libopenapi-validator, which
// implements OpenAPI 3.1 and JSON Schema 2020-12 in full. What this package adds is what API
// Gateway does that no document says: a request no route takes is answered 404 with a
// GatewayMessage, and a response documented without content must come without a body.
package openapicheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	valerrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/responses"
	"github.com/pb33f/libopenapi-validator/router"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"
	"go.yaml.in/yaml/v3"
)

// Doc is a parsed OpenAPI document.
type Doc struct {
	// Root is the document as JSON would have it: objects are map[string]any and numbers
	// float64, so that examples compare exactly as a client would see them.
	Root map[string]any
	*Validator
	router    router.Router
	responses responses.ResponseBodyValidator
}

// Operation is one operation of the document.
type Operation struct {
	Method string // upper case: "GET"
	Path   string // the path template: "/v1/orders/{orderId}"

	op       *v3.Operation
	pathItem *v3.PathItem
}

// String names the operation as API Gateway names a route: "GET /v1/orders/{orderId}".
func (o Operation) String() string { return o.Method + " " + o.Path }

// Methods are the Path Item Object's operation fields.
var Methods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// options are the validator's: formats (date-time, email) are assertions, as clients rely on them.
func options() []config.Option { return []config.Option{config.WithFormatAssertions()} }

// Load reads and parses the OpenAPI document at path (YAML or JSON).
func Load(path string) (*Doc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Parse parses an OpenAPI document (YAML or JSON). A document that is not valid against the
// OpenAPI specification's own schema, whose model does not build (a dangling $ref) or one of
// whose schemas is not valid JSON Schema is an error: a defect there would otherwise only show
// as answers wrongly accepted or refused.
func Parse(b []byte) (*Doc, error) {
	root, err := jsonRoot(b)
	if err != nil {
		return nil, err
	}
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.DiscardHandler) // what it logs, BuildV3Model returns
	doc, err := libopenapi.NewDocumentWithConfiguration(b, cfg)
	if err != nil {
		return nil, err
	}
	if ok, errs := schema_validation.ValidateOpenAPIDocument(doc); !ok {
		return nil, fmt.Errorf("not a valid OpenAPI document:\n\t%s", describe(errs))
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, err
	}
	schemas := NewValidator(root)
	if err := schemas.compileAll(); err != nil {
		return nil, err
	}
	v := validator.NewValidatorFromV3Model(&model.Model, options()...)
	return &Doc{
		Root:      root,
		Validator: schemas,
		router:    router.NewRouter(&model.Model, router.WithPathOnlyMatching()),
		responses: v.GetResponseBodyValidator(),
	}, nil
}

func jsonRoot(b []byte) (map[string]any, error) {
	var raw any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	j, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("not representable as JSON (a mapping key that is not a string?): %w", err)
	}
	var root map[string]any
	if err := json.Unmarshal(j, &root); err != nil {
		return nil, fmt.Errorf("not an object: %w", err)
	}
	return root, nil
}

// request is the request an answer was to; rawPath is a path, with or without a query, or a
// whole URL.
func request(method, rawPath string) (*http.Request, error) {
	if !strings.HasPrefix(rawPath, "http://") && !strings.HasPrefix(rawPath, "https://") {
		rawPath = "http://api" + rawPath
	}
	return http.NewRequest(strings.ToUpper(method), rawPath, nil)
}

// Match returns the operation a request goes to (rawPath is a path, with or without its
// query, or a whole URL): among the templates that match the path, a literal segment wins over
// a parameter, as in API Gateway.
func (d *Doc) Match(method, rawPath string) (Operation, bool) {
	req, err := request(method, rawPath)
	if err != nil {
		return Operation{}, false
	}
	if strings.Contains(req.URL.EscapedPath()[1:]+"/", "//") {
		return Operation{}, false // API Gateway routes no empty segment, a trailing slash included
	}
	route, err := d.router.FindRoute(req)
	if err != nil || route.Operation == nil {
		return Operation{}, false
	}
	return Operation{Method: req.Method, Path: route.Path, op: route.Operation, pathItem: route.PathItem}, true
}

// Resolve follows a local reference ("#/components/schemas/Order") in root.
func Resolve(root map[string]any, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("%s: only local references are supported", ref)
	}
	var cur any = root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("%s: %q does not exist", ref, tok)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%s: no element %q", ref, tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%s: cannot descend into %q", ref, tok)
		}
	}
	return cur, nil
}

// GatewayMessage is the schema of the answers API Gateway makes by itself; a request that no
// route takes is answered 404 with it.
const GatewayMessage = "#/components/schemas/GatewayMessage"

// CheckResponse checks an answer against the document: the operation whose path template
// matches rawPath (a path, with or without its query, or a whole URL) documents the status (or
// a range like 4XX, or default); the response documents the Content-Type (a response without
// content must have no body); the body validates against the media type's schema; and the
// response's headers are present when required and valid. A request that no operation takes
// must be API Gateway's 404, a GatewayMessage.
func (d *Doc) CheckResponse(method, rawPath string, status int, header http.Header, body []byte) error {
	op, ok := d.Match(method, rawPath)
	if !ok {
		at := fmt.Sprintf("%s %s (no route) %d", method, rawPath, status)
		if status != http.StatusNotFound {
			return fmt.Errorf("%s: no operation of the document takes it, yet the answer is not API Gateway's 404", at)
		}
		if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			return fmt.Errorf("%s: Content-Type %q, not API Gateway's application/json", at, ct)
		}
		var x any
		if err := json.Unmarshal(body, &x); err != nil {
			return fmt.Errorf("%s: the body is not JSON (%v): %s", at, err, excerpt(body))
		}
		if errs := d.Validate(map[string]any{"$ref": GatewayMessage}, x); len(errs) > 0 {
			return fmt.Errorf("%s: the body is not a GatewayMessage:\n\t%s\nbody: %s", at, strings.Join(errs, "\n\t"), excerpt(body))
		}
		return nil
	}
	at := fmt.Sprintf("%s %s (%s) %d", method, rawPath, op, status)
	resp := documented(op.op.Responses, status)
	if resp == nil {
		var codes []string
		for code := range op.op.Responses.Codes.KeysFromOldest() {
			codes = append(codes, code)
		}
		if op.op.Responses.Default != nil {
			codes = append(codes, "default")
		}
		slices.Sort(codes)
		return fmt.Errorf("%s: status %d is not documented (documented: %s); body %s", at, status, strings.Join(codes, ", "), excerpt(body))
	}
	ct := header.Get("Content-Type")
	if orderedmap.Len(resp.Content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("%s: the response documents no content, yet the body is %d bytes (Content-Type %q): %s", at, len(body), ct, excerpt(body))
		}
	} else if ct == "" {
		return fmt.Errorf("%s: no Content-Type (documented: %s); body %s", at, strings.Join(slices.Sorted(resp.Content.KeysFromOldest()), ", "), excerpt(body))
	}
	req, err := request(method, rawPath)
	if err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	answer := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	if ok, errs := d.responses.ValidateResponseBodyWithPathItem(req, answer, op.pathItem, op.Path); !ok {
		return fmt.Errorf("%s: %s\nbody: %s", at, describe(errs), excerpt(body))
	}
	return nil
}

// documented is the response the operation documents for status: the code itself, else its
// range (4XX), else default; nil when there is none.
func documented(r *v3.Responses, status int) *v3.Response {
	if r == nil {
		return nil
	}
	code := strconv.Itoa(status)
	for _, k := range []string{code, code[:1] + "XX"} {
		if resp, ok := r.Codes.Get(k); ok {
			return resp
		}
	}
	return r.Default
}

// describe is the validator's errors, one a line, each naming where in the body it is.
func describe(errs []*valerrors.ValidationError) string {
	var lines []string
	for _, e := range errs {
		if len(e.SchemaValidationErrors) == 0 {
			lines = append(lines, e.Message+": "+e.Reason)
			continue
		}
		for _, f := range e.SchemaValidationErrors {
			switch {
			case f.FieldPath != "":
				lines = append(lines, fmt.Sprintf("%s: at %s: %s", e.Message, f.FieldPath, f.Reason))
			case len(f.InstancePath) == 0:
				lines = append(lines, fmt.Sprintf("%s: at $: %s", e.Message, f.Reason))
			default: // a header: the reason names it
				lines = append(lines, e.Message+": "+f.Reason)
			}
		}
	}
	return strings.Join(lines, "\n\t")
}

// excerpt is the start of a body, for a message.
func excerpt(b []byte) string {
	const max = 600
	if len(b) > max {
		return fmt.Sprintf("%s… (%d more bytes)", b[:max], len(b)-max)
	}
	return string(b)
}
