package httpapi

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/pecplatform/pec/shared/domain"
)

// correctable are the member fields a PATCH may set, in the order they are checked.
var correctable = []string{"email", "pec", "numeroIscrizione", "dataIscrizione", "ctu", "nome", "cognome", "albo", "telefono", "residenza"}

// decodeCorrection reads a JSON merge patch (RFC 7396) of a member: an object whose members
// replace the member's fields; null removes the own PEC and is refused elsewhere (every other
// field is required). A field that is not correctable is refused by name, so that a typo is
// not silently ignored.
func decodeCorrection(r *Request) (domain.Correction, error) {
	var raw map[string]json.RawMessage
	if err := DecodeJSON(r, &raw); err != nil {
		return domain.Correction{}, err
	}
	if raw == nil {
		return domain.Correction{}, &domain.Error{Kind: domain.KindMalformed, Code: "malformed_json", Message: "the body must be a JSON object"}
	}
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !slices.Contains(correctable, k) {
			return domain.Correction{}, domain.Invalid(k, "field_not_correctable",
				k+" cannot be corrected; the fields are "+strings.Join(correctable, ", "))
		}
	}
	var c domain.Correction
	str := func(name string, dst **string) error {
		v, ok := raw[name]
		if !ok {
			return nil
		}
		if string(v) == "null" {
			switch name {
			case "pec":
				c.ClearPEC = true
				return nil
			case "telefono":
				empty := ""
				*dst = &empty
				return nil
			}
			return domain.Invalid(name, "invalid_"+snake(name), name+" cannot be removed")
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return domain.Invalid(name, "invalid_type", name+" has the wrong type")
		}
		*dst = &s
		return nil
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"email", &c.Email}, {"pec", &c.PEC}, {"numeroIscrizione", &c.NumeroIscrizione}, {"dataIscrizione", &c.DataIscrizione},
		{"nome", &c.Nome}, {"cognome", &c.Cognome}, {"albo", &c.Albo}, {"telefono", &c.Telefono}} {
		if err := str(f.name, f.dst); err != nil {
			return domain.Correction{}, err
		}
	}
	if v, ok := raw["ctu"]; ok {
		var b bool
		if err := json.Unmarshal(v, &b); err != nil || string(v) == "null" {
			return domain.Correction{}, domain.Invalid("ctu", "invalid_type", "ctu must be true or false")
		}
		c.CTU = &b
	}
	if v, ok := raw["residenza"]; ok {
		if string(v) == "null" {
			c.ClearResidenza = true
		} else {
			var r domain.Residence
			dec := json.NewDecoder(strings.NewReader(string(v)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				return domain.Correction{}, domain.Invalid("residenza", "invalid_type", "residenza must be an object: indirizzo, comune, cap, provincia, nazione")
			}
			c.Residenza = &r
		}
	}
	if c.PEC != nil && strings.TrimSpace(*c.PEC) == "" {
		c.PEC, c.ClearPEC = nil, true // "" removes the own PEC, as null does
	}
	return c, nil
}

// snake turns a field name into the error code's form: numeroIscrizione -> numero_iscrizione.
func snake(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
