package s3files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Presigner makes pre-signed URLs.
type Presigner interface {
	PresignPutObject(context.Context, *s3.PutObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignGetObject(context.Context, *s3.GetObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// PresignGet returns a URL to GET the object at key, valid for ttl (at most 7 days in S3).
func (b *Bucket) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := b.Presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b.Name, Key: &key}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return req.URL, nil
}

// PresignPut returns a URL to PUT the object at key, valid for ttl.
func (b *Bucket) PresignPut(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := b.Presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &b.Name, Key: &key}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return req.URL, nil
}

// Open streams the object at key from the byte offset on.
func (b *Bucket) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: &b.Name, Key: &key}
	if offset > 0 {
		r := fmt.Sprintf("bytes=%d-", offset)
		in.Range = &r
	}
	out, err := b.API.GetObject(ctx, in)
	var ae smithy.APIError
	if offset > 0 && errors.As(err, &ae) && ae.ErrorCode() == "InvalidRange" {
		return io.NopCloser(strings.NewReader("")), nil // resumed exactly at the end
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return out.Body, nil
}
