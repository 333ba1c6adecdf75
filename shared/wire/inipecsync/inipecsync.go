// Package inipecsync builds the INI-PEC delivery: INIPECSyncFunction and INIPECFunction
// (DynamoDB, the files bucket, the platform's secrets, Lambda).
package inipecsync

import (
	"context"
	"encoding/json"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/inipec"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/bucket"
	"github.com/pecplatform/pec/shared/wire/invoke"
	"github.com/pecplatform/pec/shared/wire/secrets"
)

// New builds the INI-PEC sync with the real adapters.
func New(ctx context.Context, getenv wire.Getenv) (*app.INIPEC, error) {
	store, err := wire.Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	files, err := bucket.Files(ctx, getenv)
	if err != nil {
		return nil, err
	}
	format, err := inipec.FormatFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	sec, err := secrets.Load(ctx, getenv)
	if err != nil {
		return nil, err
	}
	settle, err := wire.DurationEnv(getenv, "INIPEC_SETTLE_SECONDS", 10*time.Minute)
	if err != nil {
		return nil, err
	}
	return &app.INIPEC{
		Store: store, Archive: files, Format: format, Log: wire.Logger(getenv), Now: time.Now, Settle: settle,
		Deliver: &inipec.HTTPUploader{BaseURL: getenv("INIPEC_URL"), Token: sec.INIPECToken},
	}, nil
}

// Sync builds INIPECSyncFunction's handler: the daily delta of every Order, or, when invoked
// with {"fullExport": "<orderId>"}, a full export of one Order.
func Sync(ctx context.Context, getenv func(string) string) (any, error) {
	s, err := New(ctx, getenv)
	if err != nil {
		return nil, err
	}
	store, err := wire.Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var in struct {
			FullExport string `json:"fullExport"`
		}
		_ = json.Unmarshal(raw, &in)
		if in.FullExport != "" {
			return s.FullExport(ctx, store, in.FullExport)
		}
		return s.Sync(ctx)
	}, nil
}

// API builds INIPECFunction's handler: the delivery history.
func API(ctx context.Context, getenv func(string) string) (any, error) {
	s, err := New(ctx, getenv)
	if err != nil {
		return nil, err
	}
	store, err := wire.Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := wire.AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.INIPEC(s, store, invoke.New(cfg, getenv("INIPEC_SYNC_FUNCTION")), s.Log, store).Serve, nil
}
