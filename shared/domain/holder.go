package domain

import (
	"regexp"
	"strings"
	"time"
)

// The holder's data some providers require to contract a PEC mailbox with an identified person
// (Legalmail through Openapi asks telephone, residence, date, sex and country of birth). The
// birth facts are read from the codice fiscale; the telephone and the residence are enrolled.

// Residence is where the holder lives.
type Residence struct {
	Address  string `json:"indirizzo"` // street and number
	City     string `json:"comune"`
	PostCode string `json:"cap"`       // five digits in Italy
	Province string `json:"provincia"` // the two-letter code (EE abroad)
	Country  string `json:"nazione"`   // ISO 3166-1 alpha-2, IT by default
}

var (
	postCodePattern = regexp.MustCompile(`^[0-9]{5}$`)
	provincePattern = regexp.MustCompile(`^[A-Z]{2}$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
	phonePattern    = regexp.MustCompile(`^\+?[0-9]{6,15}$`)
)

// Validate normalises the residence and names its first bad field (under "residenza.").
func (r Residence) Validate() (Residence, error) {
	r.Address, r.City = strings.Join(strings.Fields(r.Address), " "), strings.Join(strings.Fields(r.City), " ")
	r.PostCode, r.Province = strings.TrimSpace(r.PostCode), strings.ToUpper(strings.TrimSpace(r.Province))
	r.Country = strings.ToUpper(strings.TrimSpace(r.Country))
	if r.Country == "" {
		r.Country = "IT"
	}
	switch {
	case r.Address == "" || len(r.Address) > 200:
		return r, Invalid("residenza.indirizzo", "invalid_residence", "residenza.indirizzo is the street and number, at most 200 characters")
	case r.City == "" || len(r.City) > 100:
		return r, Invalid("residenza.comune", "invalid_residence", "residenza.comune is the municipality, at most 100 characters")
	case !countryPattern.MatchString(r.Country):
		return r, Invalid("residenza.nazione", "invalid_residence", "residenza.nazione is a two-letter ISO 3166 country code")
	case r.Country == "IT" && !postCodePattern.MatchString(r.PostCode):
		return r, Invalid("residenza.cap", "invalid_residence", "residenza.cap is the five-digit postal code")
	case r.Country != "IT" && (r.PostCode == "" || len(r.PostCode) > 12):
		return r, Invalid("residenza.cap", "invalid_residence", "residenza.cap is the postal code, at most 12 characters")
	case r.Country == "IT" && (!provincePattern.MatchString(r.Province) || r.Province == "EE"):
		return r, Invalid("residenza.provincia", "invalid_residence", "residenza.provincia is the two-letter province code (RM, MI...)")
	case r.Country != "IT" && r.Province == "":
		r.Province = "EE" // abroad, as Italian forms write it
	}
	return r, nil
}

// ParsePhone normalises a telephone number (spaces, dots, dashes and brackets dropped; 00 as +)
// and names the field when it is not one.
func ParsePhone(field, s string) (string, error) {
	p := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.', '-', '(', ')', '/':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if strings.HasPrefix(p, "00") {
		p = "+" + p[2:]
	}
	if !phonePattern.MatchString(p) {
		return "", Invalid(field, "invalid_phone", field+" must be a telephone number: 6 to 15 digits, + and the country code allowed")
	}
	return p, nil
}

// Birth is what a codice fiscale says of its holder's birth.
type Birth struct {
	Date   time.Time // the day, at midnight UTC
	Female bool
	// Place is the cadastral code of the municipality (H501 for Rome) or, when it starts with
	// Z, of the foreign country.
	Place string
}

// Abroad reports whether the holder was born outside Italy.
func (b Birth) Abroad() bool { return strings.HasPrefix(b.Place, "Z") }

// Birth reads the date, sex and place of birth from the code, omocodia undone. The two-digit
// year is taken in the century that makes the holder at least 16 on today (a professional
// enrolled in an albo is an adult). ok is false for a code that is not valid.
func (c CodiceFiscale) Birth(today time.Time) (Birth, bool) {
	if !c.valid() {
		return Birth{}, false
	}
	b := []byte(c.canonical())
	yy := int(b[6]-'0')*10 + int(b[7]-'0')
	month := strings.IndexByte(monthLetters, b[8]) + 1
	day := int(b[9]-'0')*10 + int(b[10]-'0')
	female := day > 40
	if female {
		day -= 40
	}
	year := 2000 + yy
	if year > today.Year()-16 {
		year -= 100
	}
	d := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if month < 1 || day < 1 || d.Day() != day {
		return Birth{}, false // a day the calendar does not have
	}
	return Birth{Date: d, Female: female, Place: string(b[11:15])}, true
}
