package openapicheck_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pecplatform/pec/infra/openapicheck"
)

const small = `
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /v1/orders/{orderId}:
    get:
      responses:
        "200":
          description: ok
          headers:
            X-Trace: {required: true, schema: {type: string}}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Order"}
        "404": {$ref: "#/components/responses/NotFound"}
  /v1/orders/{orderId}/members:import:
    post:
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}}}
        4XX: {$ref: "#/components/responses/NotFound"}
  /v1/orders/{orderId}/members/{codiceFiscale}:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}, text/csv: {schema: {type: string}}}}
  /v1/orders/ME/members/{codiceFiscale}:
    get:
      responses:
        "204": {description: mine}
  /v1/requests/{requestId}:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}}}
  /v1/requests/{requestId}/form.pdf:
    get:
      responses:
        "200": {description: ok, content: {application/pdf: {schema: {type: string}}}}
        default: {$ref: "#/components/responses/NotFound"}
components:
  responses:
    NotFound:
      description: not found
      content:
        application/json:
          schema:
            anyOf:
              - {$ref: "#/components/schemas/Error"}
              - {$ref: "#/components/schemas/GatewayMessage"}
  schemas:
    Order:
      type: object
      required: [id]
      additionalProperties: false
      properties:
        id: {type: string}
        pec: {type: [string, "null"], format: email}
    Error:
      type: object
      required: [error]
      additionalProperties: false
      properties:
        error: {type: string}
    GatewayMessage:
      type: object
      required: [message]
      additionalProperties: false
      properties:
        message: {type: string}
`

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestMatch_MostSpecificTemplateWins(t *testing.T) {
	d, err := openapicheck.Parse([]byte(small))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/v1/orders/FI", "GET /v1/orders/{orderId}"},
		{"get", "/v1/orders/FI?x=1", "GET /v1/orders/{orderId}"},
		{"GET", "http://127.0.0.1:3000/v1/orders/FI", "GET /v1/orders/{orderId}"},
		{"POST", "/v1/orders/FI/members:import", "POST /v1/orders/{orderId}/members:import"},
		{"GET", "/v1/orders/FI/members/ZRZCRL72R10H501D", "GET /v1/orders/{orderId}/members/{codiceFiscale}"},
		{"GET", "/v1/orders/ME/members/ZRZCRL72R10H501D", "GET /v1/orders/ME/members/{codiceFiscale}"},
		{"GET", "/v1/requests/0123", "GET /v1/requests/{requestId}"},
		{"GET", "/v1/requests/0123/form.pdf", "GET /v1/requests/{requestId}/form.pdf"},
		{"GET", "/v1/orders/F%2FI", "GET /v1/orders/{orderId}"},
		{"POST", "/v1/orders/FI", ""},
		{"GET", "/v1/orders/FI/members", ""},
		{"GET", "/v1/orders/FI/", ""},
		{"GET", "/v1/requests/0123/form.pdfx", ""},
	} {
		op, ok := d.Match(c.method, c.path)
		got := ""
		if ok {
			got = op.String()
		}
		if got != c.want {
			t.Errorf("%s %s: %q, want %q", c.method, c.path, got, c.want)
		}
	}
}

func TestCheckResponse_AcceptsWhatIsDocumentedAndRefusesTheRest(t *testing.T) {
	d, err := openapicheck.Parse([]byte(small))
	if err != nil {
		t.Fatal(err)
	}
	js := hdr("Content-Type", "application/json; charset=utf-8", "X-Trace", "1")
	for _, c := range []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         string
		wantErr      string // "" when it must pass
	}{
		{"documented", "GET", "/v1/orders/FI", 200, js, `{"id":"FI","pec":null}`, ""},
		{"nullable format", "GET", "/v1/orders/FI", 200, js, `{"id":"FI","pec":"a@b.it"}`, ""},
		{"extra field", "GET", "/v1/orders/FI", 200, js, `{"id":"FI","x":1}`, "additional properties 'x' not allowed"},
		{"nested field named", "GET", "/v1/orders/FI", 200, js, `{"id":"FI","pec":"not an address"}`, "at $.pec: 'not an address' is not valid email"},
		{"missing field", "GET", "/v1/orders/FI", 200, js, `{}`, "missing property 'id'"},
		{"not JSON", "GET", "/v1/orders/FI", 200, js, `{"id":`, "cannot be decoded"},
		{"undocumented status", "GET", "/v1/orders/FI", 409, js, `{"error":"x"}`, "status 409 is not documented (documented: 200, 404)"},
		{"undocumented media type", "GET", "/v1/orders/FI", 200, hdr("Content-Type", "text/html", "X-Trace", "1"), `<p>`, "content type 'text/html' does not exist"},
		{"no Content-Type", "GET", "/v1/orders/FI", 200, hdr("X-Trace", "1"), `{"id":"FI"}`, "no Content-Type"},
		{"required header", "GET", "/v1/orders/FI", 200, hdr("Content-Type", "application/json"), `{"id":"FI"}`, "Required header 'X-Trace' is missing"},
		{"anyOf through a response $ref", "GET", "/v1/orders/FI", 404, js, `{"message":"Not Found"}`, ""},
		{"anyOf none", "GET", "/v1/orders/FI", 404, js, `{"message":"Not Found","x":1}`, "at $: additional properties 'x' not allowed"},
		{"status range", "POST", "/v1/orders/FI/members:import", 413, js, `{"message":"Request Entity Too Large"}`, ""},
		{"default", "GET", "/v1/requests/0/form.pdf", 500, js, `{"error":"internal"}`, ""},
		{"PDF by media type only", "GET", "/v1/requests/0/form.pdf", 200, hdr("Content-Type", "application/pdf"), "%PDF-1.7", ""},
		{"second media type", "GET", "/v1/orders/FI/members/X", 200, hdr("Content-Type", "text/csv"), "a;b", ""},
		{"no content documented", "GET", "/v1/orders/ME/members/X", 204, http.Header{}, "", ""},
		{"a body where none is documented", "GET", "/v1/orders/ME/members/X", 204, js, "{}", "documents no content"},
		{"no route: gateway 404", "DELETE", "/v1/orders/FI", 404, js, `{"message":"Not Found"}`, ""},
		{"no route: other status", "DELETE", "/v1/orders/FI", 200, js, `{}`, "no operation of the document takes it"},
		{"no route: not a GatewayMessage", "GET", "/nowhere", 404, js, `{"error":"x"}`, "missing property 'message'"},
	} {
		err := d.CheckResponse(c.method, c.path, c.status, c.header, []byte(c.body))
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.wantErr != "" && err == nil:
			t.Errorf("%s: accepted", c.name)
		case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
			t.Errorf("%s: error %q, want it to say %q", c.name, err, c.wantErr)
		}
	}
}

// TestParse_RefusesADefectiveDocument: a defect of the document is found when it is read, not
// when an answer first meets it.
func TestParse_RefusesADefectiveDocument(t *testing.T) {
	for _, c := range []struct{ defect, old, new, want string }{
		{"not JSON Schema", "id: {type: string}", "id: {type: strin}", "#/components/schemas/Order"},
		{"a dangling $ref", `{$ref: "#/components/schemas/Error"}`, `{$ref: "#/components/schemas/Eror"}`, "#/components/schemas/Eror"},
		{"not OpenAPI's form", "info: {title: t, version: \"1\"}", "info: {title: t}", "version"},
	} {
		broken := strings.Replace(small, c.old, c.new, 1)
		if broken == small {
			t.Fatalf("%s: %q is not in the document", c.defect, c.old)
		}
		if _, err := openapicheck.Parse([]byte(broken)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %s", c.defect, err, c.want)
		}
	}
}

// TestCheckResponse_ValidatesOneOf: a body must match exactly one branch of a oneOf, a keyword
// the home-made validator this package once had refused.
func TestCheckResponse_ValidatesOneOf(t *testing.T) {
	d, err := openapicheck.Parse([]byte(`
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /v1/payments/{id}:
    get:
      responses:
        "200":
          description: a payment by bank transfer or by card
          content:
            application/json:
              schema:
                oneOf:
                  - {type: object, required: [iban], properties: {iban: {type: string, pattern: "^IT"}}}
                  - {type: object, required: [card], properties: {card: {type: string}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	js := hdr("Content-Type", "application/json")
	for body, wantErr := range map[string]string{
		`{"iban":"IT60X0542811101000000123456"}`: "",
		`{"card":"4111"}`:                        "",
		`{"iban":"DE89"}`:                        "at $.iban: 'DE89' does not match pattern",
		`{}`:                                     "missing property",
		`{"iban":"IT60","card":"4111"}`:          "'oneOf' failed, subschemas 0, 1 matched",
	} {
		err := d.CheckResponse("GET", "/v1/payments/1", 200, js, []byte(body))
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%s: refused: %v", body, err)
		case wantErr != "" && err == nil:
			t.Errorf("%s: accepted", body)
		case wantErr != "" && !strings.Contains(err.Error(), wantErr):
			t.Errorf("%s: error %q, want it to say %q", body, err, wantErr)
		}
	}
}

// TestCheckResponse_TheRealDocument: the platform's document loads, and its routes with
// suffixed segments go where API Gateway sends them.
func TestCheckResponse_TheRealDocument(t *testing.T) {
	d, err := openapicheck.Load(filepath.Join("..", "..", "shared", "httpapi", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/v1/orders/FI-1/members:import":                       "POST /v1/orders/{orderId}/members:import",
		"/v1/orders/FI-1/members":                              "POST /v1/orders/{orderId}/members",
		"/v1/orders/FI-1/members/ZRZCRL72R10H501D/cancel":      "POST /v1/orders/{orderId}/members/{codiceFiscale}/cancel",
		"/v1/requests/" + strings.Repeat("0", 32) + "/payment": "POST /v1/requests/{requestId}/payment",
	} {
		if op, ok := d.Match("POST", path); !ok || op.String() != want {
			t.Errorf("POST %s: %v %v, want %s", path, op, ok, want)
		}
	}
	if op, ok := d.Match("GET", "/v1/requests/"+strings.Repeat("0", 32)+"/form.pdf"); !ok || op.Path != "/v1/requests/{requestId}/form.pdf" {
		t.Errorf("form.pdf: %v", op)
	}
	if err := d.CheckResponse("GET", "/v1/orders/FI-1", 401, hdr("Content-Type", "application/json"), []byte(`{"message":"Unauthorized"}`)); err != nil {
		t.Errorf("the authorizer's 401: %v", err)
	}
	if err := d.CheckResponse("GET", "/v1/orders/FI-1", 200, hdr("Content-Type", "application/json"), []byte(`{"id":"FI-1"}`)); err == nil {
		t.Error("an incomplete Order was accepted")
	}
}
