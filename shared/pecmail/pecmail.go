// Package pecmail sends the notices with legal weight to Orders (notice.Message, plain text)
// from the platform's own PEC mailbox, which is an SMTP account at the PEC provider. The
// provider's relay certifies the message; this package only hands it over.
package pecmail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/mailheader"
	"github.com/pecplatform/pec/shared/notice"
)

// TLS modes of Sender.
const (
	TLSNone     = "none"     // plain SMTP: only for a local stand-in (credentials only to localhost)
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which the server must offer
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, usually port 465): the PEC providers' way
)

// DefaultTimeout bounds a whole Send when Sender.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// ErrInvalidMessage is wrapped by the errors about what Send was asked to send, before any
// connection is made. The errors never repeat the addresses or the message.
var ErrInvalidMessage = errors.New("pecmail: invalid message")

var _ app.Mailer = (*Sender)(nil)

// Sender sends plain-text messages through one SMTP account.
type Sender struct {
	Addr               string // host:port of the provider's SMTP server
	From               string // the platform's PEC address, optionally "Name <address>"
	Username, Password string // AUTH PLAIN when Username is set; sent only over TLS (or to localhost)
	TLS                string // TLSNone, TLSStartTLS or TLSImplicit; empty means TLSImplicit
	Timeout            time.Duration
	LocalName          string // the name given in EHLO; empty: "localhost"

	// TLSConfig is optional: nil verifies the server against the system roots. ServerName
	// defaults to the host of Addr, MinVersion to TLS 1.2.
	TLSConfig *tls.Config
}

// Send delivers m to the single address to and returns the Message-ID it gave the message
// ("<...@from-domain>"). Once the server has accepted the message Send reports success, even if
// the connection then fails: a retry would send the notice twice.
func (s *Sender) Send(ctx context.Context, to string, m notice.Message) (messageID string, err error) {
	mode := s.TLS
	if mode == "" {
		mode = TLSImplicit
	}
	if mode != TLSNone && mode != TLSStartTLS && mode != TLSImplicit {
		return "", fmt.Errorf("pecmail: unknown TLS mode %q", s.TLS)
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil || host == "" {
		return "", fmt.Errorf("pecmail: Addr must be host:port")
	}
	from, err := mailheader.Address("From", s.From)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	rcpt, err := mailheader.Address("to", to)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if err := mailheader.Subject(m.Subject); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	switch {
	case strings.TrimSpace(m.Text) == "":
		return "", fmt.Errorf("%w: empty text", ErrInvalidMessage)
	case m.HTML != "":
		return "", fmt.Errorf("%w: PEC notices are plain text, the message has HTML", ErrInvalidMessage)
	}

	messageID, err = newMessageID(from.Address)
	if err != nil {
		return "", err
	}
	if m.IDKey != "" {
		if messageID, err = keyedMessageID(m.IDKey, from.Address); err != nil {
			return "", err
		}
	}
	for _, a := range m.Attachments {
		if !attachmentName.MatchString(a.Name) || a.ContentType == "" || strings.ContainsAny(a.ContentType, "\r\n") {
			return "", fmt.Errorf("%w: attachment name or type", ErrInvalidMessage)
		}
	}
	raw, err := compose(time.Now(), messageID, from, rcpt, m)
	if err != nil {
		return "", err
	}
	if err := s.deliver(ctx, mode, host, from.Address, rcpt.Address, raw); err != nil {
		return "", err
	}
	return messageID, nil
}

func (s *Sender) deliver(ctx context.Context, mode, host, from, to string, raw []byte) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()

	// fail names the step; when ctx ended, that is the cause worth matching on.
	fail := func(step string, err error) error {
		ctxErr := ctx.Err()
		if ctxErr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
			ctxErr = context.DeadlineExceeded // the connection's deadline is ctx's, whose timer may lag
		}
		if ctxErr != nil {
			return fmt.Errorf("pecmail: %s: %w (%v)", step, ctxErr, err)
		}
		return fmt.Errorf("pecmail: %s: %w", step, err)
	}

	tlsConfig := &tls.Config{}
	if s.TLSConfig != nil {
		tlsConfig = s.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = host
	}
	if tlsConfig.MinVersion == 0 {
		tlsConfig.MinVersion = tls.VersionTLS12
	}

	var conn net.Conn
	var err error
	dialer := &net.Dialer{}
	if mode == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", s.Addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.Addr)
	}
	if err != nil {
		return fail("connect", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return fail("connect", err)
	}
	// A cancellation mid-dialogue unblocks whatever read or write is pending.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fail("greeting", err)
	}
	defer c.Close()
	if s.LocalName != "" {
		if err := c.Hello(s.LocalName); err != nil {
			return fail("EHLO", err)
		}
	}
	if mode == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fail("STARTTLS", errors.New("the server does not offer STARTTLS"))
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return fail("STARTTLS", err)
		}
	}
	if s.Username != "" {
		// net/smtp sends PLAIN credentials only over TLS or to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fail("AUTH", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fail("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fail("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return fail("DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		w.Close()
		return fail("DATA", err)
	}
	if err := w.Close(); err != nil { // the server's answer to the message
		return fail("DATA", err)
	}
	_ = c.Quit() // accepted: a failed QUIT changes nothing
	return nil
}

// attachmentName: a plain file name, safe in a header without encoding.
var attachmentName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,195}$`)

// compose writes the RFC 5322 message: plain text, UTF-8, quoted-printable; with attachments,
// multipart/mixed with the text first and each file in base64.
func compose(now time.Time, messageID string, from, to *mail.Address, m notice.Message) ([]byte, error) {
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(fold(name + ": " + value)); b.WriteString("\r\n") }
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID)
	header("From", mailheader.Format(from))
	header("To", mailheader.Format(to))
	header("Subject", mime.QEncoding.Encode("UTF-8", m.Subject))
	header("MIME-Version", "1.0")
	if len(m.Attachments) == 0 {
		header("Content-Type", "text/plain; charset=UTF-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		return writeText(&b, m.Text)
	}
	mw := multipart.NewWriter(&b)
	header("Content-Type", `multipart/mixed; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	part, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=UTF-8"}, "Content-Transfer-Encoding": {"quoted-printable"}})
	if err != nil {
		return nil, err
	}
	var text bytes.Buffer
	if _, err := writeText(&text, m.Text); err != nil {
		return nil, err
	}
	if _, err := part.Write(text.Bytes()); err != nil {
		return nil, err
	}
	for _, a := range m.Attachments {
		part, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.ContentType + `; name="` + a.Name + `"`},
			"Content-Disposition":       {`attachment; filename="` + a.Name + `"`},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			io.WriteString(part, enc[:76]+"\r\n")
			enc = enc[76:]
		}
		io.WriteString(part, enc+"\r\n")
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeText writes the text quoted-printable, ending in a line break.
func writeText(b *bytes.Buffer, s string) ([]byte, error) {
	text := strings.ReplaceAll(s, "\r\n", "\n")
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	qp := quotedprintable.NewWriter(b)
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, fmt.Errorf("pecmail: encode: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("pecmail: encode: %w", err)
	}
	return b.Bytes(), nil
}

// fold breaks a header line at the spaces of its value so that its lines keep within 78
// characters where they can (RFC 5322 2.2.3; RFC 2047 wants lines with encoded words within 76,
// which the 75-character words of mime.QEncoding meet on continuation lines). Between encoded
// words, as between plain words, unfolding restores the value.
func fold(line string) string {
	const limit = 78
	start := strings.IndexByte(line, ':') + 1 // the first space that may start a continuation
	var b strings.Builder
	for len(line) > limit {
		i := strings.LastIndexByte(line[:limit], ' ')
		if i < start {
			if i = strings.IndexByte(line[max(limit, start):], ' '); i < 0 {
				break
			}
			i += max(limit, start)
		}
		b.WriteString(line[:i])
		b.WriteString("\r\n")
		line, start = line[i:], 1 // the space starts the continuation line
	}
	b.WriteString(line)
	return b.String()
}

// newMessageID returns a random "<hex@domain>" in the domain of from.
func newMessageID(from string) (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("pecmail: message id: %w", err)
	}
	domain := from[strings.LastIndexByte(from, '@')+1:]
	if !isDotAtom(domain) {
		domain = "pecmail.invalid"
	}
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">", nil
}

// keyedMessageID returns the deterministic "<key@domain>" in the domain of from.
func keyedMessageID(key, from string) (string, error) {
	if len(key) > 200 || !messageIDKey.MatchString(key) {
		return "", fmt.Errorf("%w: the Message-ID key", ErrInvalidMessage)
	}
	domain := from[strings.LastIndexByte(from, '@')+1:]
	if !isDotAtom(domain) {
		domain = "pecmail.invalid"
	}
	return "<" + key + "@" + domain + ">", nil
}

// messageIDKey is a dot-atom: what the left of a Message-ID may be without quoting.
var messageIDKey = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// isDotAtom reports whether s is a plain ASCII domain (letters, digits, '-', '.').
func isDotAtom(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
