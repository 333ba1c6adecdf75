package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// Orders serves the Order routes (OrdersFunction).
func Orders(svc *app.Service, log *slog.Logger, idem app.Idempotency) *Router {
	rt := NewRouter(log, idem)
	rt.HandleIdempotent("PUT /v1/orders/{orderId}", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		var body struct {
			Name       string            `json:"name"`
			PEC        string            `json:"pec"`
			Convention domain.Convention `json:"convention"`
		}
		if err := DecodeJSON(r, &body); err != nil {
			return Result{}, err
		}
		o := &domain.Order{ID: r.PathParameters["orderId"], Name: body.Name, PEC: body.PEC, Convention: body.Convention}
		created, err := svc.PutOrder(ctx, c, o)
		if err != nil {
			return Result{}, err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		return Result{status, viewOrder(o)}, nil
	})
	rt.Handle("GET /v1/orders/{orderId}", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		o, err := svc.GetOrder(ctx, c, r.PathParameters["orderId"])
		if err != nil {
			return Result{}, err
		}
		return Result{http.StatusOK, viewOrder(o)}, nil
	})
	return rt
}

// Members serves enrolment and the member's file (MembersFunction).
func Members(svc *app.Service, log *slog.Logger, idem app.Idempotency) *Router {
	rt := NewRouter(log, idem)
	rt.HandleIdempotent("POST /v1/orders/{orderId}/members", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		var e domain.Enrolment
		if err := DecodeJSON(r, &e); err != nil {
			return Result{}, err
		}
		m, mb, err := svc.Enrol(ctx, c, r.PathParameters["orderId"], e)
		if err != nil {
			return Result{}, err
		}
		return Result{http.StatusCreated, map[string]any{"member": viewMember(m, mb), "mailbox": viewMailbox(mb)}}, nil
	})
	rt.Handle("GET /v1/orders/{orderId}/members/{codiceFiscale}", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		f, err := svc.GetMember(ctx, c, r.PathParameters["orderId"], r.PathParameters["codiceFiscale"])
		if err != nil {
			return Result{}, err
		}
		v := struct {
			memberView
			Mailbox *mailboxView `json:"mailbox"`
		}{viewMember(f.Member, f.Mailbox), viewMailbox(f.Mailbox)}
		return Result{http.StatusOK, v}, nil
	})
	return rt
}

// Mailboxes serves the mailbox queries (MailboxesFunction).
func Mailboxes(svc *app.Service, log *slog.Logger, idem app.Idempotency) *Router {
	rt := NewRouter(log, idem)
	rt.Handle("GET /v1/orders/{orderId}/mailboxes", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		q := app.MailboxQuery{OrderID: r.PathParameters["orderId"], Cursor: r.QueryStringParameters["cursor"],
			State: r.QueryStringParameters["state"]}
		if s, ok := r.QueryStringParameters["limit"]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				n = -1 // refused by the use case, after authorization
			}
			q.Limit = n
		}
		items, next, err := svc.ListMailboxes(ctx, c, q)
		if err != nil {
			return Result{}, err
		}
		v := listView[*mailboxView]{Items: make([]*mailboxView, 0, len(items)), NextCursor: next}
		for _, m := range items {
			v.Items = append(v.Items, viewMailbox(m))
		}
		return Result{http.StatusOK, v}, nil
	})
	rt.Handle("GET /v1/orders/{orderId}/mailboxes/summary", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		counts, err := svc.MailboxSummary(ctx, c, r.PathParameters["orderId"])
		if err != nil {
			return Result{}, err
		}
		return Result{http.StatusOK, counts}, nil
	})
	rt.Handle("GET /v1/mailboxes/{id}", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		mb, err := svc.GetMailbox(ctx, c, r.PathParameters["id"])
		if err != nil {
			return Result{}, err
		}
		return Result{http.StatusOK, viewMailbox(mb)}, nil
	})
	return rt
}
