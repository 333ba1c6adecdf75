package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header that carries a callback's signature.
const SignatureHeader = "X-Pec-Signature"

// DefaultTolerance is how far a callback's timestamp may be from now, in either direction.
const DefaultTolerance = 300 * time.Second

// Errors returned by Verify. Both mean 401 at the edge; they differ so that the log can tell a
// forged or corrupted callback from an authentic one replayed or delayed too long.
var (
	ErrBadSignature   = errors.New("provider: bad callback signature")
	ErrStaleSignature = errors.New("provider: callback timestamp outside the tolerance")
)

// maxHeader bounds the work an unauthenticated caller can make Verify do: a timestamp and a
// handful of signatures fit in far less.
const maxHeader = 1024

// Sign returns the X-Pec-Signature header value for body at time t:
// "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a signature header against body. The header is valid when one of its v1= values
// is the signature of body under one of secrets (several of each make secret rotation possible:
// the provider signs with old and new, or the platform accepts both) and its timestamp is within
// tolerance of now (DefaultTolerance when tolerance <= 0). Empty secrets are ignored: anyone can
// compute a MAC with an empty key.
//
// It returns nil, ErrBadSignature (malformed header, no matching signature, no usable secret) or
// ErrStaleSignature (an authentic signature with a timestamp out of tolerance).
func Verify(secrets [][]byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sigs, ok := parseHeader(header)
	if !ok {
		return ErrBadSignature
	}
	if !matches(secrets, ts, sigs, body) {
		return ErrBadSignature
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	t, _ := strconv.ParseInt(ts, 10, 64) // parseHeader checked it
	d := now.Unix() - t
	if d < 0 {
		d = -d
	}
	if d > int64(tolerance/time.Second) {
		return ErrStaleSignature
	}
	return nil
}

func matches(secrets [][]byte, ts string, sigs [][]byte, body []byte) bool {
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		want := mac(s, ts, body)
		for _, sig := range sigs {
			if hmac.Equal(want, sig) {
				return true
			}
		}
	}
	return false
}

// parseHeader splits "t=<unix>,v1=<hex>[,v1=<hex>...]". Exactly one t is required, at least one
// v1; any other key=value part is ignored so that a later scheme (v2=) can be added alongside.
func parseHeader(h string) (ts string, sigs [][]byte, ok bool) {
	if h == "" || len(h) > maxHeader {
		return "", nil, false
	}
	for part := range strings.SplitSeq(h, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found || k == "" {
			return "", nil, false
		}
		switch k {
		case "t":
			if ts != "" || !isUnixSeconds(v) {
				return "", nil, false
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return "", nil, false
			}
			sigs = append(sigs, sig)
		}
	}
	return ts, sigs, ts != "" && len(sigs) > 0
}

func isUnixSeconds(s string) bool {
	if s == "" || len(s) > 18 { // 18 digits cannot overflow an int64
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
