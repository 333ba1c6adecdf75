// Package lifecycle builds the functions of the mailbox and batch lifecycle: DynamoDB, Step
// Functions, SES, the provider and the Orders' PEC.
package lifecycle

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/dynamo"
	"github.com/pecplatform/pec/shared/eventapi"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/pecmail"

	"github.com/pecplatform/pec/shared/sfnflow"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/reginde"
	"github.com/pecplatform/pec/shared/wire/secrets"
)

// parts are the adapters the lifecycle's functions share, each built when a function first
// needs it: the functions whose use cases send no e-mail (the batches' authorisation and
// payment, the provider's callback) then link neither SES, SMTP nor the notices' templates.
type parts struct {
	env     *wire.Env
	store   *dynamo.Store
	flow    *sfnflow.Flow
	secrets *secrets.Source
	side    providerSide
}

func newParts(env *wire.Env) (*parts, error) {
	store, err := env.Store()
	if err != nil {
		return nil, err
	}
	sec, err := secrets.New(env)
	if err != nil {
		return nil, err
	}
	flow := &sfnflow.Flow{API: sfnflow.NewAPI(sfn.NewFromConfig(env.AWS)),
		BatchARN: env.Getenv("BATCH_STATE_MACHINE_ARN"), MailboxARN: env.Getenv("MAILBOX_STATE_MACHINE_ARN")}
	p := &parts{env: env, store: store, flow: flow, secrets: sec}
	if p.side, err = newProviderSide(env, p); err != nil {
		return nil, err
	}
	return p, nil
}

// provider is the PEC provider of PROVIDER_KIND at PROVIDER_URL (see provider.go).
func (p *parts) provider() app.Provider { return p.side.api }

// orderMail is the platform's PEC mailbox (SMTP), for the notices to Orders, with the password
// of the current secrets.
func (p *parts) orderMail() orderMail {
	g := p.env.Getenv
	return orderMail{secrets: p.secrets, sender: pecmail.Sender{Addr: g("SMTP_ADDR"), From: g("PEC_FROM"),
		Username: g("SMTP_USERNAME"), TLS: g("SMTP_TLS"), Timeout: 20 * time.Second}}
}

// batches are the batches' use cases with the store and the workflow; the functions that send
// the authorisation requests or start renewals add what they need.
func (p *parts) batches() *app.Batches {
	page, _ := strconv.Atoi(p.env.Getenv("START_PAGE_SIZE"))
	repair := time.Hour
	if v, err := strconv.Atoi(p.env.Getenv("BATCH_REPAIR_AFTER_SECONDS")); err == nil && v >= 0 {
		repair = time.Duration(v) * time.Second
	}
	return &app.Batches{Store: p.store, Workflow: p.flow, Log: p.env.Log, Now: time.Now, NewID: app.NewID,
		StartPage: max(page, 100), RepairAfter: repair}
}

// renewals are the renewals' use cases; prov is nil where no mailbox is renewed at the provider
// (gathering a renewal batch tells the provider nothing).
func (p *parts) renewals(prov app.Provider) *app.Renewals {
	page, _ := strconv.Atoi(p.env.Getenv("START_PAGE_SIZE"))
	return &app.Renewals{Store: p.store, Workflow: p.flow, Provider: prov, Log: p.env.Log, Now: time.Now,
		NewID: app.NewID, StartPage: max(page, 100)}
}

func (p *parts) revocations(prov app.Provider) *app.Revocations {
	return &app.Revocations{Store: p.store, Workflow: p.flow, Provider: prov, Now: time.Now}
}

// activations are the member's activation and what follows it: SES for the links (with one
// attempt: SES has no idempotency token, and a retry after a lost answer would send the same
// link twice; the workflow's retry sends a new one), the Orders' PEC, ReGIndE, and the
// provider (a mailbox declined after its workflow ended is closed from here).
func (p *parts) activations() (*app.Activations, *app.OrderNotices, error) {
	ttl, err := p.env.Seconds("ACTIVATION_TTL_SECONDS", 14*24*time.Hour)
	if err != nil {
		return nil, nil, err
	}
	rg, err := reginde.New(p.env, p.store, reginde.MemberMail(p.env, p.store, false))
	if err != nil {
		return nil, nil, err
	}
	notices := &app.OrderNotices{Store: p.store, OrderMail: p.orderMail()}
	a := &app.Activations{Store: p.store, Workflow: p.flow, ActivationMail: reginde.MemberMail(p.env, p.store, true),
		Notices: notices, Revocations: p.revocations(p.provider()), Reginde: rg, Log: p.env.Log, Now: time.Now, PublicURL: p.env.PublicURL(),
		ActivationTTL: ttl, Crash: p.env.Crash, Metrics: p.env.Metrics(), Access: p.side.access,
		WelcomeMail: reginde.MemberMail(p.env, p.store, false)}
	return a, notices, nil
}

// Batches builds BatchesFunction: DynamoDB, Step Functions -> app.Batches, app.Renewals -> the
// batches' and renewals' routes.
func Batches(_ context.Context, env *wire.Env) (httpapi.Handler, error) {
	if err := env.Require("BatchesFunction"); err != nil {
		return nil, err
	}
	p, err := newParts(env)
	if err != nil {
		return nil, err
	}
	return httpapi.Batches(p.batches(), p.renewals(nil), &app.Federation{Store: p.store}, env.Log, p.store).Serve, nil
}

// MailboxActions builds MailboxActionsFunction: DynamoDB, Step Functions, the provider, SES, the
// Orders' PEC -> app.Revocations, app.Activations, app.Corrections -> revocation, a fresh link,
// cancellation, corrections.
func MailboxActions(_ context.Context, env *wire.Env) (httpapi.Handler, error) {
	if err := env.Require("MailboxActionsFunction"); err != nil {
		return nil, err
	}
	p, err := newParts(env)
	if err != nil {
		return nil, err
	}
	act, _, err := p.activations()
	if err != nil {
		return nil, err
	}
	policy, err := suspensionPolicy(env)
	if err != nil {
		return nil, err
	}
	rv := p.revocations(p.provider())
	su := &app.Suspensions{Store: p.store, Revocations: rv, Policy: policy, Now: time.Now}
	fix := &app.Corrections{Store: p.store, Domains: env.Domains, Activations: act, Revocations: rv, Suspensions: su, Now: time.Now}
	tr := &app.Transfers{Store: p.store, Now: time.Now}
	return httpapi.MailboxActions(rv, act, fix, tr, su, env.Log, p.store).Serve, nil
}

// Activation builds ActivationFunction: DynamoDB, Step Functions, SES, the Orders' PEC ->
// app.Activations -> the member's activation page.
func Activation(_ context.Context, env *wire.Env) (httpapi.Handler, error) {
	if err := env.Require("ActivationFunction"); err != nil {
		return nil, err
	}
	p, err := newParts(env)
	if err != nil {
		return nil, err
	}
	act, _, err := p.activations()
	if err != nil {
		return nil, err
	}
	activation := httpapi.Activation(act, env.Log)
	sig := p.signatures()
	if sig == nil { // no signing page with this provider
		return func(ctx context.Context, r httpapi.Request) (httpapi.Response, error) {
			if strings.Contains(r.RouteKey, " /firma/") {
				return httpapi.NotFoundPage(), nil
			}
			return activation(ctx, r)
		}, nil
	}
	// With a provider that activates only with its form signed by the holder, the signing page.
	signing := httpapi.Signing(sig, env.Log).Serve
	return func(ctx context.Context, r httpapi.Request) (httpapi.Response, error) {
		if strings.Contains(r.RouteKey, " /firma/") {
			return signing(ctx, r)
		}
		return activation(ctx, r)
	}, nil
}

// BatchTask builds BatchTaskFunction: DynamoDB, Step Functions, the Orders' PEC, the provider
// (renewals) -> app.Batches -> the batch workflow's tasks.
func BatchTask(_ context.Context, env *wire.Env) (eventapi.BatchHandler, error) {
	if err := env.Require("BatchTaskFunction"); err != nil {
		return nil, err
	}
	p, err := newParts(env)
	if err != nil {
		return nil, err
	}
	b := p.batches()
	b.OrderMail = p.orderMail()
	b.Renewals = p.renewals(p.provider())
	return eventapi.Batch(b, env.Log), nil
}

// MailboxTask builds MailboxTaskFunction: DynamoDB, Step Functions, the provider, SES, the
// Orders' PEC, links to the members' documents -> app.Provisioning, app.Activations,
// app.OrderNotices, app.Revocations -> the mailbox workflow's tasks. It alone hands the
// members' documents to the provider (DOCUMENTS_BUCKET), as links it signs itself: no S3 client.
func MailboxTask(_ context.Context, env *wire.Env) (eventapi.MailboxHandler, error) {
	if err := env.Require("MailboxTaskFunction"); err != nil {
		return nil, err
	}
	p, err := newParts(env)
	if err != nil {
		return nil, err
	}
	act, notices, err := p.activations()
	if err != nil {
		return nil, err
	}
	prov := p.provider()
	provisioning := p.provisioning()
	days, err := env.Int("PROVIDER_DOCUMENT_DAYS", 30)
	if err != nil {
		return nil, err
	}
	provisioning.Documents = &app.ProviderDocumentLinks{Store: p.store, BaseURL: strings.TrimRight(env.Getenv("PUBLIC_URL"), "/"),
		TTL: time.Duration(days) * 24 * time.Hour, Now: time.Now}
	return eventapi.Mailbox(eventapi.MailboxTasks{Provisioning: provisioning, Activations: act, Notices: notices,
		Revocations: p.revocations(prov)}, env.Log), nil
}

// BatchSchedule builds BatchScheduleFunction: DynamoDB, Step Functions -> app.Batches -> the
// periodic batching and repair.
func BatchSchedule(_ context.Context, env *wire.Env) (eventapi.ScheduleHandler, error) {
	if err := env.Require("BatchScheduleFunction"); err != nil {
		return nil, err
	}
	p, err := newParts(env)
	if err != nil {
		return nil, err
	}
	return eventapi.Schedule(p.batches()), nil
}

// Expiry builds ExpiryFunction: DynamoDB, Step Functions, the provider, SES -> app.Expiry (with
// app.Renewals and app.Revocations) -> the daily reminders and revocations of expiring
// mailboxes (EXPIRY_REMINDER_DAYS, default 90,30,7).
func Expiry(_ context.Context, env *wire.Env) (eventapi.ExpiryHandler, error) {
	if err := env.Require("ExpiryFunction"); err != nil {
		return nil, err
	}
	p, err := newParts(env)
	if err != nil {
		return nil, err
	}
	spec := env.Getenv("EXPIRY_REMINDER_DAYS")
	if spec == "" {
		spec = "90,30,7"
	}
	days, err := domain.ParseReminderDays(spec)
	if err != nil {
		return nil, err
	}
	allowAsOf, _ := strconv.ParseBool(env.Getenv("EXPIRY_AS_OF_ALLOWED"))
	prov := p.provider()
	e := &app.Expiry{Store: p.store, Renewals: p.renewals(prov), Revocations: p.revocations(prov),
		MemberMail: reginde.MemberMail(env, p.store, false), Log: env.Log, ReminderDays: days}
	abandonDays, err := env.Int("REQUEST_ABANDON_DAYS", 30)
	if err != nil {
		return nil, err
	}
	ab := &app.AbandonedRequests{Store: p.store, Revocations: e.Revocations, MemberMail: e.MemberMail,
		After: time.Duration(abandonDays) * 24 * time.Hour, Log: env.Log, Now: time.Now}
	policy, err := suspensionPolicy(env)
	if err != nil {
		return nil, err
	}
	su := &app.Suspensions{Store: p.store, Revocations: e.Revocations, Policy: policy, Now: time.Now}
	return eventapi.Expiry(e, ab, su, p.store, time.Now, allowAsOf), nil
}

// suspensionPolicy reads SUSPENSION_POLICY (keep when unset: the template always sets it).
func suspensionPolicy(env *wire.Env) (domain.SuspensionPolicy, error) {
	v := env.Getenv("SUSPENSION_POLICY")
	if v == "" {
		return domain.SuspendKeep, nil
	}
	p, ok := domain.ParseSuspensionPolicy(v)
	if !ok {
		return "", fmt.Errorf("SUSPENSION_POLICY %q: want keep, unpublish or revoke", v)
	}
	return p, nil
}
