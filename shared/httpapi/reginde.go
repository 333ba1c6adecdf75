package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/pages"
)

type ctuView struct {
	CodiceFiscale    string     `json:"codiceFiscale"`
	Nome             string     `json:"nome"`
	Cognome          string     `json:"cognome"`
	NumeroIscrizione string     `json:"numeroIscrizione"`
	Address          *string    `json:"address"`
	RegindeConfirmed bool       `json:"regindeConfirmed"`
	ConfirmedAt      *time.Time `json:"confirmedAt"`
	NotifiedAt       *time.Time `json:"notifiedAt"`
}

func viewCTU(e app.CTUEntry) ctuView {
	m := e.Member
	v := ctuView{CodiceFiscale: m.CodiceFiscale.Value(), Nome: m.Nome, Cognome: m.Cognome,
		NumeroIscrizione: m.NumeroIscrizione, RegindeConfirmed: m.Reginde.Confirmed()}
	if e.Address != "" {
		v.Address = &e.Address
	}
	if t := m.Reginde.ConfirmedAt; !t.IsZero() {
		v.ConfirmedAt = &t
	}
	if t := m.Reginde.NotifiedAt; !t.IsZero() {
		v.NotifiedAt = &t
	}
	return v
}

// Reginde serves the Order's view of its court-appointed experts (RegindeFunction).
func Reginde(r *app.Reginde, log *slog.Logger, idem app.Idempotency) *Router {
	rt := NewRouter(log, idem)
	rt.Handle("GET /v1/orders/{orderId}/ctu", func(ctx context.Context, req *Request, c app.Caller) (Result, error) {
		q := req.QueryStringParameters
		items, next, err := r.ListCTU(ctx, c, req.PathParameters["orderId"], q["confirmed"], limitParam(req), q["cursor"])
		if err != nil {
			return Result{}, err
		}
		v := listView[ctuView]{Items: make([]ctuView, 0, len(items)), NextCursor: next}
		for _, e := range items {
			v.Items = append(v.Items, viewCTU(e))
		}
		return Result{Status: http.StatusOK, Body: v}, nil
	})
	rt.Handle("POST /v1/orders/{orderId}/members/{codiceFiscale}/reginde-reminder", func(ctx context.Context, req *Request, c app.Caller) (Result, error) {
		e, err := r.SendReminder(ctx, c, req.PathParameters["orderId"], req.PathParameters["codiceFiscale"])
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: viewCTU(e)}, nil
	})
	return rt
}

// RegindePage serves GET and POST /reginde/{token} (RegindePageFunction): the CTU's page to
// confirm the ReGIndE registration. Like the activation page, the link is the credential.
func RegindePage(r *app.Reginde, log *slog.Logger) Handler {
	return func(ctx context.Context, req Request) (resp Response, _ error) {
		defer func() {
			log.InfoContext(ctx, "request", "route", req.RouteKey, "status", resp.StatusCode, "apiRequestId", req.RequestContext.RequestID)
		}()
		raw := req.PathParameters["token"]
		if !linkToken.MatchString(raw) {
			return page(pages.RegindeNotFound()), nil
		}
		if req.RequestContext.HTTP.Method == http.MethodPost {
			if crossSite(&req) {
				p := pages.RegindeError()
				p.Status = http.StatusForbidden
				return page(p), nil
			}
			v, already, err := r.Confirm(ctx, raw)
			if err != nil {
				return page(regindeErrorPage(ctx, log, err)), nil
			}
			d := regindeData(v)
			d.Already = already
			return page(pages.RegindeConfirmed(d)), nil
		}
		v, err := r.ViewConfirmation(ctx, raw)
		if err != nil {
			return page(regindeErrorPage(ctx, log, err)), nil
		}
		return page(pages.RegindeForm(regindeData(v))), nil
	}
}

func regindeData(v *app.RegindeView) pages.RegindeData {
	return pages.RegindeData{OrderName: v.Order.Name, Nome: v.Member.Nome, Cognome: v.Member.Cognome,
		MaskedCF: v.Member.CodiceFiscale.Masked(), Address: v.Address, Already: v.Member.Reginde.Confirmed()}
}

func regindeErrorPage(ctx context.Context, log *slog.Logger, err error) pages.Rendered {
	switch {
	case errors.Is(err, app.ErrRegindeLinkUnknown):
		return pages.RegindeNotFound()
	case errors.Is(err, app.ErrRegindeLinkGone):
		return pages.RegindeGone()
	}
	log.ErrorContext(ctx, "reginde page", "error", err)
	return pages.RegindeError()
}
