// Package s3links signs links to a bucket's objects (SigV4 query signing): download links for
// the provider, upload links for the browser. It does without the S3 client, which would double
// the size of a function that needs nothing else of S3.
package s3links

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/pecplatform/pec/shared/app"
)

// Signer makes pre-signed links to the objects of one bucket.
type Signer struct {
	// Base is the bucket's URL: https://<bucket>.s3.<region>.amazonaws.com in AWS, or
	// <endpoint>/<bucket> for a path-style endpoint such as the local cloud's.
	Base        string
	Region      string
	Credentials aws.CredentialsProvider
	Now         func() time.Time // time.Now when nil
}

var _ app.DocumentLinks = Signer{}

// ForBucket returns the signer of bucket: virtual-hosted in AWS, path-style on endpoint when
// one is given (locally).
func ForBucket(bucket, region, endpoint string, creds aws.CredentialsProvider) Signer {
	base := "https://" + bucket + ".s3." + region + ".amazonaws.com"
	if endpoint != "" {
		base = strings.TrimRight(endpoint, "/") + "/" + bucket
	}
	return Signer{Base: base, Region: region, Credentials: creds}
}

var signer = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }) // S3 escapes once

// PresignGet returns a link that GETs the object at key until ttl has passed (S3 allows at
// most 7 days, and never beyond the signing credentials' own expiry).
func (s Signer) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return s.presign(ctx, http.MethodGet, key, ttl)
}

// PresignPut returns a link that PUTs the object at key until ttl has passed. Only the host is
// signed: the uploader sends the body and headers it likes, Content-Length included.
func (s Signer) PresignPut(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return s.presign(ctx, http.MethodPut, key, ttl)
}

func (s Signer) presign(ctx context.Context, method, key string, ttl time.Duration) (string, error) {
	segments := strings.Split(key, "/")
	for i, seg := range segments {
		segments[i] = url.PathEscape(seg)
	}
	target := s.Base + "/" + strings.Join(segments, "/") + "?X-Amz-Expires=" + strconv.Itoa(int(ttl/time.Second))
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	creds, err := s.Credentials.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("presign %s: credentials: %w", key, err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	signed, _, err := signer.PresignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", "s3", s.Region, now().UTC())
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return signed, nil
}
