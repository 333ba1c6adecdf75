package wire

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
)

// newReginde builds the ReGIndE use cases on the store and the members' mailer.
func newReginde(store *dynamo.Store, mail app.Mailer, log *slog.Logger, getenv Getenv) (*app.Reginde, error) {
	ttl, err := durationEnv(getenv, "REGINDE_TTL_SECONDS", 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	return &app.Reginde{Store: store, Mail: mail, Log: log, Now: time.Now,
		PublicURL: strings.TrimRight(getenv("PUBLIC_URL"), "/"), LinkTTL: ttl}, nil
}

// reginde builds the ReGIndE use cases with the real adapters; unlike the lifecycle, they need
// no secrets.
func reginde(ctx context.Context, getenv Getenv) (*app.Reginde, *dynamo.Store, error) {
	store, err := Store(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	mail := &sesmail.Sender{API: sesv2.NewFromConfig(cfg), From: getenv("SES_FROM"), ConfigurationSet: getenv("SES_CONFIGURATION_SET")}
	r, err := newReginde(store, mail, Logger(getenv), getenv)
	return r, store, err
}

// Reginde builds RegindeFunction's handler: the Order's list of its CTU members and reminders.
func Reginde(ctx context.Context, getenv func(string) string) (any, error) {
	r, store, err := reginde(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.Reginde(r, r.Log, store).Serve, nil
}

// RegindePage builds RegindePageFunction's handler: the CTU's confirmation page.
func RegindePage(ctx context.Context, getenv func(string) string) (any, error) {
	r, _, err := reginde(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.RegindePage(r, r.Log), nil
}
