package sesmail

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/pecplatform/pec/infra/emulators"
	"github.com/pecplatform/pec/shared/notice"
)

// startSES starts aws-ses-v2-local for the test; a missing installation skips the test, except
// in CI (CI=true).
func startSES(t *testing.T) *emulators.Process {
	t.Helper()
	root, err := emulators.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	dirs := emulators.DefaultDirs(root)
	dirs.Logs = t.TempDir()
	port, err := emulators.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p, err := emulators.StartSES(t.Context(), dirs, port)
	if err != nil {
		if errors.Is(err, emulators.ErrNotInstalled) && os.Getenv("CI") != "true" {
			t.Skipf("aws-ses-v2-local not installed: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

type storedEmail struct {
	From        string `json:"from"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
}

func readStore(t *testing.T, url string) []storedEmail {
	t.Helper()
	resp, err := http.Get(url + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var store struct {
		Emails []storedEmail `json:"emails"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /store: %d %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &store); err != nil {
		t.Fatalf("GET /store: %v: %s", err, b)
	}
	return store.Emails
}

func TestSend_ActivationEmailReachesSES(t *testing.T) {
	t.Parallel()
	p := startSES(t)
	client := sesv2.New(sesv2.Options{
		Region:       "eu-south-1",
		BaseEndpoint: aws.String(p.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("ak", "sk", ""),
	})
	s := &Sender{API: client, From: "noreply@pec.example.it", ConfigurationSet: "members"}
	m, err := notice.ActivationEmail(notice.ActivationData{
		Nome:      "Niccolò",
		Cognome:   "D'Amico",
		Address:   "niccolo.damico@pec.tsrm.org",
		OrderName: "Ordine TSRM PSTRP di Forlì-Cesena",
		Link:      "https://pec.example.it/activate/tok_abc-123?x=1&y=2",
		ExpiresAt: time.Date(2026, 11, 23, 13, 30, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	id, err := s.Send(ctx, "niccolo.damico@example.it", m)
	if err != nil {
		t.Fatal(err)
	}
	if id == "" {
		t.Error("no message id")
	}

	emails := readStore(t, p.URL)
	if len(emails) != 1 {
		t.Fatalf("store holds %d e-mails, want 1: %+v", len(emails), emails)
	}
	got := emails[0]
	if got.From != "noreply@pec.example.it" {
		t.Errorf("from = %q", got.From)
	}
	if len(got.Destination.To) != 1 || got.Destination.To[0] != "niccolo.damico@example.it" {
		t.Errorf("to = %q", got.Destination.To)
	}
	if got.Subject != m.Subject {
		t.Errorf("subject = %q, want %q", got.Subject, m.Subject)
	}
	if got.Body.HTML != m.HTML {
		t.Errorf("HTML differs:\ngot  %q\nwant %q", got.Body.HTML, m.HTML)
	}
	if got.Body.Text != m.Text {
		t.Errorf("text differs:\ngot  %q\nwant %q", got.Body.Text, m.Text)
	}
	for _, accented := range []string{"Niccolò", "Forlì-Cesena", "è obbligatorio", "È personale", "già"} {
		if !strings.Contains(got.Body.Text, accented) || !strings.Contains(got.Body.HTML, accented) {
			t.Errorf("%q did not survive the trip", accented)
		}
	}
}

// fakeAPI records the input of SendEmail.
type fakeAPI struct {
	in    *sesv2.SendEmailInput
	calls int
	err   error
}

func (f *fakeAPI) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.calls++
	f.in = in
	if f.err != nil {
		return nil, f.err
	}
	return &sesv2.SendEmailOutput{MessageId: aws.String("0100-abc")}, nil
}

var msg = notice.Message{Subject: "Attivazione della casella PEC a@pec.it", Text: "testo", HTML: "<p>testo</p>"}

func TestSend_BuildsSimpleUTF8Content(t *testing.T) {
	f := &fakeAPI{}
	s := &Sender{API: f, From: "Federazione Ordini TSRM e PSTRP <noreply@pec.example.it>"}
	id, err := s.Send(t.Context(), "Niccolò D'Amico <n@example.it>", msg)
	if err != nil || id != "0100-abc" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	in := f.in
	if got := aws.ToString(in.FromEmailAddress); got != `"Federazione Ordini TSRM e PSTRP" <noreply@pec.example.it>` {
		t.Errorf("from = %q", got)
	}
	if got := in.Destination.ToAddresses; len(got) != 1 || !strings.HasPrefix(got[0], "=?utf-8?") {
		t.Errorf("to = %q, want one address with the name RFC 2047-encoded", got)
	} else if a, err := mail.ParseAddress(got[0]); err != nil || a.Name != "Niccolò D'Amico" || a.Address != "n@example.it" {
		t.Errorf("to = %q parses as %+v, %v", got[0], a, err)
	}
	if in.Destination.CcAddresses != nil || in.Destination.BccAddresses != nil {
		t.Errorf("cc/bcc set: %+v", in.Destination)
	}
	if in.ConfigurationSetName != nil {
		t.Errorf("configuration set = %q, want none", aws.ToString(in.ConfigurationSetName))
	}
	sm := in.Content.Simple
	for name, c := range map[string]*struct{ data, charset *string }{
		"subject": {sm.Subject.Data, sm.Subject.Charset},
		"text":    {sm.Body.Text.Data, sm.Body.Text.Charset},
		"html":    {sm.Body.Html.Data, sm.Body.Html.Charset},
	} {
		if aws.ToString(c.charset) != "UTF-8" {
			t.Errorf("%s charset = %q", name, aws.ToString(c.charset))
		}
	}
	if aws.ToString(sm.Subject.Data) != msg.Subject || aws.ToString(sm.Body.Text.Data) != msg.Text || aws.ToString(sm.Body.Html.Data) != msg.HTML {
		t.Errorf("content changed: %+v", sm)
	}

	s.ConfigurationSet = "members"
	if _, err := s.Send(t.Context(), "n@example.it", notice.Message{Subject: "s", Text: "only text"}); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(f.in.ConfigurationSetName) != "members" || f.in.Content.Simple.Body.Html != nil {
		t.Errorf("configuration set %q, html %v", aws.ToString(f.in.ConfigurationSetName), f.in.Content.Simple.Body.Html)
	}
	if got := f.in.Destination.ToAddresses[0]; got != "n@example.it" {
		t.Errorf("bare address became %q", got)
	}
}

func TestSend_RefusesBadRecipientsAndMessages(t *testing.T) {
	cases := []struct {
		name, from, to string
		m              notice.Message
	}{
		{"CRLF in to", "", "n@example.it\r\nBcc: x@y.it", msg},
		{"empty to", "", "", msg},
		{"CRLF in from", "noreply@pec.example.it\r\nBcc: x@y.it", "n@example.it", msg},
		{"CRLF in subject", "", "n@example.it", notice.Message{Subject: "a\r\nBcc: x@y.it", Text: "t"}},
		{"empty subject", "", "n@example.it", notice.Message{Text: "t"}},
		{"empty body", "", "n@example.it", notice.Message{Subject: "s"}},
	}
	for _, c := range cases {
		f := &fakeAPI{}
		s := &Sender{API: f, From: "noreply@pec.example.it"}
		if c.from != "" {
			s.From = c.from
		}
		_, err := s.Send(t.Context(), c.to, c.m)
		if !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: err = %v, want ErrInvalidMessage", c.name, err)
		}
		if f.calls != 0 {
			t.Errorf("%s: SES was called", c.name)
		}
		if err != nil && strings.Contains(err.Error(), "x@y.it") {
			t.Errorf("%s: error repeats the input: %v", c.name, err)
		}
	}
}

func TestSend_WrapsSESErrors(t *testing.T) {
	boom := errors.New("throttled")
	s := &Sender{API: &fakeAPI{err: boom}, From: "noreply@pec.example.it"}
	if _, err := s.Send(t.Context(), "n@example.it", msg); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v", err, boom)
	}
	if _, err := (&Sender{From: "noreply@pec.example.it"}).Send(t.Context(), "n@example.it", msg); err == nil {
		t.Fatal("a Sender without API sent")
	}
}
