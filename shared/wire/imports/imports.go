// Package imports builds the albo imports: ImportsFunction and ImportJobFunction (DynamoDB, the
// files bucket, Lambda).
package imports

import (
	"context"
	"strconv"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/eventapi"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/bucket"
	"github.com/pecplatform/pec/shared/wire/invoke"
)

// New builds the import jobs with the real adapters.
func New(ctx context.Context, getenv wire.Getenv) (*app.Imports, error) {
	store, err := wire.Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	files, err := bucket.Files(ctx, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := wire.AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	domains, err := wire.AlboDomains(getenv)
	if err != nil {
		return nil, err
	}
	chunk, _ := strconv.Atoi(getenv("IMPORT_CHUNK_ROWS"))
	if chunk <= 0 {
		chunk = 500
	}
	panicAfter, _ := strconv.Atoi(getenv("IMPORT_FAULT_PANIC_AFTER_ROWS"))
	reserve, err := wire.DurationEnv(getenv, "IMPORT_RESERVE_SECONDS", 90*time.Second)
	if err != nil {
		return nil, err
	}
	return &app.Imports{
		Service: app.New(store, domains), Store: store, Uploads: files, Log: wire.Logger(getenv), Now: time.Now,
		Continue:  invoke.New(cfg, getenv("AWS_LAMBDA_FUNCTION_NAME")),
		UploadTTL: time.Hour, Chunk: chunk, Reserve: reserve, PanicAfter: panicAfter,
	}, nil
}

// API builds ImportsFunction's handler.
func API(ctx context.Context, getenv func(string) string) (any, error) {
	j, err := New(ctx, getenv)
	if err != nil {
		return nil, err
	}
	store, err := wire.Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.Imports(j, j.Log, store).Serve, nil
}

// Job builds ImportJobFunction's handler.
func Job(ctx context.Context, getenv func(string) string) (any, error) {
	j, err := New(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return eventapi.ImportJob(j), nil
}
