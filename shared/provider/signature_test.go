package provider_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/provider"
)

func TestSign_Format(t *testing.T) {
	// HMAC-SHA256("secret", "1700000000.{}"), computed independently with openssl.
	got := provider.Sign([]byte("secret"), time.Unix(1700000000, 0), []byte("{}"))
	want := "t=1700000000,v1=" + knownMAC
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

const knownMAC = "b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"

func TestVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"eventId":"e1"}`)
	key, old := []byte("current-secret"), []byte("previous-secret")
	good := provider.Sign(key, now, body)
	v1 := func(secret []byte, at time.Time, b []byte) string {
		_, sig, _ := strings.Cut(provider.Sign(secret, at, b), ",")
		return sig
	}
	ts := fmt.Sprintf("t=%d", now.Unix())

	tests := []struct {
		name    string
		secrets [][]byte
		header  string
		body    []byte
		want    error
	}{
		{"good", [][]byte{key}, good, body, nil},
		{"good, spaces after commas", [][]byte{key}, ts + ", " + v1(key, now, body), body, nil},
		{"signed with either of two secrets", [][]byte{old, key}, good, body, nil},
		{"two v1 values, the second matches", [][]byte{key}, ts + "," + v1(old, now, body) + "," + v1(key, now, body), body, nil},
		{"two v1 values, the first matches", [][]byte{key}, ts + "," + v1(key, now, body) + "," + v1(old, now, body), body, nil},
		{"unknown scheme alongside is ignored", [][]byte{key}, good + ",v0=abc", body, nil},
		{"wrong secret", [][]byte{old}, good, body, provider.ErrBadSignature},
		{"tampered body", [][]byte{key}, good, []byte(`{"eventId":"e2"}`), provider.ErrBadSignature},
		{"body with extra whitespace", [][]byte{key}, good, append(body, '\n'), provider.ErrBadSignature},
		{"timestamp changed", [][]byte{key}, fmt.Sprintf("t=%d,", now.Unix()+1) + v1(key, now, body), body, provider.ErrBadSignature},
		{"stale", [][]byte{key}, provider.Sign(key, now.Add(-301*time.Second), body), body, provider.ErrStaleSignature},
		{"just within the past tolerance", [][]byte{key}, provider.Sign(key, now.Add(-300*time.Second), body), body, nil},
		{"future", [][]byte{key}, provider.Sign(key, now.Add(301*time.Second), body), body, provider.ErrStaleSignature},
		{"just within the future tolerance", [][]byte{key}, provider.Sign(key, now.Add(300*time.Second), body), body, nil},
		{"stale and wrong secret is bad, not stale", [][]byte{old}, provider.Sign(key, now.Add(-time.Hour), body), body, provider.ErrBadSignature},
		{"empty secret list", nil, good, body, provider.ErrBadSignature},
		{"empty secret is never used", [][]byte{{}}, provider.Sign(nil, now, body), body, provider.ErrBadSignature},
		{"empty header", [][]byte{key}, "", body, provider.ErrBadSignature},
		{"no t", [][]byte{key}, v1(key, now, body), body, provider.ErrBadSignature},
		{"no v1", [][]byte{key}, ts, body, provider.ErrBadSignature},
		{"two t", [][]byte{key}, ts + "," + good, body, provider.ErrBadSignature},
		{"t not a number", [][]byte{key}, "t=soon," + v1(key, now, body), body, provider.ErrBadSignature},
		{"t negative", [][]byte{key}, "t=-1," + v1(key, now, body), body, provider.ErrBadSignature},
		{"t overflowing", [][]byte{key}, "t=99999999999999999999," + v1(key, now, body), body, provider.ErrBadSignature},
		{"v1 not hex", [][]byte{key}, ts + ",v1=" + strings.Repeat("z", 64), body, provider.ErrBadSignature},
		{"v1 too short", [][]byte{key}, ts + ",v1=" + v1(key, now, body)[3:40], body, provider.ErrBadSignature},
		{"v1 empty", [][]byte{key}, ts + ",v1=", body, provider.ErrBadSignature},
		{"part without =", [][]byte{key}, good + ",junk", body, provider.ErrBadSignature},
		{"empty part", [][]byte{key}, ts + ",," + v1(key, now, body), body, provider.ErrBadSignature},
		{"semicolons", [][]byte{key}, strings.ReplaceAll(good, ",", ";"), body, provider.ErrBadSignature},
		{"oversized", [][]byte{key}, good + strings.Repeat(",x=y", 400), body, provider.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := provider.Verify(tt.secrets, tt.header, tt.body, now, provider.DefaultTolerance)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify(%q) = %v, want %v", tt.header, err, tt.want)
			}
		})
	}
}

func TestVerify_ZeroToleranceMeansDefault(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	key, body := []byte("k"), []byte("b")
	if err := provider.Verify([][]byte{key}, provider.Sign(key, now.Add(-299*time.Second), body), body, now, 0); err != nil {
		t.Fatalf("299 s old with tolerance 0: %v, want nil", err)
	}
	if err := provider.Verify([][]byte{key}, provider.Sign(key, now.Add(-2*time.Second), body), body, now, time.Second); !errors.Is(err, provider.ErrStaleSignature) {
		t.Fatalf("2 s old with tolerance 1 s: %v, want ErrStaleSignature", err)
	}
}

func ExampleVerify() {
	secret := []byte("shared-secret")
	body := []byte(`{"eventId":"e1","type":"mailbox.created"}`)
	sent := time.Unix(1_700_000_000, 0)
	header := provider.Sign(secret, sent, body)

	fmt.Println(provider.Verify([][]byte{secret}, header, body, sent.Add(time.Minute), provider.DefaultTolerance))
	fmt.Println(provider.Verify([][]byte{secret}, header, body, sent.Add(time.Hour), provider.DefaultTolerance))
	// Output:
	// <nil>
	// provider: callback timestamp outside the tolerance
}
