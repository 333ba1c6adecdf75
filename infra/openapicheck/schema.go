package openapicheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pb33f/jsonschema/v6"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/helpers"
)

// Validator checks an instance against a schema of an OpenAPI 3.1 document (JSON Schema
// 2020-12 with the OpenAPI vocabulary), compiled by libopenapi-validator's compiler.
//
// Instances are as encoding/json decodes into an `any`: objects are map[string]any, arrays
// []any and numbers float64.
type Validator struct {
	// Root is the document local references ("#/components/schemas/Order") are resolved in.
	Root map[string]any

	once    sync.Once
	root    []byte // Root as JSON
	version float32
	rootErr error

	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema // by the schema's JSON
}

// NewValidator returns a validator resolving references in root.
func NewValidator(root map[string]any) *Validator { return &Validator{Root: root} }

// The schema given to Validate and the document it refers into are two resources of the
// compiler; the schema's local references are rewritten to point into the document.
const (
	docResource    = "https://openapicheck.invalid/openapi.json"
	schemaResource = "https://openapicheck.invalid/schema.json"
)

// Validate returns what is wrong with x, one message per problem, each naming where in x (a
// JSON path: "$.members[0].pec"). A schema that does not compile is one message.
func (v *Validator) Validate(schema, x any) []string {
	s, err := v.compile(schema)
	if err != nil {
		return []string{err.Error()}
	}
	err = s.Validate(x)
	var ve *jsonschema.ValidationError
	if err == nil {
		return nil
	} else if !errors.As(err, &ve) {
		return []string{err.Error()}
	}
	var errs []string
	for _, u := range helpers.FlattenSchemaOutputErrors(ve.DetailedOutput()) {
		msg := u.Error.String()
		if helpers.IgnoreRegex.MatchString(msg) {
			continue // "validation failed" and the like: the causes follow
		}
		errs = append(errs, fmt.Sprintf("at %s: %s", helpers.ExtractJSONPathFromStringLocation(u.InstanceLocation), msg))
	}
	if len(errs) == 0 {
		errs = append(errs, ve.Error())
	}
	return errs
}

func (v *Validator) compile(schema any) (*jsonschema.Schema, error) {
	v.once.Do(func() {
		v.root, v.rootErr = json.Marshal(v.Root)
		v.version = 3.1
		if s, ok := v.Root["openapi"].(string); ok {
			v.version = helpers.VersionToFloat(s)
		}
	})
	if v.rootErr != nil {
		return nil, v.rootErr
	}
	b, err := json.Marshal(rebase(schema))
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.compiled[string(b)]; ok {
		return s, nil
	}
	opts := config.NewValidationOptions(options()...)
	s, err := helpers.NewCompiledSchemaResourcesWithVersion(schemaResource, map[string][]byte{docResource: v.root, schemaResource: b}, opts, v.version)
	if err != nil {
		return nil, err
	}
	if v.compiled == nil {
		v.compiled = map[string]*jsonschema.Schema{}
	}
	v.compiled[string(b)] = s
	return s, nil
}

// compileAll compiles every schema of the document at once (the component schemas and those of
// the parameters, headers and media types), so that a schema that is not valid JSON Schema is an
// error when the document is read, not when an answer first meets it.
func (v *Validator) compileAll() error {
	var refs []any
	var walk func(x any, at string)
	walk = func(x any, at string) {
		switch x := x.(type) {
		case []any:
			for i, e := range x {
				walk(e, at+"/"+strconv.Itoa(i))
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				p := at + "/" + strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
				switch {
				case k == "schema" || at == "#/components/schemas":
					refs = append(refs, map[string]any{"$ref": p})
				case k != "example" && k != "examples":
					walk(x[k], p)
				}
			}
		}
	}
	walk(v.Root, "#")
	_, err := v.compile(map[string]any{"allOf": refs})
	return err
}

// rebase copies a schema, its local references made to point into the document.
func rebase(x any) any {
	switch x := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if ref, ok := val.(string); ok && k == "$ref" && strings.HasPrefix(ref, "#") {
				val = docResource + ref
			}
			out[k] = rebase(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = rebase(val)
		}
		return out
	}
	return x
}
