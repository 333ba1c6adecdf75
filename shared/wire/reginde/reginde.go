// Package reginde builds the ReGIndE functions (DynamoDB and SES) and the ReGIndE use cases the
// lifecycle shares.
package reginde

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/dynamo"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/sesmail"
	"github.com/pecplatform/pec/shared/wire"
)

// New builds the ReGIndE use cases on the store and the members' mailer.
func New(env *wire.Env, store *dynamo.Store, mail app.Mailer) (*app.Reginde, error) {
	ttl, err := env.Seconds("REGINDE_TTL_SECONDS", 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	return &app.Reginde{Store: store, Mail: mail, Log: env.Log, Now: time.Now, PublicURL: env.PublicURL(), LinkTTL: ttl}, nil
}

// MemberMail is the members' ordinary e-mail (SES v2, with the configuration set whose events
// tell bounces and complaints), withheld from an address that bounced or complained and
// recorded under its message id. once sends with one attempt, for messages that must never go
// twice.
func MemberMail(env *wire.Env, store *dynamo.Store, once bool) app.Mailer {
	ses := &sesmail.Sender{API: sesmail.NewAPI(sesv2.NewFromConfig(env.AWS)), From: env.Getenv("SES_FROM"),
		ConfigurationSet: env.Getenv("SES_CONFIGURATION_SET"), Once: once}
	return &app.TrackedMail{Next: ses, Store: store, Log: env.Log, Now: time.Now}
}

// reginde builds the ReGIndE use cases: DynamoDB, SES -> app.Reginde. Unlike the lifecycle,
// they need no secrets.
func reginde(env *wire.Env) (*app.Reginde, *dynamo.Store, error) {
	store, err := env.Store()
	if err != nil {
		return nil, nil, err
	}
	r, err := New(env, store, MemberMail(env, store, false))
	return r, store, err
}

// API builds RegindeFunction: app.Reginde -> the Order's CTU list and reminders.
func API(_ context.Context, env *wire.Env) (httpapi.Handler, error) {
	if err := env.Require("RegindeFunction"); err != nil {
		return nil, err
	}
	r, store, err := reginde(env)
	if err != nil {
		return nil, err
	}
	return httpapi.Reginde(r, env.Log, store).Serve, nil
}

// Page builds RegindePageFunction: app.Reginde -> the CTU's confirmation page.
func Page(_ context.Context, env *wire.Env) (httpapi.Handler, error) {
	if err := env.Require("RegindePageFunction"); err != nil {
		return nil, err
	}
	r, _, err := reginde(env)
	if err != nil {
		return nil, err
	}
	return httpapi.RegindePage(r, env.Log), nil
}
