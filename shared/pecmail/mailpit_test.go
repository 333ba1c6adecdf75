package pecmail

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/emulators"
	"github.com/pecplatform/pec/shared/notice"
)

// startMailpit starts mailpit for the test and returns its SMTP address and API URL; a missing
// installation skips the test, except in CI (CI=true).
func startMailpit(t *testing.T) (smtpAddr, apiURL string) {
	t.Helper()
	root, err := emulators.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	dirs := emulators.DefaultDirs(root)
	dirs.Logs = t.TempDir()
	smtpPort, err := emulators.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	httpPort, err := emulators.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p, err := emulators.StartMailpit(t.Context(), dirs, smtpPort, httpPort)
	if err != nil {
		if errors.Is(err, emulators.ErrNotInstalled) && os.Getenv("CI") != "true" {
			t.Skipf("mailpit not installed: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return net.JoinHostPort(emulators.Host, strconv.Itoa(smtpPort)), p.URL
}

type mailpitAddress struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

type mailpitMessage struct {
	ID        string           `json:"ID"`
	MessageID string           `json:"MessageID"`
	From      mailpitAddress   `json:"From"`
	To        []mailpitAddress `json:"To"`
	Cc        []mailpitAddress `json:"Cc"`
	Bcc       []mailpitAddress `json:"Bcc"`
	Subject   string           `json:"Subject"`
	Text      string           `json:"Text"`
	HTML      string           `json:"HTML"`
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
}

// messages lists what mailpit holds, waiting up to 5 s for want messages.
func messages(t *testing.T, apiURL string, want int) []mailpitMessage {
	t.Helper()
	var list struct {
		Messages []mailpitMessage `json:"messages"`
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		getJSON(t, apiURL+"/api/v1/messages", &list)
		if len(list.Messages) >= want || time.Now().After(deadline) {
			return list.Messages
		}
	}
}

func message(t *testing.T, apiURL, id string) mailpitMessage {
	t.Helper()
	var m mailpitMessage
	getJSON(t, apiURL+"/api/v1/message/"+id, &m)
	return m
}

func headers(t *testing.T, apiURL, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	getJSON(t, apiURL+"/api/v1/message/"+id+"/headers", &h)
	return h
}

func TestSend_AuthorizationRequestReachesMailpit(t *testing.T) {
	t.Parallel()
	smtpAddr, apiURL := startMailpit(t)
	m := authorizationRequest(t)
	s := &Sender{
		Addr:     smtpAddr,
		From:     "Piattaforma PEC della Federazione <piattaforma@pec.federazione.it>",
		Username: "piattaforma@pec.federazione.it", // to 127.0.0.1 net/smtp allows AUTH without TLS
		Password: "local-only",
		TLS:      TLSNone,
		Timeout:  10 * time.Second,
	}
	id, err := s.Send(t.Context(), "forli-cesena@pec.tsrm.org", m)
	if err != nil {
		t.Fatal(err)
	}

	list := messages(t, apiURL, 1)
	if len(list) != 1 {
		t.Fatalf("mailpit holds %d messages, want 1", len(list))
	}
	got := message(t, apiURL, list[0].ID)
	if want := "Richiesta di autorizzazione all'emissione di 12 caselle PEC – lotto B-2026-0007 – Ordine TSRM PSTRP di Forlì-Cesena"; got.Subject != want || list[0].Subject != want {
		t.Errorf("subject = %q (list %q), want %q", got.Subject, list[0].Subject, want)
	}
	if len(got.To) != 1 || got.To[0].Address != "forli-cesena@pec.tsrm.org" || len(list[0].To) != 1 || list[0].To[0].Address != "forli-cesena@pec.tsrm.org" {
		t.Errorf("to = %+v (list %+v)", got.To, list[0].To)
	}
	if got.From != (mailpitAddress{"Piattaforma PEC della Federazione", "piattaforma@pec.federazione.it"}) {
		t.Errorf("from = %+v", got.From)
	}
	if len(got.Cc)+len(got.Bcc) != 0 {
		t.Errorf("cc %+v, bcc %+v", got.Cc, got.Bcc)
	}
	if "<"+got.MessageID+">" != id {
		t.Errorf("Message-ID = %q, Send returned %q", got.MessageID, id)
	}
	if got.HTML != "" {
		t.Errorf("HTML part: %q", got.HTML)
	}
	text := strings.ReplaceAll(got.Text, "\r\n", "\n")
	if strings.TrimRight(text, "\n") != strings.TrimRight(m.Text, "\n") {
		t.Errorf("text changed on the way:\ngot  %q\nwant %q", text, m.Text)
	}
	for _, want := range []string{"€ 58,56", "€ 4,00 + IVA 22%", "Spett.le Ordine TSRM PSTRP di Forlì-Cesena,", "è in attesa", "Piattaforma PEC della Federazione"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	h := headers(t, apiURL, got.ID)
	for _, name := range []string{"Date", "Message-Id", "Mime-Version"} {
		if len(h[name]) != 1 {
			t.Errorf("header %s = %q, want one", name, h[name])
		}
	}
	if ct := h["Content-Type"]; len(ct) != 1 || ct[0] != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cte := h["Content-Transfer-Encoding"]; len(cte) != 1 || cte[0] != "quoted-printable" {
		t.Errorf("Content-Transfer-Encoding = %q", cte)
	}
}

func TestSend_LineBreaksCannotAddHeaders(t *testing.T) {
	t.Parallel()
	smtpAddr, apiURL := startMailpit(t)
	s := &Sender{Addr: smtpAddr, From: "piattaforma@pec.federazione.it", TLS: TLSNone}
	const evil = "\r\nBcc: x@y.it"

	// Through the notice: the name is flattened onto one line.
	m, err := notice.DeclineNotice(notice.MemberNoticeData{
		OrderName:        "Ordine TSRM PSTRP di Firenze" + evil,
		Nome:             "Mario" + evil,
		Cognome:          "Rossi\nBcc: z@y.it",
		NumeroIscrizione: "1234" + evil,
		Address:          "mario.rossi@pec.tsrm.org",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(t.Context(), "firenze@pec.tsrm.org", m); err != nil {
		t.Fatal(err)
	}

	// Straight to the adapter: refused.
	for _, c := range []struct {
		to string
		m  notice.Message
	}{
		{"firenze@pec.tsrm.org" + evil, notice.Message{Subject: "Oggetto", Text: "testo"}},
		{"Mario" + evil + " <firenze@pec.tsrm.org>", notice.Message{Subject: "Oggetto", Text: "testo"}},
		{"firenze@pec.tsrm.org", notice.Message{Subject: "Mario" + evil, Text: "testo"}},
	} {
		if _, err := s.Send(t.Context(), c.to, c.m); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("to %q, subject %q: err = %v, want ErrInvalidMessage", c.to, c.m.Subject, err)
		}
	}
	if _, err := (&Sender{Addr: smtpAddr, From: "piattaforma@pec.federazione.it" + evil, TLS: TLSNone}).Send(
		t.Context(), "firenze@pec.tsrm.org", notice.Message{Subject: "Oggetto", Text: "testo"}); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("From with CRLF: err = %v, want ErrInvalidMessage", err)
	}

	time.Sleep(200 * time.Millisecond) // would a refused message have arrived?
	list := messages(t, apiURL, 1)
	if len(list) != 1 {
		t.Fatalf("mailpit holds %d messages, want only the notice", len(list))
	}
	got := message(t, apiURL, list[0].ID)
	if len(got.Bcc)+len(got.Cc) != 0 || len(got.To) != 1 || got.To[0].Address != "firenze@pec.tsrm.org" {
		t.Errorf("recipients: to %+v, cc %+v, bcc %+v", got.To, got.Cc, got.Bcc)
	}
	h := headers(t, apiURL, got.ID)
	if _, ok := h["Bcc"]; ok {
		t.Errorf("a Bcc header got in: %q", h["Bcc"])
	}
	if want := "Mancata conferma dell'attivazione della casella PEC – Mario Bcc: x@y.it Rossi Bcc: z@y.it (iscrizione n. 1234 Bcc: x@y.it)"; got.Subject != want {
		t.Errorf("subject = %q, want %q", got.Subject, want)
	}
}

func TestSend_TLSModesAgainstPlainMailpit(t *testing.T) {
	t.Parallel()
	smtpAddr, apiURL := startMailpit(t)
	for _, mode := range []string{TLSStartTLS, TLSImplicit} {
		s := &Sender{Addr: smtpAddr, From: "piattaforma@pec.federazione.it", Username: "u", Password: "p", TLS: mode, Timeout: 5 * time.Second}
		if _, err := s.Send(t.Context(), "firenze@pec.tsrm.org", plain); err == nil {
			t.Errorf("TLS %q: sent over a server without TLS", mode)
		}
	}
	if list := messages(t, apiURL, 0); len(list) != 0 {
		t.Errorf("mailpit holds %d messages, want none", len(list))
	}
}
