package localcloud_test

import (
	"bytes"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/lambdahost"
	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/provider"
)

// The authorisation matrix: every route of template.yaml (as the host serves it) against
// every kind of caller. A route added to the template without a row here fails the test.

// The callers, in the order the matrix calls them: the three without a valid portal token,
// then another Order (before the owner and the federation, so that what it tried can be
// checked to have changed nothing), then the federation and the owning Order.
const (
	noToken = iota
	badSignature
	expiredToken
	otherOrder
	federation
	ownOrder
	nCallers
)

var callerNames = [nCallers]string{"no token", "bad signature", "expired token", "another Order", "federation", "the Order"}

// authzFixture is Order A's data, which the matrix targets, and the credentials.
type authzFixture struct {
	a, b, offerCode          string
	m1, m2, m3, ctu          map[string]any // enrolled members
	mb1, mb2, mb3            string         // mb1 ABILITATA (batch1), mb2 RICHIESTA (batch2), mb3 REVOCATA
	batch1, batch2, importID string
	mb1Address               string
	activation, reginde      string // links
	requestID, accessToken   string // a self-service request of m3, whose Order mailbox was revoked
	tokens                   [nCallers]string
}

// req is one call of a matrix row.
type req struct {
	method, path string
	body         any
	headers      []string
}

// authzRow is one route: the call every caller makes, and the status each gets. Public
// routes (no JWT authorizer) ignore portal tokens: call is made without the route's own
// credential, and creds try it.
type authzRow struct {
	call  func(f *authzFixture) req
	want  [nCallers]int
	creds []credCase
}

// credCase is a public route's own credential (signature, link, access token) in one form.
type credCase struct {
	name string
	call func(t *testing.T, f *authzFixture) req
	want int
}

func unauth(other, fed, own int) [nCallers]int {
	return [nCallers]int{401, 401, 401, other, fed, own}
}

func everyone(status int) [nCallers]int {
	return [nCallers]int{status, status, status, status, status, status}
}

func get(path string) req { return req{method: "GET", path: path} }

func post(path string, body any, headers ...string) req {
	return req{method: "POST", path: path, body: body, headers: headers}
}

func signedCallback(body string, at time.Time, secret string) req {
	return post("/v1/provider/callback", body, "X-Pec-Signature", provider.Sign([]byte(secret), at, []byte(body)))
}

func callbackEvent(address string) string {
	return fmt.Sprintf(`{"eventId":%q,"type":"mailbox.rejected","address":%q,"providerRef":"X","occurredAt":%q,"reason":"matrix"}`,
		uniqueID("ev"), address, time.Now().UTC().Format(time.RFC3339))
}

var authzMatrix = map[string]authzRow{
	"PUT /v1/orders/{orderId}": {
		call: func(f *authzFixture) req {
			return req{"PUT", "/v1/orders/" + f.a, authzOrderBody(f), nil}
		},
		want: unauth(403, 200, 403)},
	"GET /v1/orders/{orderId}": {
		call: func(f *authzFixture) req { return get("/v1/orders/" + f.a) },
		want: unauth(403, 200, 200)},
	"GET /v1/albi": { // what an enrolment may name: every portal caller reads it
		call: func(f *authzFixture) req { return get("/v1/albi") },
		want: unauth(200, 200, 200)},
	"POST /v1/orders/{orderId}/members": { // an existing member: 409 once authorised, nothing created
		call: func(f *authzFixture) req { return post("/v1/orders/"+f.a+"/members", f.m1) },
		want: unauth(403, 409, 409)},
	"GET /v1/orders/{orderId}/members/{codiceFiscale}": {
		call: func(f *authzFixture) req {
			return get("/v1/orders/" + f.a + "/members/" + f.m1["codiceFiscale"].(string))
		},
		want: unauth(403, 200, 200)},
	"GET /v1/orders/{orderId}/members": {
		call: func(f *authzFixture) req {
			return get("/v1/orders/" + f.a + "/members?q=" + url.QueryEscape(f.m1["cognome"].(string)))
		},
		want: unauth(403, 200, 200)},
	"PATCH /v1/orders/{orderId}/members/{codiceFiscale}": { // the same numero: nothing changes
		call: func(f *authzFixture) req {
			return req{"PATCH", "/v1/orders/" + f.a + "/members/" + f.m1["codiceFiscale"].(string),
				map[string]any{"numeroIscrizione": f.m1["numeroIscrizione"]}, nil}
		},
		want: unauth(403, 200, 200)},
	"POST /v1/orders/{orderId}/members/{codiceFiscale}/transfer": { // to an unknown Order: refused once authorised, nothing moves
		call: func(f *authzFixture) req {
			return post("/v1/orders/"+f.a+"/members/"+f.m1["codiceFiscale"].(string)+"/transfer",
				map[string]any{"toOrderId": "NOWHERE-" + f.b, "date": "2026-01-02", "numeroIscrizione": "9"})
		},
		want: unauth(403, 422, 422)},
	"POST /v1/orders/{orderId}/members/{codiceFiscale}/suspend": { // an invalid kind: refused once authorised, nothing recorded
		call: func(f *authzFixture) req {
			return post("/v1/orders/"+f.a+"/members/"+f.m1["codiceFiscale"].(string)+"/suspend",
				map[string]any{"from": "2026-01-02", "kind": "other", "reason": "matrix"})
		},
		want: unauth(403, 422, 422)},
	"POST /v1/orders/{orderId}/members/{codiceFiscale}/reinstate": { // nobody is suspended
		call: func(f *authzFixture) req {
			return post("/v1/orders/"+f.a+"/members/"+f.m1["codiceFiscale"].(string)+"/reinstate", nil)
		},
		want: unauth(403, 409, 409)},
	"GET /v1/orders/{orderId}/audit": {
		call: func(f *authzFixture) req { return get("/v1/orders/" + f.a + "/audit?limit=5") },
		want: unauth(403, 200, 200)},
	"GET /v1/orders": { // the federation's view across Orders
		call: func(f *authzFixture) req { return get("/v1/orders?limit=5") },
		want: unauth(403, 200, 403)},
	"GET /v1/batches": {
		call: func(f *authzFixture) req { return get("/v1/batches?state=AWAITING_AUTHORIZATION&limit=5") },
		want: unauth(403, 200, 403)},
	"GET /v1/orders/{orderId}/compliance": {
		call: func(f *authzFixture) req { return get("/v1/orders/" + f.a + "/compliance") },
		want: unauth(403, 200, 200)},
	"POST /v1/orders/{orderId}/members:import": { // the same members again: all existing
		call: func(f *authzFixture) req {
			csv := "codiceFiscale;cognome;nome;albo;numeroIscrizione;dataIscrizione;email\n" +
				fmt.Sprintf("%s;%s;%s;TSRM;1234;2024-03-01;iscritto@example.it\n", f.m1["codiceFiscale"], f.m1["cognome"], f.m1["nome"])
			return post("/v1/orders/"+f.a+"/members:import", []byte(csv), "Content-Type", "text/csv")
		},
		want: unauth(403, 200, 200)},
	"GET /v1/orders/{orderId}/mailboxes": {
		call: func(f *authzFixture) req { return get("/v1/orders/" + f.a + "/mailboxes") },
		want: unauth(403, 200, 200)},
	"GET /v1/orders/{orderId}/mailboxes/summary": {
		call: func(f *authzFixture) req { return get("/v1/orders/" + f.a + "/mailboxes/summary") },
		want: unauth(403, 200, 200)},
	"GET /v1/mailboxes/{id}": { // another Order's mailbox does not exist for it
		call: func(f *authzFixture) req { return get("/v1/mailboxes/" + f.mb2) },
		want: unauth(404, 200, 200)},
	"POST /v1/mailboxes/{id}/revoke": { // the revoked one: idempotent for those allowed
		call: func(f *authzFixture) req {
			return post("/v1/mailboxes/"+f.mb3+"/revoke", map[string]any{"reason": "matrice"})
		},
		want: unauth(404, 200, 200)},
	"POST /v1/mailboxes/{id}/resend-activation": { // in RICHIESTA: 409 once authorised
		call: func(f *authzFixture) req { return post("/v1/mailboxes/"+f.mb2+"/resend-activation", nil) },
		want: unauth(404, 409, 409)},
	"POST /v1/orders/{orderId}/members/{codiceFiscale}/cancel": { // a future date: 422 once authorised
		call: func(f *authzFixture) req {
			return post("/v1/orders/"+f.a+"/members/"+f.m2["codiceFiscale"].(string)+"/cancel", map[string]any{"date": "2099-01-01", "reason": "x"})
		},
		want: unauth(403, 422, 422)},
	"POST /v1/orders/{orderId}/batches": { // every RICHIESTA mailbox is already in a batch
		call: func(f *authzFixture) req { return post("/v1/orders/"+f.a+"/batches", nil) },
		want: unauth(403, 409, 409)},
	"GET /v1/orders/{orderId}/batches": {
		call: func(f *authzFixture) req { return get("/v1/orders/" + f.a + "/batches") },
		want: unauth(403, 200, 200)},
	"GET /v1/batches/{id}": {
		call: func(f *authzFixture) req { return get("/v1/batches/" + f.batch2) },
		want: unauth(404, 200, 200)},
	"POST /v1/batches/{id}/confirm": { // the Order's staff only
		call: func(f *authzFixture) req { return post("/v1/batches/"+f.batch2+"/confirm", nil) },
		want: unauth(404, 403, 200)},
	"POST /v1/batches/{id}/payment": { // a wrong amount: 422 once authorised
		call: func(f *authzFixture) req {
			return post("/v1/batches/"+f.batch2+"/payment", map[string]any{"reference": "MATRICE", "amountCents": 1})
		},
		want: unauth(404, 422, 422)},
	"POST /v1/orders/{orderId}/renewals": { // nothing ATTIVATA to renew
		call: func(f *authzFixture) req {
			return post("/v1/orders/"+f.a+"/renewals", map[string]any{"mailboxIds": []string{f.mb1}})
		},
		want: unauth(403, 409, 409)},
	"POST /v1/orders/{orderId}/inipec/exports": {
		call: func(f *authzFixture) req { return post("/v1/orders/"+f.a+"/inipec/exports", nil) },
		want: unauth(403, 202, 202)},
	"GET /v1/orders/{orderId}/inipec/deliveries": {
		call: func(f *authzFixture) req { return get("/v1/orders/" + f.a + "/inipec/deliveries") },
		want: unauth(403, 200, 200)},
	"POST /v1/orders/{orderId}/imports": {
		call: func(f *authzFixture) req { return post("/v1/orders/"+f.a+"/imports", nil) },
		want: unauth(403, 201, 201)},
	"GET /v1/imports/{importId}": {
		call: func(f *authzFixture) req { return get("/v1/imports/" + f.importID) },
		want: unauth(404, 200, 200)},
	"GET /v1/imports/{importId}/failures.csv": {
		call: func(f *authzFixture) req { return get("/v1/imports/" + f.importID + "/failures.csv") },
		want: unauth(404, 200, 200)},
	"GET /v1/orders/{orderId}/ctu": {
		call: func(f *authzFixture) req { return get("/v1/orders/" + f.a + "/ctu") },
		want: unauth(403, 200, 200)},
	"POST /v1/orders/{orderId}/members/{codiceFiscale}/reginde-reminder": { // not a CTU: 409 once authorised
		call: func(f *authzFixture) req {
			return post("/v1/orders/"+f.a+"/members/"+f.m1["codiceFiscale"].(string)+"/reginde-reminder", nil)
		},
		want: unauth(403, 409, 409)},

	// Public routes: a portal token is no credential there.
	"POST /v1/provider/legalmail/{mailboxId}": { // only with ProviderKind legalmail; it never trusts the body
		call: func(f *authzFixture) req { return post("/v1/provider/legalmail/0123456789abcdef0123456789abcdef", nil) },
		want: everyone(404),
		creds: []credCase{
			{"a body claiming the mailbox is created", func(t *testing.T, f *authzFixture) req {
				return post("/v1/provider/legalmail/0123456789abcdef0123456789abcdef", map[string]any{"id": "x", "stato": "evasa"})
			}, 404},
		}},
	"POST /v1/provider/callback": {
		call: func(f *authzFixture) req { return post("/v1/provider/callback", callbackEvent(f.mb1Address)) },
		want: everyone(401),
		creds: []credCase{
			{"signed by another secret", func(t *testing.T, f *authzFixture) req {
				return signedCallback(callbackEvent(f.mb1Address), time.Now(), "not-the-secret")
			}, 401},
			{"stale signature", func(t *testing.T, f *authzFixture) req {
				return signedCallback(callbackEvent(f.mb1Address), time.Now().Add(-6*time.Minute), localcloud.ProviderWebhookSecret)
			}, 401},
			{"signature from the future", func(t *testing.T, f *authzFixture) req {
				return signedCallback(callbackEvent(f.mb1Address), time.Now().Add(6*time.Minute), localcloud.ProviderWebhookSecret)
			}, 401},
			{"valid signature, unknown address", func(t *testing.T, f *authzFixture) req {
				return signedCallback(callbackEvent("nessuno."+strings.ToLower(f.a)+"@pec.tsrm.org"), time.Now(), localcloud.ProviderWebhookSecret)
			}, 404},
		}},
	"GET /v1/provider/documents/{token}": { // the provider's link: the token is the credential
		call:  func(f *authzFixture) req { return get("/v1/provider/documents/" + guessedToken()) },
		want:  everyone(404),
		creds: []credCase{{"a malformed token", func(t *testing.T, f *authzFixture) req { return get("/v1/provider/documents/x") }, 404}}},
	"GET /adesione/{offerCode}": { // the convention's page: public, an unknown offer is its own page
		call:  func(f *authzFixture) req { return get("/adesione/NOWHERE-" + f.b) },
		want:  everyone(404),
		creds: []credCase{{"the Order's offer code", func(t *testing.T, f *authzFixture) req { return get("/adesione/" + f.offerCode) }, 200}}},
	"POST /adesione/{offerCode}": { // the identity form: an unknown offer changes nothing
		call: func(f *authzFixture) req { return post("/adesione/NOWHERE-"+f.b, "privacy=1", formType...) },
		want: everyone(404),
		creds: []credCase{{"from another site", func(t *testing.T, f *authzFixture) req {
			return post("/adesione/"+f.offerCode, "privacy=1", append(formType, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")...)
		}, 403}}},
	"GET /richiesta/{requestId}/{token}": { // the request's page: the token is the credential
		call:  func(f *authzFixture) req { return get("/richiesta/" + f.requestID + "/" + guessedToken()) },
		want:  everyone(404),
		creds: []credCase{{"the member's link", func(t *testing.T, f *authzFixture) req { return get("/richiesta/" + f.requestID + "/" + f.accessToken) }, 200}}},
	"GET /richiesta/{requestId}/{token}/modulo.pdf": {
		call: func(f *authzFixture) req {
			return get("/richiesta/" + f.requestID + "/" + guessedToken() + "/modulo.pdf")
		},
		want: everyone(404),
		creds: []credCase{{"the member's link", func(t *testing.T, f *authzFixture) req {
			return get("/richiesta/" + f.requestID + "/" + f.accessToken + "/modulo.pdf")
		}, 200}}},
	"POST /richiesta/{requestId}/{token}/documenti": {
		call: func(f *authzFixture) req {
			return post("/richiesta/"+f.requestID+"/"+guessedToken()+"/documenti", "x", "Content-Type", "multipart/form-data; boundary=x")
		},
		want: everyone(404),
		creds: []credCase{{"the member's link, from another site", func(t *testing.T, f *authzFixture) req {
			return post("/richiesta/"+f.requestID+"/"+f.accessToken+"/documenti", "x", "Content-Type", "multipart/form-data; boundary=x",
				"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		}, 403}}},
	"GET /richiesta/{requestId}/{token}/caricato": { // back from an upload to the bucket: the token is the credential
		call: func(f *authzFixture) req {
			return get("/richiesta/" + f.requestID + "/" + guessedToken() + "/caricato?key=uploads/" + f.requestID + "/form/x")
		},
		want: everyone(404),
		creds: []credCase{{"the member's link, another request's upload", func(t *testing.T, f *authzFixture) req {
			return get("/richiesta/" + f.requestID + "/" + f.accessToken + "/caricato?key=uploads/0123456789abcdef0123456789abcdef/form/x")
		}, 422}}},
	// The signing page exists only with a provider that asks the holder's signature
	// (legalmail); its own credential, an activation link's well-formed token, opens nothing.
	"GET /firma/{token}": {
		call: func(f *authzFixture) req { return get("/firma/" + guessedToken()) },
		want: everyone(404),
		creds: []credCase{{"a well-formed link", func(t *testing.T, f *authzFixture) req {
			return get("/firma/" + strings.TrimPrefix(linkPath(f.activation), "/activate/"))
		}, 404}}},
	"GET /firma/{token}/modulo.pdf": {
		call: func(f *authzFixture) req { return get("/firma/" + guessedToken() + "/modulo.pdf") },
		want: everyone(404),
		creds: []credCase{{"a well-formed link", func(t *testing.T, f *authzFixture) req {
			return get("/firma/" + strings.TrimPrefix(linkPath(f.activation), "/activate/") + "/modulo.pdf")
		}, 404}}},
	"POST /firma/{token}": {
		call: func(f *authzFixture) req {
			return post("/firma/"+guessedToken(), "x", "Content-Type", "multipart/form-data; boundary=x")
		},
		want: everyone(404),
		creds: []credCase{{"a well-formed link, from another site", func(t *testing.T, f *authzFixture) req {
			return post("/firma/"+strings.TrimPrefix(linkPath(f.activation), "/activate/"), "x", "Content-Type", "multipart/form-data; boundary=x",
				"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		}, 404}}},
	"GET /activate/{token}": {
		call: func(f *authzFixture) req { return get("/activate/" + guessedToken()) },
		want: everyone(404),
		creds: []credCase{
			{"truncated link", func(t *testing.T, f *authzFixture) req {
				return get(linkPath(f.activation)[:len(linkPath(f.activation))-1])
			}, 404},
			{"the member's link", func(t *testing.T, f *authzFixture) req { return get(linkPath(f.activation)) }, 200},
		}},
	"POST /activate/{token}": {
		call: func(f *authzFixture) req { return post("/activate/"+guessedToken(), "choice=confirm", formType...) },
		want: everyone(404),
		creds: []credCase{
			{"truncated link", func(t *testing.T, f *authzFixture) req {
				return post(linkPath(f.activation)[:len(linkPath(f.activation))-1], "choice=confirm", formType...)
			}, 404},
			{"the member's link, from another site", func(t *testing.T, f *authzFixture) req {
				return post(linkPath(f.activation), "choice=confirm", append(formType, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")...)
			}, 403},
			{"the member's link, no choice", func(t *testing.T, f *authzFixture) req {
				return post(linkPath(f.activation), "choice=", formType...)
			}, 422},
		}},
	"GET /reginde/{token}": {
		call: func(f *authzFixture) req { return get("/reginde/" + guessedToken()) },
		want: everyone(404),
		creds: []credCase{
			{"truncated link", func(t *testing.T, f *authzFixture) req { return get(linkPath(f.reginde)[:len(linkPath(f.reginde))-1]) }, 404},
			{"the CTU's link", func(t *testing.T, f *authzFixture) req { return get(linkPath(f.reginde)) }, 200},
		}},
	"POST /reginde/{token}": {
		call: func(f *authzFixture) req { return post("/reginde/"+guessedToken(), "", formType...) },
		want: everyone(404),
		creds: []credCase{
			{"the CTU's link, from another site", func(t *testing.T, f *authzFixture) req {
				return post(linkPath(f.reginde), "", append(formType, "Origin", "https://evil.example")...)
			}, 403},
		}},
	"POST /v1/conventions/{offerCode}/requests": { // the identity is the credential
		call: func(f *authzFixture) req {
			return post("/v1/conventions/"+f.offerCode+"/requests", map[string]any{"codiceFiscale": f.m3["codiceFiscale"],
				"cognome": "Qualcunaltro", "nome": f.m3["nome"], "email": "x@example.it"})
		},
		want: everyone(422),
		creds: []credCase{
			{"unknown offer code", func(t *testing.T, f *authzFixture) req {
				return post("/v1/conventions/NESSUNA-"+f.a+"/requests", map[string]any{"codiceFiscale": f.m3["codiceFiscale"],
					"cognome": f.m3["cognome"], "nome": f.m3["nome"], "email": "x@example.it"})
			}, 404},
		}},
	"GET /v1/requests/{requestId}": {
		call:  func(f *authzFixture) req { return get("/v1/requests/" + f.requestID) },
		want:  everyone(401),
		creds: accessTokenCases(func(f *authzFixture) req { return get("/v1/requests/" + f.requestID) }, 200),
	},
	"GET /v1/requests/{requestId}/form.pdf": {
		call:  func(f *authzFixture) req { return get("/v1/requests/" + f.requestID + "/form.pdf") },
		want:  everyone(401),
		creds: accessTokenCases(func(f *authzFixture) req { return get("/v1/requests/" + f.requestID + "/form.pdf") }, 200),
	},
	"POST /v1/requests/{requestId}/payment": { // a wrong amount: 422 once authorised
		call: func(f *authzFixture) req {
			return post("/v1/requests/"+f.requestID+"/payment", map[string]any{"reference": "MATRICE", "amountCents": 1})
		},
		want: everyone(401),
		creds: accessTokenCases(func(f *authzFixture) req {
			return post("/v1/requests/"+f.requestID+"/payment", map[string]any{"reference": "MATRICE", "amountCents": 1})
		}, 422),
	},
	"POST /v1/requests/{requestId}/documents": { // an empty multipart body: 422 once authorised
		call: func(f *authzFixture) req {
			return post("/v1/requests/"+f.requestID+"/documents", emptyMultipart, "Content-Type", emptyMultipartType)
		},
		want: everyone(401),
		creds: accessTokenCases(func(f *authzFixture) req {
			return post("/v1/requests/"+f.requestID+"/documents", emptyMultipart, "Content-Type", emptyMultipartType)
		}, 422),
	},
}

var (
	formType           = []string{"Content-Type", "application/x-www-form-urlencoded"}
	emptyMultipartType = "multipart/form-data; boundary=XYZ"
	emptyMultipart     = []byte("--XYZ--\r\n")
)

// accessTokenCases are the X-Access-Token forms for a request's route; ok is the status with
// the right token.
func accessTokenCases(call func(f *authzFixture) req, ok int) []credCase {
	with := func(token func(f *authzFixture) string) func(t *testing.T, f *authzFixture) req {
		return func(t *testing.T, f *authzFixture) req {
			r := call(f)
			r.headers = append(r.headers, "X-Access-Token", token(f))
			return r
		}
	}
	return []credCase{
		{"guessed token", with(func(*authzFixture) string { return guessedToken() }), 404},
		{"truncated token", with(func(f *authzFixture) string { return f.accessToken[:len(f.accessToken)-1] }), 404},
		{"the member's token", with(func(f *authzFixture) string { return f.accessToken }), ok},
	}
}

func guessedToken() string {
	var b strings.Builder
	for b.Len() < 43 {
		b.WriteString(strings.ReplaceAll(strings.ToUpper(uniqueID("g")), "-", "_"))
	}
	return b.String()[:43]
}

func linkPath(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		panic(err)
	}
	return u.Path
}

func authzOrderBody(f *authzFixture) map[string]any {
	return map[string]any{"name": "Ordine della matrice " + f.a, "pec": strings.ToLower(f.a) + "@pec.example.it",
		"convention": map[string]any{"webpec": true, "offerCode": f.offerCode, "priceCents": 400, "vatPercent": 22}}
}

// newAuthzFixture builds Order A with data on every route (and Order B, the intruder).
func newAuthzFixture(t *testing.T) *authzFixture {
	t.Helper()
	c := localcloud.ForTests(t)
	f := &authzFixture{a: uniqueID("AUTHZ-A"), b: uniqueID("AUTHZ-B")}
	f.offerCode = "OFF-" + f.a
	fed := as(t, "federation", "")
	fed.expect(201, "PUT", "/v1/orders/"+f.a, authzOrderBody(f))
	fed.expect(201, "PUT", "/v1/orders/"+f.b, orderBody(true))
	a := as(t, "order", f.a)
	enrol := func(cf, nome string, edit func(map[string]any)) (map[string]any, string) {
		m := member(cf, nome, freshSurname("Matrice"))
		m["email"] = strings.ToLower(uniqueID("authz")) + "@example.it"
		if edit != nil {
			edit(m)
		}
		r := a.expect(201, "POST", "/v1/orders/"+f.a+"/members", m).json(t)
		if mb, ok := r["mailbox"].(map[string]any); ok {
			return m, mb["id"].(string)
		}
		return m, ""
	}
	// m1: batch1, confirmed and paid, ABILITATA with an activation link.
	f.m1, f.mb1 = enrol("ZRZCRL72R10H501D", "Carlo", nil)
	f.mb1Address = a.expect(200, "GET", "/v1/mailboxes/"+f.mb1, nil).json(t)["address"].(string)
	f.batch1 = a.expect(201, "POST", "/v1/orders/"+f.a+"/batches", nil).json(t)["id"].(string)
	a.expect(200, "POST", "/v1/batches/"+f.batch1+"/confirm", nil)
	fed.expect(200, "POST", "/v1/batches/"+f.batch1+"/payment", map[string]any{"reference": "P-" + f.batch1, "amountCents": 488})
	// m3: its Order mailbox revoked, then a self-service request of its own.
	f.m3, f.mb3 = enrol("RSSMRA80A01H501U", "Mario", nil)
	a.expect(200, "POST", "/v1/mailboxes/"+f.mb3+"/revoke", map[string]any{"reason": "chiesta dal membro"})
	r := public(t).expect(201, "POST", "/v1/conventions/"+f.offerCode+"/requests", map[string]any{"codiceFiscale": f.m3["codiceFiscale"],
		"cognome": f.m3["cognome"], "nome": f.m3["nome"], "email": f.m3["email"]}).json(t)
	f.requestID, f.accessToken = r["requestId"].(string), r["accessToken"].(string)
	// m2: batch2, awaiting the Order's authorisation.
	f.m2, f.mb2 = enrol("BNCGNN80A01H501T", "Gianni", nil)
	f.batch2 = a.expect(201, "POST", "/v1/orders/"+f.a+"/batches", nil).json(t)["id"].(string)
	// A CTU with a PEC of their own, asked to register it in ReGIndE.
	f.ctu, _ = enrol("BNCGNN80A02H501Y", "Giovanna", func(m map[string]any) { m["pec"], m["ctu"] = "giovanna@legalmail.it", true })
	a.expect(200, "POST", "/v1/orders/"+f.a+"/members/"+f.ctu["codiceFiscale"].(string)+"/reginde-reminder", nil)
	f.importID = a.expect(201, "POST", "/v1/orders/"+f.a+"/imports", nil).json(t)["importId"].(string)

	f.reginde = regindeLink(t, f.ctu["email"].(string), "giovanna@legalmail.it", 1)
	var mails []sesEmail
	eventually(t, "the activation e-mail", 30*time.Second, func() bool {
		mails = memberEmails(t, f.m1["email"].(string))
		return len(mails) > 0
	})
	if f.activation = linkPattern.FindString(mails[0].Body.Text); f.activation == "" {
		t.Fatalf("no activation link in %q", mails[0].Body.Text)
	}

	var err error
	if f.tokens[federation], err = c.Token("federation", ""); err != nil {
		t.Fatal(err)
	}
	if f.tokens[ownOrder], err = c.Token("order", f.a); err != nil {
		t.Fatal(err)
	}
	if f.tokens[otherOrder], err = c.Token("order", f.b); err != nil {
		t.Fatal(err)
	}
	// The Order's own claims, signed by a key the API does not trust.
	claims := map[string]any{"role": "order", "order": f.a, "iss": lambdahost.DefaultIssuer, "aud": lambdahost.DefaultAudience, "sub": "forger"}
	if f.tokens[badSignature], err = lambdahost.SignToken(t.TempDir(), claims, time.Hour); err != nil {
		t.Fatal(err)
	}
	// The Order's own token, signed by the right key, expired a minute ago.
	expired := map[string]any{"role": "order", "order": f.a, "iss": lambdahost.DefaultIssuer, "aud": lambdahost.DefaultAudience,
		"sub": "local-order", "iat": time.Now().Add(-time.Hour).Unix(), "exp": time.Now().Add(-time.Minute).Unix()}
	if f.tokens[expiredToken], err = lambdahost.SignToken(c.KeyDir, expired, 0); err != nil {
		t.Fatal(err)
	}
	return f
}

// snapshot reads, as the federation, everything of Order A that no other Order may change.
// The mailbox in ABILITATA is left out: its workflow reminds the member meanwhile.
func (f *authzFixture) snapshot(t *testing.T) map[string]string {
	t.Helper()
	fed := as(t, "federation", "")
	out := map[string]string{}
	for _, p := range []string{
		"/v1/orders/" + f.a,
		"/v1/orders/" + f.a + "/members/" + f.m1["codiceFiscale"].(string),
		"/v1/orders/" + f.a + "/members/" + f.m2["codiceFiscale"].(string),
		"/v1/orders/" + f.a + "/members/" + f.m3["codiceFiscale"].(string),
		"/v1/orders/" + f.a + "/members/" + f.ctu["codiceFiscale"].(string),
		"/v1/orders/" + f.a + "/mailboxes?state=RICHIESTA",
		"/v1/orders/" + f.a + "/mailboxes?state=REVOCATA",
		"/v1/orders/" + f.a + "/mailboxes?state=ATTIVATA",
		"/v1/orders/" + f.a + "/mailboxes/summary",
		"/v1/mailboxes/" + f.mb2,
		"/v1/mailboxes/" + f.mb3,
		"/v1/orders/" + f.a + "/batches",
		"/v1/batches/" + f.batch1,
		"/v1/batches/" + f.batch2,
		"/v1/orders/" + f.a + "/ctu",
		"/v1/orders/" + f.a + "/inipec/deliveries",
		"/v1/imports/" + f.importID,
	} {
		out[p] = string(fed.expect(200, "GET", p, nil).body)
	}
	out["request"] = string(public(t).expect(200, "GET", "/v1/requests/"+f.requestID, nil, "X-Access-Token", f.accessToken).body)
	return out
}

func TestAuthz_EveryRouteAgainstEveryCaller(t *testing.T) {
	t.Parallel()
	c := localcloud.ForTests(t)
	var keys []string
	for _, r := range c.Host.Routes() {
		k := r.RouteKey()
		keys = append(keys, k)
		row, ok := authzMatrix[k]
		switch {
		case !ok:
			t.Errorf("route %s has no row in the authorisation matrix", k)
		case r.Authorizer == "" && len(row.creds) == 0:
			t.Errorf("public route %s: no case tries its own credential", k)
		case r.Authorizer != "" && row.want[noToken] != 401:
			t.Errorf("route %s has the JWT authorizer: without a token it must be 401", k)
		}
	}
	for k := range authzMatrix {
		if !slices.Contains(keys, k) {
			t.Errorf("the matrix has a row for %s, which is not a route of the template", k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	slices.Sort(keys)

	f := newAuthzFixture(t)
	call := func(t *testing.T, label string, r req, want int, token string) {
		t.Helper()
		cl := &client{t: t, base: c.APIURL, token: token}
		got := cl.do(r.method, r.path, r.body, r.headers...)
		if got.status != want {
			t.Errorf("%s: %s %s: status %d, want %d; body %.300s", label, r.method, r.path, got.status, want, got.body)
		}
	}

	// The public routes' own credentials first: the activation link lives 14 s in the tests.
	for _, k := range keys {
		for _, cc := range authzMatrix[k].creds {
			call(t, k+" with "+cc.name, cc.call(t, f), cc.want, "")
		}
	}
	before := f.snapshot(t)
	for who := range nCallers {
		if who == federation {
			// Another Order tried every route: Order A's data is exactly as it was.
			after := f.snapshot(t)
			for p, b := range before {
				if after[p] != b {
					t.Errorf("after another Order's calls, %s changed:\n  before %s\n  after  %s", p, b, after[p])
				}
			}
		}
		for _, k := range keys {
			row := authzMatrix[k]
			call(t, k+" as "+callerNames[who], row.call(f), row.want[who], f.tokens[who])
		}
	}

	// The unsigned and forged callbacks named the ABILITATA mailbox: it is still waiting for
	// its member.
	if st, _ := mailboxState(t, as(t, "order", f.a), f.mb1); st != "ABILITATA" {
		t.Errorf("after forged callbacks the mailbox is %s, want ABILITATA", st)
	}

	// Another Order's ids in the intruder's own Order's routes reach nothing either.
	b := as(t, "order", f.b)
	if r := b.do("POST", "/v1/orders/"+f.b+"/renewals", map[string]any{"mailboxIds": []string{f.mb1, f.mb2}}); r.status == 201 {
		t.Errorf("Order B renewed Order A's mailboxes: %s", r.body)
	}
	if r := b.expect(200, "GET", "/v1/orders/"+f.b+"/mailboxes", nil); bytes.Contains(r.body, []byte(f.mb1)) {
		t.Errorf("Order B lists Order A's mailbox: %s", r.body)
	}
}
