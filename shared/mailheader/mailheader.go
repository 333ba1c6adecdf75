// Package mailheader checks the values the platform's mail senders put into a message's header
// (addresses and subject) so that no value can add a header of its own (header injection).
// Its errors name the field, never the value: a value may be a member's address or name.
package mailheader

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// Address returns s, which must be exactly one address ("a@b.it" or "Mario Rossi <a@b.it>")
// without line breaks; field names s in the error.
func Address(field, s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("line break in %s", field)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not a single e-mail address", field)
	}
	return a, nil
}

// Format writes a as a header takes it: the bare address, or "name <address>" with a
// non-ASCII name encoded (RFC 2047).
func Format(a *mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.String()
}

// Subject checks that s is a subject: not blank, without line breaks.
func Subject(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errors.New("empty subject")
	case strings.ContainsAny(s, "\r\n"):
		return errors.New("line break in the subject")
	}
	return nil
}
