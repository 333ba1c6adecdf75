// Package bucket builds the platform's S3 buckets for the functions that keep files.
package bucket

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pecplatform/pec/shared/s3files"
	"github.com/pecplatform/pec/shared/wire"
)

// Files returns the platform's bucket (FILES_BUCKET): uploads and the INI-PEC archive.
func Files(ctx context.Context, getenv wire.Getenv) (*s3files.Bucket, error) {
	return named(ctx, getenv, "FILES_BUCKET")
}

// Documents returns the bucket of the members' documents (DOCUMENTS_BUCKET).
func Documents(ctx context.Context, getenv wire.Getenv) (*s3files.Bucket, error) {
	return named(ctx, getenv, "DOCUMENTS_BUCKET")
}

func named(ctx context.Context, getenv wire.Getenv, variable string) (*s3files.Bucket, error) {
	cfg, err := wire.AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	name := getenv(variable)
	if name == "" {
		return nil, fmt.Errorf("%s is not set", variable)
	}
	local := getenv("AWS_ENDPOINT_URL") != ""
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = local })
	return &s3files.Bucket{API: client, Presign: s3.NewPresignClient(client), Name: name}, nil
}
