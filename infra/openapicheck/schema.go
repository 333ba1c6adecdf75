package openapicheck

import (
	"fmt"
	"net/mail"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Validator checks an instance against the subset of JSON Schema 2020-12 that openapi.yaml
// uses. A keyword it does not implement is reported as an error, never silently skipped, so a
// schema cannot outgrow what is actually checked.
//
// Instances are as encoding/json decodes into an `any`: objects are map[string]any, arrays
// []any and numbers float64.
type Validator struct {
	// Root is the document local references ("#/components/schemas/Order") are resolved in.
	Root map[string]any
}

// NewValidator returns a validator resolving references in root.
func NewValidator(root map[string]any) *Validator { return &Validator{Root: root} }

// annotations are keywords that carry no constraint.
var annotations = map[string]bool{"description": true, "title": true, "default": true, "example": true, "examples": true, "deprecated": true, "readOnly": true, "writeOnly": true, "contentMediaType": true, "contentEncoding": true}

var keywords = map[string]bool{"$ref": true, "type": true, "enum": true, "required": true, "properties": true, "additionalProperties": true, "items": true, "pattern": true, "minLength": true, "maxLength": true, "format": true, "minimum": true, "maximum": true, "anyOf": true, "allOf": true}

// Validate returns what is wrong with x, one message per problem, each prefixed by where (at
// is the JSON pointer of x in the instance; "" is the root).
func (v *Validator) Validate(schema, x any, at string) []string {
	var errs []string
	fail := func(format string, args ...any) {
		where := at
		if where == "" {
			where = "(root)"
		}
		errs = append(errs, where+": "+fmt.Sprintf(format, args...))
	}
	s, ok := schema.(map[string]any)
	if !ok {
		fail("the schema is not an object")
		return errs
	}
	for k := range s {
		if !keywords[k] && !annotations[k] {
			fail("schema keyword %q is not supported by this validator", k)
		}
	}
	if ref, ok := s["$ref"].(string); ok {
		target, err := Resolve(v.Root, ref)
		if err != nil {
			fail("%v", err)
			return errs
		}
		errs = append(errs, v.Validate(target, x, at)...)
	}
	if typ, ok := s["type"]; ok {
		var allowed []string
		switch typ := typ.(type) {
		case string:
			allowed = []string{typ}
		case []any:
			for _, a := range typ {
				str, _ := a.(string)
				allowed = append(allowed, str)
			}
		}
		if !slices.ContainsFunc(allowed, func(a string) bool { return hasType(x, a) }) {
			fail("%s is not of type %v", JSONType(x), allowed)
			return errs // the other keywords would only repeat it
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, x) }) {
		fail("%v is not one of %v", x, enum)
	}
	for _, sub := range anySlice(s["allOf"]) {
		errs = append(errs, v.Validate(sub, x, at)...)
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		var why []string
		for _, sub := range anyOf {
			e := v.Validate(sub, x, at)
			if len(e) == 0 {
				why = nil
				break
			}
			why = append(why, strings.Join(e, "; "))
		}
		if why != nil {
			fail("matches none of anyOf: [%s]", strings.Join(why, "] ["))
		}
	}
	switch x := x.(type) {
	case map[string]any:
		for _, r := range anySlice(s["required"]) {
			name, _ := r.(string)
			if _, ok := x[name]; !ok {
				fail("required property %q is missing", r)
			}
		}
		props := obj(s["properties"])
		for k, val := range x {
			if sub, ok := props[k]; ok {
				errs = append(errs, v.Validate(sub, val, at+"/"+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case nil, bool:
				if ap == false {
					fail("property %q is not allowed", k)
				}
			default:
				fail("additionalProperties other than true or false is not supported by this validator")
			}
		}
	case []any:
		if items, ok := s["items"]; ok {
			for i, val := range x {
				errs = append(errs, v.Validate(items, val, at+"/"+strconv.Itoa(i))...)
			}
		}
	case string:
		if p, ok := s["pattern"].(string); ok {
			re, err := compile(p)
			if err != nil {
				fail("pattern %q: %v", p, err)
			} else if !re.MatchString(x) {
				fail("%q does not match %s", x, p)
			}
		}
		if n, ok := s["minLength"].(float64); ok && float64(utf8.RuneCountInString(x)) < n {
			fail("%q is shorter than %v characters", x, n)
		}
		if n, ok := s["maxLength"].(float64); ok && float64(utf8.RuneCountInString(x)) > n {
			fail("%q is longer than %v characters", x, n)
		}
		if f, ok := s["format"].(string); ok {
			if err := checkFormat(f, x); err != nil {
				fail("%q is not a %s: %v", x, f, err)
			}
		}
	case float64:
		if n, ok := s["minimum"].(float64); ok && x < n {
			fail("%v is less than %v", x, n)
		}
		if n, ok := s["maximum"].(float64); ok && x > n {
			fail("%v is more than %v", x, n)
		}
	}
	return errs
}

var patterns sync.Map // pattern → *regexp.Regexp

// compile compiles a pattern once: the e2e suite validates thousands of responses.
func compile(p string) (*regexp.Regexp, error) {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, err
	}
	patterns.Store(p, re)
	return re, nil
}

func checkFormat(format, s string) error {
	switch format {
	case "date-time":
		_, err := time.Parse(time.RFC3339Nano, s)
		return err
	case "date":
		_, err := time.Parse(time.DateOnly, s)
		return err
	case "email":
		a, err := mail.ParseAddress(s)
		if err == nil && a.Address != s {
			err = fmt.Errorf("not a bare address")
		}
		return err
	}
	return fmt.Errorf("format %q is not supported by this validator", format)
}

// JSONType names the JSON type of x ("integer" for a whole number).
func JSONType(x any) string {
	switch x := x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", x)
}

func hasType(x any, typ string) bool {
	got := JSONType(x)
	return got == typ || (typ == "number" && got == "integer")
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}
