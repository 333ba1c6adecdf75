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
	"net/url"
	"strconv"
	"strings"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
	"github.com/pecplatform/pec/shared/pages"
)

// The members' self-service pages (RequestsFunction): the convention's page with the identity
// form, and the request's page, from which the member does the rest. Only HTML answers, each
// a complete Italian page; a form posted from another site is refused.

// htmlResult is a page as the router answers it.
func htmlResult(p pages.Rendered) Result {
	return Result{Status: p.Status, ContentType: p.Headers["Content-Type"], Text: string(p.Body), Headers: p.Headers}
}

// seeOther sends the browser to a page of the same site (303: the form is not posted again).
func seeOther(path string) Result {
	return Result{Status: http.StatusSeeOther, ContentType: "text/html; charset=utf-8", Headers: map[string]string{
		"Location": path, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}}
}

func selfServicePages(rt *Router, q *app.Requests, log *slog.Logger) {
	rt.HandlePublic("GET /adesione/{offerCode}", MaxBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		order, err := q.Offer(ctx, r.PathParameters["offerCode"])
		if err != nil {
			return htmlResult(offerError(ctx, log, err)), nil
		}
		return htmlResult(pages.Offer(offerData(order))), nil
	})
	rt.HandlePublic("POST /adesione/{offerCode}", 16<<10, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		if crossSite(r) {
			return htmlResult(forbidden()), nil
		}
		order, err := q.Offer(ctx, r.PathParameters["offerCode"])
		if err != nil {
			return htmlResult(offerError(ctx, log, err)), nil
		}
		body, _ := rawBody(r, 16<<10)
		form, err := url.ParseQuery(string(body))
		if err != nil {
			form = url.Values{}
		}
		d := offerData(order)
		d.CodiceFiscale, d.Cognome, d.Nome, d.Email = strings.TrimSpace(form.Get("codiceFiscale")), form.Get("cognome"), form.Get("nome"), strings.TrimSpace(form.Get("email"))
		if form.Get("privacy") != "1" {
			d.Error, d.ErrorField = pages.MsgPrivacy, "privacy"
			return htmlResult(pages.Offer(d)), nil
		}
		nr, err := q.Create(ctx, r.PathParameters["offerCode"], r.RequestContext.HTTP.SourceIP,
			domain.RequestInput{CodiceFiscale: d.CodiceFiscale, Cognome: d.Cognome, Nome: d.Nome, Email: d.Email})
		if err == nil {
			return seeOther(app.StatusPath(nr.Request.ID, nr.AccessToken) + "?inviata=1"), nil
		}
		d.Error, d.ErrorField = offerMessage(err)
		if d.Error == "" {
			return htmlResult(offerError(ctx, log, err)), nil
		}
		p := pages.Offer(d)
		if errors.Is(err, domain.ErrRateLimited) {
			p.Status = http.StatusTooManyRequests
		}
		return htmlResult(p), nil
	})
	rt.HandlePublic("GET /richiesta/{requestId}/{token}", MaxBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		id, token := r.PathParameters["requestId"], r.PathParameters["token"]
		self := app.StatusPath(id, token)
		if ref := r.QueryStringParameters["pagamento"]; ref != "" {
			// Back from the payment service: the payment is recorded once the service confirms it.
			v, err := q.Get(ctx, id, token)
			if err != nil {
				return htmlResult(requestError(ctx, log, err)), nil
			}
			if _, err := q.Pay(ctx, id, token, ref, v.Request.AmountCents); err != nil {
				d := requestData(q, v, self)
				d.Error = requestMessage(err)
				if d.Error == "" {
					return htmlResult(requestError(ctx, log, err)), nil
				}
				return htmlResult(pages.Request(d)), nil
			}
			return seeOther(self + "?pagato=1"), nil
		}
		v, err := q.Get(ctx, id, token)
		if err != nil {
			return htmlResult(requestError(ctx, log, err)), nil
		}
		d := requestData(q, v, self)
		switch {
		case r.QueryStringParameters["inviata"] != "":
			d.Notice = "La richiesta è registrata. Le abbiamo inviato il collegamento a questa pagina anche per posta elettronica."
		case r.QueryStringParameters["pagato"] != "":
			d.Notice = "Il pagamento è registrato."
		case r.QueryStringParameters["documenti"] != "":
			d.Notice = "I documenti sono stati ricevuti."
		}
		return htmlResult(pages.Request(d)), nil
	})
	rt.HandlePublic("GET /richiesta/{requestId}/{token}/modulo.pdf", MaxBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		pdf, err := q.Form(ctx, r.PathParameters["requestId"], r.PathParameters["token"])
		if err != nil {
			return htmlResult(requestError(ctx, log, err)), nil
		}
		return Result{Status: http.StatusOK, ContentType: "application/pdf", Binary: pdf, Headers: map[string]string{
			"Content-Disposition": `attachment; filename="modulo-adesione-pec.pdf"`, "Referrer-Policy": "no-referrer"}}, nil
	})
	rt.HandlePublic("POST /richiesta/{requestId}/{token}/documenti", maxDocumentsBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		if crossSite(r) {
			return htmlResult(forbidden()), nil
		}
		id, token := r.PathParameters["requestId"], r.PathParameters["token"]
		self := app.StatusPath(id, token)
		uploads, err := formDocuments(r)
		if err == nil && len(uploads) > 0 {
			if _, err = q.AddDocuments(ctx, id, token, uploads); err == nil {
				return seeOther(self + "?documenti=1"), nil
			}
		}
		v, gerr := q.Get(ctx, id, token)
		if gerr != nil {
			return htmlResult(requestError(ctx, log, gerr)), nil
		}
		d := requestData(q, v, self)
		if d.Error = requestMessage(err); err == nil {
			d.Error = "Scelga almeno un file da caricare."
		}
		if d.Error == "" {
			return htmlResult(requestError(ctx, log, err)), nil
		}
		return htmlResult(pages.Request(d)), nil
	})
}

func offerData(o *domain.Order) pages.OfferData {
	c := o.Convention
	return pages.OfferData{OrderName: o.Name, Price: notice.FormatEuro(c.PriceCents),
		VAT:    strings.Replace(strconv.FormatFloat(c.VATPercent, 'f', -1, 64), ".", ",", 1) + "%",
		Amount: notice.FormatEuro(domain.Amount(1, c)), ValidityYears: c.Validity()}
}

// offerMessage words the refusals of the identity form; "" for an error that is no refusal.
func offerMessage(err error) (string, string) {
	var de *domain.Error
	switch {
	case errors.Is(err, domain.ErrIdentityMismatch):
		return pages.MsgIdentity, ""
	case errors.Is(err, domain.ErrMailboxExists):
		return pages.MsgHasMailbox, ""
	case errors.Is(err, domain.ErrHasDomicilio):
		return pages.MsgHasDomicilio, ""
	case errors.Is(err, domain.ErrRequestPaid):
		return pages.MsgInProgress, ""
	case errors.Is(err, domain.ErrRateLimited):
		return pages.MsgTooMany, ""
	case errors.As(err, &de) && de.Kind == domain.KindInvalid:
		switch de.Field {
		case "codiceFiscale":
			return "Il codice fiscale non è valido: controlli i 16 caratteri.", de.Field
		case "cognome":
			return "Indichi il cognome, come risulta all'Ordine.", de.Field
		case "nome":
			return "Indichi il nome, come risulta all'Ordine.", de.Field
		case "email":
			return "L'indirizzo di posta elettronica non è valido: lo controlli.", de.Field
		}
	}
	return "", ""
}

func offerError(ctx context.Context, log *slog.Logger, err error) pages.Rendered {
	if errors.Is(err, domain.ErrOfferNotFound) {
		return pages.OfferNotFound()
	}
	log.ErrorContext(ctx, "self-service page", "error", err)
	return pages.SelfServiceError()
}

func requestError(ctx context.Context, log *slog.Logger, err error) pages.Rendered {
	var de *domain.Error
	if errors.Is(err, domain.ErrRequestNotFound) || (errors.As(err, &de) && de.Kind == domain.KindUnauthorized) {
		return pages.RequestNotFound()
	}
	log.ErrorContext(ctx, "request page", "error", err)
	return pages.SelfServiceError()
}

// requestMessage words the refusals of the request's page; "" for an error that is no refusal.
func requestMessage(err error) string {
	var de *domain.Error
	if !errors.As(err, &de) {
		return ""
	}
	what := map[string]string{"form": "il modulo firmato", "identity": "il documento di identità"}[de.Field]
	switch de.Code {
	case "unsupported_document_type":
		return "Il file caricato come " + what + " non è un PDF, un'immagine JPEG o PNG. Carichi il documento in uno di questi formati."
	case "document_too_large":
		return "Il file caricato come " + what + " supera i 10 MB. Lo riduca (per esempio con una scansione a risoluzione più bassa) e lo carichi di nuovo."
	case "payment_not_confirmed":
		return "Il servizio di pagamento non ha ancora confermato il pagamento. Se ha pagato, riprovi tra qualche minuto aprendo di nuovo questa pagina."
	case "request_abandoned":
		return "La richiesta è scaduta: presenti una nuova richiesta dalla pagina della convenzione."
	case "request_submitted":
		return "La richiesta è già stata inviata al gestore: i documenti non si possono più cambiare."
	}
	if de.Kind == domain.KindInvalid || de.Kind == domain.KindMalformed || de.Kind == domain.KindTooLarge {
		return "Il caricamento non è riuscito. Controlli i file e riprovi."
	}
	return ""
}

// requestData is the status page's data.
func requestData(q *app.Requests, v *app.RequestView, self string) pages.RequestData {
	r := v.Request
	d := pages.RequestData{OrderName: v.Order.Name, Address: r.Address, Amount: notice.FormatEuro(r.AmountCents),
		FormURL: self + "/modulo.pdf", DocumentsURL: self + "/documenti", MaxDocumentMB: domain.MaxDocument >> 20,
		Submitted: r.Submitted, Abandoned: r.State() == domain.RequestAbandoned,
		FirstAccess: pages.ResultData{ProviderName: q.Access.ProviderName, WebmailURL: q.Access.WebmailURL,
			CredentialsBySMS: q.Access.CredentialsBy == app.CredentialsBySMS, SupportURL: q.Access.SupportURL}}
	if r.Payment != nil {
		d.PaidRef = r.Payment.Reference
	} else {
		d.CheckoutURL = q.Checkout(r, q.PublicURL+self)
	}
	_, hasForm := r.Documents[domain.DocumentForm]
	_, hasID := r.Documents[domain.DocumentIdentity]
	d.NeedForm, d.NeedIdentity = !hasForm, !hasID
	state := domain.State("")
	if v.Mailbox != nil {
		state = v.Mailbox.State
	}
	d.Abilitata, d.Attivata, d.Revoked = state == domain.StateAbilitata, state == domain.StateAttivata, state == domain.StateRevocata && !d.Abandoned
	switch {
	case d.Abandoned:
		d.State = "Scaduta: il pagamento non è stato effettuato in tempo"
	case d.Attivata:
		d.State = "Casella attiva"
	case d.Revoked:
		d.State = "Casella non attivata"
	case d.Abilitata:
		d.State = "Casella pronta: in attesa della Sua attivazione"
	case r.Submitted:
		d.State = "Inviata al gestore"
	case r.Payment == nil:
		d.State = "In attesa del pagamento"
	default:
		d.State = "In attesa dei documenti"
	}
	return d
}

// formDocuments reads a browser's multipart form: the file fields form and identity; a field
// left empty is no document.
func formDocuments(r *Request) ([]app.Upload, error) {
	mt, params, err := mime.ParseMediaType(header(r, "content-type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, errNotMultipart
	}
	body, err := Body(r)
	if err != nil {
		return nil, err
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var out []app.Upload
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, &domain.Error{Kind: domain.KindMalformed, Code: "malformed_multipart", Message: "the multipart body cannot be read"}
		}
		kind, err := domain.ParseDocumentKind(p.FormName())
		if err != nil {
			continue // not a document field
		}
		content, err := io.ReadAll(io.LimitReader(p, domain.MaxDocument+1))
		if err != nil {
			return nil, &domain.Error{Kind: domain.KindMalformed, Code: "malformed_multipart", Message: "the multipart body cannot be read"}
		}
		if len(content) == 0 && p.FileName() == "" {
			continue // the field was left empty
		}
		if len(content) > domain.MaxDocument {
			return nil, domain.DocumentTooLarge(string(kind))
		}
		out = append(out, app.Upload{Kind: kind, Content: content})
	}
}
