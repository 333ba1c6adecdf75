// Package eventapi is the platform's non-HTTP edge: the handlers that Step Functions tasks,
// schedules, S3 notifications and other functions invoke. Each returns the lifecycle's
// named errors unwrapped: their Go type name is the error Step Functions matches.
package eventapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// Event is a task's payload, as the state machines' Parameters build it.
type Event struct {
	Action    string `json:"action"`
	BatchID   string `json:"batchId,omitempty"`
	MailboxID string `json:"mailboxId,omitempty"`
	Token     string `json:"token,omitempty"`
	Cursor    string `json:"cursor,omitempty"`
	Reminder  int    `json:"reminder,omitempty"`
	Notice    string `json:"notice,omitempty"`
	Execution string `json:"execution,omitempty"` // the execution's name, for the logs
}

// logged runs a task and logs it with the ids that tie it to its execution and mailbox or
// batch (never a token).
func logged[T any](ctx context.Context, log *slog.Logger, e Event, run func() (T, error)) (T, error) {
	start := time.Now()
	out, err := run()
	attrs := []any{"action", e.Action, "execution", e.Execution, "mailboxId", e.MailboxID, "batchId", e.BatchID,
		"ms", time.Since(start).Milliseconds()}
	if err != nil {
		log.WarnContext(ctx, "task failed", append(attrs, "error", err.Error(), "errorType", fmt.Sprintf("%T", err))...)
	} else {
		log.InfoContext(ctx, "task", attrs...)
	}
	return out, err
}

// Page is where StartMailboxes stopped.
type Page struct {
	Cursor string `json:"cursor"`
	Done   bool   `json:"done"`
}

// UnknownAction is a payload no state machine sends.
type UnknownAction struct{ Action string }

func (e *UnknownAction) Error() string { return fmt.Sprintf("unknown action %q", e.Action) }

// BatchHandler is BatchTaskFunction's handler: the batch workflow's tasks.
type BatchHandler func(context.Context, Event) (*Page, error)

// Batch returns BatchTaskFunction's handler.
func Batch(b *app.Batches, log *slog.Logger) BatchHandler {
	return func(ctx context.Context, e Event) (*Page, error) {
		return logged(ctx, log, e, func() (*Page, error) { return batchTask(ctx, b, e) })
	}
}

func batchTask(ctx context.Context, b *app.Batches, e Event) (*Page, error) {
	switch e.Action {
	case "await":
		return nil, b.AwaitAuthorization(ctx, e.BatchID, e.Token)
	case "start":
		next, err := b.StartMailboxes(ctx, e.BatchID, e.Cursor)
		if err != nil {
			return nil, err
		}
		return &Page{Cursor: next, Done: next == ""}, nil
	}
	return nil, &UnknownAction{e.Action}
}

// MailboxTasks are the use cases the mailbox workflow's tasks run.
type MailboxTasks struct {
	Provisioning *app.Provisioning
	Activations  *app.Activations
	Notices      *app.OrderNotices
	Revocations  *app.Revocations
}

// MailboxHandler is MailboxTaskFunction's handler: the mailbox workflow's tasks.
type MailboxHandler func(context.Context, Event) (json.RawMessage, error)

// Mailbox returns MailboxTaskFunction's handler.
func Mailbox(t MailboxTasks, log *slog.Logger) MailboxHandler {
	done := json.RawMessage(`{}`)
	return func(ctx context.Context, e Event) (json.RawMessage, error) {
		return logged(ctx, log, e, func() (json.RawMessage, error) { return mailboxTask(ctx, t, e, done) })
	}
}

func mailboxTask(ctx context.Context, t MailboxTasks, e Event, done json.RawMessage) (json.RawMessage, error) {
	var err error
	switch e.Action {
	case "submit":
		err = t.Provisioning.SubmitMailbox(ctx, e.MailboxID, e.BatchID, e.Token)
	case "activation":
		err = t.Activations.SendActivation(ctx, e.MailboxID, e.Token, e.Reminder)
	case "activated":
		err = t.Activations.Activated(ctx, e.MailboxID)
	case "notify":
		err = t.Notices.NotifyOrder(ctx, app.NoticeKind(e.Notice), e.MailboxID)
	case "deactivate":
		err = t.Revocations.DeactivateAtProvider(ctx, e.MailboxID)
	default:
		err = &UnknownAction{e.Action}
	}
	if err != nil {
		return nil, err
	}
	return done, nil
}

// ScheduleResult is what a scheduled run reports.
type ScheduleResult struct {
	BatchesCreated  int `json:"batchesCreated"`
	BatchesRepaired int `json:"batchesRepaired"`
}

// ScheduleHandler is BatchScheduleFunction's handler: the periodic gathering of new enrolments.
type ScheduleHandler func(context.Context, json.RawMessage) (*ScheduleResult, error)

// Schedule returns BatchScheduleFunction's handler.
func Schedule(b *app.Batches) ScheduleHandler {
	return func(ctx context.Context, _ json.RawMessage) (*ScheduleResult, error) {
		created, repaired, err := b.RunBatching(ctx)
		return &ScheduleResult{BatchesCreated: created, BatchesRepaired: repaired}, err
	}
}

// importEvent is what starts or continues an import job: the S3 event of the upload, or a
// run's hand-over to the next.
type importEvent struct {
	Records []struct {
		S3 struct {
			Object struct {
				Key string `json:"key"`
			} `json:"object"`
		} `json:"s3"`
	} `json:"Records"`
	ImportID string `json:"importId"`
}

// ImportJobHandler is ImportJobFunction's handler: an upload's S3 event, or a run's hand-over.
type ImportJobHandler func(context.Context, json.RawMessage) error

// ImportJob returns ImportJobFunction's handler.
func ImportJob(j *app.Imports) ImportJobHandler {
	return func(ctx context.Context, raw json.RawMessage) error {
		var ev importEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("import job event: %w", err)
		}
		owner := "local"
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			owner = lc.AwsRequestID
		}
		ids := []string{}
		if ev.ImportID != "" {
			ids = append(ids, ev.ImportID)
		}
		for _, r := range ev.Records {
			key, err := url.QueryUnescape(r.S3.Object.Key) // S3 event keys are URL-encoded
			if err != nil {
				return err
			}
			if id, ok := app.ImportIDOfKey(key); ok {
				ids = append(ids, id)
			}
		}
		for _, id := range ids {
			if err := j.Run(ctx, id, owner); err != nil {
				return err
			}
		}
		return nil
	}
}

// ExpiryDateNotAllowed is an expiry run asked to act as of another day where that is switched
// off (everywhere but local tests: it would revoke mailboxes early).
type ExpiryDateNotAllowed struct{}

func (*ExpiryDateNotAllowed) Error() string {
	return "asOf is only accepted when EXPIRY_AS_OF_ALLOWED is true (local tests)"
}

// ExpiryHandler is ExpiryFunction's handler.
type ExpiryHandler func(context.Context, json.RawMessage) (*app.ExpiryResult, error)

// Expiry returns ExpiryFunction's handler: the daily run, for today in Italy. Where allowAsOf is set
// (local tests), an event {"asOf": "YYYY-MM-DD"} runs it as of that day instead, so that a test
// need not wait years.
func Expiry(e *app.Expiry, ab *app.AbandonedRequests, su *app.Suspensions, ending app.SuspensionEndStore, now func() time.Time, allowAsOf bool) ExpiryHandler {
	return func(ctx context.Context, raw json.RawMessage) (*app.ExpiryResult, error) {
		var in struct {
			AsOf string `json:"asOf"`
		}
		_ = json.Unmarshal(raw, &in) // a schedule's event has no asOf
		today := domain.Today(now())
		if in.AsOf != "" {
			if !allowAsOf {
				return nil, &ExpiryDateNotAllowed{}
			}
			d, err := domain.ParseDate(in.AsOf)
			if err != nil {
				return nil, fmt.Errorf("asOf: %w", err)
			}
			today = d
		}
		res, err := e.Run(ctx, today)
		if err != nil || ab == nil {
			return res, err
		}
		// The unpaid requests, on the same clock (asOf moves it, locally).
		run := *ab
		if in.AsOf != "" {
			at := today.Add(12 * time.Hour)
			run.Now = func() time.Time { return at }
		}
		ar, err := run.Run(ctx)
		res.Requests = &ar
		if err != nil || su == nil {
			return res, err
		}
		res.Reinstated, err = su.EndDue(ctx, ending, today)
		return res, err
	}
}

// INIPECSyncOutput is what an INI-PEC run reports: the daily delta's result, or a full export's
// delivery (the other is nil and absent from the JSON).
type INIPECSyncOutput struct {
	*app.SyncResult
	*app.Delivery
}

// INIPECSyncHandler is INIPECSyncFunction's handler.
type INIPECSyncHandler func(context.Context, json.RawMessage) (*INIPECSyncOutput, error)

// INIPECSync returns INIPECSyncFunction's handler: the daily delta of every Order (the
// schedule), or, invoked with {"fullExport": "<orderId>"}, a full export of one Order.
func INIPECSync(s *app.INIPEC, store app.FullStore) INIPECSyncHandler {
	return func(ctx context.Context, raw json.RawMessage) (*INIPECSyncOutput, error) {
		var in struct {
			FullExport string `json:"fullExport"`
		}
		_ = json.Unmarshal(raw, &in) // a schedule's event has no fullExport
		if in.FullExport != "" {
			d, err := s.FullExport(ctx, store, in.FullExport)
			return &INIPECSyncOutput{Delivery: d}, err
		}
		r, err := s.Sync(ctx)
		return &INIPECSyncOutput{SyncResult: r}, err
	}
}

// ProviderPollHandler is ProviderPollFunction's handler.
type ProviderPollHandler func(context.Context, json.RawMessage) (*app.PollReport, error)

// ProviderPoll returns ProviderPollFunction's handler: one run over the mailboxes waiting on a
// provider that is asked rather than calling back. r is nil for a provider that calls back:
// then a run asks nothing.
func ProviderPoll(r *app.ProviderPolls) ProviderPollHandler {
	return func(ctx context.Context, _ json.RawMessage) (*app.PollReport, error) {
		if r == nil {
			return &app.PollReport{}, nil
		}
		rep, err := r.Run(ctx)
		return &rep, err
	}
}

// QuotaWatchHandler is QuotaWatchFunction's handler.
type QuotaWatchHandler func(context.Context, json.RawMessage) (*app.QuotaReport, error)

// QuotaWatch returns QuotaWatchFunction's handler: the weekly look at how full the active
// mailboxes are. w is nil for a provider that does not tell: then a run asks nothing.
func QuotaWatch(w *app.QuotaWatch) QuotaWatchHandler {
	return func(ctx context.Context, _ json.RawMessage) (*app.QuotaReport, error) {
		if w == nil {
			return &app.QuotaReport{}, nil
		}
		rep, err := w.Run(ctx)
		return &rep, err
	}
}

// EmailEventsHandler is EmailEventsFunction's: SES's bounce and complaint events, through
// EventBridge, and the daily schedule of the Orders' digest.
type EmailEventsHandler func(context.Context, json.RawMessage) (*app.DigestResult, error)

// sesEvent is an EventBridge event: SES's (source aws.ses, detail the SES event) or the
// schedule's (detail-type Scheduled Event).
type sesEvent struct {
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	Detail     struct {
		EventType string `json:"eventType"`
		Mail      struct {
			MessageID string              `json:"messageId"`
			Tags      map[string][]string `json:"tags"`
		} `json:"mail"`
		Bounce struct {
			BounceType        string    `json:"bounceType"`
			Timestamp         time.Time `json:"timestamp"`
			BouncedRecipients []struct {
				EmailAddress string `json:"emailAddress"`
			} `json:"bouncedRecipients"`
		} `json:"bounce"`
		Complaint struct {
			Timestamp            time.Time `json:"timestamp"`
			ComplainedRecipients []struct {
				EmailAddress string `json:"emailAddress"`
			} `json:"complainedRecipients"`
		} `json:"complaint"`
	} `json:"detail"`
}

// EmailEvents returns EmailEventsFunction's handler.
func EmailEvents(e *app.EmailEvents) EmailEventsHandler {
	return func(ctx context.Context, raw json.RawMessage) (*app.DigestResult, error) {
		var ev sesEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("email events: not an EventBridge event: %w", err)
		}
		if ev.Source != "aws.ses" {
			res, err := e.Digest(ctx) // the schedule
			return &res, err
		}
		d := ev.Detail
		in := app.EmailEvent{MessageID: d.Mail.MessageID, Tags: d.Mail.Tags}
		switch d.EventType {
		case "Bounce":
			in.Kind, in.Permanent, in.At = domain.EmailBounced, d.Bounce.BounceType == "Permanent", d.Bounce.Timestamp
			for _, r := range d.Bounce.BouncedRecipients {
				in.Recipients = append(in.Recipients, r.EmailAddress)
			}
		case "Complaint":
			in.Kind, in.At = domain.EmailComplained, d.Complaint.Timestamp
			for _, r := range d.Complaint.ComplainedRecipients {
				in.Recipients = append(in.Recipients, r.EmailAddress)
			}
		default:
			return &app.DigestResult{}, nil // another event type: not subscribed, not acted on
		}
		if in.MessageID == "" {
			return nil, errors.New("email events: an SES event without mail.messageId")
		}
		return &app.DigestResult{}, e.Apply(ctx, in)
	}
}

// DocumentUploadsHandler is DocumentUploadsFunction's handler: S3's "Object Created" events
// of the documents' bucket, through EventBridge.
type DocumentUploadsHandler func(context.Context, json.RawMessage) (*UploadResult, error)

// UploadResult is what the function reports of one upload (no personal data).
type UploadResult struct {
	Outcome string `json:"outcome"` // accepted, refused or ignored
	Reason  string `json:"reason,omitempty"`
}

// s3ObjectEvent is S3's EventBridge event, the parts read.
type s3ObjectEvent struct {
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	Detail     struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
		} `json:"object"`
		Reason string `json:"reason"`
	} `json:"detail"`
}

// DocumentUploads returns DocumentUploadsFunction's handler: each upload is checked once its
// object exists. A refusal is an outcome, not a failure (EventBridge does not retry it).
func DocumentUploads(q *app.Requests) DocumentUploadsHandler {
	return func(ctx context.Context, raw json.RawMessage) (*UploadResult, error) {
		var ev s3ObjectEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("document uploads: not an EventBridge event: %w", err)
		}
		if ev.Source != "aws.s3" || ev.DetailType != "Object Created" || ev.Detail.Object.Key == "" {
			return &UploadResult{Outcome: "ignored"}, nil
		}
		v, refused, err := q.ReceiveUpload(ctx, ev.Detail.Object.Key)
		switch {
		case err != nil:
			return nil, err
		case refused != nil:
			var de *domain.Error
			reason := "refused"
			if errors.As(refused, &de) {
				reason = de.Code
			}
			return &UploadResult{Outcome: "refused", Reason: reason}, nil
		case v == nil:
			return &UploadResult{Outcome: "ignored"}, nil
		}
		return &UploadResult{Outcome: "accepted"}, nil
	}
}
