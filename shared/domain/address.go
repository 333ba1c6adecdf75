package domain

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// maxLocalPart is the longest local part RFC 5321 (4.5.3.1.1) allows.
const maxLocalPart = 64

// foldSpecial maps the lower-case letters that have no canonical decomposition to a base letter
// to their usual ASCII spelling.
var foldSpecial = map[rune]string{
	'ß': "ss",
	'æ': "ae",
	'œ': "oe",
	'ø': "o",
	'đ': "d",
	'ð': "d", // Icelandic eth, as in Guðmundsson
	'ł': "l",
	'þ': "th",
	'ı': "i",
}

// FoldNamePart folds a name, or several given names, to the characters an address may hold:
// lower case, diacritics dropped (Niccolò -> niccolo, Ştefan -> stefan, Groß -> gross), then
// everything but [a-z0-9] dropped, apostrophes, spaces and hyphens included (D'Amico -> damico,
// Maria Grazia -> mariagrazia). Letters of other scripts are dropped too: transliterating them
// would be a guess.
func FoldNamePart(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue // a combining mark split off its base letter; NFKD also folds full-width letters and ligatures (ﬁ -> fi)
		}
		r = unicode.ToLower(r)
		if sp, ok := foldSpecial[r]; ok {
			b.WriteString(sp)
			continue
		}
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SameName reports whether two names are the same up to case, diacritics, apostrophes and
// spacing. A name that folds to nothing matches nothing, so two unusable names never match.
func SameName(a, b string) bool {
	fa := FoldNamePart(a)
	return fa != "" && fa == FoldNamePart(b)
}

// LocalPart composes the local part of a member's address: the folded given names, a dot, the
// folded surname and, for the n-th homonym (n > 0), the number n: mario.rossi, mario.rossi1,
// mario.rossi2, ... Choosing n, the smallest not yet taken, is the caller's job.
//
// The result is at most 64 characters. The given names are shortened first, down to one
// character; only then the surname. The number is never cut, or homonyms would collide.
func LocalPart(nome, cognome string, n int) (string, error) {
	if n < 0 {
		return "", fmt.Errorf("domain: homonym number %d is negative", n)
	}
	given := FoldNamePart(nome)
	if given == "" {
		return "", Invalid("nome", "unusable_name", "the given name contains no letter or digit that can be used in an address")
	}
	surname := FoldNamePart(cognome)
	if surname == "" {
		return "", Invalid("cognome", "unusable_name", "the surname contains no letter or digit that can be used in an address")
	}
	suffix := ""
	if n > 0 {
		suffix = strconv.Itoa(n)
	}
	// Folded names are ASCII, so byte lengths are character counts and slicing is safe.
	if room := maxLocalPart - len(".") - len(surname) - len(suffix); len(given) > room {
		given = given[:max(room, 1)]
		// An int has at most 19 digits, so at least 43 characters of surname always remain.
		surname = surname[:min(len(surname), maxLocalPart-len(given)-len(".")-len(suffix))]
	}
	return given + "." + surname + suffix, nil
}

// ComposeAddress composes a member's address: LocalPart at the lower-cased domain, which comes
// from configuration.
func ComposeAddress(nome, cognome, domain string, n int) (string, error) {
	if domain == "" {
		return "", errors.New("domain: empty mail domain")
	}
	local, err := LocalPart(nome, cognome, n)
	if err != nil {
		return "", err
	}
	return local + "@" + strings.ToLower(domain), nil
}
