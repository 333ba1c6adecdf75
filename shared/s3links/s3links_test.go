package s3links_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/pecplatform/pec/shared/s3links"
)

// withoutOperationID drops the x-id=GetObject / x-id=PutObject the S3 client adds to a request's
// query before it is signed: S3 ignores it and the Signer does not add it, so the SDK's link and
// the Signer's are then signed alike.
func withoutOperationID(stack *middleware.Stack) error {
	return stack.Build.Add(middleware.BuildMiddlewareFunc("withoutOperationID",
		func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				q := req.URL.Query()
				q.Del("x-id")
				req.URL.RawQuery = q.Encode()
			}
			return next.HandleBuild(ctx, in)
		}), middleware.After)
}

// TestSigner_SignsAsTheS3ClientPresigns: the Signer's GET and PUT links are the S3 client's
// presigned links, signature included, in AWS (virtual-hosted) and locally (path-style).
func TestSigner_SignsAsTheS3ClientPresigns(t *testing.T) {
	const bucket, region, key, ttl = "pec-documents", "eu-south-1", "requests/r 1/form.pdf", 15 * time.Minute
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "session-token")
	for _, endpoint := range []string{"", "http://127.0.0.1:3000"} {
		o := s3.Options{Region: region, Credentials: creds, UsePathStyle: endpoint != "", APIOptions: []func(*middleware.Stack) error{withoutOperationID}}
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		sdk := s3.NewPresignClient(s3.New(o))
		get, err := sdk.PresignGetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, s3.WithPresignExpires(ttl))
		if err != nil {
			t.Fatal(err)
		}
		put, err := sdk.PresignPutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, s3.WithPresignExpires(ttl))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			method, want string
			sign         func(s3links.Signer, context.Context, string, time.Duration) (string, error)
		}{
			{"GET", get.URL, s3links.Signer.PresignGet},
			{"PUT", put.URL, s3links.Signer.PresignPut},
		} {
			want, err := url.Parse(c.want)
			if err != nil {
				t.Fatal(err)
			}
			signedAt, err := time.Parse("20060102T150405Z", want.Query().Get("X-Amz-Date"))
			if err != nil {
				t.Fatal(err)
			}
			s := s3links.ForBucket(bucket, region, endpoint, creds)
			s.Now = func() time.Time { return signedAt }
			got, err := c.sign(s, t.Context(), key, ttl)
			if err != nil {
				t.Fatal(err)
			}
			g, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if g.Scheme != want.Scheme || g.Host != want.Host || g.EscapedPath() != want.EscapedPath() {
				t.Errorf("%s at %q: %s, want %s", c.method, endpoint, got, c.want)
			}
			if gq, wq := g.Query(), want.Query(); gq.Encode() != wq.Encode() {
				t.Errorf("%s at %q: query\n%s\nwant\n%s", c.method, endpoint, gq.Encode(), wq.Encode())
			}
		}
	}
}
