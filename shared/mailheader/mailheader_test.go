package mailheader_test

import (
	"net/mail"
	"strings"
	"testing"

	"github.com/pecplatform/pec/shared/mailheader"
)

func TestAddress(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{"n@example.it", "n@example.it", ""},
		{"Mario Rossi <n@example.it>", `"Mario Rossi" <n@example.it>`, ""},
		{"Niccolò D'Amico <n@example.it>", "=?utf-8?b?TmljY29sw7IgRCdBbWljbw==?= <n@example.it>", ""},
		{"n@example.it\r\nBcc: x@y.it", "", "line break in to"},
		{"n@example.it\nBcc: x@y.it", "", "line break in to"},
		{"Nome\rBcc: x@y.it <n@example.it>", "", "line break in to"},
		{"n@example.it, x@y.it", "", "to is not a single e-mail address"},
		{"n@example.it; x@y.it", "", "to is not a single e-mail address"},
		{"all: n@example.it, x@y.it;", "", "to is not a single e-mail address"},
		{"", "", "to is not a single e-mail address"},
		{"nobody", "", "to is not a single e-mail address"},
	}
	for _, c := range cases {
		a, err := mailheader.Address("to", c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("Address(%q) err = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Address(%q): %v", c.in, err)
			continue
		}
		if got := mailheader.Format(a); got != c.want {
			t.Errorf("Format(Address(%q)) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSubject(t *testing.T) {
	cases := []struct{ in, err string }{
		{"Richiesta di autorizzazione", ""},
		{"Àccentata", ""},
		{"", "empty subject"},
		{" \t", "empty subject"},
		{"Oggetto\r\nBcc: x@y.it", "line break in the subject"},
		{"Oggetto\nBcc: x@y.it", "line break in the subject"},
		{"Oggetto\rBcc: x@y.it", "line break in the subject"},
	}
	for _, c := range cases {
		got := ""
		if err := mailheader.Subject(c.in); err != nil {
			got = err.Error()
		}
		if got != c.err {
			t.Errorf("Subject(%q) = %q, want %q", c.in, got, c.err)
		}
	}
}

// FuzzAddress: whatever a display name holds, an address Address accepts is written by Format
// on one line and reads back as the same address, and a refusal never repeats the value.
func FuzzAddress(f *testing.F) {
	for _, s := range []string{
		"Ordine di Firenze", "Nome\r\nBcc: x@y.it", "Niccolò D'Amico", `"Quoted, Name" <evil@x.it>`,
		"a\u2028b\u0085c\x00d\x0be", "\u2028Bcc: y@z.it",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		for _, in := range []string{
			(&mail.Address{Name: name, Address: "ordine@pec.example.it"}).String(),
			name + " <ordine@pec.example.it>",
			name,
		} {
			a, err := mailheader.Address("to", in)
			if err != nil {
				if msg := err.Error(); msg != "line break in to" && msg != "to is not a single e-mail address" {
					t.Fatalf("Address(%q) err = %q, which may repeat the value", in, msg)
				}
				continue
			}
			out := mailheader.Format(a)
			if strings.ContainsAny(out, "\r\n") {
				t.Fatalf("Format(Address(%q)) = %q has a line break", in, out)
			}
			b, err := mail.ParseAddress(out)
			if err != nil || b.Address != a.Address {
				t.Fatalf("Format(Address(%q)) = %q reads back as %v, %v", in, out, b, err)
			}
		}
	})
}
