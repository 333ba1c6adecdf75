package s3files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// PresignPut returns a URL to PUT the object at key, valid for ttl.
func (b *Bucket) PresignPut(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return b.Links.PresignPut(ctx, key, ttl)
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
