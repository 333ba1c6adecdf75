// Package inipecsync builds the INI-PEC delivery: INIPECSyncFunction and INIPECFunction
// (DynamoDB, the files bucket, the platform's secrets, Lambda).
package inipecsync

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/dynamo"
	"github.com/pecplatform/pec/shared/eventapi"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/inipec"
	"github.com/pecplatform/pec/shared/inipecupload"
	"github.com/pecplatform/pec/shared/lambdainvoke"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/bucket"
	"github.com/pecplatform/pec/shared/wire/secrets"
)

// sync builds the INI-PEC sync: DynamoDB, the files bucket (the archive), the INI-PEC
// uploader -> app.INIPEC.
func sync(env *wire.Env) (*app.INIPEC, *dynamo.Store, error) {
	store, err := env.Store()
	if err != nil {
		return nil, nil, err
	}
	files, err := bucket.Files(env)
	if err != nil {
		return nil, nil, err
	}
	format, err := inipec.FormatFromEnv(env.Getenv)
	if err != nil {
		return nil, nil, err
	}
	sec, err := secrets.New(env)
	if err != nil {
		return nil, nil, err
	}
	settle, err := env.Seconds("INIPEC_SETTLE_SECONDS", 10*time.Minute)
	if err != nil {
		return nil, nil, err
	}
	return &app.INIPEC{
		Store: store, Archive: files, Format: format, Log: env.Log, Now: time.Now, Settle: settle, Metrics: env.Metrics(),
		Deliver: uploader{url: env.Getenv("INIPEC_URL"), secrets: sec},
	}, store, nil
}

// Sync builds INIPECSyncFunction: app.INIPEC -> the daily delta of every Order, or, when
// invoked with {"fullExport": "<orderId>"}, a full export of one Order.
func Sync(_ context.Context, env *wire.Env) (eventapi.INIPECSyncHandler, error) {
	if err := env.Require("INIPECSyncFunction"); err != nil {
		return nil, err
	}
	s, store, err := sync(env)
	if err != nil {
		return nil, err
	}
	return eventapi.INIPECSync(s, store), nil
}

// API builds INIPECFunction: app.INIPEC, Lambda (the export runs in the sync function) -> the
// delivery history and exports.
func API(_ context.Context, env *wire.Env) (httpapi.Handler, error) {
	if err := env.Require("INIPECFunction"); err != nil {
		return nil, err
	}
	s, store, err := sync(env)
	if err != nil {
		return nil, err
	}
	return httpapi.INIPEC(s, store, lambdainvoke.New(env.AWS, env.Getenv("INIPEC_SYNC_FUNCTION")), env.Log, store).Serve, nil
}

// uploader delivers to INI-PEC with the bearer token of the current secrets, so that a token
// filled in or rotated in PlatformSecrets is used by warm functions within the secrets' TTL.
type uploader struct {
	url     string
	secrets *secrets.Source
}

var _ app.Deliverer = uploader{}

func (u uploader) Deliver(ctx context.Context, name string, size int64, open func() (io.ReadCloser, error)) error {
	sec, err := u.secrets.Get(ctx)
	if err != nil {
		return fmt.Errorf("the INI-PEC token: %w", err)
	}
	return inipecupload.HTTPUploader{BaseURL: u.url, Token: sec.INIPECToken}.Deliver(ctx, name, size, open)
}
