package fake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// bucket is an in-memory S3 bucket: objects by key.
type bucket struct {
	mu      sync.Mutex
	objects map[string]object
}

type object struct {
	content     []byte
	contentType string
}

func (b *bucket) put(key, contentType string, content []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.objects == nil {
		b.objects = map[string]object{}
	}
	b.objects[key] = object{bytes.Clone(content), contentType}
}

// get returns a copy of the object, and whether it exists.
func (b *bucket) get(key string) (object, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[key]
	o.content = bytes.Clone(o.content)
	return o, ok
}

func errNoSuchKey(key string) error {
	return fmt.Errorf("get %s: NoSuchKey: the object does not exist", key)
}

// Files is an in-memory DocumentFiles: the members' documents bucket.
type Files struct {
	Faults
	b bucket
}

var _ app.DocumentFiles = (*Files)(nil)

// PutBytes implements app.DocumentFiles.
func (f *Files) PutBytes(_ context.Context, key, contentType string, content []byte) error {
	if err := f.check("PutBytes"); err != nil {
		return err
	}
	f.b.put(key, contentType, content)
	return nil
}

// Read implements app.DocumentFiles.
func (f *Files) Read(_ context.Context, key string, max int64) ([]byte, string, error) {
	if err := f.check("Read"); err != nil {
		return nil, "", err
	}
	o, ok := f.b.get(key)
	if !ok {
		return nil, "", domain.ErrNotFound
	}
	if int64(len(o.content)) > max+1 {
		o.content = o.content[:max+1]
	}
	return o.content, o.contentType, nil
}

// Copy implements app.DocumentFiles.
func (f *Files) Copy(_ context.Context, from, to, contentType string) error {
	if err := f.check("Copy"); err != nil {
		return err
	}
	o, ok := f.b.get(from)
	if !ok {
		return errNoSuchKey(from)
	}
	f.b.put(to, contentType, o.content)
	return nil
}

// Delete implements app.DocumentFiles.
func (f *Files) Delete(_ context.Context, key string) error {
	if err := f.check("Delete"); err != nil {
		return err
	}
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	delete(f.b.objects, key)
	return nil
}

// Get returns a stored document with its content type; ok is false when there is none.
func (f *Files) Get(key string) (content []byte, contentType string, ok bool) {
	o, ok := f.b.get(key)
	return o.content, o.contentType, ok
}

// Len counts the stored documents.
func (f *Files) Len() int {
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	return len(f.b.objects)
}

// Archive is an in-memory app.Archive: the archive of INI-PEC files.
type Archive struct {
	Faults
	b bucket
}

var _ app.Archive = (*Archive)(nil)

// Put implements app.Archive: it replaces whatever the key held.
func (a *Archive) Put(_ context.Context, key string, body io.ReadSeeker) error {
	if err := a.check("Put"); err != nil {
		return err
	}
	content, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	a.b.put(key, "", content)
	return nil
}

// Get implements app.Archive.
func (a *Archive) Get(_ context.Context, key string) (io.ReadCloser, error) {
	if err := a.check("Get"); err != nil {
		return nil, err
	}
	o, ok := a.b.get(key)
	if !ok {
		return nil, errNoSuchKey(key)
	}
	return io.NopCloser(bytes.NewReader(o.content)), nil
}

// File returns an archived file; ok is false when there is none.
func (a *Archive) File(key string) (content []byte, ok bool) {
	o, ok := a.b.get(key)
	return o.content, ok
}

// Uploads is an in-memory app.Uploads: the bucket the Orders upload albo files to. Put plays
// the Order's PUT to the pre-signed URL.
type Uploads struct {
	Faults
	b bucket
}

var _ app.Uploads = (*Uploads)(nil)

// PresignPut implements app.Uploads with a URL that names the key.
func (u *Uploads) PresignPut(_ context.Context, key string, ttl time.Duration) (string, error) {
	if err := u.check("PresignPut"); err != nil {
		return "", err
	}
	return fmt.Sprintf("https://uploads.example/%s?expires=%s", key, ttl), nil
}

// Open implements app.Uploads: the object from the byte offset on. An offset at or past the
// end reads nothing, as the S3 adapter answers S3's InvalidRange.
func (u *Uploads) Open(_ context.Context, key string, offset int64) (io.ReadCloser, error) {
	if err := u.check("Open"); err != nil {
		return nil, err
	}
	o, ok := u.b.get(key)
	if !ok {
		return nil, errNoSuchKey(key)
	}
	return io.NopCloser(bytes.NewReader(o.content[min(max(offset, 0), int64(len(o.content))):])), nil
}

// Put stores an uploaded file at key.
func (u *Uploads) Put(key string, content []byte) { u.b.put(key, "", content) }

// UploadForms is an in-memory app.UploadForms: each form names its key, type and size in its
// fields, as the bucket's policy would fix them.
type UploadForms struct {
	Faults
}

var _ app.UploadForms = (*UploadForms)(nil)

// UploadForm implements app.UploadForms.
func (u *UploadForms) UploadForm(_ context.Context, p app.UploadPolicy) (app.UploadForm, error) {
	if err := u.check("UploadForm"); err != nil {
		return app.UploadForm{}, err
	}
	return app.UploadForm{URL: "https://documents.example/", Fields: map[string]string{"key": p.Key, "Content-Type": p.ContentType,
		"success_action_redirect": p.Redirect, "policy": fmt.Sprintf("%s|%s|%d|%s", p.Key, p.ContentType, p.MaxBytes, p.TTL)}}, nil
}
