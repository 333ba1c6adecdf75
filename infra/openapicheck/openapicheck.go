// Package openapicheck holds HTTP answers to an OpenAPI 3.1 document: it finds the operation a
// request went to, and checks that the answer's status, media type and JSON body are what the
// document says. The end-to-end tests (infra/localcloud) check every answer of the API with it, and
// shared/httpapi's tests check the document's own examples with its schema validator.
//
// It is test tooling: it implements the part of OpenAPI and JSON Schema 2020-12 that
// shared/httpapi/openapi.yaml uses, and refuses what it does not implement.
package openapicheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Doc is a parsed OpenAPI document.
type Doc struct {
	// Root is the document as JSON would have it: objects are map[string]any and numbers
	// float64, so that examples compare exactly as a client would see them.
	Root map[string]any
	*Validator
	ops []Operation
}

// Operation is one operation of the document.
type Operation struct {
	Method   string         // upper case: "GET"
	Path     string         // the path template: "/v1/orders/{orderId}"
	Op       map[string]any // the Operation Object
	PathItem map[string]any // the Path Item Object it is in

	segments []segment
}

// String names the operation as API Gateway names a route: "GET /v1/orders/{orderId}".
func (o Operation) String() string { return o.Method + " " + o.Path }

// segment matches one segment of a request's path.
type segment struct {
	re     *regexp.Regexp
	greedy bool // {name+}: the rest of the path
	rank   int  // 2 literal, 1 literal with a parameter in it, 0 a parameter
}

// Methods are the Path Item Object's operation fields.
var Methods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

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

// Parse parses an OpenAPI document (YAML or JSON).
func Parse(b []byte) (*Doc, error) {
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
	d := &Doc{Root: root, Validator: NewValidator(root)}
	for path, item := range obj(root["paths"]) {
		segs, err := compileTemplate(path)
		if err != nil {
			return nil, err
		}
		for _, m := range Methods {
			if op, ok := obj(item)[m].(map[string]any); ok {
				d.ops = append(d.ops, Operation{Method: strings.ToUpper(m), Path: path, Op: op, PathItem: obj(item), segments: segs})
			}
		}
	}
	sort.Slice(d.ops, func(i, j int) bool { return d.ops[i].String() < d.ops[j].String() })
	return d, nil
}

// Operations returns the document's operations, sorted by method and path.
func (d *Doc) Operations() []Operation { return slices.Clone(d.ops) }

var param = regexp.MustCompile(`\{([^{}]+)\}`)

func compileTemplate(path string) ([]segment, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("path %q does not begin with /", path)
	}
	parts := strings.Split(path[1:], "/")
	segs := make([]segment, len(parts))
	for i, p := range parts {
		locs := param.FindAllStringSubmatchIndex(p, -1)
		switch {
		case len(locs) == 0:
			segs[i] = segment{re: regexp.MustCompile("^" + regexp.QuoteMeta(p) + "$"), rank: 2}
		case len(locs) == 1 && locs[0][0] == 0 && locs[0][1] == len(p) && strings.HasSuffix(p, "+}"):
			if i != len(parts)-1 {
				return nil, fmt.Errorf("path %q: a greedy parameter must be the last segment", path)
			}
			segs[i] = segment{re: regexp.MustCompile(`^.+$`), greedy: true}
		default:
			var b strings.Builder
			b.WriteString("^")
			last := 0
			for _, l := range locs {
				b.WriteString(regexp.QuoteMeta(p[last:l[0]]))
				b.WriteString(`(?s:.+?)`)
				last = l[1]
			}
			b.WriteString(regexp.QuoteMeta(p[last:]) + "$")
			rank := 1
			if len(locs) == 1 && locs[0][0] == 0 && locs[0][1] == len(p) {
				rank = 0
			}
			segs[i] = segment{re: regexp.MustCompile(b.String()), rank: rank}
		}
	}
	return segs, nil
}

// requestPath returns the decoded segments of a request's path; raw is a path, with or without
// a query, or a whole URL.
func requestPath(raw string) []string {
	if strings.HasPrefix(raw, "http://") || strings.HasPrefix(raw, "https://") {
		if u, err := url.Parse(raw); err == nil {
			raw = u.EscapedPath()
		}
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	parts := strings.Split(strings.TrimPrefix(raw, "/"), "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

// match returns the segments' ranks when the template matches the path, or nil.
func (o Operation) match(parts []string) []int {
	ranks := make([]int, 0, len(o.segments))
	for i, s := range o.segments {
		if s.greedy {
			if i >= len(parts) {
				return nil
			}
			return append(ranks, -1)
		}
		if i >= len(parts) || !s.re.MatchString(parts[i]) {
			return nil
		}
		ranks = append(ranks, s.rank)
	}
	if len(parts) != len(o.segments) {
		return nil
	}
	return ranks
}

// Match returns the operation a request goes to: among the method's operations whose path
// template matches rawPath (a path, with or without its query, or a whole URL), the most
// specific, segment by segment from the left: a literal segment before a segment with a
// parameter in it, before a parameter, before a greedy {name+}.
func (d *Doc) Match(method, rawPath string) (Operation, bool) {
	parts := requestPath(rawPath)
	method = strings.ToUpper(method)
	var best Operation
	var bestRanks []int
	for _, o := range d.ops {
		if o.Method != method {
			continue
		}
		ranks := o.match(parts)
		if ranks == nil {
			continue
		}
		if bestRanks == nil || slices.Compare(ranks, bestRanks) > 0 {
			best, bestRanks = o, ranks
		}
	}
	return best, bestRanks != nil
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

// Deref returns v, or what it refers to when it is a Reference Object (following chains).
func (d *Doc) Deref(v any) (map[string]any, error) {
	for range 10 {
		ref, ok := obj(v)["$ref"].(string)
		if !ok {
			return obj(v), nil
		}
		var err error
		if v, err = Resolve(d.Root, ref); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("reference chain too long")
}

// GatewayMessage is the schema of the answers API Gateway makes by itself; a request that no
// route takes is answered 404 with it.
const GatewayMessage = "#/components/schemas/GatewayMessage"

// CheckResponse checks an answer against the document: the operation whose path template
// matches rawPath (a path, with or without its query, or a whole URL) documents the status (or
// a range like 4XX, or default); the response documents the Content-Type (a response without
// content must have no body); a JSON body validates against the media type's schema; and the
// response's required headers are present. Other bodies (HTML, CSV, PDF) are checked by media
// type only. A request that no operation takes must be API Gateway's 404, a GatewayMessage.
func (d *Doc) CheckResponse(method, rawPath string, status int, header http.Header, body []byte) error {
	op, ok := d.Match(method, rawPath)
	if !ok {
		if status != http.StatusNotFound {
			return fmt.Errorf("%s %s: no operation of the document takes it, yet the answer is %d, not API Gateway's 404", method, rawPath, status)
		}
		return d.checkBody(method+" "+rawPath+" (no route) 404", map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": GatewayMessage}}}, header, body)
	}
	at := fmt.Sprintf("%s %s (%s) %d", method, rawPath, op, status)
	responses := obj(op.Op["responses"])
	code := strconv.Itoa(status)
	r, ok := responses[code]
	if !ok {
		r, ok = responses[code[:1]+"XX"]
	}
	if !ok {
		r, ok = responses["default"]
	}
	if !ok {
		documented := make([]string, 0, len(responses))
		for k := range responses {
			documented = append(documented, k)
		}
		sort.Strings(documented)
		return fmt.Errorf("%s: status %d is not documented (documented: %s); body %s", at, status, strings.Join(documented, ", "), excerpt(body))
	}
	resp, err := d.Deref(r)
	if err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	var missing []string
	for name, h := range obj(resp["headers"]) {
		h, err := d.Deref(h)
		if err != nil {
			return fmt.Errorf("%s: header %s: %w", at, name, err)
		}
		if h["required"] == true && !strings.EqualFold(name, "Content-Type") && header.Get(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("%s: required header %s missing", at, strings.Join(missing, ", "))
	}
	return d.checkBody(at, obj(resp["content"]), header, body)
}

func (d *Doc) checkBody(at string, content map[string]any, header http.Header, body []byte) error {
	ct := header.Get("Content-Type")
	if len(content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("%s: the response documents no content, yet the body is %d bytes (Content-Type %q): %s", at, len(body), ct, excerpt(body))
		}
		return nil
	}
	documented := make([]string, 0, len(content))
	for k := range content {
		documented = append(documented, k)
	}
	sort.Strings(documented)
	if ct == "" {
		return fmt.Errorf("%s: no Content-Type (documented: %s); body %s", at, strings.Join(documented, ", "), excerpt(body))
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%s: Content-Type %q: %v", at, ct, err)
	}
	key := ""
	for _, k := range documented {
		if mediaMatches(k, mt) && (key == "" || specificity(k) > specificity(key)) {
			key = k
		}
	}
	if key == "" {
		return fmt.Errorf("%s: Content-Type %s is not documented (documented: %s); body %s", at, mt, strings.Join(documented, ", "), excerpt(body))
	}
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil
	}
	var x any
	if err := json.Unmarshal(body, &x); err != nil {
		return fmt.Errorf("%s %s: the body is not JSON (%v): %s", at, mt, err, excerpt(body))
	}
	schema, ok := obj(content[key])["schema"]
	if !ok {
		return nil // the document does not constrain it
	}
	if errs := d.Validate(schema, x, ""); len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("%s %s: the body does not match the schema:\n\t%s\nbody: %s", at, mt, strings.Join(errs, "\n\t"), excerpt(body))
	}
	return nil
}

// mediaMatches reports whether the documented media range (application/json, text/*, */*)
// covers the media type.
func mediaMatches(documented, mt string) bool {
	documented = strings.ToLower(documented)
	if documented == "*/*" || documented == mt {
		return true
	}
	typ, sub, ok := strings.Cut(documented, "/")
	return ok && sub == "*" && strings.HasPrefix(mt, typ+"/")
}

func specificity(documented string) int {
	switch {
	case documented == "*/*":
		return 0
	case strings.HasSuffix(documented, "/*"):
		return 1
	}
	return 2
}

// excerpt is the start of a body, for a message.
func excerpt(b []byte) string {
	const max = 600
	if len(b) > max {
		return fmt.Sprintf("%s… (%d more bytes)", b[:max], len(b)-max)
	}
	return string(b)
}
