package pecmail

import (
	"bufio"
	"bytes"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/mailheader"
	"github.com/pecplatform/pec/shared/notice"
)

// FuzzCompose: whatever the subject, the text and the recipient's display name (the data of a
// notice: an Order's name, a member's name), a message Send would accept has exactly the
// headers compose writes, each once: nothing a field holds becomes a header of its own.
func FuzzCompose(f *testing.F) {
	for _, s := range [][3]string{
		{"Richiesta di autorizzazione", "Testo.\n", "Ordine di Firenze"},
		{"Oggetto\r\nBcc: x@y.it", "a", "b"},
		{"Oggetto", "riga\r\nBcc: x@y.it\r\n\r\ncorpo", "Nome\r\nBcc: x@y.it"},
		{"Àccentata è più lunga di settantotto caratteri " + strings.Repeat("parola ", 20), ".\r\n.\r\n", "Niccolò D'Amico"},
		{"X-Evil: 1", "\n.\n", `"Quoted, Name" <evil@x.it>`},
		{"a\u2028b\u0085c\x00d\x0be", "\x00", "\u2028Bcc: y@z.it"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	want := []string{"Content-Transfer-Encoding", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
	f.Fuzz(func(t *testing.T, subject, text, name string) {
		// What Send refuses before composing.
		if mailheader.Subject(subject) != nil || strings.TrimSpace(text) == "" {
			return
		}
		to, err := mailheader.Address("to", (&mail.Address{Name: name, Address: "ordine@pec.example.it"}).String())
		if err != nil {
			return
		}
		from := &mail.Address{Name: "Piattaforma PEC", Address: "piattaforma@pec.example.it"}
		raw, err := compose(time.Unix(0, 0), "<1@pec.example.it>", from, to, notice.Message{Subject: subject, Text: text})
		if err != nil {
			return
		}
		h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
		if err != nil {
			t.Fatalf("the composed header cannot be read: %v\n%q", err, raw)
		}
		var got []string
		for k, vs := range h {
			if len(vs) != 1 {
				t.Fatalf("header %s appears %d times:\n%q", k, len(vs), raw)
			}
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("headers %v, want %v:\n%q", got, want, raw)
		}
		if a, err := mail.ParseAddress(h.Get("To")); err != nil || a.Address != "ordine@pec.example.it" {
			t.Fatalf("To %q: %v", h.Get("To"), err)
		}
	})
}
