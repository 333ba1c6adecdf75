package pecmail

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSMTP is a minimal SMTP server for what mailpit, as the emulators start it, cannot show:
// implicit TLS and STARTTLS, and where credentials go. It records what it receives.
type fakeSMTP struct {
	addr          string
	implicitTLS   bool
	offerSTARTTLS bool
	tlsConfig     *tls.Config

	mu     sync.Mutex
	auths  []fakeAuth // one per AUTH command
	data   []string   // one per message
	rcpts  []string
	ehlos  []string
	closed sync.WaitGroup
}

type fakeAuth struct {
	identity, user, pass string
	overTLS              bool
}

// testCA returns a server certificate for 127.0.0.1, 127.0.0.2 and pec.test, and a client
// configuration that trusts it.
func testCA(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "pec.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"pec.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

// startFakeSMTP listens on host (127.0.0.1 unless given) until the test ends.
func startFakeSMTP(t *testing.T, f *fakeSMTP, host string) {
	t.Helper()
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", host, err)
	}
	f.addr = ln.Addr().String()
	f.closed.Add(1)
	go func() {
		defer f.closed.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			f.closed.Add(1)
			go func() {
				defer f.closed.Done()
				f.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.closed.Wait()
	})
}

func (f *fakeSMTP) serve(conn net.Conn) {
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	defer func() { conn.Close() }()
	overTLS := false
	if f.implicitTLS {
		conn, overTLS = tls.Server(conn, f.tlsConfig), true
	}
	tp := textproto.NewConn(conn)
	tp.PrintfLine("220 fake ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			f.mu.Lock()
			f.ehlos = append(f.ehlos, arg)
			f.mu.Unlock()
			if f.offerSTARTTLS && !overTLS {
				tp.PrintfLine("250-fake")
				tp.PrintfLine("250-STARTTLS")
			} else {
				tp.PrintfLine("250-fake")
			}
			tp.PrintfLine("250 AUTH PLAIN")
		case "STARTTLS":
			tp.PrintfLine("220 ready")
			tc := tls.Server(conn, f.tlsConfig)
			if tc.Handshake() != nil {
				return
			}
			conn, overTLS = tc, true
			tp = textproto.NewConn(conn)
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if strings.ToUpper(mech) != "PLAIN" || len(parts) != 3 {
				tp.PrintfLine("504 unsupported")
				continue
			}
			f.mu.Lock()
			f.auths = append(f.auths, fakeAuth{parts[0], parts[1], parts[2], overTLS})
			f.mu.Unlock()
			tp.PrintfLine("235 ok")
		case "MAIL":
			tp.PrintfLine("250 ok")
		case "RCPT":
			f.mu.Lock()
			f.rcpts = append(f.rcpts, arg)
			f.mu.Unlock()
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go ahead")
			lines, err := tp.ReadDotLines()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.data = append(f.data, strings.Join(lines, "\n"))
			f.mu.Unlock()
			tp.PrintfLine("250 queued")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("502 not implemented")
		}
	}
}

func (f *fakeSMTP) snapshot() (auths []fakeAuth, data, rcpts, ehlos []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeAuth(nil), f.auths...), append([]string(nil), f.data...),
		append([]string(nil), f.rcpts...), append([]string(nil), f.ehlos...)
}
