// Package bucket builds the platform's S3 buckets for the functions that keep files.
package bucket

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pecplatform/pec/shared/s3files"
	"github.com/pecplatform/pec/shared/s3links"
	"github.com/pecplatform/pec/shared/wire"
)

// Files returns the platform's bucket (FILES_BUCKET): uploads and the INI-PEC archive.
func Files(env *wire.Env) (*s3files.Bucket, error) {
	return named(env, "FILES_BUCKET")
}

// Documents returns the bucket of the members' documents (DOCUMENTS_BUCKET).
func Documents(env *wire.Env) (*s3files.Bucket, error) {
	return named(env, "DOCUMENTS_BUCKET")
}

func named(env *wire.Env, variable string) (*s3files.Bucket, error) {
	name := env.Getenv(variable)
	if name == "" {
		return nil, fmt.Errorf("%s is not set", variable)
	}
	endpoint := env.Getenv("AWS_ENDPOINT_URL") // only locally, where the bucket is path-style
	client := s3.NewFromConfig(env.AWS, func(o *s3.Options) { o.UsePathStyle = endpoint != "" })
	return &s3files.Bucket{API: client, Links: s3links.ForBucket(name, env.AWS.Region, endpoint, env.AWS.Credentials), Name: name}, nil
}
