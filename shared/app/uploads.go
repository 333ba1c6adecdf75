package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// Documents uploaded by the browser straight to the documents' bucket (S3's POST Object), so
// that a scan of up to 10 MB never passes through a function's payload. The request's page
// carries, for each document still missing, one signed form per accepted type (PDF, JPEG,
// PNG), all for one key under uploads/<requestId>/<kind>/; the policy fixes the key, the
// declared type and the size. When the object is stored, S3's event (and the browser coming
// back) makes the platform read it: content that is not what its type says is refused, the
// object deleted and the refusal shown on the page; an accepted document is copied to its
// kept key (requests/<id>/<kind>-<sha256 prefix>, as the multipart route keeps it) and the
// upload deleted. Both paths may run at once: the second finds the work done.

// UploadForms signs browsers' uploads straight to the documents' bucket.
type UploadForms interface {
	UploadForm(ctx context.Context, p UploadPolicy) (UploadForm, error)
}

// UploadPolicy is what one browser upload may store.
type UploadPolicy struct {
	Key         string
	ContentType string // the stored object's type, as the browser declares it
	MaxBytes    int64
	Redirect    string // where the browser goes once the object is stored
	TTL         time.Duration
}

// UploadForm is a signed upload: the form's action and its fields (the file goes last, in a
// field named "file").
type UploadForm struct {
	URL    string
	Fields map[string]string
}

// DefaultUploadTTL is how long a page's upload forms work: a member who keeps the page open
// longer is asked to reload it. Signing credentials of a function last longer than this.
const DefaultUploadTTL = time.Hour

// uploadPrefix is where browsers' uploads land, until they are checked.
const uploadPrefix = "uploads/"

// DirectUpload is what the browser needs to upload one document straight to the bucket.
type DirectUpload struct {
	Kind     domain.DocumentKind
	Key      string
	Forms    map[string]UploadForm // by declared content type: one of domain.DocumentTypes
	MaxBytes int64
	Expires  time.Time
}

// uploadKey is a fresh key for an upload of kind to request id.
func uploadKey(id string, kind domain.DocumentKind) string {
	return uploadPrefix + id + "/" + string(kind) + "/" + NewID()[:16]
}

// parseUploadKey reads the request and the kind from an upload's key.
func parseUploadKey(key string) (string, domain.DocumentKind, bool) {
	parts := strings.Split(strings.TrimPrefix(key, uploadPrefix), "/")
	if !strings.HasPrefix(key, uploadPrefix) || len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return "", "", false
	}
	kind, err := domain.ParseDocumentKind(parts[1])
	if err != nil {
		return "", "", false
	}
	return parts[0], kind, true
}

// UploadedPath is where the browser comes back after an upload: the request's page's
// "caricato" path, which checks the upload at once.
func UploadedPath(requestID, accessToken string) string {
	return StatusPath(requestID, accessToken) + "/caricato"
}

// DirectUploads returns the upload forms of the documents the request still needs; none when
// the request takes no more documents or uploads straight to the bucket are not configured.
func (q *Requests) DirectUploads(ctx context.Context, r *domain.Request, token string) ([]DirectUpload, error) {
	if q.Uploads == nil || r.Submitted || !r.AbandonedAt.IsZero() {
		return nil, nil
	}
	ttl := q.UploadTTL
	if ttl <= 0 {
		ttl = DefaultUploadTTL
	}
	var out []DirectUpload
	for _, kind := range domain.DocumentKinds {
		if _, ok := r.Documents[kind]; ok {
			continue
		}
		u := DirectUpload{Kind: kind, Key: uploadKey(r.ID, kind), Forms: map[string]UploadForm{},
			MaxBytes: domain.MaxDocument, Expires: q.now().Add(ttl)}
		for _, ct := range domain.DocumentTypes {
			f, err := q.Uploads.UploadForm(ctx, UploadPolicy{Key: u.Key, ContentType: ct, MaxBytes: domain.MaxDocument,
				Redirect: q.PublicURL + UploadedPath(r.ID, token), TTL: ttl})
			if err != nil {
				return nil, err
			}
			u.Forms[ct] = f
		}
		out = append(out, u)
	}
	return out, nil
}

// ConfirmUpload is the browser back from an upload of key: the upload is checked now (S3's
// event may come later, and then finds it done). refused is the refusal the member is shown.
func (q *Requests) ConfirmUpload(ctx context.Context, id, token, key string) (v *RequestView, refused error, err error) {
	r, err := q.authorize(ctx, id, token)
	if err != nil {
		return nil, nil, err
	}
	if rid, _, ok := parseUploadKey(key); !ok || rid != r.ID {
		return nil, nil, domain.Invalid("key", "invalid_upload", "key is not an upload of this request")
	}
	return q.ReceiveUpload(ctx, key)
}

// ReceiveUpload checks the upload stored at key (S3's event, or the browser back from it):
// the document is recorded, or refused and deleted (refused says why). A key that is no
// upload, of a request that does not exist, changes nothing; an upload checked already
// (the object is gone) returns the request as it is.
func (q *Requests) ReceiveUpload(ctx context.Context, key string) (v *RequestView, refused error, err error) {
	id, kind, ok := parseUploadKey(key)
	if !ok {
		q.Log.WarnContext(ctx, "object created outside the uploads' layout: ignored", "key", key)
		return nil, nil, nil
	}
	r, err := q.Store.GetRequest(ctx, id)
	if errors.Is(err, domain.ErrRequestNotFound) {
		q.Log.WarnContext(ctx, "upload for no request: deleted", "requestId", id)
		return nil, nil, q.Files.Delete(ctx, key)
	}
	if err != nil {
		return nil, nil, err
	}
	content, declared, err := q.Files.Read(ctx, key, domain.MaxDocument)
	if errors.Is(err, domain.ErrNotFound) {
		return q.checkedAlready(ctx, id, kind, key)
	}
	if err != nil {
		return nil, nil, err
	}
	if r.Submitted || !r.AbandonedAt.IsZero() {
		q.Log.InfoContext(ctx, "upload after the request stopped taking documents: deleted", "requestId", id, "document", string(kind))
		if err := q.Files.Delete(ctx, key); err != nil {
			return nil, nil, err
		}
		v, err := q.view(ctx, r, false)
		return v, nil, err
	}
	field := string(kind)
	var ct string
	refused = domain.DocumentTooLarge(field)
	if len(content) <= domain.MaxDocument {
		ct, refused = domain.CheckDeclaredType(field, declared, content)
	}
	if refused != nil {
		return q.refuseUpload(ctx, r, kind, key, refused)
	}
	d := q.document(r.ID, kind, ct, content)
	if err := q.Files.Copy(ctx, key, d.Key, ct); err != nil {
		return nil, nil, err
	}
	r, err = q.recordDocuments(ctx, id, map[domain.DocumentKind]domain.Document{kind: d})
	if errors.Is(err, domain.ErrRequestSubmitted) || errors.Is(err, domain.ErrRequestAbandoned) {
		r, err = q.Store.GetRequest(ctx, id) // it stopped taking documents meanwhile
	}
	if err != nil {
		return nil, nil, err
	}
	if err := q.Files.Delete(ctx, key); err != nil {
		return nil, nil, err
	}
	q.Log.InfoContext(ctx, "document uploaded", "requestId", id, "document", field, "bytes", d.Size)
	v, err = q.submitIfReady(ctx, r)
	return v, nil, err
}

// refuseUpload records the refusal on the request and deletes the object.
func (q *Requests) refuseUpload(ctx context.Context, r *domain.Request, kind domain.DocumentKind, key string, refused error) (*RequestView, error, error) {
	code := "unsupported_document_type"
	var de *domain.Error
	if errors.As(refused, &de) {
		code = de.Code
	}
	f := domain.DocumentRefusal{Key: key, Reason: code, At: q.now()}
	r, err := q.Store.UpdateRequest(ctx, r.ID, Audit{"member", "request.document_refused"}, func(r *domain.Request) (bool, error) {
		return r.RefuseDocument(kind, f), nil
	})
	if err != nil {
		return nil, nil, err
	}
	if err := q.Files.Delete(ctx, key); err != nil {
		return nil, nil, err
	}
	q.Log.InfoContext(ctx, "upload refused", "requestId", r.ID, "document", string(kind), "reason", code)
	v, err := q.view(ctx, r, false)
	return v, refused, err
}

// checkedAlready is the upload's outcome when the other path (S3's event, or the browser back)
// checked it first and deleted the object: its refusal, if it was refused.
func (q *Requests) checkedAlready(ctx context.Context, id string, kind domain.DocumentKind, key string) (*RequestView, error, error) {
	r, err := q.Store.GetRequest(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	var refused error
	if f := r.Refused[kind]; f.Key == key {
		refused = &domain.Error{Kind: domain.KindInvalid, Code: f.Reason, Field: string(kind), Message: string(kind) + " was refused: " + f.Reason}
	}
	v, err := q.view(ctx, r, false)
	return v, refused, err
}
