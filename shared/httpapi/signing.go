package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"mime/multipart"
	"net/http"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
	"github.com/pecplatform/pec/shared/pages"
)

// The signing page (ActivationFunction, with a provider that activates only with its own form
// signed by the holder): /firma/{token} shows it and takes the documents, /firma/{token}/
// modulo.pdf gives the provider's form. The token is the credential.

// maxSigningBody is the signed form and the identity document, 10 MB each, and the framing.
const maxSigningBody = 2*domain.MaxDocument + 64<<10

// Signing routes the signing page's requests.
func Signing(s *app.Signatures, log *slog.Logger) *Router {
	rt := NewRouter(log, nil)
	show := func(ctx context.Context, token string, d pages.SigningData) Result {
		v, err := s.Page(ctx, token)
		if err != nil {
			return htmlResult(signingError(ctx, log, err))
		}
		d.OrderName, d.ProviderName, d.Nome, d.Address = v.Order.Name, s.ProviderName, v.Nome, v.Mailbox.Address
		d.FormURL, d.Until = app.SigningPath(token)+"/modulo.pdf", notice.FormatDate(v.ExpiresAt)
		d.Open, d.Sent, d.Again = v.Open, v.Sent, v.Mailbox.Signing.Refused
		switch v.Mailbox.State {
		case domain.StateAbilitata, domain.StateAttivata:
			d.Active = true
		case domain.StateRichiestaInviata:
		default:
			d.Closed = true
		}
		if !d.Open {
			d.Error = ""
		}
		return htmlResult(pages.Signing(d))
	}
	rt.HandlePublic("GET /firma/{token}", MaxBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		token := r.PathParameters["token"]
		if !linkToken.MatchString(token) {
			return htmlResult(pages.NotFound()), nil
		}
		return show(ctx, token, pages.SigningData{}), nil
	})
	rt.HandlePublic("GET /firma/{token}/modulo.pdf", MaxBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		token := r.PathParameters["token"]
		if !linkToken.MatchString(token) {
			return htmlResult(pages.NotFound()), nil
		}
		pdf, err := s.Form(ctx, token)
		if err != nil {
			return htmlResult(signingError(ctx, log, err)), nil
		}
		return Result{Status: http.StatusOK, ContentType: "application/pdf", Binary: pdf, Headers: map[string]string{
			"Content-Disposition": `attachment; filename="modulo-gestore-pec.pdf"`, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}}, nil
	})
	rt.HandlePublic("POST /firma/{token}", maxSigningBody, func(ctx context.Context, r *Request, _ app.Caller) (Result, error) {
		token := r.PathParameters["token"]
		if !linkToken.MatchString(token) {
			return htmlResult(pages.NotFound()), nil
		}
		if crossSite(r) {
			return htmlResult(forbidden()), nil
		}
		parts, err := signingParts(r)
		if err == nil {
			_, err = s.Send(ctx, token, parts["modulo"], parts["documento"])
		}
		if err == nil {
			return seeOther(app.SigningPath(token)), nil
		}
		if errors.Is(err, app.ErrSigningClosed) {
			return show(ctx, token, pages.SigningData{}), nil
		}
		if errors.Is(err, app.ErrProviderRefused) { // the provider could not take the files as they are
			log.InfoContext(ctx, "signing page: the provider refused the documents", "error", err)
			return show(ctx, token, pages.SigningData{Error: "Il gestore non è riuscito a leggere i file inviati. Controlli che il modulo firmato sia un PDF leggibile e il documento di identità una scansione o una foto nitida, e li invii di nuovo."}), nil
		}
		d := pages.SigningData{}
		var de *domain.Error
		if !errors.As(err, &de) || (de.Kind != domain.KindInvalid && de.Kind != domain.KindTooLarge && de.Kind != domain.KindMalformed) {
			return htmlResult(signingError(ctx, log, err)), nil
		}
		d.ErrorField = de.Field
		d.Error = signingMessage(de)
		return show(ctx, token, d), nil
	})
	return rt
}

// signingParts reads the page's form: the files modulo and documento.
func signingParts(r *Request) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := eachPart(r, func(p *multipart.Part) error {
		switch name := p.FormName(); name {
		case "modulo", "documento":
			b, err := readPart(p)
			if err != nil {
				return err
			}
			out[name] = b
		}
		return nil
	})
	return out, err
}

// signingMessage words a refusal of the signing page.
func signingMessage(de *domain.Error) string {
	switch {
	case de.Kind == domain.KindTooLarge:
		return "Il file supera i 10 MB. Lo riduca (per esempio con una scansione a risoluzione più bassa) e lo carichi di nuovo."
	case de.Field == "modulo":
		return "Il modulo firmato deve essere un file PDF. Scansioni il modulo firmato in PDF e lo carichi di nuovo."
	case de.Field == "documento":
		return "Il documento di identità deve essere un file PDF, JPEG o PNG. Lo carichi in uno di questi formati."
	}
	return "L'invio non è riuscito. Controlli i file e riprovi."
}

// signingError is the page for a link that does not work, or a failure.
func signingError(ctx context.Context, log *slog.Logger, err error) pages.Rendered {
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return pages.NotFound()
	case errors.Is(err, app.ErrSignLinkGone):
		return pages.Gone()
	}
	log.ErrorContext(ctx, "signing page", "error", err)
	return pages.Error()
}

// NotFoundPage is the page for a link that leads nowhere (404).
func NotFoundPage() Response { return page(pages.NotFound()) }
