package localcloud_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/s3links"
)

// A member who uploads straight to the bucket and never comes back to the page (the tab
// closed, the network gone) still has the upload checked: S3's Object Created event reaches
// DocumentUploadsFunction through the EventBridge rule, which keeps a good document and
// refuses, deletes and records a file whose content is not the type it declares.
func TestDocumentUploads_S3sEventAloneChecksTheUpload(t *testing.T) {
	t.Parallel()
	c := localcloud.ForTests(t)
	orderID, offer, _ := conventionOrder(t)
	m := member("ZRZCRL72R10H501D", "Carlo", freshSurname("Caricamenti"))
	as(t, "order", orderID).expect(201, "POST", "/v1/orders/"+orderID+"/members", m)
	www := public(t)
	r := www.expect(201, "POST", "/v1/conventions/"+strings.ToLower(offer)+"/requests", map[string]any{"codiceFiscale": "ZRZCRL72R10H501D",
		"cognome": m["cognome"], "nome": "Carlo", "email": strings.ToLower(uniqueID("up")) + "@example.it"}).json(t)
	id, token := r["requestId"].(string), r["accessToken"].(string)

	// The forms RequestsFunction would sign, posted without following S3's redirect.
	signer := s3links.Signer{Base: c.APIURL + "/" + documentsBucket, Region: localcloud.Region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	post := func(kind, declared string, content []byte) string {
		t.Helper()
		key := fmt.Sprintf("uploads/%s/%s/%d", id, kind, time.Now().UnixNano())
		form, err := signer.PresignPost(t.Context(), documentsBucket, s3links.PostPolicy{Key: key, ContentType: declared,
			MaxBytes: 10 << 20, Redirect: c.APIURL + "/richiesta/" + id + "/" + token + "/caricato", TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if resp := postForm(t, form.URL, form.Fields, content); resp.StatusCode != 303 {
			t.Fatalf("upload %s: %d", kind, resp.StatusCode)
		}
		return key
	}
	post("identity", "image/jpeg", aJPG)
	eventually(t, "the identity document recorded by the event", 20*time.Second, func() bool {
		got := www.expect(200, "GET", "/v1/requests/"+id, nil, "X-Access-Token", token).json(t)
		return fmt.Sprint(got["missing"]) == "[payment form]"
	})
	post("form", "application/pdf", []byte("un file di testo chiamato modulo.pdf"))
	eventually(t, "the mislabelled form refused by the event, the reason on the page", 20*time.Second, func() bool {
		page := string(www.do("GET", "/richiesta/"+id+"/"+token, nil).body)
		return strings.Contains(page, `id="form-rifiuto"`) && strings.Contains(page, "non è un PDF")
	})
	eventually(t, "the uploads deleted", 20*time.Second, func() bool { return len(objectsUnder(t, "uploads/"+id+"/")) == 0 })
	if keys := objectsUnder(t, "requests/"+id+"/"); len(keys) != 1 || !strings.Contains(keys[0], "/identity-") {
		t.Errorf("documents kept: %v", keys)
	}
}
