package localcloud_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// How the SAM CLI reads each string of parameter_overrides (samcli/cli/types.py,
// CfnParameterOverridesType: " "+value matched by _pattern_2, the value delimited by spaces
// unless quoted, then _unquote_wrapped_quotes).
var (
	samValue     = `("(?:\\.|[^"\\]+)*"|'(?:\\.|[^'\\]+)*'|(?:\\.|[^ "\\]+)+)`
	samOverride  = regexp.MustCompile(`(?: )([A-Za-z0-9"']+)=` + samValue)
	exampleEntry = regexp.MustCompile(`^\s*(#\s*)?'([A-Za-z0-9]+)=(.*)',\s*$`)
)

func samUnquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		v = v[1 : len(v)-1]
	}
	return strings.NewReplacer(`\ `, " ", `\"`, `"`, `\'`, "'").Replace(v)
}

// TestSAMConfig_TheExampleHasEveryParameterWithAComment: samconfig.example.toml lists every
// parameter of the template once, under a comment; those without a default are set (to a
// CHANGE-ME that their AllowedPattern refuses, when the value is the deployer's); the others are
// commented out at the template's default; and the SAM CLI reads each entry as one parameter
// with the intended value.
func TestSAMConfig_TheExampleHasEveryParameterWithAComment(t *testing.T) {
	raw, err := os.ReadFile("../../samconfig.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	params := at(readTemplate(t).root, "Parameters")
	seen := map[string]bool{}
	lines := strings.Split(string(raw), "\n")
	for i, line := range lines {
		m := exampleEntry.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		commented, name, v := m[1] != "", m[2], m[3]
		p := at(params, name)
		switch {
		case p == nil:
			t.Errorf("line %d: %s is not a parameter of the template", i+1, name)
			continue
		case seen[name]:
			t.Errorf("line %d: %s again", i+1, name)
		}
		seen[name] = true
		if prev := strings.TrimSpace(lines[i-1]); !strings.HasPrefix(prev, "#") || exampleEntry.MatchString(lines[i-1]) {
			t.Errorf("line %d: %s has no comment above it", i+1, name)
		}
		got := samOverride.FindAllStringSubmatch(" "+name+"="+v, -1)
		if len(got) != 1 || got[0][1] != name || got[0][0] != " "+name+"="+v {
			t.Errorf("line %d: the SAM CLI reads %q as %q: quote a value with spaces", i+1, name+"="+v, got)
			continue
		}
		val := samUnquote(got[0][2])
		def := at(p, "Default")
		switch {
		case def == nil && commented:
			t.Errorf("line %d: %s has no default: it must be set, not commented out", i+1, name)
		case def != nil && !commented && name != "Stage": // Stage=prod is said, not implied
			t.Errorf("line %d: %s has a default: leave it commented out, at the default, unless it must change", i+1, name)
		case def != nil && val != def.Value && !strings.Contains(val, "CHANGE-ME"):
			t.Errorf("line %d: %s is %q, the template's default is %q", i+1, name, val, def.Value)
		}
		if strings.Contains(val, "CHANGE-ME") && !commented {
			pattern := value(p, "AllowedPattern")
			if pattern == "" || regexp.MustCompile(pattern).MatchString(val) {
				t.Errorf("line %d: %s=%s passes its AllowedPattern: a forgotten placeholder would deploy", i+1, name, val)
			}
		}
	}
	for _, name := range keys(params) {
		if !seen[name] {
			t.Errorf("samconfig.example.toml has no %s", name)
		}
	}
	if !strings.Contains(string(raw), "'Stage=prod',") {
		t.Error("samconfig.example.toml does not set Stage=prod")
	}
}
