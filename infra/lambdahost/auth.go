package lambdahost

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
	"go.yaml.in/yaml/v3"
)

// Defaults of the local JWT issuer; the template's local parameters use the same values.
const (
	DefaultIssuer   = "http://127.0.0.1:3000/local"
	DefaultAudience = "pec-platform"
)

// keyFile is the local signing key inside KeyDir.
const keyFile = "jwt-signing-key.pem"

// LoadOrCreateKey returns the local RSA signing key kept in keyDir, creating it (RSA 2048, PKCS#8
// PEM, mode 0600) the first time. Concurrent callers all end up with the same key.
func LoadOrCreateKey(keyDir string) (*rsa.PrivateKey, error) {
	if keyDir == "" {
		return nil, errors.New("no key directory")
	}
	p := filepath.Join(keyDir, keyFile)
	if k, err := readKey(p); err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(keyDir, 0o700); err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(keyDir, ".key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	// Link fails if another process created the key meanwhile: then theirs is the key.
	if err := os.Link(tmp.Name(), p); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return readKey(p)
}

func readKey(p string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", p)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		if k1, err1 := x509.ParsePKCS1PrivateKey(block.Bytes); err1 == nil {
			return k1, nil
		}
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an RSA key", p)
	}
	return rk, nil
}

// SignToken signs claims (RS256, with the key's kid) with the local key in keyDir, creating the key
// if needed. iat is set to now and, when ttl > 0, exp to now+ttl, unless claims has them.
func SignToken(keyDir string, claims map[string]any, ttl time.Duration) (string, error) {
	key, err := LoadOrCreateKey(keyDir)
	if err != nil {
		return "", err
	}
	now := time.Now()
	mc := jwt.MapClaims{}
	for k, v := range claims {
		mc[k] = v
	}
	if _, ok := mc["iat"]; !ok {
		mc["iat"] = now.Unix()
	}
	if _, ok := mc["exp"]; !ok && ttl > 0 {
		mc["exp"] = now.Add(ttl).Unix()
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, mc)
	tok.Header["kid"] = keyID(&key.PublicKey)
	return tok.SignedString(key)
}

// keyID is the RFC 7638 thumbprint of the public key.
func keyID(pub *rsa.PublicKey) string {
	j := fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, b64(big.NewInt(int64(pub.E)).Bytes()), b64(pub.N.Bytes()))
	sum := sha256.Sum256([]byte(j))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwks is the JSON Web Key Set of the local key.
func jwks(pub *rsa.PublicKey) []byte {
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": keyID(pub),
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
	return b
}

// authorizer is an HttpApi JWT authorizer, verified against the local key.
type authorizer struct {
	name     string
	issuer   string
	audience []string
	header   string // the identity source header
}

// buildAuthorizer reads a SAM HttpApi authorizer; it returns nil for authorizers that are not JWT
// ones (a route using one then fails to load).
func (h *Host) buildAuthorizer(name string, n *yaml.Node) (*authorizer, error) {
	cfg := get(n, "JwtConfiguration")
	if cfg == nil {
		return nil, nil
	}
	a := &authorizer{name: name, header: "Authorization"}
	iss := get(cfg, "issuer")
	if iss == nil {
		iss = get(cfg, "Issuer")
	}
	var err error
	if a.issuer, err = h.tpl.resolveString(iss); err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	aud := get(cfg, "audience")
	if aud == nil {
		aud = get(cfg, "Audience")
	}
	if aud != nil {
		list, err := h.tpl.resolveList(aud)
		if err != nil {
			return nil, fmt.Errorf("audience: %w", err)
		}
		for _, v := range list {
			s, _ := stringify(v)
			a.audience = append(a.audience, s)
		}
	}
	if n := get(n, "IdentitySource"); n != nil {
		src, err := h.tpl.resolveString(n)
		if err != nil {
			return nil, fmt.Errorf("IdentitySource: %w", err)
		}
		hdr, ok := strings.CutPrefix(src, "$request.header.")
		if !ok {
			return nil, fmt.Errorf("IdentitySource %q: only $request.header.<name> is supported locally", src)
		}
		a.header = hdr
	}
	if a.issuer == "" {
		return nil, errors.New("no issuer")
	}
	return a, nil
}

// authorize checks the request's token as API Gateway's JWT authorizer does. On success it returns
// what the authorizer puts into the event; otherwise the status to answer (401, or 403 when the
// token lacks every scope the route requires).
func (a *authorizer) authorize(r *http.Request, routeScopes []string, key *rsa.PrivateKey) (*events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, int) {
	raw := strings.TrimSpace(r.Header.Get(a.header))
	if len(raw) > 7 && strings.EqualFold(raw[:7], "bearer ") {
		raw = strings.TrimSpace(raw[7:])
	}
	if raw == "" {
		return nil, http.StatusUnauthorized
	}
	kid := keyID(&key.PublicKey)
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if t.Header["kid"] != kid {
			return nil, errors.New("unknown kid")
		}
		return &key.PublicKey, nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(a.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithJSONNumber(),
	)
	if err != nil || !a.audienceOK(claims) {
		return nil, http.StatusUnauthorized
	}
	scopes := tokenScopes(claims)
	if len(routeScopes) > 0 && !slices.ContainsFunc(routeScopes, func(s string) bool { return slices.Contains(scopes, s) }) {
		return nil, http.StatusForbidden
	}
	out := &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{}, Scopes: scopes}
	for k, v := range claims {
		out.Claims[k] = claimString(v)
	}
	return out, 0
}

// audienceOK: one of the token's audiences (or, without aud, its client_id) must be configured.
func (a *authorizer) audienceOK(claims jwt.MapClaims) bool {
	if len(a.audience) == 0 {
		return true
	}
	auds, _ := claims.GetAudience()
	if len(auds) == 0 {
		if cid, ok := claims["client_id"].(string); ok {
			auds = []string{cid}
		}
	}
	for _, x := range auds {
		if slices.Contains(a.audience, x) {
			return true
		}
	}
	return false
}

func tokenScopes(claims jwt.MapClaims) []string {
	switch v := claims["scope"].(type) {
	case string:
		return strings.Fields(v)
	}
	switch v := claims["scp"].(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, s := range v {
			out = append(out, claimString(s))
		}
		return out
	}
	return nil
}

// claimString renders a claim value as API Gateway does in jwt.claims: strings as they are,
// numbers as written, arrays as "[a b]", objects as JSON.
func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	case nil:
		return ""
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = claimString(x)
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
