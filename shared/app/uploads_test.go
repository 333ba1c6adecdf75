package app_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

// upload is what the browser stores with a form of the page: the object under the form's key,
// with the type the form declares.
func (f *reqFixture) upload(t *testing.T, u app.DirectUpload, declared string, content []byte) string {
	t.Helper()
	form, ok := u.Forms[declared]
	if !ok {
		t.Fatalf("no form for %s", declared)
	}
	if err := f.files.PutBytes(t.Context(), form.Fields["key"], form.Fields["Content-Type"], content); err != nil {
		t.Fatal(err)
	}
	return form.Fields["key"]
}

func (f *reqFixture) directUploads(t *testing.T, nr *app.NewRequest) map[domain.DocumentKind]app.DirectUpload {
	t.Helper()
	r, err := f.store.GetRequest(t.Context(), nr.Request.ID)
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.q.DirectUploads(t.Context(), r, nr.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	out := map[domain.DocumentKind]app.DirectUpload{}
	for _, u := range list {
		out[u.Kind] = u
	}
	return out
}

func newUploadFixture(t *testing.T) *reqFixture {
	f := newReqFixture(t)
	f.q.Uploads, f.q.PublicURL = &fake.UploadForms{}, "https://pec.example"
	return f
}

func TestDirectUploads_OneFormPerTypeForEachMissingDocument(t *testing.T) {
	f := newUploadFixture(t)
	nr := f.create(t, marioAsks())
	ups := f.directUploads(t, nr)
	if len(ups) != 2 {
		t.Fatalf("uploads %+v", ups)
	}
	u := ups[domain.DocumentForm]
	if !strings.HasPrefix(u.Key, "uploads/"+nr.Request.ID+"/form/") || u.MaxBytes != domain.MaxDocument {
		t.Errorf("upload %+v", u)
	}
	for _, ct := range domain.DocumentTypes {
		fl := u.Forms[ct].Fields
		if fl["key"] != u.Key || fl["Content-Type"] != ct || fl["success_action_redirect"] != "https://pec.example"+app.UploadedPath(nr.Request.ID, nr.AccessToken) ||
			!strings.Contains(fl["policy"], "|10485760|1h0m0s") {
			t.Errorf("%s form %+v", ct, fl)
		}
	}
	f.documents(t, nr, app.Upload{Kind: domain.DocumentForm, Content: pdf})
	if ups := f.directUploads(t, nr); len(ups) != 1 || ups[domain.DocumentIdentity].Key == "" {
		t.Errorf("after the form, uploads %+v", ups)
	}
	f.q.Uploads = nil
	if ups := f.directUploads(t, nr); len(ups) != 0 {
		t.Errorf("not configured, uploads %+v", ups)
	}
}

func TestReceiveUpload_AcceptedDocumentIsKeptAndTheUploadDeleted(t *testing.T) {
	f := newUploadFixture(t)
	nr := f.create(t, marioAsks())
	f.pay(t, nr)
	ups := f.directUploads(t, nr)
	scan := append(bytes.Clone(pdf), bytes.Repeat([]byte{'x'}, 9<<20)...) // a 9 MB scan
	key := f.upload(t, ups[domain.DocumentForm], "application/pdf", scan)
	v, refused, err := f.q.ConfirmUpload(t.Context(), nr.Request.ID, nr.AccessToken, key)
	if err != nil || refused != nil {
		t.Fatal(err, refused)
	}
	d := v.Request.Documents[domain.DocumentForm]
	if d.ContentType != "application/pdf" || d.Size != int64(len(scan)) || !strings.HasPrefix(d.Key, "requests/"+nr.Request.ID+"/form-") {
		t.Errorf("document %+v", d)
	}
	if c, ct, ok := f.files.Get(d.Key); !ok || ct != "application/pdf" || !bytes.Equal(c, scan) {
		t.Errorf("kept document: %v %s", ok, ct)
	}
	if _, _, ok := f.files.Get(key); ok {
		t.Error("the upload was not deleted")
	}
	// S3's event comes after the browser: the work is done, nothing changes.
	if v, refused, err := f.q.ReceiveUpload(t.Context(), key); err != nil || refused != nil || v.Request.Documents[domain.DocumentForm] != d {
		t.Fatal(err, refused)
	}
	// The identity document arrives by the event alone; the paid request goes to the provider.
	key = f.upload(t, ups[domain.DocumentIdentity], "image/jpeg", jpeg)
	v, refused, err = f.q.ReceiveUpload(t.Context(), key)
	if err != nil || refused != nil {
		t.Fatal(err, refused)
	}
	if !v.Request.Submitted || !slices.Equal(f.starter.Started(), []string{nr.Request.MailboxID}) {
		t.Errorf("submitted %v, started %v", v.Request.Submitted, f.starter.Started())
	}
	if a := actions(f.store, "TSRM-LU", "member:"+mario); !slices.Equal(a[len(a)-3:], []string{"member request.documents", "member request.documents", "system request.submitted"}) {
		t.Errorf("audit trail %v", a)
	}
	// A late upload with an old form is deleted, the submitted request unchanged.
	key = f.upload(t, ups[domain.DocumentForm], "image/png", png)
	if _, refused, err := f.q.ReceiveUpload(t.Context(), key); err != nil || refused != nil {
		t.Fatal(err, refused)
	}
	if _, _, ok := f.files.Get(key); ok {
		t.Error("a late upload was kept")
	}
}

func TestReceiveUpload_AFileThatLiesAboutItsTypeIsRefusedAndShown(t *testing.T) {
	f := newUploadFixture(t)
	nr := f.create(t, marioAsks())
	for name, tc := range map[string]struct {
		declared string
		content  []byte
		code     string
	}{
		"a text file named .pdf": {"application/pdf", []byte("not a pdf at all"), "unsupported_document_type"},
		"a PNG named .jpg":       {"image/jpeg", png, "document_type_mismatch"},
		"over 10 MB":             {"application/pdf", append(bytes.Clone(pdf), make([]byte, domain.MaxDocument)...), "document_too_large"},
	} {
		ups := f.directUploads(t, nr)
		key := f.upload(t, ups[domain.DocumentForm], tc.declared, tc.content)
		v, refused, err := f.q.ConfirmUpload(t.Context(), nr.Request.ID, nr.AccessToken, key)
		if err != nil {
			t.Fatal(name, err)
		}
		var de *domain.Error
		if !errors.As(refused, &de) || de.Code != tc.code || de.Field != "form" {
			t.Errorf("%s: refused %v, want %s", name, refused, tc.code)
		}
		if got := v.Request.Refused[domain.DocumentForm]; got.Key != key || got.Reason != tc.code {
			t.Errorf("%s: refusal recorded %+v", name, got)
		}
		if _, ok := v.Request.Documents[domain.DocumentForm]; ok {
			t.Errorf("%s: recorded as the document", name)
		}
		if _, _, ok := f.files.Get(key); ok {
			t.Errorf("%s: the refused upload was kept", name)
		}
		// The event after the browser: the same refusal, not recorded twice.
		if _, again, err := f.q.ReceiveUpload(t.Context(), key); err != nil || !errors.As(again, &de) || de.Code != tc.code {
			t.Errorf("%s: the event after: %v %v", name, again, err)
		}
	}
	if a := actions(f.store, "TSRM-LU", "member:"+mario); strings.Count(strings.Join(a, ","), "request.document_refused") != 3 {
		t.Errorf("audit trail %v", a)
	}
	// A good file clears the refusal.
	key := f.upload(t, f.directUploads(t, nr)[domain.DocumentForm], "image/png", png)
	v, refused, err := f.q.ConfirmUpload(t.Context(), nr.Request.ID, nr.AccessToken, key)
	if err != nil || refused != nil {
		t.Fatal(err, refused)
	}
	if _, ok := v.Request.Refused[domain.DocumentForm]; ok {
		t.Errorf("refusal still shown: %+v", v.Request.Refused)
	}
}

func TestConfirmUpload_OnlyTheRequestsOwnUploadsWithItsToken(t *testing.T) {
	f := newUploadFixture(t)
	nr := f.create(t, marioAsks())
	key := f.upload(t, f.directUploads(t, nr)[domain.DocumentForm], "application/pdf", pdf)
	if _, _, err := f.q.ConfirmUpload(t.Context(), nr.Request.ID, "wrong", key); !errors.Is(err, domain.ErrRequestNotFound) {
		t.Errorf("a wrong token: %v", err)
	}
	other := strings.Replace(key, nr.Request.ID, "someone-else", 1)
	for _, k := range []string{other, "requests/" + nr.Request.ID + "/form-x", "uploads/" + nr.Request.ID + "/passport/x"} {
		if _, _, err := f.q.ConfirmUpload(t.Context(), nr.Request.ID, nr.AccessToken, k); err == nil {
			t.Errorf("key %s accepted", k)
		}
	}
	// An upload for no request is deleted; a key outside the layout is left alone.
	orphan := "uploads/no-such-request/form/abc"
	f.files.PutBytes(t.Context(), orphan, "application/pdf", pdf)
	if _, _, err := f.q.ReceiveUpload(t.Context(), orphan); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.files.Get(orphan); ok {
		t.Error("an orphan upload was kept")
	}
}
