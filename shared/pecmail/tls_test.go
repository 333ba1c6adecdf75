package pecmail

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/notice"
)

var plain = notice.Message{Subject: "Casella PEC non attivata – Carlo Zurzi", Text: "Spett.le Ordine,\n\ntesto.\n"}

func TestSend_ImplicitTLSWithAuth(t *testing.T) {
	serverTLS, clientTLS := testCA(t)
	f := &fakeSMTP{implicitTLS: true, tlsConfig: serverTLS}
	startFakeSMTP(t, f, "")
	s := &Sender{Addr: f.addr, From: "piattaforma@pec.test", Username: "piattaforma@pec.test", Password: "s3cret",
		TLSConfig: clientTLS, LocalName: "platform.pec.test", Timeout: 5 * time.Second} // TLS "" = implicit
	id, err := s.Send(t.Context(), "ordine@pec.test", plain)
	if err != nil {
		t.Fatal(err)
	}
	auths, data, rcpts, ehlos := f.snapshot()
	if len(auths) != 1 || auths[0] != (fakeAuth{"", "piattaforma@pec.test", "s3cret", true}) {
		t.Errorf("auths = %+v", auths)
	}
	if len(data) != 1 || !strings.Contains(data[0], "Message-ID: "+id) {
		t.Errorf("data = %q, want one message with Message-ID %s", data, id)
	}
	if len(rcpts) != 1 || rcpts[0] != "TO:<ordine@pec.test>" {
		t.Errorf("rcpts = %q", rcpts)
	}
	if len(ehlos) != 1 || ehlos[0] != "platform.pec.test" {
		t.Errorf("EHLO = %q", ehlos)
	}
}

func TestSend_StartTLSWithAuth(t *testing.T) {
	serverTLS, clientTLS := testCA(t)
	f := &fakeSMTP{offerSTARTTLS: true, tlsConfig: serverTLS}
	startFakeSMTP(t, f, "")
	s := &Sender{Addr: f.addr, From: "piattaforma@pec.test", Username: "u", Password: "p",
		TLS: TLSStartTLS, TLSConfig: clientTLS}
	if _, err := s.Send(t.Context(), "ordine@pec.test", plain); err != nil {
		t.Fatal(err)
	}
	auths, data, _, _ := f.snapshot()
	if len(auths) != 1 || !auths[0].overTLS || auths[0].pass != "p" {
		t.Errorf("auths = %+v, want one over TLS", auths)
	}
	if len(data) != 1 {
		t.Errorf("%d messages delivered", len(data))
	}
}

func TestSend_RefusesAnUntrustedCertificate(t *testing.T) {
	serverTLS, _ := testCA(t)
	f := &fakeSMTP{implicitTLS: true, tlsConfig: serverTLS}
	startFakeSMTP(t, f, "")
	s := &Sender{Addr: f.addr, From: "piattaforma@pec.test", Username: "u", Password: "p"} // system roots
	if _, err := s.Send(t.Context(), "ordine@pec.test", plain); err == nil {
		t.Fatal("sent to a server whose certificate nobody vouches for")
	}
	if auths, data, _, _ := f.snapshot(); len(auths)+len(data) != 0 {
		t.Errorf("auths %v, data %v", auths, data)
	}
}

func TestSend_NeverDowngradesStartTLS(t *testing.T) {
	f := &fakeSMTP{offerSTARTTLS: false}
	startFakeSMTP(t, f, "")
	s := &Sender{Addr: f.addr, From: "piattaforma@pec.test", Username: "u", Password: "p", TLS: TLSStartTLS}
	_, err := s.Send(t.Context(), "ordine@pec.test", plain)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err = %v, want a STARTTLS error", err)
	}
	if auths, data, _, _ := f.snapshot(); len(auths)+len(data) != 0 {
		t.Errorf("auths %v, data %v", auths, data)
	}
}

// Over a plain connection, the password goes nowhere but to localhost. 127.0.0.2 is loopback on
// Linux but not a name net/smtp counts as localhost.
func TestSend_NoCredentialsInTheClear(t *testing.T) {
	f := &fakeSMTP{}
	startFakeSMTP(t, f, "127.0.0.2")
	s := &Sender{Addr: f.addr, From: "piattaforma@pec.test", Username: "u", Password: "s3cret", TLS: TLSNone}
	_, err := s.Send(t.Context(), "ordine@pec.test", plain)
	if err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Fatalf("err = %v, want an AUTH refusal", err)
	}
	if auths, data, _, _ := f.snapshot(); len(auths)+len(data) != 0 {
		t.Errorf("credentials or data went in the clear: auths %v, data %v", auths, data)
	}
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func TestSend_HonoursTimeoutAndContext(t *testing.T) {
	t.Parallel()
	addr := silentServer(t)

	s := &Sender{Addr: addr, From: "piattaforma@pec.test", TLS: TLSNone, Timeout: 200 * time.Millisecond}
	t0 := time.Now()
	_, err := s.Send(t.Context(), "ordine@pec.test", plain)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(t0) > 3*time.Second {
		t.Errorf("Timeout: err = %v after %v", err, time.Since(t0))
	}

	s.Timeout = time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	t0 = time.Now()
	_, err = s.Send(ctx, "ordine@pec.test", plain)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(t0) > 3*time.Second {
		t.Errorf("ctx deadline: err = %v after %v", err, time.Since(t0))
	}

	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	t0 = time.Now()
	_, err = s.Send(ctx, "ordine@pec.test", plain)
	if !errors.Is(err, context.Canceled) || time.Since(t0) > 3*time.Second {
		t.Errorf("cancel: err = %v after %v", err, time.Since(t0))
	}
}

// A message with an IDKey carries the same Message-ID every time it is sent, so a PEC sent
// again after a crash is recognisably the same message.
func TestSend_IDKeyGivesTheSameMessageIDEachTime(t *testing.T) {
	serverTLS, clientTLS := testCA(t)
	f := &fakeSMTP{implicitTLS: true, tlsConfig: serverTLS}
	startFakeSMTP(t, f, "")
	s := &Sender{Addr: f.addr, From: "piattaforma@pec.test", TLSConfig: clientTLS, Timeout: 5 * time.Second}
	m := plain
	m.IDKey = "inipec.INIPEC_TSRM-FI_20261205_000001.csv"
	a, err := s.Send(t.Context(), "aggiornamento@cert.inipec.test", m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Send(t.Context(), "aggiornamento@cert.inipec.test", m)
	if err != nil {
		t.Fatal(err)
	}
	if a != b || a != "<inipec.INIPEC_TSRM-FI_20261205_000001.csv@pec.test>" {
		t.Errorf("Message-IDs %q, %q", a, b)
	}
	if _, data, _, _ := f.snapshot(); len(data) != 2 || !strings.Contains(data[1], "Message-ID: "+a) {
		t.Errorf("data = %q", data)
	}
	for _, bad := range []string{"a b", "a..b", "a.", ".a", "a@b", "a>\r\nBcc: x@y.it", strings.Repeat("a", 201)} {
		m.IDKey = bad
		if _, err := s.Send(t.Context(), "aggiornamento@cert.inipec.test", m); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("IDKey %q: err = %v, want ErrInvalidMessage", bad, err)
		}
	}
}
