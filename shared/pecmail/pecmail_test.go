package pecmail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/notice"
)

var authorization = notice.AuthorizationData{
	OrderName:    "Ordine TSRM PSTRP di Forlì-Cesena",
	BatchID:      "B-2026-0007",
	MailboxCount: 12,
	AmountCents:  5856,
	PriceCents:   400,
	VATPercent:   22,
}

func authorizationRequest(t *testing.T) notice.Message {
	t.Helper()
	m, err := notice.AuthorizationRequest(authorization)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func parse(t *testing.T, raw []byte) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	return msg
}

func TestCompose_PlainTextUTF8QuotedPrintable(t *testing.T) {
	m := authorizationRequest(t)
	from := &mail.Address{Name: "Piattaforma PEC della Federazione", Address: "piattaforma@pec.federazione.it"}
	to := &mail.Address{Address: "forli-cesena@pec.tsrm.org"}
	now := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	raw, err := compose(now, "<abc@pec.federazione.it>", from, to, m)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(raw), "\r\n") {
		if len(l) > 76 {
			t.Errorf("line %d is %d characters long: %q", i+1, len(l), l)
		}
		if strings.Contains(l, "\n") || strings.Contains(l, "\r") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, l)
		}
	}
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Error("the message does not end with CRLF")
	}

	msg := parse(t, raw)
	h := msg.Header
	for name, want := range map[string]string{
		"Date":                      "Fri, 06 Mar 2026 10:00:00 +0000",
		"Message-Id":                "<abc@pec.federazione.it>",
		"From":                      `"Piattaforma PEC della Federazione" <piattaforma@pec.federazione.it>`,
		"To":                        "forli-cesena@pec.tsrm.org",
		"Mime-Version":              "1.0",
		"Content-Type":              "text/plain; charset=UTF-8",
		"Content-Transfer-Encoding": "quoted-printable",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if len(h) != 8 {
		t.Errorf("headers = %v, want exactly 8", h)
	}
	rawSubject := h.Get("Subject")
	if !strings.HasPrefix(rawSubject, "=?UTF-8?q?") {
		t.Errorf("non-ASCII subject is not RFC 2047-encoded: %q", rawSubject)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
	if err != nil || subject != m.Subject {
		t.Errorf("subject decodes to %q (%v), want %q", subject, err, m.Subject)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != m.Text {
		t.Errorf("body decodes to\n%q\nwant\n%q", got, m.Text)
	}
	if !bytes.Contains(raw, []byte("=E2=82=AC 58,56")) {
		t.Error("the euro sign is not quoted-printable")
	}
}

func TestCompose_ASCIISubjectStaysReadable(t *testing.T) {
	raw, err := compose(time.Now(), "<a@b.it>", &mail.Address{Address: "a@b.it"}, &mail.Address{Address: "c@d.it"},
		notice.Message{Subject: "Casella PEC non attivata", Text: "testo"})
	if err != nil {
		t.Fatal(err)
	}
	if got := parse(t, raw).Header.Get("Subject"); got != "Casella PEC non attivata" {
		t.Errorf("subject = %q", got)
	}
}

func TestFold(t *testing.T) {
	for _, line := range []string{
		"Subject: short",
		"Subject: " + strings.Repeat("parola ", 30),
		"Subject: " + mime.QEncoding.Encode("UTF-8", strings.Repeat("perché ", 30)),
		"Subject: " + strings.Repeat("x", 120) + " fine",
		"Subject: " + strings.Repeat("x", 120),
	} {
		folded := fold(line)
		if got := strings.ReplaceAll(folded, "\r\n", ""); got != line {
			t.Errorf("unfolding %q gives %q", line, got)
		}
		for _, l := range strings.Split(folded, "\r\n") {
			if strings.TrimSpace(l) == "" {
				t.Errorf("an empty continuation line in %q", folded)
			}
			if len(l) > 78 && strings.Contains(strings.TrimSpace(l), " ") {
				t.Errorf("a long line that could have been folded: %q", l)
			}
		}
	}
}

func TestNewMessageID(t *testing.T) {
	a, _ := newMessageID("piattaforma@pec.federazione.it")
	b, _ := newMessageID("piattaforma@pec.federazione.it")
	if a == b || !strings.HasPrefix(a, "<") || !strings.HasSuffix(a, "@pec.federazione.it>") || len(a) != len("<@pec.federazione.it>")+32 {
		t.Errorf("message ids %q, %q", a, b)
	}
	if c, _ := newMessageID("x@dominio-è.it"); !strings.HasSuffix(c, "@pecmail.invalid>") {
		t.Errorf("non-ASCII domain gave %q", c)
	}
}

func TestSend_RefusesBeforeConnecting(t *testing.T) {
	// Nothing listens on a closed listener's port: a dial would fail with another error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ok := notice.Message{Subject: "Oggetto", Text: "testo"}
	cases := []struct {
		name, from, to string
		m              notice.Message
	}{
		{"CRLF in to", "", "ordine@pec.it\r\nBcc: x@y.it", ok},
		{"no recipient", "", "", ok},
		{"CRLF in from", "piattaforma@pec.it\r\nBcc: x@y.it", "ordine@pec.it", ok},
		{"CRLF in subject", "", "ordine@pec.it", notice.Message{Subject: "Oggetto\r\nBcc: x@y.it", Text: "t"}},
		{"empty subject", "", "ordine@pec.it", notice.Message{Text: "t"}},
		{"empty text", "", "ordine@pec.it", notice.Message{Subject: "s"}},
		{"HTML", "", "ordine@pec.it", notice.Message{Subject: "s", Text: "t", HTML: "<p>t</p>"}},
	}
	for _, c := range cases {
		s := &Sender{Addr: addr, From: "piattaforma@pec.it", TLS: TLSNone}
		if c.from != "" {
			s.From = c.from
		}
		_, err := s.Send(t.Context(), c.to, c.m)
		if !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: err = %v, want ErrInvalidMessage", c.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "x@y.it") {
			t.Errorf("%s: the error repeats the input: %v", c.name, err)
		}
	}
	for _, s := range []*Sender{
		{Addr: addr, From: "piattaforma@pec.it", TLS: "ssl"},
		{Addr: "no-port", From: "piattaforma@pec.it", TLS: TLSNone},
	} {
		if _, err := s.Send(t.Context(), "ordine@pec.it", ok); err == nil || errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%+v: err = %v, want a configuration error", s, err)
		}
	}
}

func TestCompose_AttachmentsMakeAMultipartWithTheTextFirst(t *testing.T) {
	from, to := &mail.Address{Address: "piattaforma@pec.example.it"}, &mail.Address{Address: "aggiornamento@cert.inipec.gov.it"}
	csv := []byte("a@pec.it;Anna;Neri;12;NREANN80A41H501X;2;15/01/2020;\r\n")
	raw, err := compose(time.Now(), "<1@pec.example.it>", from, to, notice.Message{Subject: "Aggiornamento INI-PEC", Text: "In allegato il file.",
		Attachments: []notice.Attachment{{Name: "INIPEC_TO_20261205_000001.csv", ContentType: "text/csv; charset=UTF-8", Data: csv}}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("content type %q: %v", mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	text, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(text); !strings.Contains(string(b), "In allegato il file.") { // NextPart decodes quoted-printable
		t.Errorf("text part %q", b)
	}
	file, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, file))
	if file.FileName() != "INIPEC_TO_20261205_000001.csv" || !bytes.Equal(b, csv) {
		t.Errorf("attachment %q = %q", file.FileName(), b)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("more parts: %v", err)
	}
	if _, err := (&Sender{Addr: "127.0.0.1:1", From: "p@pec.example.it", TLS: TLSNone}).Send(t.Context(), "a@b.it",
		notice.Message{Subject: "s", Text: "t", Attachments: []notice.Attachment{{Name: "../x.csv", ContentType: "text/csv"}}}); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("an attachment name with a path: %v", err)
	}
}
