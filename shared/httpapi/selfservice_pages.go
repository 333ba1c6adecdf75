package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

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
	// page answers with the request's page, with msg above it (a refusal: 422) if one.
	page := func(ctx context.Context, id, token string, msg string, err error) (Result, error) {
		v, gerr := q.Get(ctx, id, token)
		if gerr != nil {
			return htmlResult(requestError(ctx, log, gerr)), nil
		}
		d, derr := requestData(ctx, q, v, id, token)
		if derr != nil {
			return htmlResult(requestError(ctx, log, derr)), nil
		}
		if msg == "" && err != nil {
			if msg = requestMessage(err); msg == "" {
				return htmlResult(requestError(ctx, log, err)), nil
			}
		}
		d.Error = msg
		return htmlResult(pages.Request(d)), nil
	}
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
				return page(ctx, id, token, "", err)
			}
			return seeOther(self + "?pagato=1"), nil
		}
		v, err := q.Get(ctx, id, token)
		if err != nil {
			return htmlResult(requestError(ctx, log, err)), nil
		}
		d, err := requestData(ctx, q, v, id, token)
		if err != nil {
			return htmlResult(requestError(ctx, log, err)), nil
		}
		switch {
		case r.QueryStringParameters["inviata"] != "":
			d.Notice = "La richiesta è registrata. Le abbiamo inviato il collegamento a questa pagina anche per posta elettronica."
		case r.QueryStringParameters["pagato"] != "":
			d.Notice = "Il pagamento è registrato."
		case r.QueryStringParameters["documenti"] != "":
			d.Notice = "Il documento è stato ricevuto."
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
	// The browser back from an upload straight to the bucket (S3 adds bucket, key and etag to
	// the redirect): the upload is checked now, and the page says how it went.
	rt.HandlePublic("GET /richiesta/{requestId}/{token}/caricato", MaxBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		id, token := r.PathParameters["requestId"], r.PathParameters["token"]
		_, refused, err := q.ConfirmUpload(ctx, id, token, r.QueryStringParameters["key"])
		if err == nil && refused == nil {
			return seeOther(app.StatusPath(id, token) + "?documenti=1"), nil
		}
		if err == nil {
			err = refused
		}
		var de *domain.Error
		if errors.As(err, &de) && de.Code == "invalid_upload" {
			return page(ctx, id, token, "Il caricamento non è riuscito. Scelga di nuovo il file e riprovi.", nil)
		}
		if refused != nil { // the reason is next to the document's field
			return page(ctx, id, token, "Il documento caricato non è stato accettato: trova il motivo qui sotto, accanto al documento.", nil)
		}
		return page(ctx, id, token, "", err)
	})
	rt.HandlePublic("POST /richiesta/{requestId}/{token}/documenti", maxDocumentsBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		if crossSite(r) {
			return htmlResult(forbidden()), nil
		}
		id, token := r.PathParameters["requestId"], r.PathParameters["token"]
		uploads, err := formDocuments(r)
		if err == nil && len(uploads) > 0 {
			if _, err = q.AddDocuments(ctx, id, token, uploads); err == nil {
				return seeOther(app.StatusPath(id, token) + "?documenti=1"), nil
			}
		}
		if err == nil {
			return page(ctx, id, token, "Scelga il file da caricare.", nil)
		}
		return page(ctx, id, token, "", err)
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
	case "document_type_mismatch":
		return "Il file caricato come " + what + " non è del tipo che indica il suo nome (per esempio un'immagine PNG chiamata .jpg). Carichi il documento originale, in PDF, JPEG o PNG."
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
func requestData(ctx context.Context, q *app.Requests, v *app.RequestView, id, token string) (pages.RequestData, error) {
	r := v.Request
	self := app.StatusPath(id, token)
	d := pages.RequestData{OrderName: v.Order.Name, Address: r.Address, Amount: notice.FormatEuro(r.AmountCents),
		FormURL: self + "/modulo.pdf", MaxDocumentMB: domain.MaxDocument >> 20,
		Submitted: r.Submitted, Abandoned: r.State() == domain.RequestAbandoned,
		FirstAccess: pages.ResultData{ProviderName: q.Access.ProviderName, WebmailURL: q.Access.WebmailURL,
			CredentialsBySMS: q.Access.CredentialsBy == app.CredentialsBySMS, SupportURL: q.Access.SupportURL}}
	if r.Payment != nil {
		d.PaidRef = r.Payment.Reference
	} else {
		d.CheckoutURL = q.Checkout(r, q.PublicURL+self)
	}
	if !r.Submitted && r.AbandonedAt.IsZero() {
		direct, err := q.DirectUploads(ctx, r, token)
		if err != nil {
			return d, err
		}
		for _, kind := range domain.DocumentKinds {
			if _, ok := r.Documents[kind]; ok {
				d.Received = append(d.Received, strings.ToLower(documentLabels[kind][0][:1])+documentLabels[kind][0][1:])
				continue
			}
			d.Uploads = append(d.Uploads, uploadForm(self, kind, r.Refused[kind], direct))
		}
	}
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
	case r.Submitted && v.Mailbox != nil && v.Mailbox.Signing != nil && v.Mailbox.Signing.SentAt.IsZero() && state == domain.StateRichiestaInviata:
		d.State, d.SigningAsked = "In attesa del modulo del gestore firmato", true
	case r.Submitted:
		d.State = "Inviata al gestore"
	case r.Payment == nil:
		d.State = "In attesa del pagamento"
	default:
		d.State = "In attesa dei documenti"
	}
	return d, nil
}

// documentLabels are the upload forms' words, by document.
var documentLabels = map[domain.DocumentKind][2]string{
	domain.DocumentForm:     {"Modulo di adesione firmato", "Carichi il modulo firmato"},
	domain.DocumentIdentity: {"Documento di identità (fronte e retro)", "Carichi il documento di identità"},
}

// uploadForm is one document's form: to the bucket when direct has its signed forms, else
// (and without script) to the platform's multipart route.
func uploadForm(self string, kind domain.DocumentKind, refused domain.DocumentRefusal, direct []app.DirectUpload) pages.DocumentUpload {
	u := pages.DocumentUpload{ID: string(kind), Label: documentLabels[kind][0], Button: documentLabels[kind][1],
		Action: self + "/documenti?documento=" + string(kind), MaxBytes: domain.MaxDocument}
	if refused.Reason != "" {
		u.Refused = requestMessage(&domain.Error{Kind: domain.KindInvalid, Code: refused.Reason, Field: string(kind)})
	}
	for _, du := range direct {
		if du.Kind != kind {
			continue
		}
		// A field with the same value in every type's form is common; the others differ by type.
		first := du.Forms[domain.DocumentTypes[0]]
		u.Bucket, u.Expires = first.URL, du.Expires.Add(-time.Minute).UnixMilli()
		for _, name := range slices.Sorted(maps.Keys(first.Fields)) {
			same := true
			for _, ct := range domain.DocumentTypes[1:] {
				same = same && du.Forms[ct].Fields[name] == first.Fields[name]
			}
			if same {
				u.Common = append(u.Common, pages.FormField{Name: name, Value: first.Fields[name]})
				continue
			}
			for _, ct := range domain.DocumentTypes {
				u.Typed = append(u.Typed, pages.FormField{Name: name, Value: du.Forms[ct].Fields[name], Type: ct})
			}
		}
	}
	return u
}

// formDocuments reads a browser's multipart form: the file fields form and identity; a field
// left empty is no document.
func formDocuments(r *Request) ([]app.Upload, error) {
	var out []app.Upload
	err := eachPart(r, func(p *multipart.Part) error {
		name := p.FormName()
		if name == "file" { // an upload form's file: the document is in the query
			name = r.QueryStringParameters["documento"]
		}
		kind, err := domain.ParseDocumentKind(name)
		if err != nil {
			return nil // not a document field
		}
		content, err := readPart(p)
		if err != nil {
			return err
		}
		if len(content) == 0 && p.FileName() == "" {
			return nil // the field was left empty
		}
		if len(content) > domain.MaxDocument {
			return domain.DocumentTooLarge(string(kind))
		}
		out = append(out, app.Upload{Kind: kind, Content: content})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
