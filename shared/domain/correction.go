package domain

import (
	"strconv"
	"strings"
	"time"
)

// Correction is an Order's correction of a member's record (a JSON merge patch): each field
// that is not nil replaces the member's; ClearPEC removes the member's own PEC.
type Correction struct {
	Email, PEC, NumeroIscrizione, DataIscrizione, Nome, Cognome, Albo *string
	CTU                                                               *bool
	ClearPEC                                                          bool
	// Telefono replaces the phone ("" removes it); Residenza replaces the residence,
	// ClearResidenza removes it.
	Telefono       *string
	Residenza      *Residence
	ClearResidenza bool
}

// Empty reports whether the correction changes nothing at all.
func (c Correction) Empty() bool {
	return c.Email == nil && c.PEC == nil && c.NumeroIscrizione == nil && c.DataIscrizione == nil && c.Nome == nil &&
		c.Cognome == nil && c.Albo == nil && c.CTU == nil && !c.ClearPEC && c.Telefono == nil && c.Residenza == nil && !c.ClearResidenza
}

// Apply returns the member as corrected, validated as an enrolment is (the first invalid
// field is reported). albo, when the correction names one, must already be a registry code.
func (c Correction) Apply(m *Member, now time.Time) (*Member, error) {
	e := Enrolment{CodiceFiscale: m.CodiceFiscale.Value(), Nome: m.Nome, Cognome: m.Cognome, Albo: m.Albo,
		NumeroIscrizione: m.NumeroIscrizione, DataIscrizione: m.DataIscrizione, Email: m.Email, PEC: m.PEC, CTU: m.CTU,
		Telefono: m.Phone, Residenza: m.Residence}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&e.Nome, c.Nome)
	set(&e.Cognome, c.Cognome)
	set(&e.Albo, c.Albo)
	set(&e.NumeroIscrizione, c.NumeroIscrizione)
	set(&e.DataIscrizione, c.DataIscrizione)
	set(&e.Email, c.Email)
	set(&e.PEC, c.PEC)
	if c.ClearPEC {
		e.PEC = ""
	}
	if c.CTU != nil {
		e.CTU = *c.CTU
	}
	set(&e.Telefono, c.Telefono)
	if c.Residenza != nil {
		e.Residenza = c.Residenza
	}
	if c.ClearResidenza {
		e.Residenza = nil
	}
	v, err := e.Member(m.OrderID, now)
	if err != nil {
		return nil, err
	}
	out := *m
	out.Nome, out.Cognome, out.Albo, out.NumeroIscrizione = v.Nome, v.Cognome, v.Albo, v.NumeroIscrizione
	out.DataIscrizione, out.Email, out.PEC, out.CTU = v.DataIscrizione, v.Email, v.PEC, v.CTU
	out.Phone, out.Residence = v.Phone, v.Residence
	return &out, nil
}

// SameRecord reports whether two versions of a member hold the same correctable fields.
func SameRecord(a, b *Member) bool {
	return a.Nome == b.Nome && a.Cognome == b.Cognome && a.Albo == b.Albo && a.NumeroIscrizione == b.NumeroIscrizione &&
		a.DataIscrizione == b.DataIscrizione && a.Email == b.Email && a.PEC == b.PEC && a.CTU == b.CTU &&
		a.Phone == b.Phone && ResidenceText(a.Residence) == ResidenceText(b.Residence)
}

// ResidenceText is a residence on one line ("" for none), for the audit trail.
func ResidenceText(r *Residence) string {
	if r == nil {
		return ""
	}
	return r.Address + ", " + r.PostCode + " " + r.City + " (" + r.Province + "), " + r.Country
}

// AddressFits reports whether a mailbox address is one composed for the names at the domain,
// whatever its homonym number (read back from the address's trailing digits).
func AddressFits(address, nome, cognome, pecDomain string) bool {
	local, _, _ := strings.Cut(address, "@")
	digits := len(local)
	for digits > 0 && local[digits-1] >= '0' && local[digits-1] <= '9' {
		digits--
	}
	candidates := []int{0}
	if n, err := strconv.Atoi(local[digits:]); err == nil && n > 0 {
		candidates = append(candidates, n)
	}
	for _, n := range candidates {
		if a, err := ComposeAddress(nome, cognome, pecDomain, n); err == nil && a == address {
			return true
		}
	}
	return false
}
