// Package s3files keeps the platform's files in its S3 bucket: the archive of INI-PEC
// deliveries, the uploaded albo files, and the members' documents (in a bucket of their own).
package s3files

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/s3links"
)

// API is the part of the S3 client the package uses.
type API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Bucket stores and reads objects of one bucket, encrypted at rest.
type Bucket struct {
	API   API
	Links s3links.Signer // the bucket's, for PresignPut
	Name  string
}

var (
	_ app.Archive       = (*Bucket)(nil)
	_ app.Uploads       = (*Bucket)(nil)
	_ app.DocumentFiles = (*Bucket)(nil)
)

// Put stores body at key.
func (b *Bucket) Put(ctx context.Context, key string, body io.ReadSeeker) error {
	_, err := b.API.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.Name, Key: &key, Body: body,
		ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// PutBytes stores content at key with its content type.
func (b *Bucket) PutBytes(ctx context.Context, key, contentType string, content []byte) error {
	_, err := b.API.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.Name, Key: &key, Body: bytes.NewReader(content),
		ContentType: &contentType, ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// Get streams the object at key; the caller closes it.
func (b *Bucket) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := b.API.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.Name, Key: &key})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return out.Body, nil
}
