// Package imports builds the albo imports: ImportsFunction and ImportJobFunction (DynamoDB, the
// files bucket, Lambda).
package imports

import (
	"context"
	"strconv"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/dynamo"
	"github.com/pecplatform/pec/shared/eventapi"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/lambdainvoke"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/bucket"
)

// imports builds the import jobs: DynamoDB, the files bucket, Lambda (the hand-over) -> app.Imports.
func imports(env *wire.Env) (*app.Imports, *dynamo.Store, error) {
	svc, store, err := env.Service()
	if err != nil {
		return nil, nil, err
	}
	files, err := bucket.Files(env)
	if err != nil {
		return nil, nil, err
	}
	chunk, _ := strconv.Atoi(env.Getenv("IMPORT_CHUNK_ROWS"))
	if chunk <= 0 {
		chunk = 500
	}
	panicAfter, _ := strconv.Atoi(env.Getenv("IMPORT_FAULT_PANIC_AFTER_ROWS"))
	reserve, err := env.Seconds("IMPORT_RESERVE_SECONDS", 90*time.Second)
	if err != nil {
		return nil, nil, err
	}
	return &app.Imports{
		Service: svc, Store: store, Uploads: files, Log: env.Log, Now: time.Now,
		Continue:  lambdainvoke.New(env.AWS, env.Getenv("AWS_LAMBDA_FUNCTION_NAME")),
		UploadTTL: time.Hour, Chunk: chunk, Reserve: reserve, PanicAfter: panicAfter,
	}, store, nil
}

// API builds ImportsFunction: app.Imports -> the import routes.
func API(_ context.Context, env *wire.Env) (httpapi.Handler, error) {
	if err := env.Require("ImportsFunction"); err != nil {
		return nil, err
	}
	j, store, err := imports(env)
	if err != nil {
		return nil, err
	}
	return httpapi.Imports(j, env.Log, store).Serve, nil
}

// Job builds ImportJobFunction: app.Imports -> the upload's S3 event and the hand-overs.
func Job(_ context.Context, env *wire.Env) (eventapi.ImportJobHandler, error) {
	if err := env.Require("ImportJobFunction"); err != nil {
		return nil, err
	}
	j, _, err := imports(env)
	if err != nil {
		return nil, err
	}
	return eventapi.ImportJob(j), nil
}
