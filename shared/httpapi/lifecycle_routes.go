package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

type batchView struct {
	ID           string            `json:"id"`
	OrderID      string            `json:"orderId"`
	MailboxCount int               `json:"mailboxCount"`
	AmountCents  int               `json:"amountCents"`
	Confirmed    bool              `json:"confirmed"`
	Paid         bool              `json:"paid"`
	State        domain.BatchState `json:"state"`
	Kind         domain.BatchKind  `json:"kind"`
	CreatedAt    time.Time         `json:"createdAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
}

func viewBatch(b *domain.Batch) batchView {
	return batchView{ID: b.ID, OrderID: b.OrderID, MailboxCount: b.MailboxCount, AmountCents: b.AmountCents,
		Confirmed: b.Confirmed, Paid: b.Paid, State: b.State, Kind: b.KindOrDefault(), CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
}

func limitParam(r *Request) int {
	s, ok := r.QueryStringParameters["limit"]
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return -1 // refused by the use case, after authorization
	}
	return n
}

// Batches serves the Order's authorisation and payment (BatchesFunction).
func Batches(b *app.Batches, rn *app.Renewals, fed *app.Federation, log *slog.Logger, idem app.Idempotency) *Router {
	rt := NewRouter(log, idem)
	rt.Handle("GET /v1/batches", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		items, next, err := fed.Batches(ctx, c, r.QueryStringParameters["state"], limitParam(r), r.QueryStringParameters["cursor"])
		if err != nil {
			return Result{}, err
		}
		v := listView[batchView]{Items: make([]batchView, 0, len(items)), NextCursor: next}
		for _, b := range items {
			v.Items = append(v.Items, viewBatch(b))
		}
		return Result{Status: http.StatusOK, Body: v}, nil
	})
	rt.HandleIdempotent("POST /v1/orders/{orderId}/batches", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		b, err := b.CreateBatch(ctx, c, r.PathParameters["orderId"])
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusCreated, Body: viewBatch(b)}, nil
	})
	rt.Handle("GET /v1/orders/{orderId}/batches", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		items, next, err := b.ListBatches(ctx, c, r.PathParameters["orderId"], limitParam(r), r.QueryStringParameters["cursor"])
		if err != nil {
			return Result{}, err
		}
		v := listView[batchView]{Items: make([]batchView, 0, len(items)), NextCursor: next}
		for _, b := range items {
			v.Items = append(v.Items, viewBatch(b))
		}
		return Result{Status: http.StatusOK, Body: v}, nil
	})
	rt.Handle("GET /v1/batches/{id}", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		b, err := b.GetBatch(ctx, c, r.PathParameters["id"])
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: viewBatch(b)}, nil
	})
	rt.Handle("POST /v1/batches/{id}/confirm", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		b, err := b.ConfirmBatch(ctx, c, r.PathParameters["id"])
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: viewBatch(b)}, nil
	})
	rt.Handle("POST /v1/batches/{id}/payment", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		var body struct {
			Reference   string `json:"reference"`
			AmountCents int    `json:"amountCents"`
		}
		if err := DecodeJSON(r, &body); err != nil {
			return Result{}, err
		}
		b, err := b.PayBatch(ctx, c, r.PathParameters["id"], body.Reference, body.AmountCents)
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: viewBatch(b)}, nil
	})
	rt.HandleIdempotent("POST /v1/orders/{orderId}/renewals", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		var sel domain.RenewalSelection
		if err := DecodeJSON(r, &sel); err != nil {
			return Result{}, err
		}
		b, err := rn.CreateRenewal(ctx, c, r.PathParameters["orderId"], sel)
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusCreated, Body: viewBatch(b)}, nil
	})
	return rt
}

// MailboxActions serves revocation, a fresh activation link, a member's cancellation,
// corrections, transfers, suspensions (MailboxActionsFunction).
func MailboxActions(rv *app.Revocations, act *app.Activations, fix *app.Corrections, tr *app.Transfers, su *app.Suspensions, log *slog.Logger, idem app.Idempotency) *Router {
	rt := NewRouter(log, idem)
	memberFile := func(m *domain.Member, mb *domain.Mailbox) any {
		return struct {
			memberView
			Mailbox *mailboxView `json:"mailbox"`
		}{viewMember(m, mb), viewMailbox(mb)}
	}
	rt.Handle("POST /v1/orders/{orderId}/members/{codiceFiscale}/suspend", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		var in domain.SuspensionInput
		if err := DecodeJSON(r, &in); err != nil {
			return Result{}, err
		}
		m, mb, err := su.Suspend(ctx, c, r.PathParameters["orderId"], r.PathParameters["codiceFiscale"], in)
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: memberFile(m, mb)}, nil
	})
	rt.Handle("POST /v1/orders/{orderId}/members/{codiceFiscale}/reinstate", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		m, mb, err := su.Reinstate(ctx, c, r.PathParameters["orderId"], r.PathParameters["codiceFiscale"])
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: memberFile(m, mb)}, nil
	})
	rt.Handle("POST /v1/orders/{orderId}/members/{codiceFiscale}/transfer", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		var body struct {
			ToOrderID        string `json:"toOrderId"`
			Date             string `json:"date"`
			NumeroIscrizione string `json:"numeroIscrizione"`
		}
		if err := DecodeJSON(r, &body); err != nil {
			return Result{}, err
		}
		m, mb, err := tr.Transfer(ctx, c, r.PathParameters["orderId"], r.PathParameters["codiceFiscale"], body.ToOrderID, body.Date, body.NumeroIscrizione)
		if err != nil {
			return Result{}, err
		}
		v := struct {
			memberView
			Mailbox *mailboxView `json:"mailbox"`
		}{viewMember(m, mb), viewMailbox(mb)}
		return Result{Status: http.StatusOK, Body: v}, nil
	})
	rt.Handle("PATCH /v1/orders/{orderId}/members/{codiceFiscale}", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		patch, err := decodeCorrection(r)
		if err != nil {
			return Result{}, err
		}
		m, mb, err := fix.Correct(ctx, c, r.PathParameters["orderId"], r.PathParameters["codiceFiscale"], patch)
		if err != nil {
			return Result{}, err
		}
		v := struct {
			memberView
			Mailbox *mailboxView `json:"mailbox"`
		}{viewMember(m, mb), viewMailbox(mb)}
		return Result{Status: http.StatusOK, Body: v}, nil
	})
	rt.Handle("POST /v1/mailboxes/{id}/revoke", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		var body struct {
			Reason string `json:"reason"`
		}
		if err := DecodeJSON(r, &body); err != nil {
			return Result{}, err
		}
		mb, err := rv.Revoke(ctx, c, r.PathParameters["id"], body.Reason)
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: viewMailbox(mb)}, nil
	})
	rt.Handle("POST /v1/mailboxes/{id}/resend-activation", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		mb, err := act.ResendActivation(ctx, c, r.PathParameters["id"])
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: viewMailbox(mb)}, nil
	})
	rt.Handle("POST /v1/orders/{orderId}/members/{codiceFiscale}/cancel", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		var body struct {
			Date   string `json:"date"`
			Reason string `json:"reason"`
		}
		if err := DecodeJSON(r, &body); err != nil {
			return Result{}, err
		}
		m, mb, err := rv.CancelMember(ctx, c, r.PathParameters["orderId"], r.PathParameters["codiceFiscale"], body.Date, body.Reason)
		if err != nil {
			return Result{}, err
		}
		v := struct {
			memberView
			Mailbox *mailboxView `json:"mailbox"`
		}{viewMember(m, mb), viewMailbox(mb)}
		return Result{Status: http.StatusOK, Body: v}, nil
	})
	return rt
}

// INIPEC serves an Order's INI-PEC delivery history and full exports (INIPECFunction).
func INIPEC(s *app.INIPEC, store app.ComplianceStore, ex app.Exporter, log *slog.Logger, idem app.Idempotency) *Router {
	rt := NewRouter(log, idem)
	rt.HandleIdempotent("POST /v1/orders/{orderId}/inipec/exports", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		orderID := r.PathParameters["orderId"]
		if err := s.RequestExport(ctx, c, orderID, store, ex); err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusAccepted, Body: map[string]string{"orderId": orderID, "state": "RUNNING",
			"message": "the full export runs now; it appears in GET /v1/orders/{orderId}/inipec/deliveries?kind=full"}}, nil
	})
	rt.Handle("GET /v1/orders/{orderId}/inipec/deliveries", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		items, next, err := s.Deliveries(ctx, c, r.PathParameters["orderId"], r.QueryStringParameters["kind"], limitParam(r), r.QueryStringParameters["cursor"])
		if err != nil {
			return Result{}, err
		}
		v := listView[*app.Delivery]{Items: items, NextCursor: next}
		if v.Items == nil {
			v.Items = []*app.Delivery{}
		}
		return Result{Status: http.StatusOK, Body: v}, nil
	})
	return rt
}

type importView struct {
	ImportID    string        `json:"importId"`
	OrderID     string        `json:"orderId"`
	State       string        `json:"state"`
	Processed   int           `json:"processed"`
	Created     int           `json:"created"`
	Existing    int           `json:"existing"`
	FailedCount int           `json:"failedCount"`
	Failed      []app.Failure `json:"failed"`
	Error       string        `json:"error,omitempty"`
	CreatedAt   time.Time     `json:"createdAt"`
	UpdatedAt   time.Time     `json:"updatedAt"`
}

// Imports serves albo import jobs (ImportsFunction).
func Imports(j *app.Imports, log *slog.Logger, idem app.Idempotency) *Router {
	rt := NewRouter(log, idem)
	rt.HandleIdempotent("POST /v1/orders/{orderId}/imports", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		im, url, expires, err := j.Create(ctx, c, r.PathParameters["orderId"])
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusCreated, Body: map[string]any{"importId": im.ID, "uploadUrl": url,
			"uploadExpiresAt": expires, "state": im.State}}, nil
	})
	rt.Handle("GET /v1/imports/{importId}", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		im, failed, err := j.Get(ctx, c, r.PathParameters["importId"], 1000)
		if err != nil {
			return Result{}, err
		}
		if failed == nil {
			failed = []app.Failure{}
		}
		return Result{Status: http.StatusOK, Body: importView{ImportID: im.ID, OrderID: im.OrderID, State: im.State,
			Processed: im.Processed, Created: im.Created, Existing: im.Existing, FailedCount: im.FailedCount,
			Failed: failed, Error: im.Error, CreatedAt: im.CreatedAt, UpdatedAt: im.UpdatedAt}}, nil
	})
	rt.Handle("GET /v1/imports/{importId}/failures.csv", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		_, failed, err := j.Get(ctx, c, r.PathParameters["importId"], 0)
		if err != nil {
			return Result{}, err
		}
		var b strings.Builder
		b.WriteString("line;code;field;message\r\n")
		for _, f := range failed {
			fmt.Fprintf(&b, "%d;%s;%s;%s\r\n", f.Line, f.Code, f.Field, csvField(f.Message))
		}
		return Result{Status: http.StatusOK, ContentType: "text/csv; charset=utf-8", Text: b.String()}, nil
	})
	return rt
}
