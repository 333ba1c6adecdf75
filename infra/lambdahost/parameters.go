package lambdahost

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Parameter is one of the template's Parameters: its Default and the value the host gives it.
type Parameter struct {
	Name       string
	Default    string // "" when it has none
	HasDefault bool
	Value      string // the override, else the Default
	Overridden bool   // Value comes from Options.Parameters
}

// Changed reports whether the host runs with another value than the template's Default.
func (p Parameter) Changed() bool { return p.Overridden && (!p.HasDefault || p.Value != p.Default) }

// UnknownParametersError is an override of a parameter the template does not declare: a typo
// would otherwise leave the Default in place without a word, as CloudFormation never would.
type UnknownParametersError struct {
	Unknown []string // sorted
	Known   []string // the template's parameters, sorted
}

func (e *UnknownParametersError) Error() string {
	return fmt.Sprintf("unknown template parameter %s; the template's parameters are: %s",
		strings.Join(e.Unknown, ", "), strings.Join(e.Known, ", "))
}

// TemplateParameters reads the Parameters of the template at path, sorted by name, each with
// the value that overrides gives it (else its Default). An override of a parameter the
// template does not declare is an *UnknownParametersError.
func TemplateParameters(path string, overrides map[string]string) ([]Parameter, error) {
	t, err := loadTemplate(path, "eu-south-1", overrides)
	if err != nil {
		return nil, err
	}
	if err := t.checkOverrides(); err != nil {
		return nil, err
	}
	return t.parameters()
}

// Parameters returns the template's parameters, sorted by name, with the values the host runs with.
func (h *Host) Parameters() []Parameter { return slices.Clone(h.params) }

// Environment returns a copy of the environment the host built a function with (by logical
// ID): the template's variables with the parameters resolved, and the local ones.
func (h *Host) Environment(logicalID string) (map[string]string, bool) {
	f, ok := h.functions[logicalID]
	if !ok {
		return nil, false
	}
	return maps.Clone(f.env), true
}

func (t *template) checkOverrides() error {
	var unknown []string
	for name := range t.overrides {
		if _, ok := t.params[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return &UnknownParametersError{Unknown: unknown, Known: slices.Sorted(maps.Keys(t.params))}
}

func (t *template) parameters() ([]Parameter, error) {
	out := make([]Parameter, 0, len(t.params))
	for _, name := range slices.Sorted(maps.Keys(t.params)) {
		p := Parameter{Name: name}
		if d := get(t.params[name], "Default"); d != nil {
			s, err := t.resolveString(d)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", name, err)
			}
			p.Default, p.HasDefault = s, true
		}
		p.Value, p.Overridden = t.overrides[name]
		if !p.Overridden {
			p.Value = p.Default
		}
		out = append(out, p)
	}
	return out, nil
}
