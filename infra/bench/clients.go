package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/pecplatform/pec/shared/s3files"
	"github.com/pecplatform/pec/shared/s3links"
)

// env is what the driver passes every child: where the local cloud is.
type env struct {
	DynamoDBURL, S3URL, Table, Bucket, INIPECURL, INIPECToken string
	APIURL, SESURL, KeyDir                                    string // the host, the SES stand-in, the portal tokens' key
	ProviderURL                                               string // the provider stand-in
}

func envFromOS() (env, error) {
	e := env{
		DynamoDBURL: os.Getenv("BENCH_DYNAMODB_URL"), S3URL: os.Getenv("BENCH_S3_URL"),
		Table: os.Getenv("BENCH_TABLE"), Bucket: os.Getenv("BENCH_BUCKET"),
		INIPECURL: os.Getenv("BENCH_INIPEC_URL"), INIPECToken: os.Getenv("BENCH_INIPEC_TOKEN"),
		APIURL: os.Getenv("BENCH_API_URL"), SESURL: os.Getenv("BENCH_SES_URL"), KeyDir: os.Getenv("BENCH_KEY_DIR"),
		ProviderURL: os.Getenv("BENCH_PROVIDER_URL"),
	}
	if e.DynamoDBURL == "" || e.Table == "" {
		return e, fmt.Errorf("BENCH_DYNAMODB_URL and BENCH_TABLE must be set (the driver sets them; run without a subcommand)")
	}
	return e, nil
}

func (e env) vars() []string {
	return []string{"BENCH_DYNAMODB_URL=" + e.DynamoDBURL, "BENCH_S3_URL=" + e.S3URL, "BENCH_TABLE=" + e.Table,
		"BENCH_BUCKET=" + e.Bucket, "BENCH_INIPEC_URL=" + e.INIPECURL, "BENCH_INIPEC_TOKEN=" + e.INIPECToken,
		"BENCH_API_URL=" + e.APIURL, "BENCH_SES_URL=" + e.SESURL, "BENCH_KEY_DIR=" + e.KeyDir, "BENCH_PROVIDER_URL=" + e.ProviderURL}
}

// opCounter counts the requests a client sends, by operation (retries by the SDK not included).
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *opCounter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("benchCountOps",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			c.mu.Lock()
			if c.n == nil {
				c.n = map[string]int{}
			}
			c.n[op]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (c *opCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

func formatOps(ops map[string]int) string {
	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, ops[k]))
	}
	return strings.Join(parts, ", ")
}

func awsConfig(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx, config.WithRegion(region))
}

// newDynamoDB is the client of both the paths and the floors: the same SDK client wire.Store
// builds, pointed straight at DynamoDB Local (not through the host's forwarder).
func newDynamoDB(ctx context.Context, e env, ops *opCounter) (*dynamodb.Client, error) {
	cfg, err := awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(e.DynamoDBURL)
		o.DisableValidateResponseChecksum = true // as wire.Store does locally
		o.APIOptions = append(o.APIOptions, ops.middleware)
	}), nil
}

// newBucket is the platform's bucket as bucket.Files (shared/wire/bucket) builds it, pointed
// straight at moto: an upload through the host would raise the S3 event and run the import job
// in the driver.
func newBucket(ctx context.Context, e env) (*s3files.Bucket, error) {
	cfg, err := awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(e.S3URL)
		o.UsePathStyle = true
		o.Logger = logging.Nop{} // moto's answers carry no checksum: the SDK would say so at DEBUG
	})
	return &s3files.Bucket{API: client, Links: s3links.ForBucket(e.Bucket, cfg.Region, e.S3URL, cfg.Credentials), Name: e.Bucket}, nil
}

func logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
