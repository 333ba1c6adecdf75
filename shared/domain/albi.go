package domain

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Albo is one of the federation's albi (registers of a profession): its code, which the
// platform stores, its Italian name, other names it is known by, and the PEC domain of the
// mailboxes issued to its members.
type Albo struct {
	Code    string   `json:"code"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
	Domain  string   `json:"domain"`
}

// Albi is the federation's registry of albi. It is the one place a PEC domain comes from.
type Albi struct {
	list  []Albo
	byKey map[string]int // a folded code, name or alias -> index
}

// PEC domains of FNO TSRM e PSTRP: the radiographers' and the other professions'.
const (
	DomainTSRM  = "pec.tsrm.org"
	DomainPSTRP = "pec.tsrm-pstrp.org"
)

// DefaultAlbi are the 19 albi of FNO TSRM e PSTRP (the Federazione nazionale degli Ordini dei
// tecnici sanitari di radiologia medica e delle professioni sanitarie tecniche, della
// riabilitazione e della prevenzione): the radiographers on pec.tsrm.org, the other 18
// professions on pec.tsrm-pstrp.org. The codes are this platform's; the names and aliases are
// how Orders write them.
func DefaultAlbi() []Albo {
	p := func(code, name string, aliases ...string) Albo {
		return Albo{Code: code, Name: name, Aliases: aliases, Domain: DomainPSTRP}
	}
	return []Albo{
		{Code: "TSRM", Name: "Tecnico sanitario di radiologia medica", Aliases: []string{"Tecnici sanitari di radiologia medica", "Radiologia medica"}, Domain: DomainTSRM},
		p("AS", "Assistente sanitario", "Assistenti sanitari"),
		p("DIET", "Dietista", "Dietisti"),
		p("EP", "Educatore professionale", "Educatori professionali"),
		p("FISIO", "Fisioterapista", "Fisioterapisti", "FT"),
		p("IGD", "Igienista dentale", "Igienisti dentali"),
		p("LOG", "Logopedista", "Logopedisti"),
		p("ORTOTT", "Ortottista e assistente di oftalmologia", "Ortottista", "Ortottisti"),
		p("POD", "Podologo", "Podologi"),
		p("TAM", "Tecnico audiometrista", "Tecnici audiometristi", "Audiometrista"),
		p("TAP", "Tecnico audioprotesista", "Tecnici audioprotesisti", "Audioprotesista"),
		p("TFCPC", "Tecnico della fisiopatologia cardiocircolatoria e perfusione cardiovascolare", "Tecnico di fisiopatologia cardiocircolatoria e perfusione cardiovascolare", "Perfusionista"),
		p("TPALL", "Tecnico della prevenzione nell'ambiente e nei luoghi di lavoro", "Tecnici della prevenzione nell'ambiente e nei luoghi di lavoro", "TDP"),
		p("TERP", "Tecnico della riabilitazione psichiatrica", "Tecnici della riabilitazione psichiatrica"),
		p("TSLB", "Tecnico sanitario di laboratorio biomedico", "Tecnico di laboratorio biomedico", "Tecnici sanitari di laboratorio biomedico"),
		p("TNFP", "Tecnico di neurofisiopatologia", "Tecnici di neurofisiopatologia"),
		p("TORT", "Tecnico ortopedico", "Tecnici ortopedici"),
		p("TNPEE", "Terapista della neuro e psicomotricità dell'età evolutiva", "Terapisti della neuro e psicomotricità dell'età evolutiva"),
		p("TOCC", "Terapista occupazionale", "Terapisti occupazionali"),
	}
}

var albiCode = regexp.MustCompile(`^[A-Z0-9_-]{2,32}$`)
var albiDomain = regexp.MustCompile(`^([a-z0-9-]+\.)+[a-z]{2,}$`)

// NewAlbi builds a registry, refusing a code that is not A-Z, 0-9, _ or -, a domain that is not
// a domain, and a code, name or alias that two albi share.
func NewAlbi(list []Albo) (*Albi, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("albi: the registry is empty")
	}
	a := &Albi{byKey: map[string]int{}}
	for i, al := range list {
		al.Code = strings.ToUpper(strings.TrimSpace(al.Code))
		al.Domain = strings.ToLower(strings.TrimSpace(al.Domain))
		if !albiCode.MatchString(al.Code) || strings.TrimSpace(al.Name) == "" || !albiDomain.MatchString(al.Domain) {
			return nil, fmt.Errorf("albi: entry %d (%q) needs a code of 2 to 32 characters among A-Z, 0-9, _ and -, a name and a PEC domain", i+1, al.Code)
		}
		for _, k := range append([]string{al.Code, al.Name}, al.Aliases...) {
			key := foldAlbo(k)
			if j, taken := a.byKey[key]; taken && j != i {
				return nil, fmt.Errorf("albi: %q names both %s and %s", k, list[j].Code, al.Code)
			}
			a.byKey[key] = i
		}
		a.list = append(a.list, al)
	}
	return a, nil
}

// MustAlbi is NewAlbi for a registry known to be valid (DefaultAlbi).
func MustAlbi(list []Albo) *Albi {
	a, err := NewAlbi(list)
	if err != nil {
		panic(err)
	}
	return a
}

// ParseAlbi reads a registry from JSON: [{"code","name","aliases","domain"}, ...].
func ParseAlbi(s string) (*Albi, error) {
	var list []Albo
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, fmt.Errorf("albi: not a JSON list of {code, name, aliases, domain}: %w", err)
	}
	return NewAlbi(list)
}

// foldAlbo folds a code or a name for matching: case, accents, apostrophes and spaces do not
// count ("Igienista dentale", "IGIENISTA DENTALE", "igienista-dentale").
func foldAlbo(s string) string { return FoldNamePart(s) }

// Resolve finds the albo a code, a name or an alias names, in any case; an unknown one is a
// 422 invalid_albo whose message lists the codes.
func (a *Albi) Resolve(s string) (Albo, error) {
	if i, ok := a.byKey[foldAlbo(s)]; ok && foldAlbo(s) != "" {
		return a.list[i], nil
	}
	return Albo{}, Invalid("albo", "invalid_albo", "albo must be one of the federation's albi, by code or name: "+strings.Join(a.Codes(), ", "))
}

// Domain is the PEC domain of the albo with this code ("" for a code the registry lacks).
func (a *Albi) Domain(code string) string {
	if al, err := a.Resolve(code); err == nil {
		return al.Domain
	}
	return ""
}

// Codes are the albi's codes, in the registry's order.
func (a *Albi) Codes() []string {
	out := make([]string, len(a.list))
	for i, al := range a.list {
		out[i] = al.Code
	}
	return out
}

// List returns the albi, in the registry's order.
func (a *Albi) List() []Albo {
	out := slices.Clone(a.list)
	for i := range out {
		out[i].Aliases = slices.Clone(out[i].Aliases)
	}
	return out
}
