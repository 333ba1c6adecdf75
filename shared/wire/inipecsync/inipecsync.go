// Package inipecsync builds the INI-PEC delivery: INIPECSyncFunction and INIPECFunction
// (DynamoDB, the files bucket, the platform's secrets, Lambda).
package inipecsync

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/dynamo"
	"github.com/pecplatform/pec/shared/eventapi"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/inipec"
	"github.com/pecplatform/pec/shared/inipecupload"
	"github.com/pecplatform/pec/shared/lambdainvoke"
	"github.com/pecplatform/pec/shared/notice"
	"github.com/pecplatform/pec/shared/pecmail"
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
	s := &app.INIPEC{
		Store: store, Archive: files, Format: format, Log: env.Log, Now: time.Now, Settle: settle, Metrics: env.Metrics(),
		Deliver: uploader{url: env.Getenv("INIPEC_URL"), secrets: sec}, NoChange: env.Getenv("INIPEC_NO_CHANGE"),
	}
	s.Confirm = s.Deliver.(uploader)
	// The PEC channel: the file attached to a PEC, through the platform's PEC mailbox.
	viaPEC := inipecupload.PEC{To: cmp.Or(env.Getenv("INIPEC_PEC_ADDRESS"), DefaultPECAddress), Mail: pecMail{secrets: sec,
		sender: pecmail.Sender{Addr: env.Getenv("SMTP_ADDR"), From: env.Getenv("PEC_FROM"), Username: env.Getenv("SMTP_USERNAME"),
			TLS: env.Getenv("SMTP_TLS"), Timeout: 30 * time.Second}}}
	switch ch := env.Getenv("INIPEC_CHANNEL"); ch {
	case "", "upload":
	case "pec":
		s.Deliver = viaPEC
	default:
		return nil, nil, fmt.Errorf("INIPEC_CHANNEL is %q: want upload or pec", ch)
	}
	switch s.NoChange {
	case "", app.NoChangeEmptyFile, app.NoChangeCall, app.NoChangeNone:
	case app.NoChangePEC:
		s.Confirm = viaPEC
	default:
		return nil, nil, fmt.Errorf("INIPEC_NO_CHANGE is %q: want empty-file, call, pec or none", s.NoChange)
	}
	// Who transmits: each Order's file, sent by the platform by the channel (order); one file a
	// day for all the Orders, from the federation (federation); or each Order itself, which gets
	// its file (and its no-change reminders) by PEC to forward to INI-PEC (order-relay).
	s.Federation = cmp.Or(env.Getenv("INIPEC_FEDERATION_ID"), app.DefaultFederation)
	switch sender := env.Getenv("INIPEC_SENDER"); sender {
	case "", app.SenderOrder:
	case app.SenderFederation:
		s.Sender = app.SenderFederation
	case SenderOrderRelay:
		relay := inipecupload.OrderRelay{Mail: viaPEC.Mail, Orders: store, INIPEC: viaPEC.To}
		s.Deliver, s.Confirm = relay, relay
		if s.NoChange == "" || s.NoChange == app.NoChangeEmptyFile || s.NoChange == app.NoChangeCall {
			s.NoChange = app.NoChangePEC // the Order confirms by its own PEC
		}
	default:
		return nil, nil, fmt.Errorf("INIPEC_SENDER is %q: want order, federation or order-relay", sender)
	}
	if !federationID.MatchString(s.Federation) {
		return nil, nil, fmt.Errorf("INIPEC_FEDERATION_ID must be 1 to 40 of A-Z, 0-9 and '-'")
	}
	return s, store, nil
}

// SenderOrderRelay (INIPEC_SENDER order-relay): each Order transmits from its own PEC; the
// platform sends the Order its file to forward.
const SenderOrderRelay = "order-relay"

var federationID = regexp.MustCompile(`^[A-Z0-9-]{1,40}$`)

// DefaultPECAddress is where INI-PEC took the Orders' files by PEC (MiSE note of 15/5/2013).
const DefaultPECAddress = "aggiornamento@cert.inipec.gov.it"

// pecMail is the platform's PEC mailbox with the SMTP password of the current secrets.
type pecMail struct {
	sender  pecmail.Sender
	secrets *secrets.Source
}

var _ app.Mailer = pecMail{}

func (m pecMail) Send(ctx context.Context, to string, msg notice.Message) (string, error) {
	sec, err := m.secrets.Get(ctx)
	if err != nil {
		return "", fmt.Errorf("the SMTP password: %w", err)
	}
	s := m.sender
	s.Password = sec.SMTPPassword
	return s.Send(ctx, to, msg)
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

var _ app.Confirmer = uploader{}

// Confirm confirms a day without changes by a call, with the current token.
func (u uploader) Confirm(ctx context.Context, orderID, name string, day time.Time) error {
	sec, err := u.secrets.Get(ctx)
	if err != nil {
		return fmt.Errorf("the INI-PEC token: %w", err)
	}
	return inipecupload.HTTPUploader{BaseURL: u.url, Token: sec.INIPECToken}.Confirm(ctx, orderID, name, day)
}
