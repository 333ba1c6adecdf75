package pages

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// actions are template actions: their names are code, not copy.
var actions = regexp.MustCompile(`{{[^}]*}}`)

// The house rules for Italian copy (shared/notice/ITALIANO.md), checked on every text a person
// reads: the members' pages here, the e-mails and letters in shared/notice/templates.
func TestCopy_NoBannedForms(t *testing.T) {
	type rule struct {
		re      *regexp.Regexp
		why     string
		members bool // only in what members read (Lei form), not in letters to Orders
	}
	rules := []rule{
		{regexp.MustCompile(`\b(GET|POST|PUT|PATCH|DELETE) /|/v1/`), "an API path: say what to do in the portal", false},
		{regexp.MustCompile(`(?i)\blink\b`), `"link": write "collegamento"`, false},
		{regexp.MustCompile(`(?i)\btasto\b`), `"tasto": write "pulsante"`, false},
		{regexp.MustCompile(`(?i)\bad emettere\b`), `"ad emettere"`, false},
		{regexp.MustCompile(`(?i)\bConferma o rifiuta\b`), "the tu form: Confermi o rifiuti", false},
		{regexp.MustCompile(`(?i)essermi registrato\b`), "masculine only: Ho completato la registrazione", false},
		{regexp.MustCompile(`\b(suo|sua|suoi|sue)\s+(Ordine|domicilio|casella|nome|scelta|favore|indirizzo|conferma|PEC|codice)\b|\ba suo favore\b`), "the courtesy capital: Suo, Sua", true},
		{regexp.MustCompile(`(^|>)\s*[A-ZÀÈÉÌÒÙ]{3,}(\s+[A-ZÀÈÉÌÒÙ']{2,}){1,}\s*(<|$)`), "an all-capital heading", false},
	}
	type text struct {
		name    string
		members bool
	}
	files := map[string]text{
		"templates.go":                          {"pages/templates.go", true},
		"reginde.go":                            {"pages/reginde.go", true},
		"../notice/templates/member.txt.tmpl":   {"notice member.txt", true},
		"../notice/templates/member.html.tmpl":  {"notice member.html", true},
		"../notice/templates/reginde.txt.tmpl":  {"notice reginde.txt", true},
		"../notice/templates/reginde.html.tmpl": {"notice reginde.html", true},
		"../notice/templates/order.txt.tmpl":    {"notice order.txt", false},
	}
	tmpls, _ := filepath.Glob("../notice/templates/*.tmpl")
	if len(tmpls) != 5 {
		t.Errorf("the notice templates are %v: add the new ones here", tmpls)
	}
	for path, f := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") || strings.Contains(line, "{{/*") {
				continue // Go and template comments are for developers
			}
			line = actions.ReplaceAllString(line, "") // {{.Link}} is a field, not a word
			for _, r := range rules {
				if r.members && !f.members {
					continue
				}
				if m := r.re.FindString(line); m != "" {
					t.Errorf("%s:%d: %s (%q)", f.name, n+1, r.why, m)
				}
			}
		}
	}
}
