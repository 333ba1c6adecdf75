package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/pages"
	"github.com/pecplatform/pec/shared/provider"
)

// maxCallbackBody bounds a provider callback; real ones are a few hundred bytes.
const maxCallbackBody = 64 << 10

// ProviderCallback serves POST /v1/provider/callback (ProviderCallbackFunction): authenticated
// by the HMAC signature, not by a portal token.
func ProviderCallback(p *app.Provisioning, log *slog.Logger, secrets [][]byte, now func() time.Time) Handler {
	return func(ctx context.Context, r Request) (resp Response, _ error) {
		defer func() {
			log.InfoContext(ctx, "request", "route", r.RouteKey, "status", resp.StatusCode, "apiRequestId", r.RequestContext.RequestID)
		}()
		body, ok := rawBody(&r, maxCallbackBody)
		if !ok {
			return errorResponse(http.StatusRequestEntityTooLarge, "payload_too_large", "the body is too large", ""), nil
		}
		if err := provider.Verify(secrets, header(&r, "x-pec-signature"), body, now(), 300*time.Second); err != nil {
			return errorResponse(http.StatusUnauthorized, "bad_signature", "missing, invalid or stale X-Pec-Signature", ""), nil
		}
		ev, err := provider.ParseEvent(body)
		if err != nil {
			var ee *provider.EventError
			field := ""
			if errors.As(err, &ee) {
				field = ee.Field
			}
			return errorResponse(http.StatusBadRequest, "malformed_event", "the event is not valid", field), nil
		}
		err = p.ProviderEvent(ctx, ev.Outcome())
		var de *domain.Error
		switch {
		case err == nil:
			return Response{StatusCode: http.StatusNoContent}, nil
		case errors.As(err, &de) && de.Kind != domain.KindInternal:
			return errorResponse(statusOf(de.Kind), de.Code, de.Message, de.Field), nil
		}
		log.ErrorContext(ctx, "provider event failed", "eventType", ev.Type, "error", err)
		return errorResponse(http.StatusInternalServerError, "internal", "internal error", ""), nil
	}
}

// mailboxID is the shape of the platform's mailbox ids (app.NewID: 128 bits, hex).
var mailboxID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ProviderCheck serves POST /v1/provider/legalmail/{mailboxId} (ProviderCallbackFunction): the
// callback of a provider whose callbacks carry no proof. The body is not trusted, nor read: the
// platform asks the provider where the mailbox stands (app.Provisioning.CheckProvider) and
// applies that, so a forged, repeated or late callback changes nothing the provider did not
// say. 204 once asked (the outcome applied, still pending, or nothing waited for); 404 for no
// such mailbox; 503 when the provider could not be asked, so that it calls again.
func ProviderCheck(p *app.Provisioning, log *slog.Logger) Handler {
	return func(ctx context.Context, r Request) (resp Response, _ error) {
		defer func() {
			log.InfoContext(ctx, "request", "route", r.RouteKey, "status", resp.StatusCode, "apiRequestId", r.RequestContext.RequestID)
		}()
		id := r.PathParameters["mailboxId"]
		if !mailboxID.MatchString(id) {
			return errorResponse(http.StatusNotFound, "not_found", "no such mailbox", ""), nil
		}
		outcome, err := p.CheckProvider(ctx, id)
		switch {
		case err == nil:
			log.InfoContext(ctx, "provider asked", "mailboxId", id, "outcome", outcome)
			return Response{StatusCode: http.StatusNoContent}, nil
		case errors.Is(err, domain.ErrNotFound):
			return errorResponse(http.StatusNotFound, "not_found", "no such mailbox", ""), nil
		}
		log.ErrorContext(ctx, "provider check failed", "mailboxId", id, "error", err)
		return errorResponse(http.StatusServiceUnavailable, "provider_unavailable", "the provider could not be asked; call again later", ""), nil
	}
}

func rawBody(r *Request, limit int) ([]byte, bool) {
	body := []byte(r.Body)
	if r.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(r.Body); err != nil {
			return nil, true
		}
	}
	return body, len(body) <= limit
}

// linkToken is the shape of the tokens this platform issues: 256 bits, base64url.
var linkToken = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// Activation serves GET and POST /activate/{token} (ActivationFunction): the member's page.
func Activation(l *app.Activations, log *slog.Logger) Handler {
	return func(ctx context.Context, r Request) (resp Response, _ error) {
		defer func() {
			log.InfoContext(ctx, "request", "route", r.RouteKey, "status", resp.StatusCode, "apiRequestId", r.RequestContext.RequestID)
		}()
		raw := r.PathParameters["token"]
		if !linkToken.MatchString(raw) {
			return page(pages.NotFound()), nil
		}
		if r.RequestContext.HTTP.Method == http.MethodPost {
			return page(activate(ctx, l, log, &r, raw)), nil
		}
		v, err := l.ViewActivation(ctx, raw)
		if err != nil {
			return page(errorPage(ctx, log, err)), nil
		}
		return page(pages.Form(formData(v))), nil
	}
}

func activate(ctx context.Context, l *app.Activations, log *slog.Logger, r *Request, raw string) pages.Rendered {
	if crossSite(r) {
		return forbidden()
	}
	body, ok := rawBody(r, 16<<10)
	if !ok {
		p := pages.Error()
		p.Status = http.StatusRequestEntityTooLarge
		return p
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		form = url.Values{}
	}
	choice, pec := form.Get(pages.FieldChoice), strings.TrimSpace(form.Get(pages.FieldPEC))
	if choice != pages.ChoiceConfirm && choice != pages.ChoiceDecline {
		v, err := l.ViewActivation(ctx, raw)
		if err != nil {
			return errorPage(ctx, log, err)
		}
		d := formData(v)
		d.PEC = pec
		return pages.Invalid(d, pages.MsgNoChoice)
	}
	v, err := l.Activate(ctx, raw, choice == pages.ChoiceConfirm, pec)
	var de *domain.Error
	if errors.As(err, &de) && de.Field == "pec" {
		v, verr := l.ViewActivation(ctx, raw)
		if verr != nil {
			return errorPage(ctx, log, verr)
		}
		d := formData(v)
		d.Choice, d.PEC = choice, pec
		return pages.Invalid(d, pages.MsgInvalidPEC)
	}
	if err != nil && v == nil {
		return errorPage(ctx, log, err)
	}
	if err != nil {
		// The choice is recorded; only resuming the workflow or a notice failed, and the
		// workflow's own timeout and the store's state cover that.
		log.ErrorContext(ctx, "after activation choice", "mailboxId", v.Mailbox.ID, "error", err)
	}
	res := pages.ResultData{OrderName: v.Order.Name, Nome: v.Member.Nome, Address: v.Mailbox.Address,
		ProviderName: l.Access.ProviderName, WebmailURL: l.Access.WebmailURL, CredentialsBySMS: l.Access.CredentialsBy == app.CredentialsBySMS,
		SupportURL: l.Access.SupportURL}
	if v.Mailbox.State == domain.StateAttivata { // the recorded choice, should this click repeat an earlier one
		return pages.Confirmed(res)
	}
	res.OwnPEC = v.Member.PEC
	return pages.Declined(res)
}

// crossSite refuses a form posted from another site. The link's token is the real protection
// (another site cannot know it); this stops a page that learnt it from making the choice.
// Browsers say where a request comes from in Sec-Fetch-Site; without it, the Origin header is
// checked. Under the page's Referrer-Policy no-referrer a browser posts the page's own form
// with "Origin: null", so null is not evidence of another site.
func crossSite(r *Request) bool {
	switch header(r, "sec-fetch-site") {
	case "same-origin", "none":
		return false
	case "cross-site", "same-site":
		return true
	}
	origin := header(r, "origin")
	if origin == "" || origin == "null" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || !strings.EqualFold(u.Host, header(r, "host"))
}

func forbidden() pages.Rendered {
	p := pages.Error()
	p.Status = http.StatusForbidden
	return p
}

func formData(v *app.ActivationView) pages.FormData {
	return pages.FormData{OrderName: v.Order.Name, Nome: v.Member.Nome, Cognome: v.Member.Cognome,
		MaskedCF: v.Member.CodiceFiscale.Masked(), Address: v.Mailbox.Address, ExpiresAt: v.Mailbox.Activation.ExpiresAt}
}

func errorPage(ctx context.Context, log *slog.Logger, err error) pages.Rendered {
	switch {
	case errors.Is(err, app.ErrLinkUnknown):
		return pages.NotFound()
	case errors.Is(err, app.ErrLinkGone):
		return pages.Gone()
	}
	log.ErrorContext(ctx, "activation page", "error", err)
	return pages.Error()
}

func page(p pages.Rendered) Response {
	return Response{StatusCode: p.Status, Headers: p.Headers, Body: string(p.Body)}
}
