package localcloud_test

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/infra/openapicheck"
)

// Every answer the tests get from the API is held to the contract, shared/httpapi/openapi.yaml:
// its status is documented for the route, its media type for the status, and a JSON body
// matches the response's schema (see infra/openapicheck).

var openAPI struct {
	once sync.Once
	doc  *openapicheck.Doc
	err  error
}

func openAPIDoc(t testing.TB) *openapicheck.Doc {
	t.Helper()
	openAPI.once.Do(func() {
		openAPI.doc, openAPI.err = openapicheck.Load(filepath.Join("..", "..", "shared", "httpapi", "openapi.yaml"))
	})
	if openAPI.err != nil {
		t.Fatalf("load the OpenAPI document: %v", openAPI.err)
	}
	return openAPI.doc
}

// checkAnswer fails the test when an answer of the API is not what openapi.yaml documents.
// path is the request's path (its query is ignored). The local cloud's own endpoints
// (/_local/..., the Lambda Invoke API) are not the API, and are not checked.
func checkAnswer(t testing.TB, method, path string, status int, header http.Header, body []byte) {
	t.Helper()
	if strings.HasPrefix(path, "/_local/") || strings.HasPrefix(path, "/2015-03-31/") {
		return
	}
	if err := openAPIDoc(t).CheckResponse(method, path, status, header, body); err != nil {
		t.Errorf("the API's answer does not match openapi.yaml: %v", err)
	}
}

// checkHTTP reads the body of a response the test got from the API through net/http, checks
// the answer with checkAnswer and returns the body. Answers of other servers are not checked.
func checkHTTP(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the body: %v", resp.Request.Method, resp.Request.URL, err)
	}
	if u := resp.Request.URL; u.Host == apiHost(t) {
		checkAnswer(t, resp.Request.Method, u.EscapedPath(), resp.StatusCode, resp.Header, b)
	}
	return b
}

func apiHost(t testing.TB) string {
	u, err := url.Parse(localcloud.ForTests(t).APIURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestOpenAPI_AnUnroutedRequestIsTheGatewaysNotFound: a method or a path no route takes is
// API Gateway's 404 GatewayMessage, before any authorizer, as the document says.
func TestOpenAPI_AnUnroutedRequestIsTheGatewaysNotFound(t *testing.T) {
	t.Parallel()
	for _, c := range []*client{as(t, "federation", ""), as(t, "", "")} {
		for _, r := range [][2]string{{"DELETE", "/v1/orders/FI"}, {"GET", "/v1/nowhere"}, {"GET", "/v1/orders/FI/members/ZRZCRL72R10H501D/history"}, {"POST", "/v1/requests/" + strings.Repeat("0", 32) + "/form.pdf"}} {
			got := c.expect(404, r[0], r[1], nil).json(t)
			if got["message"] != "Not Found" {
				t.Errorf("%s %s: %v", r[0], r[1], got)
			}
		}
	}
}
