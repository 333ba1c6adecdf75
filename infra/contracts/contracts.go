// Package contracts holds the subsets of the counterparts' published API documents that the
// platform uses (aruba-partner.yaml, legalmail.yaml), and checks requests against them: the
// stand-ins refuse what the real services' documents refuse.
package contracts

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi/datamodel"
)

//go:embed *.yaml
var files embed.FS

// Documents.
const (
	Aruba     = "aruba-partner.yaml"
	Legalmail = "legalmail.yaml"
)

// Checker validates requests against one document.
type Checker struct {
	v validator.Validator
}

// Load parses the named document.
func Load(name string) (*Checker, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.DiscardHandler)
	doc, err := libopenapi.NewDocumentWithConfiguration(b, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Checker{v: validator.NewValidatorFromV3Model(&model.Model, config.WithFormatAssertions())}, nil
}

// MustLoad is Load for the documents embedded here, which the tests prove load.
func MustLoad(name string) *Checker {
	c, err := Load(name)
	if err != nil {
		panic(err)
	}
	return c
}

// Violation is a request the document refuses: Field names the body field, parameter or
// header at fault when the validator tells ("" otherwise); Missing says that field is required
// and absent (some APIs answer that with another status than a wrong value).
type Violation struct {
	Field   string
	Reason  string
	Missing bool
}

func (v *Violation) Error() string {
	if v.Field == "" {
		return v.Reason
	}
	return v.Field + ": " + v.Reason
}

// missingProperty is how the schema validator words a required property that is absent (the
// first one, when several are).
var missingProperty = regexp.MustCompile(`^missing propert(?:y|ies) '([^']+)'`)

// Check validates the request's path, method, parameters and body against the document; the
// body stays readable. It returns a *Violation for a request the document refuses.
func (c *Checker) Check(r *http.Request) error {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			return err
		}
		body = b
	}
	restore := func() { r.Body = io.NopCloser(bytes.NewReader(body)) }
	restore()
	defer restore()
	ok, errs := c.v.ValidateHttpRequest(r)
	if ok {
		return nil
	}
	if len(errs) == 0 {
		return &Violation{Reason: "refused by the document"}
	}
	e := errs[0]
	v := &Violation{Reason: e.Message}
	if len(e.SchemaValidationErrors) > 0 {
		s := e.SchemaValidationErrors[0]
		v.Field = strings.TrimPrefix(strings.TrimPrefix(s.FieldPath, "$"), ".")
		if v.Field == "" {
			v.Field = s.FieldName
		}
		v.Reason = s.Reason
		if m := missingProperty.FindStringSubmatch(s.Reason); m != nil {
			v.Field, v.Missing = strings.TrimPrefix(v.Field+"."+m[1], "."), true
		}
	} else if e.ParameterName != "" {
		v.Field = e.ParameterName
	}
	return v
}
