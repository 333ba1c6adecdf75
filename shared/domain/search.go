package domain

import (
	"strings"
)

// The search of an Order's members by name. Names are folded as addresses are (case,
// accents, apostrophes and spaces dropped: "d'ales" finds D'Alessandro); a member's sort key
// is the folded cognome, "!", the folded nome, "!" and the canonical codice fiscale ("!" sorts
// before every folded character, so "Rossi Ada" comes before "Rossia Bruno"), and its given
// key the same with nome first.

// NameKey is the member's key in the list ordered by cognome, then nome.
func (m *Member) NameKey() string {
	return FoldNamePart(m.Cognome) + "!" + FoldNamePart(m.Nome) + "!" + m.Key()
}

// GivenKey is the member's key in the list ordered by nome, then cognome.
func (m *Member) GivenKey() string {
	return FoldNamePart(m.Nome) + "!" + FoldNamePart(m.Cognome) + "!" + m.Key()
}

// NameQuery is what a search string q asks for: the members whose NameKey begins with one of
// ByName, or whose GivenKey begins with one of ByGiven.
type NameQuery struct {
	ByName, ByGiven []string
}

// maxQueryWords bounds the splits of a search string into cognome and nome.
const maxQueryWords = 6

// ParseNameQuery reads a search string: a prefix of the cognome, of the nome, of "cognome
// nome" or of "nome cognome", each part folded. A string with nothing to fold is refused.
func ParseNameQuery(q string) (NameQuery, error) {
	words := strings.Fields(q)
	whole := FoldNamePart(q)
	if whole == "" || len(words) > maxQueryWords || len(q) > 200 {
		return NameQuery{}, Invalid("q", "invalid_q", "q must hold letters of a name (at most 6 words), or a codice fiscale")
	}
	nq := NameQuery{ByName: []string{whole}, ByGiven: []string{whole}}
	for i := 1; i < len(words); i++ {
		left, right := FoldNamePart(strings.Join(words[:i], " ")), FoldNamePart(strings.Join(words[i:], " "))
		if left == "" || right == "" {
			continue
		}
		nq.ByName = append(nq.ByName, left+"!"+right)
		nq.ByGiven = append(nq.ByGiven, left+"!"+right)
	}
	return nq, nil
}

// Matches reports whether the member is one the query asks for.
func (nq NameQuery) Matches(m *Member) bool {
	name, given := m.NameKey(), m.GivenKey()
	for _, p := range nq.ByName {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	for _, p := range nq.ByGiven {
		if strings.HasPrefix(given, p) {
			return true
		}
	}
	return false
}
