package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// Orders serves the Order routes, the Orders' audit trails and the federation's list of Orders
// (OrdersFunction).
func Orders(svc *app.Service, trail *app.AuditTrail, fed *app.Federation, log *slog.Logger, idem app.Idempotency) *Router {
	rt := NewRouter(log, idem)
	rt.Handle("GET /v1/orders", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		items, next, err := fed.Orders(ctx, c, limitParam(r), r.QueryStringParameters["cursor"])
		if err != nil {
			return Result{}, err
		}
		v := listView[orderCountsView]{Items: make([]orderCountsView, 0, len(items)), NextCursor: next}
		for _, o := range items {
			v.Items = append(v.Items, orderCountsView{orderView: viewOrder(o.Order), Mailboxes: o.Mailboxes})
		}
		return Result{Status: http.StatusOK, Body: v}, nil
	})
	rt.Handle("GET /v1/orders/{orderId}/audit", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		q := app.AuditQuery{OrderID: r.PathParameters["orderId"], Member: r.QueryStringParameters["member"],
			Limit: limitParam(r), Cursor: r.QueryStringParameters["cursor"]}
		lines, next, err := trail.List(ctx, c, q)
		if err != nil {
			return Result{}, err
		}
		v := listView[auditView]{Items: make([]auditView, 0, len(lines)), NextCursor: next}
		for _, l := range lines {
			v.Items = append(v.Items, viewAudit(l))
		}
		return Result{Status: http.StatusOK, Body: v}, nil
	})
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
		return Result{Status: status, Body: viewOrder(o)}, nil
	})
	rt.Handle("GET /v1/orders/{orderId}", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		o, err := svc.GetOrder(ctx, c, r.PathParameters["orderId"])
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: viewOrder(o)}, nil
	})
	rt.Handle("GET /v1/albi", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		items := svc.Albi()
		if items == nil {
			items = []domain.Albo{}
		}
		return Result{Status: http.StatusOK, Body: map[string]any{"items": items}}, nil
	})
	return rt
}

// Members serves enrolment, the member's file and the compliance report (MembersFunction).
func Members(svc *app.Service, comp *app.Compliance, log *slog.Logger, idem app.Idempotency) *Router {
	rt := NewRouter(log, idem)
	rt.Handle("GET /v1/orders/{orderId}/compliance", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		return complianceReport(ctx, comp, r, c)
	})
	rt.HandleUpload("POST /v1/orders/{orderId}/members:import", 10<<20, func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		body, err := Body(r)
		if err != nil {
			return Result{}, err
		}
		res, err := svc.ImportFile(ctx, c, r.PathParameters["orderId"], body)
		if err != nil {
			return Result{}, err
		}
		if res.Failed == nil {
			res.Failed = []app.Failure{}
		}
		return Result{Status: http.StatusOK, Body: res}, nil
	})
	rt.HandleIdempotent("POST /v1/orders/{orderId}/members", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		var e domain.Enrolment
		if err := DecodeJSON(r, &e); err != nil {
			return Result{}, err
		}
		m, mb, err := svc.Enrol(ctx, c, r.PathParameters["orderId"], e)
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusCreated, Body: map[string]any{"member": viewMember(m, mb), "mailbox": viewMailbox(mb)}}, nil
	})
	rt.Handle("GET /v1/orders/{orderId}/members", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		qs := r.QueryStringParameters
		f := app.MemberFilter{Q: qs["q"], Albo: qs["albo"], State: qs["state"], CTU: qs["ctu"], Cursor: qs["cursor"], Limit: limitParam(r)}
		files, next, err := svc.FindMembers(ctx, c, r.PathParameters["orderId"], f)
		if err != nil {
			return Result{}, err
		}
		v := listView[memberView]{Items: make([]memberView, 0, len(files)), NextCursor: next}
		for _, f := range files {
			v.Items = append(v.Items, viewMember(f.Member, f.Mailbox))
		}
		return Result{Status: http.StatusOK, Body: v}, nil
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
		return Result{Status: http.StatusOK, Body: v}, nil
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
		return Result{Status: http.StatusOK, Body: v}, nil
	})
	rt.Handle("GET /v1/orders/{orderId}/mailboxes/summary", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		counts, err := svc.MailboxSummary(ctx, c, r.PathParameters["orderId"])
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: counts}, nil
	})
	rt.Handle("GET /v1/mailboxes/{id}", func(ctx context.Context, r *Request, c app.Caller) (Result, error) {
		mb, err := svc.GetMailbox(ctx, c, r.PathParameters["id"])
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: viewMailbox(mb)}, nil
	})
	return rt
}

type lackingView struct {
	CodiceFiscale    string  `json:"codiceFiscale"`
	Nome             string  `json:"nome"`
	Cognome          string  `json:"cognome"`
	NumeroIscrizione string  `json:"numeroIscrizione"`
	DataIscrizione   string  `json:"dataIscrizione"`
	Email            string  `json:"email"`
	DaysWithout      int     `json:"daysWithoutDomicilio"`
	MailboxID        *string `json:"mailboxId"`
	MailboxState     *string `json:"mailboxState"`
}

// maxCSVRows bounds the CSV report to what a Lambda response holds; larger Orders page the JSON.
const maxCSVRows = 20000

func complianceReport(ctx context.Context, comp *app.Compliance, r *Request, c app.Caller) (Result, error) {
	orderID := r.PathParameters["orderId"]
	asCSV := r.QueryStringParameters["format"] == "csv" || strings.Contains(header(r, "accept"), "text/csv")
	limit, cursor := limitParam(r), r.QueryStringParameters["cursor"]
	switch {
	case asCSV:
		limit = maxCSVRows
	case limit > app.MaxLimit:
		limit = -1 // refused by the use case, after authorization
	}
	items, next, err := comp.Report(ctx, c, orderID, limit, cursor)
	if err != nil {
		return Result{}, err
	}
	if asCSV {
		if next != "" {
			return Result{}, &domain.Error{Kind: domain.KindTooLarge, Code: "use_pagination", Message: "more than 20000 members: page the JSON report with limit and cursor"}
		}
		var b strings.Builder
		b.WriteString("codiceFiscale;cognome;nome;numeroIscrizione;dataIscrizione;email;giorniSenzaDomicilio;statoCasella\r\n")
		for _, l := range items {
			state := ""
			if l.Mailbox != nil {
				state = string(l.Mailbox.State)
			}
			fmt.Fprintf(&b, "%s;%s;%s;%s;%s;%s;%d;%s\r\n", csvField(l.Member.CodiceFiscale.Value()), csvField(l.Member.Cognome),
				csvField(l.Member.Nome), csvField(l.Member.NumeroIscrizione), l.Member.DataIscrizione, csvField(l.Member.Email), l.DaysWithout, state)
		}
		return Result{Status: http.StatusOK, ContentType: "text/csv; charset=utf-8", Text: b.String()}, nil
	}
	v := listView[lackingView]{Items: make([]lackingView, 0, len(items)), NextCursor: next}
	for _, l := range items {
		lv := lackingView{CodiceFiscale: l.Member.CodiceFiscale.Value(), Nome: l.Member.Nome, Cognome: l.Member.Cognome,
			NumeroIscrizione: l.Member.NumeroIscrizione, DataIscrizione: l.Member.DataIscrizione, Email: l.Member.Email, DaysWithout: l.DaysWithout}
		if l.Mailbox != nil {
			state := string(l.Mailbox.State)
			lv.MailboxID, lv.MailboxState = &l.Mailbox.ID, &state
		}
		v.Items = append(v.Items, lv)
	}
	return Result{Status: http.StatusOK, Body: v}, nil
}

// csvField quotes a field that holds the separator, a quote or a line break, and defuses a
// leading formula character (a spreadsheet would run "=..." as a formula).
func csvField(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		s = "'" + s
	}
	if strings.ContainsAny(s, ";\"\r\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}
