package localcloud_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/s3links"
)

// documentsBucket is DocumentsBucket as the local stack names it (make run lists it).
const documentsBucket = "pec-local-documentsbucket"

// postForm posts a browser's upload form: the fields, then the file.
func postForm(t *testing.T, url string, fields map[string]string, file []byte) *http.Response {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	f, _ := w.CreateFormFile("file", "scansione.pdf")
	f.Write(file)
	w.Close()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Post(url, w.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// A browser upload straight to the documents' bucket (S3's POST Object) is taken only as the
// signed policy allows: its key, its type, its size, before it expires, signed.
func TestS3PostObject_TheHostEnforcesThePolicyAsS3Does(t *testing.T) {
	t.Parallel()
	c := localcloud.ForTests(t)
	const bucket = documentsBucket
	signer := s3links.Signer{Base: c.APIURL + "/" + bucket, Region: localcloud.Region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	key := "requests/" + strings.ToLower(uniqueID("up")) + "/incoming/form"
	form, err := signer.PresignPost(t.Context(), bucket, s3links.PostPolicy{Key: key, ContentType: "application/octet-stream",
		MaxBytes: 9 << 20, Redirect: c.APIURL + "/richiesta/x/y?caricato=form", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ok := postForm(t, form.URL, form.Fields, bytes.Repeat([]byte("a"), 8<<20))
	if ok.StatusCode != 303 || !strings.Contains(ok.Header.Get("Location"), "caricato=form") || !strings.Contains(ok.Header.Get("Location"), "key=") {
		t.Fatalf("an upload within the policy: %d %s", ok.StatusCode, ok.Header.Get("Location"))
	}
	for name, tc := range map[string]struct {
		change func(map[string]string)
		size   int
		status int
	}{
		"too large":       {func(map[string]string) {}, 9<<20 + 1, 400},
		"another key":     {func(f map[string]string) { f["key"] = key + "-other" }, 10, 403},
		"another type":    {func(f map[string]string) { f["Content-Type"] = "text/html" }, 10, 403},
		"a forged policy": {func(f map[string]string) { f["x-amz-signature"] = strings.Repeat("0", 64) }, 10, 403},
	} {
		fields := map[string]string{}
		for k, v := range form.Fields {
			fields[k] = v
		}
		tc.change(fields)
		if resp := postForm(t, form.URL, fields, bytes.Repeat([]byte("b"), tc.size)); resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", name, resp.StatusCode, tc.status)
		}
	}
	expired, _ := s3links.Signer{Base: signer.Base, Region: signer.Region, Credentials: signer.Credentials,
		Now: func() time.Time { return time.Now().Add(-2 * time.Minute) }}.PresignPost(t.Context(), bucket,
		s3links.PostPolicy{Key: key, ContentType: "application/octet-stream", MaxBytes: 100, Redirect: "http://x/", TTL: time.Minute})
	if resp := postForm(t, expired.URL, expired.Fields, []byte("c")); resp.StatusCode != 403 {
		t.Errorf("an expired form: %d, want 403", resp.StatusCode)
	}
}
