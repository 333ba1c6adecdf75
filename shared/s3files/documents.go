package s3files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/s3links"
)

var _ app.UploadForms = (*Bucket)(nil)

// Read implements app.DocumentFiles: the object whole (at most max+1 bytes) and its type.
func (b *Bucket) Read(ctx context.Context, key string, max int64) ([]byte, string, error) {
	out, err := b.API.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.Name, Key: &key})
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, "", domain.ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", key, err)
	}
	defer out.Body.Close()
	content, err := io.ReadAll(io.LimitReader(out.Body, max+1))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", key, err)
	}
	ct := ""
	if out.ContentType != nil {
		ct = *out.ContentType
	}
	return content, ct, nil
}

// Copy implements app.DocumentFiles: S3 copies the object (no bytes pass through the function),
// with contentType and encrypted at rest.
func (b *Bucket) Copy(ctx context.Context, from, to, contentType string) error {
	segments := strings.Split(from, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	source := b.Name + "/" + strings.Join(segments, "/")
	_, err := b.API.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b.Name, Key: &to, CopySource: &source,
		ContentType: &contentType, MetadataDirective: types.MetadataDirectiveReplace,
		ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", from, to, err)
	}
	return nil
}

// Delete implements app.DocumentFiles (S3 answers a missing key as deleted).
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if _, err := b.API.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.Name, Key: &key}); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// UploadForm implements app.UploadForms: S3's POST Object form, signed for the one key, type
// and size range.
func (b *Bucket) UploadForm(ctx context.Context, p app.UploadPolicy) (app.UploadForm, error) {
	f, err := b.Links.PresignPost(ctx, b.Name, s3links.PostPolicy{Key: p.Key, ContentType: p.ContentType,
		MaxBytes: p.MaxBytes, Redirect: p.Redirect, TTL: p.TTL})
	if err != nil {
		return app.UploadForm{}, err
	}
	return app.UploadForm{URL: f.URL, Fields: f.Fields}, nil
}
