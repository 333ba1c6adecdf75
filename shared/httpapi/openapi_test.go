package httpapi_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pecplatform/pec/infra/openapicheck"
)

// The HTTP contract (shared/api.md) is kept as openapi.yaml beside the code that serves it. These
// tests hold it to template.yaml, which is what API Gateway actually routes, and to itself.

var (
	templatePath = filepath.Join("..", "..", "template.yaml")
	openAPIPath  = "openapi.yaml"
)

// route is one HttpApi route, named as API Gateway names it: "GET /v1/orders/{orderId}".
type route struct{ Method, Path string }

func (r route) String() string { return r.Method + " " + r.Path }

// template is what the tests need from template.yaml.
type template struct {
	routes []route
	public map[route]bool    // the routes without an authorizer (Auth.Authorizer: NONE, or no default)
	params map[string]string // the Parameters' defaults
}

// readTemplate walks template.yaml as a yaml.Node tree, so that CloudFormation's tags (!Ref,
// !GetAtt, !Sub) are kept as they are rather than refused or lost.
func readTemplate(t *testing.T) template {
	t.Helper()
	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", templatePath, err)
	}
	if len(doc.Content) != 1 {
		t.Fatalf("%s: not one YAML document", templatePath)
	}
	root := doc.Content[0]
	tpl := template{public: map[route]bool{}, params: map[string]string{}}
	for name, p := range mapping(field(root, "Parameters")) {
		if d := field(p, "Default"); d != nil && d.Kind == yaml.ScalarNode {
			tpl.params[name] = d.Value
		}
	}
	resources := mapping(field(root, "Resources"))
	// defaultAuthorizer is the DefaultAuthorizer of the HttpApi an event names ("" for none, as
	// for the implicit API that an event without ApiId gets).
	defaultAuthorizer := func(apiID *yaml.Node) string {
		if apiID == nil || apiID.Tag != "!Ref" {
			return ""
		}
		return plainString(field(field(field(resources[apiID.Value], "Properties"), "Auth"), "DefaultAuthorizer"))
	}
	for res, r := range resources {
		for ev, e := range mapping(field(field(r, "Properties"), "Events")) {
			if typ := field(e, "Type"); typ == nil || typ.Value != "HttpApi" {
				continue
			}
			props := field(e, "Properties")
			path, method := plainString(field(props, "Path")), plainString(field(props, "Method"))
			if path == "" || method == "" {
				t.Errorf("%s: %s event %s: Path and Method must be plain strings (an intrinsic function or the $default route cannot be checked against openapi.yaml)", templatePath, res, ev)
				continue
			}
			if method = strings.ToUpper(method); method == "ANY" || method == "*" {
				t.Errorf("%s: %s event %s: method %s cannot be checked against openapi.yaml; list the methods", templatePath, res, ev, method)
				continue
			}
			rt := route{method, path}
			tpl.routes = append(tpl.routes, rt)
			authorizer := defaultAuthorizer(field(props, "ApiId"))
			if a := field(field(props, "Auth"), "Authorizer"); a != nil {
				if authorizer = plainString(a); authorizer == "" {
					t.Errorf("%s: %s event %s: Auth.Authorizer must be a plain string", templatePath, res, ev)
					continue
				}
			}
			if authorizer == "" || authorizer == "NONE" {
				tpl.public[rt] = true
			}
		}
	}
	if len(tpl.routes) == 0 {
		t.Fatalf("%s: no HttpApi events found", templatePath)
	}
	sort.Slice(tpl.routes, func(i, j int) bool { return tpl.routes[i].String() < tpl.routes[j].String() })
	return tpl
}

// field returns the value of key in the mapping n, or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// mapping returns the entries of the mapping n (none when n is not a mapping).
func mapping(n *yaml.Node) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n = deref(n); n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[n.Content[i].Value] = deref(n.Content[i+1])
		}
	}
	return out
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// plainString is the value of an untagged string scalar, or "".
func plainString(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return ""
	}
	return n.Value
}

// readOpenAPI returns openapi.yaml as JSON would have it: objects are map[string]any and
// numbers float64, so that examples compare exactly as a client would see them.
func readOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	d, err := openapicheck.Load(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	return d.Root
}

// operation is one operation of the OpenAPI document.
type operation struct {
	route
	op       map[string]any
	pathItem map[string]any
}

func operations(doc map[string]any) []operation {
	var out []operation
	for path, item := range obj(doc["paths"]) {
		for _, m := range openapicheck.Methods {
			if op, ok := obj(item)[m].(map[string]any); ok {
				out = append(out, operation{route{strings.ToUpper(m), path}, op, obj(item)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// deRef returns v, or what it refers to when it is a Reference Object.
func deRef(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	for i := 0; i < 10; i++ {
		ref, ok := obj(v)["$ref"].(string)
		if !ok {
			return obj(v)
		}
		var err error
		if v, err = openapicheck.Resolve(doc, ref); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("reference chain too long")
	return nil
}

func TestOpenAPI_DescribesExactlyTheTemplateRoutes(t *testing.T) {
	tpl := readTemplate(t)
	doc := readOpenAPI(t)
	inTemplate := map[route]bool{}
	for _, r := range tpl.routes {
		inTemplate[r] = true
	}
	inOpenAPI := map[route]bool{}
	for _, op := range operations(doc) {
		inOpenAPI[op.route] = true
	}
	var missing, extra []string
	for r := range inTemplate {
		if !inOpenAPI[r] {
			missing = append(missing, r.String())
		}
	}
	for r := range inOpenAPI {
		if !inTemplate[r] {
			extra = append(extra, r.String())
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes in %s that %s does not describe:\n\t%s", templatePath, openAPIPath, strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("routes in %s that %s does not route:\n\t%s", openAPIPath, templatePath, strings.Join(extra, "\n\t"))
	}
}

// TestOpenAPI_SecurityMatchesTheTemplate: a route API Gateway serves without its authorizer is
// documented as public (`security: []`), and every other route keeps the portal token.
func TestOpenAPI_SecurityMatchesTheTemplate(t *testing.T) {
	tpl := readTemplate(t)
	doc := readOpenAPI(t)
	ops := map[route]operation{}
	for _, op := range operations(doc) {
		ops[op.route] = op
	}
	if !slices.ContainsFunc(anySlice(doc["security"]), func(req any) bool { _, ok := obj(req)["bearerAuth"]; return ok }) {
		t.Error("the global security requirement is not bearerAuth")
	}
	for _, r := range tpl.routes {
		op, ok := ops[r]
		if !ok {
			continue // TestOpenAPI_DescribesExactlyTheTemplateRoutes reports it
		}
		sec, overridden := op.op["security"]
		reqs := anySlice(sec)
		switch {
		case tpl.public[r] && (!overridden || sec == nil || len(reqs) > 0):
			t.Errorf("%s: the template serves it without an authorizer; openapi.yaml must say `security: []`", r)
		case !tpl.public[r] && overridden && !slices.ContainsFunc(reqs, func(req any) bool { _, ok := obj(req)["bearerAuth"]; return ok }):
			t.Errorf("%s: the template puts it behind the JWT authorizer; openapi.yaml must not drop bearerAuth (security %v)", r, sec)
		}
	}
}

var pathParam = regexp.MustCompile(`\{([^{}]+)\}`)

func TestOpenAPI_IsWellFormed(t *testing.T) {
	doc := readOpenAPI(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi is %q, want 3.1.x", v)
	}
	if obj(doc["info"])["title"] == nil || obj(doc["info"])["version"] == nil {
		t.Error("info needs a title and a version")
	}

	// Every reference resolves to a component.
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"]; ok {
				s, _ := ref.(string)
				if !strings.HasPrefix(s, "#/components/") {
					t.Errorf("%s: $ref %q does not point into #/components/", at, ref)
				} else if _, err := openapicheck.Resolve(doc, s); err != nil {
					t.Errorf("%s: %v", at, err)
				}
			}
			for k, x := range v {
				walk(at+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(at+"/"+strconv.Itoa(i), x)
			}
		}
	}
	walk("#", doc)

	schemes := obj(obj(doc["components"])["securitySchemes"])
	checkSecurity := func(at string, v any) {
		for _, req := range anySlice(v) {
			for name := range obj(req) {
				if schemes[name] == nil {
					t.Errorf("%s: security scheme %q is not in components.securitySchemes", at, name)
				}
			}
		}
	}
	if len(anySlice(doc["security"])) == 0 {
		t.Error("no global security requirement")
	}
	checkSecurity("security", doc["security"])

	ids := map[string]string{}
	for _, op := range operations(doc) {
		id, _ := op.op["operationId"].(string)
		switch {
		case id == "":
			t.Errorf("%s: no operationId", op)
		case ids[id] != "":
			t.Errorf("%s: operationId %q is also %s's", op, id, ids[id])
		default:
			ids[id] = op.String()
		}
		for _, k := range []string{"summary", "description"} {
			if s, _ := op.op[k].(string); strings.TrimSpace(s) == "" {
				t.Errorf("%s: no %s", op, k)
			}
		}
		checkSecurity(op.String()+" security", op.op["security"])
		success := false
		for status := range obj(op.op["responses"]) {
			if len(status) == 3 && (status[0] == '2' || status == "302" || status == "303") { // 302, 303: a redirect is the success of a link, of a page's form
				success = true
			}
		}
		if !success {
			t.Errorf("%s: no 2xx response", op)
		}

		// The path's {parameters} and the declared path parameters are the same set.
		declared := map[string]bool{}
		for _, p := range parameters(t, doc, op) {
			if p["in"] != "path" {
				continue
			}
			name, _ := p["name"].(string)
			declared[name] = true
			if p["required"] != true {
				t.Errorf("%s: path parameter %s must be required", op, name)
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(op.Path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %s is not declared", op, m[1])
			}
			delete(declared, m[1])
		}
		for name := range declared {
			t.Errorf("%s: path parameter %s is not in the path", op, name)
		}
	}
}

// parameters returns the operation's parameters, the path item's included, resolved.
func parameters(t *testing.T, doc map[string]any, op operation) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, p := range append(anySlice(op.pathItem["parameters"]), anySlice(op.op["parameters"])...) {
		out = append(out, deRef(t, doc, p))
	}
	return out
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func TestOpenAPI_ExamplesMatchTheirSchemas(t *testing.T) {
	doc := readOpenAPI(t)
	v := openapicheck.NewValidator(doc)
	checked := 0
	// examples validates a Media Type Object's examples; it returns how many there were.
	examples := func(at, mt string, media map[string]any) int {
		schema, ok := media["schema"]
		if !ok {
			t.Errorf("%s: no schema", at)
			return 0
		}
		checkMediaType(t, v, at, mt, schema, media)
		n := 0
		if ex, ok := media["example"]; ok {
			n++
			for _, e := range v.Validate(schema, ex) {
				t.Errorf("%s example: %s", at, e)
			}
		}
		for name, ex := range obj(media["examples"]) {
			n++
			value, ok := deRef(t, doc, ex)["value"]
			if !ok {
				t.Errorf("%s example %s: no value", at, name)
				continue
			}
			for _, e := range v.Validate(schema, value) {
				t.Errorf("%s example %s: %s", at, name, e)
			}
		}
		return n
	}
	for _, op := range operations(doc) {
		for _, p := range parameters(t, doc, op) {
			if ex, ok := p["example"]; ok {
				checked++
				for _, e := range v.Validate(p["schema"], ex) {
					t.Errorf("%s parameter %v example: %s", op, p["name"], e)
				}
			}
		}
		if rb, ok := op.op["requestBody"]; ok {
			for mt, media := range obj(deRef(t, doc, rb)["content"]) {
				n := examples(fmt.Sprintf("%s request %s", op, mt), mt, obj(media))
				if n == 0 && !binaryMedia[mt] {
					t.Errorf("%s request %s: no example", op, mt)
				}
				checked += n
			}
		}
		for status, resp := range obj(op.op["responses"]) {
			for mt, media := range obj(deRef(t, doc, resp)["content"]) {
				n := examples(fmt.Sprintf("%s %s %s", op, status, mt), mt, obj(media))
				if n == 0 && strings.HasPrefix(status, "2") && !binaryMedia[mt] {
					t.Errorf("%s %s %s: a success response needs an example", op, status, mt)
				}
				checked += n
			}
		}
	}
	if checked == 0 {
		t.Fatal("no examples found")
	}
}

// binaryMedia are the media types whose content is binary (a file, or files in a multipart
// body): they need no example, which could only be a placeholder.
var binaryMedia = map[string]bool{"application/pdf": true, "multipart/form-data": true}

// checkMediaType holds a Media Type Object to what the functions send and accept: JSON; HTML
// pages, whose schema is a string and whose examples are whole documents; HTML forms, whose
// fields are strings (a form has no other type); PDF files, a string of that media type; and
// multipart forms of files, each a string with its media type.
func checkMediaType(t *testing.T, v *openapicheck.Validator, at, mt string, schema any, media map[string]any) {
	t.Helper()
	var exs []any
	if ex, ok := media["example"]; ok {
		exs = append(exs, ex)
	}
	for _, ex := range obj(media["examples"]) {
		exs = append(exs, deRef(t, v.Root, ex)["value"])
	}
	switch mt {
	case "application/json":
	case "text/html":
		if typ := deRef(t, v.Root, schema)["type"]; typ != "string" {
			t.Errorf("%s: the schema of an HTML page must be a string, not %v", at, typ)
		}
		for _, ex := range exs {
			s, ok := ex.(string)
			if !ok {
				t.Errorf("%s: an HTML example must be a string, not %T", at, ex)
			} else if !strings.HasPrefix(strings.ToLower(s), "<!doctype html>") || !strings.HasSuffix(strings.TrimSpace(s), "</html>") {
				t.Errorf("%s: an HTML example must be a whole document (<!doctype html> ... </html>)", at)
			}
		}
	case "text/csv":
		if typ := deRef(t, v.Root, schema)["type"]; typ != "string" {
			t.Errorf("%s: the schema of a CSV file must be a string, not %v", at, typ)
		}
		for _, ex := range exs {
			if s, ok := ex.(string); !ok || !strings.Contains(s, ";") {
				t.Errorf("%s: a CSV example must be a string of ;-separated lines", at)
			}
		}
	case "application/x-www-form-urlencoded":
		s := deRef(t, v.Root, schema)
		if s["type"] != "object" {
			t.Errorf("%s: the schema of a form must be an object", at)
		}
		for name, p := range obj(s["properties"]) {
			if typ := deRef(t, v.Root, p)["type"]; typ != "string" {
				t.Errorf("%s: form field %s must be a string, not %v", at, name, typ)
			}
		}
	case "application/pdf":
		if s := deRef(t, v.Root, schema); s["type"] != "string" || s["contentMediaType"] != mt {
			t.Errorf("%s: the schema of a PDF must be a string with contentMediaType %s", at, mt)
		}
	case "multipart/form-data":
		s := deRef(t, v.Root, schema)
		if s["type"] != "object" || len(obj(s["properties"])) == 0 {
			t.Errorf("%s: the schema of a multipart form must be an object with properties", at)
		}
		for name, p := range obj(s["properties"]) {
			if p := deRef(t, v.Root, p); p["type"] != "string" || p["contentMediaType"] == nil {
				t.Errorf("%s: part %s must be a string with a contentMediaType", at, name)
			}
		}
	default:
		t.Errorf("%s: media type %s is neither JSON, CSV, a PDF, an HTML page, an HTML form nor a multipart form", at, mt)
	}
}

// TestValidator_RejectsWhatItShould keeps the validator honest: each case is a schema and an
// instance that must fail, and one that must pass.
func TestValidator_RejectsWhatItShould(t *testing.T) {
	doc := map[string]any{"components": map[string]any{"schemas": map[string]any{
		"State": map[string]any{"type": "string", "enum": []any{"RICHIESTA", "ATTIVATA"}},
	}}}
	v := openapicheck.NewValidator(doc)
	closed := map[string]any{"type": "object", "required": []any{"a"}, "additionalProperties": false,
		"properties": map[string]any{"a": map[string]any{"type": []any{"string", "null"}}}}
	nullable := map[string]any{"anyOf": []any{map[string]any{"$ref": "#/components/schemas/State"}, map[string]any{"type": "null"}}}
	for _, c := range []struct {
		name   string
		schema map[string]any
		good   []any // instances that must pass
		bad    any   // an instance that must fail
	}{
		{"type", map[string]any{"type": "integer"}, []any{3.0}, 3.5},
		{"type union", closed, []any{map[string]any{"a": nil}, map[string]any{"a": "x"}}, map[string]any{"a": 1.0}},
		{"required", closed, []any{map[string]any{"a": "x"}}, map[string]any{}},
		{"additionalProperties", closed, []any{map[string]any{"a": "x"}}, map[string]any{"a": "x", "b": "y"}},
		{"$ref and enum", map[string]any{"$ref": "#/components/schemas/State"}, []any{"ATTIVATA"}, "ATTIVA"},
		{"anyOf", nullable, []any{nil, "RICHIESTA"}, "ATTIVA"},
		{"allOf", map[string]any{"allOf": []any{closed}}, []any{map[string]any{"a": "x"}}, map[string]any{}},
		{"items", map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/State"}}, []any{[]any{"RICHIESTA"}}, []any{"RICHIESTA", "X"}},
		{"pattern", map[string]any{"type": "string", "pattern": "^[A-Z0-9-]{2,32}$"}, []any{"TSRM-FI"}, "tsrm-fi"},
		{"minimum", map[string]any{"type": "integer", "minimum": 0.0}, []any{0.0}, -1.0},
		{"maxLength counts characters", map[string]any{"type": "string", "maxLength": 5.0}, []any{"Forlì"}, "Forlì-Cesena"},
		{"date-time", map[string]any{"type": "string", "format": "date-time"}, []any{"2025-03-14T09:12:33.204518Z"}, "2025-03-14 09:12"},
		{"oneOf", map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"$ref": "#/components/schemas/State"}}}, []any{"x"}, "RICHIESTA"},
	} {
		for _, good := range c.good {
			if errs := v.Validate(c.schema, good); len(errs) > 0 {
				t.Errorf("%s: %#v was refused: %v", c.name, good, errs)
			}
		}
		if errs := v.Validate(c.schema, c.bad); len(errs) == 0 {
			t.Errorf("%s: %#v was accepted", c.name, c.bad)
		}
	}
}

// TestOpenAPI_GatewayAnswersAreDocumentedOnEveryRoute: API Gateway answers by itself, on any
// route, a body over 10 MB (413), its throttling (429) and a failed function (500), and on the
// routes behind the JWT authorizer a refused token (401); each of these responses must accept
// its GatewayMessage, as the end-to-end tests check every answer against the document.
func TestOpenAPI_GatewayAnswersAreDocumentedOnEveryRoute(t *testing.T) {
	tpl := readTemplate(t)
	doc := readOpenAPI(t)
	v := openapicheck.NewValidator(doc)
	for _, op := range operations(doc) {
		statuses := []string{"413", "429", "500"}
		if !tpl.public[op.route] {
			statuses = append(statuses, "401")
		}
		for _, status := range statuses {
			resp, ok := obj(op.op["responses"])[status]
			if !ok {
				t.Errorf("%s: no %s response (API Gateway's own answer is possible on every route)", op, status)
				continue
			}
			media, ok := obj(deRef(t, doc, resp)["content"])["application/json"]
			if !ok {
				t.Errorf("%s %s: no application/json content for API Gateway's GatewayMessage", op, status)
				continue
			}
			for _, e := range v.Validate(obj(media)["schema"], map[string]any{"message": "Service message"}) {
				t.Errorf("%s %s: API Gateway's GatewayMessage is refused: %s", op, status, e)
			}
		}
	}
}
