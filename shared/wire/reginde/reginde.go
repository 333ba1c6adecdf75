// Package reginde builds the ReGIndE functions (DynamoDB and SES) and the ReGIndE use cases the
// lifecycle shares.
package reginde

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/dynamo"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/sesmail"
	"github.com/pecplatform/pec/shared/wire"
)

// New builds the ReGIndE use cases on the store and the members' mailer.
func New(store *dynamo.Store, mail app.Mailer, log *slog.Logger, getenv wire.Getenv) (*app.Reginde, error) {
	ttl, err := wire.DurationEnv(getenv, "REGINDE_TTL_SECONDS", 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	return &app.Reginde{Store: store, Mail: mail, Log: log, Now: time.Now,
		PublicURL: strings.TrimRight(getenv("PUBLIC_URL"), "/"), LinkTTL: ttl}, nil
}

// build builds the ReGIndE use cases with the real adapters; unlike the lifecycle, they need
// no secrets.
func build(ctx context.Context, getenv wire.Getenv) (*app.Reginde, *dynamo.Store, error) {
	store, err := wire.Store(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := wire.AWSConfig(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	mail := &sesmail.Sender{API: sesmail.NewAPI(sesv2.NewFromConfig(cfg)), From: getenv("SES_FROM"), ConfigurationSet: getenv("SES_CONFIGURATION_SET")}
	r, err := New(store, mail, wire.Logger(getenv), getenv)
	return r, store, err
}

// API builds RegindeFunction's handler: the Order's list of its CTU members and reminders.
func API(ctx context.Context, getenv func(string) string) (any, error) {
	r, store, err := build(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.Reginde(r, r.Log, store).Serve, nil
}

// Page builds RegindePageFunction's handler: the CTU's confirmation page.
func Page(ctx context.Context, getenv func(string) string) (any, error) {
	r, _, err := build(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.RegindePage(r, r.Log), nil
}
