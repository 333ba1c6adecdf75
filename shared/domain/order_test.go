package domain

import (
	"errors"
	"testing"
)

// TestOrder_NameOnOneLine: the Order's name goes into pages, e-mails and PEC notices, so a
// line break or another control character in it is refused, not carried along.
func TestOrder_NameOnOneLine(t *testing.T) {
	for _, name := range []string{"Ordine\r\nBcc: x@y.it", "Ordine\nX", "Ordine\x00", "Ordine\x1b[31m", "Ordine\x7f"} {
		o := &Order{ID: "TSRM-FI", Name: name, PEC: "ordine@pec.example.it"}
		var de *Error
		if err := o.Validate(); !errors.As(err, &de) || de.Field != "name" {
			t.Errorf("%q: %v, want invalid name", name, err)
		}
	}
	o := &Order{ID: "TSRM-FI", Name: "  Ordine TSRM PSTRP di Firenze, Arezzo e Prato ", PEC: "ordine@pec.example.it"}
	if err := o.Validate(); err != nil || o.Name != "Ordine TSRM PSTRP di Firenze, Arezzo e Prato" {
		t.Errorf("a plain name: %v %q", err, o.Name)
	}
}
