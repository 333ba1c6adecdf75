package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

type requestView struct {
	RequestID    string       `json:"requestId"`
	AccessToken  string       `json:"accessToken,omitempty"`
	State        string       `json:"state"`
	Address      string       `json:"address"`
	OrderID      string       `json:"orderId"`
	OrderName    string       `json:"orderName,omitempty"`
	OfferCode    string       `json:"offerCode"`
	AmountCents  int          `json:"amountCents"`
	PriceCents   int          `json:"priceCents"`
	VATPercent   float64      `json:"vatPercent"`
	Missing      []string     `json:"missing"`
	Paid         bool         `json:"paid"`
	Documents    []docView    `json:"documents"`
	MailboxState domain.State `json:"mailboxState,omitempty"`
	CreatedAt    time.Time    `json:"createdAt"`
	SubmittedAt  *time.Time   `json:"submittedAt,omitempty"`
}

type docView struct {
	Kind        string    `json:"kind"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	UploadedAt  time.Time `json:"uploadedAt"`
}

func viewRequest(r *domain.Request, v *app.RequestView) requestView {
	out := requestView{RequestID: r.ID, State: string(r.State()), Address: r.Address, OrderID: r.OrderID,
		OfferCode: r.OfferCode, AmountCents: r.AmountCents, PriceCents: r.PriceCents, VATPercent: r.VATPercent,
		Missing: r.Missing(), Paid: r.Payment != nil, Documents: []docView{}, CreatedAt: r.CreatedAt}
	for _, k := range domain.DocumentKinds {
		if d, ok := r.Documents[k]; ok {
			out.Documents = append(out.Documents, docView{Kind: string(k), ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256, UploadedAt: d.UploadedAt})
		}
	}
	if r.Submitted {
		out.SubmittedAt = &r.SubmittedAt
	}
	if v != nil {
		out.OrderName = v.Order.Name
		out.MailboxState = v.Mailbox.State
	}
	return out
}

// maxDocumentsBody is a documents upload: two documents of 10 MB and the multipart framing
// (API Gateway itself stops at 10 MB a request: send large documents one per request).
const maxDocumentsBody = 2*domain.MaxDocument + 64<<10

// Requests serves the members' self-service requests (RequestsFunction): public routes, the
// access token returned at creation authorising the later calls.
func Requests(q *app.Requests, docs *app.DocumentOpener, log *slog.Logger) *Router {
	rt := NewRouter(log, nil)
	selfServicePages(rt, q, log)
	// The provider's link to a document (the token is the credential): a redirect to a fresh
	// S3 link of a few minutes, every time.
	rt.HandlePublic("GET /v1/provider/documents/{token}", MaxBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		url, err := docs.Open(ctx, r.PathParameters["token"])
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusFound, Headers: map[string]string{"Location": url, "Referrer-Policy": "no-referrer"}}, nil
	})
	rt.HandlePublic("POST /v1/conventions/{offerCode}/requests", MaxBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		var in domain.RequestInput
		if err := DecodeJSON(r, &in); err != nil {
			return Result{}, err
		}
		nr, err := q.Create(ctx, r.PathParameters["offerCode"], r.RequestContext.HTTP.SourceIP, in)
		if err != nil {
			return Result{}, err
		}
		v := viewRequest(nr.Request, nil)
		v.AccessToken = nr.AccessToken
		status := http.StatusCreated
		if nr.Renewed {
			status = http.StatusOK
		}
		return Result{Status: status, Body: v}, nil
	})
	rt.HandlePublic("GET /v1/requests/{requestId}", MaxBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		v, err := q.Get(ctx, r.PathParameters["requestId"], header(r, "x-access-token"))
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: viewRequest(v.Request, v)}, nil
	})
	rt.HandlePublic("GET /v1/requests/{requestId}/form.pdf", MaxBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		pdf, err := q.Form(ctx, r.PathParameters["requestId"], header(r, "x-access-token"))
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, ContentType: "application/pdf", Binary: pdf,
			Headers: map[string]string{"Content-Disposition": `inline; filename="modulo-adesione-pec.pdf"`}}, nil
	})
	rt.HandlePublic("POST /v1/requests/{requestId}/payment", MaxBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		var body struct {
			Reference   string `json:"reference"`
			AmountCents int    `json:"amountCents"`
		}
		if err := DecodeJSON(r, &body); err != nil {
			return Result{}, err
		}
		v, err := q.Pay(ctx, r.PathParameters["requestId"], header(r, "x-access-token"), body.Reference, body.AmountCents)
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: viewRequest(v.Request, v)}, nil
	})
	rt.HandlePublic("POST /v1/requests/{requestId}/documents", maxDocumentsBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		uploads, err := readDocuments(r)
		if err != nil {
			return Result{}, err
		}
		v, err := q.AddDocuments(ctx, r.PathParameters["requestId"], header(r, "x-access-token"), uploads)
		if err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusOK, Body: viewRequest(v.Request, v)}, nil
	})
	return rt
}

var errNotMultipart = &domain.Error{Kind: domain.KindMalformed, Code: "unsupported_media_type",
	Message: "send the documents as multipart/form-data, with the parts form and/or identity"}

// errMalformedMultipart answers a multipart body that cannot be read.
var errMalformedMultipart = &domain.Error{Kind: domain.KindMalformed, Code: "malformed_multipart", Message: "the multipart body cannot be read"}

// eachPart calls each for every part of a multipart/form-data body, in order; each returning
// an error stops there with it.
func eachPart(r *Request, each func(*multipart.Part) error) error {
	mt, params, err := mime.ParseMediaType(header(r, "content-type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return errNotMultipart
	}
	body, err := Body(r)
	if err != nil {
		return err
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errMalformedMultipart
		}
		if err := each(p); err != nil {
			return err
		}
	}
}

// readPart reads a part's content, at most one byte over domain.MaxDocument (so that a larger
// one is seen as such).
func readPart(p *multipart.Part) ([]byte, error) {
	content, err := io.ReadAll(io.LimitReader(p, domain.MaxDocument+1))
	if err != nil {
		return nil, errMalformedMultipart
	}
	return content, nil
}

// readDocuments reads the multipart parts form and identity, each at most 10 MB.
func readDocuments(r *Request) ([]app.Upload, error) {
	var out []app.Upload
	seen := map[domain.DocumentKind]bool{}
	err := eachPart(r, func(p *multipart.Part) error {
		name := p.FormName()
		kind, err := domain.ParseDocumentKind(name)
		if err != nil {
			return err
		}
		if seen[kind] {
			return domain.Invalid(name, "duplicate_document", name+" is sent twice")
		}
		seen[kind] = true
		content, err := readPart(p)
		if err != nil {
			return err
		}
		if len(content) > domain.MaxDocument {
			return domain.DocumentTooLarge(name)
		}
		if len(strings.TrimSpace(string(content[:min(len(content), 16)]))) == 0 {
			return domain.Invalid(name, "empty_document", name+" is empty")
		}
		out = append(out, app.Upload{Kind: kind, Content: content})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
