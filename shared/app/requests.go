package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/adhesion"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// RequestStore is what self-service requests need from persistence.
type RequestStore interface {
	OrderIDForOfferCode(ctx context.Context, code string) (string, error)
	GetOrder(ctx context.Context, id string) (*domain.Order, error)
	GetMember(ctx context.Context, orderID string, cf domain.CodiceFiscale) (*domain.Member, error)
	GetMailbox(ctx context.Context, id string) (*domain.Mailbox, error)
	TakenAddresses(ctx context.Context, addresses []string) (map[string]bool, error)
	// CreateRequest writes the request, its mailbox with the address reservation, and the
	// member's link to the mailbox, in one transaction. It fails with ErrAddressTaken when
	// the address was reserved meanwhile, and with ErrConcurrentUpdate when the member no
	// longer has prevMailboxID ("" for none), has an own PEC or left the albo.
	CreateRequest(ctx context.Context, r *domain.Request, mb *domain.Mailbox, m *domain.Member, prevMailboxID string) error
	GetRequest(ctx context.Context, id string) (*domain.Request, error)
	UpdateRequest(ctx context.Context, id string, audit Audit, change func(*domain.Request) (bool, error)) (*domain.Request, error)
	// Hit counts a hit of client in the window starting at start and reports whether the
	// window's count is still within max.
	Hit(ctx context.Context, client string, start time.Time, window time.Duration, max int) (bool, error)
}

// DocumentFiles keeps the members' documents.
type DocumentFiles interface {
	PutBytes(ctx context.Context, key, contentType string, content []byte) error
	// Read returns the object at key and its stored content type, reading at most max+1
	// bytes; domain.ErrNotFound when there is none.
	Read(ctx context.Context, key string, max int64) ([]byte, string, error)
	// Copy stores the object at from again at to, with contentType.
	Copy(ctx context.Context, from, to, contentType string) error
	// Delete removes the object at key; a missing object is no error.
	Delete(ctx context.Context, key string) error
}

// Payments confirms a payment with the payment service before it is recorded.
type Payments interface {
	// Verify returns nil when the service holds reference as paid, for amountCents, for the
	// request; a *domain.Error when it does not.
	Verify(ctx context.Context, reference string, amountCents int, requestID string) error
}

// MailboxStarter starts a mailbox's lifecycle; starting it twice is one lifecycle.
type MailboxStarter interface {
	StartMailbox(ctx context.Context, mailboxID, batchID string) error
}

// RateLimit allows Max requests per client in each Window.
type RateLimit struct {
	Max    int
	Window time.Duration
}

// DefaultRequestLimits: a person asks once; a client asking more is guessing.
var DefaultRequestLimits = []RateLimit{{Max: 5, Window: time.Minute}, {Max: 30, Window: 24 * time.Hour}}

// Requests runs the members' self-service requests under a convention (flow 2).
type Requests struct {
	Store    RequestStore
	Files    DocumentFiles
	Workflow MailboxStarter
	Payments Payments
	Domains  *domain.Albi
	Log      *slog.Logger
	Now      func() time.Time
	NewID    func() string
	Limits   []RateLimit
	// LinkMail e-mails the member the link to the request's page (PublicURL +
	// "/richiesta/<id>/<access token>") when the request is made; nil: not sent.
	LinkMail  Mailer
	PublicURL string
	// CheckoutURL is the payment service's checkout page the status page sends the member to.
	CheckoutURL string
	// Access is how members reach their new mailbox, for the status page once ATTIVATA.
	Access FirstAccess
	// Uploads signs the page's uploads straight to the documents' bucket (nil: the page
	// posts documents to the function, up to its payload limit); UploadTTL is how long a
	// page's forms work (DefaultUploadTTL when zero).
	Uploads   UploadForms
	UploadTTL time.Duration
}

// RequestView is a request as its member sees it.
type RequestView struct {
	Request *domain.Request
	Mailbox *domain.Mailbox
	Order   *domain.Order
}

// NewRequest is a created request with its access token, which exists only in this answer.
type NewRequest struct {
	Request     *domain.Request
	AccessToken string
	// Renewed is true when the member already had an unpaid request: it is the same request,
	// with a new access token (the old one no longer works).
	Renewed bool
}

func (q *Requests) now() time.Time { return q.Now().UTC() }

// limit counts the client's request against every limit.
func (q *Requests) limit(ctx context.Context, client string) error {
	if client == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(client))
	id := hex.EncodeToString(sum[:12]) // the client's address is not kept
	now := q.now()
	for _, l := range q.Limits {
		ok, err := q.Store.Hit(ctx, id, now.Truncate(l.Window), l.Window, l.Max)
		if err != nil {
			return err
		}
		if !ok {
			return domain.ErrRateLimited
		}
	}
	return nil
}

// Create starts a member's request under the convention that offerCode names. client
// identifies the caller for rate limiting (its network address).
func (q *Requests) Create(ctx context.Context, offerCode, client string, in domain.RequestInput) (*NewRequest, error) {
	if err := q.limit(ctx, client); err != nil {
		return nil, err
	}
	code := strings.ToUpper(strings.TrimSpace(offerCode))
	orderID, err := q.Store.OrderIDForOfferCode(ctx, code)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, domain.ErrOfferNotFound
	}
	if err != nil {
		return nil, err
	}
	cf, email, err := in.Validate()
	if err != nil {
		return nil, err
	}
	order, err := q.Store.GetOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if order.Convention.OfferCode == nil || *order.Convention.OfferCode != code {
		return nil, domain.ErrOfferNotFound // the Order gave the code up
	}
	for attempt := 0; ; attempt++ {
		m, err := q.Store.GetMember(ctx, orderID, cf)
		if errors.Is(err, domain.ErrMemberNotFound) || (err == nil && !in.Matches(m)) {
			return nil, domain.ErrIdentityMismatch
		}
		if err != nil {
			return nil, err
		}
		nr, err := q.create(ctx, order, m, email)
		if errors.Is(err, domain.ErrConcurrentUpdate) && attempt < 3 {
			continue // the member changed meanwhile: decide again
		}
		if err == nil {
			err = q.sendLink(ctx, order, nr)
		}
		return nr, err
	}
}

func (q *Requests) create(ctx context.Context, order *domain.Order, m *domain.Member, email string) (*NewRequest, error) {
	if m.PEC != "" {
		return nil, domain.ErrHasDomicilio
	}
	prev := ""
	if m.MailboxID != "" {
		mb, err := q.Store.GetMailbox(ctx, m.MailboxID)
		if err != nil {
			return nil, err
		}
		if mb.Live() {
			if mb.RequestID == "" {
				return nil, domain.ErrMailboxExists
			}
			return q.renew(ctx, mb.RequestID, email)
		}
		prev = mb.ID // revoked: a new mailbox, at a new address
	}
	now := q.now()
	raw, hash := newLinkToken()
	r := &domain.Request{ID: q.NewID(), OrderID: order.ID, OfferCode: *order.Convention.OfferCode, MemberKey: m.Key(),
		Email: email, PriceCents: order.Convention.PriceCents, VATPercent: order.Convention.VATPercent,
		AmountCents: domain.Amount(1, order.Convention), TokenHash: hash, CreatedAt: now, UpdatedAt: now}
	pecDomain := q.Domains.Domain(m.Albo)
	for n := 0; n < maxHomonyms; {
		addr, next, err := firstFreeAddress(ctx, q.Store, m, pecDomain, n)
		if err != nil {
			return nil, err
		}
		mb := domain.NewMailbox(q.NewID(), addr, order.ID, m.Albo, m.CodiceFiscale, now, "member")
		mb.History[0].Reason = "self-service request under convention " + r.OfferCode
		mb.RequestID = r.ID
		r.MailboxID, r.Address = mb.ID, mb.Address
		err = q.Store.CreateRequest(ctx, r, mb, m, prev)
		if errors.Is(err, domain.ErrAddressTaken) {
			n = next + 1
			continue
		}
		if err != nil {
			return nil, err
		}
		q.Log.InfoContext(ctx, "self-service request created", "requestId", r.ID, "orderId", order.ID, "mailboxId", mb.ID)
		return &NewRequest{Request: r, AccessToken: raw}, nil
	}
	return nil, errors.New("no free homonym number for address")
}

// renew gives an unpaid request a new access token: a member who lost the first answer can
// start again without a second mailbox. A paid request keeps its token.
func (q *Requests) renew(ctx context.Context, id, email string) (*NewRequest, error) {
	raw, hash := newLinkToken()
	r, err := q.Store.UpdateRequest(ctx, id, Audit{"member", "request.token_renewed"}, func(r *domain.Request) (bool, error) {
		if r.Submitted {
			return false, domain.ErrMailboxExists
		}
		if r.Payment != nil {
			return false, domain.ErrRequestPaid
		}
		r.TokenHash, r.Email, r.UpdatedAt = hash, email, q.now()
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &NewRequest{Request: r, AccessToken: raw, Renewed: true}, nil
}

// authorize returns the request if token is its access token. An unknown request and a wrong
// token are the same answer.
func (q *Requests) authorize(ctx context.Context, id, token string) (*domain.Request, error) {
	if token == "" {
		return nil, &domain.Error{Kind: domain.KindUnauthorized, Code: "unauthorized", Message: "the X-Access-Token header is required"}
	}
	if len(id) == 0 || len(id) > 64 {
		return nil, domain.ErrRequestNotFound
	}
	r, err := q.Store.GetRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(HashLinkToken(token)), []byte(r.TokenHash)) != 1 {
		return nil, domain.ErrRequestNotFound
	}
	return r, nil
}

// Get returns the request, its mailbox and the Order.
func (q *Requests) Get(ctx context.Context, id, token string) (*RequestView, error) {
	r, err := q.authorize(ctx, id, token)
	if err != nil {
		return nil, err
	}
	return q.view(ctx, r, true)
}

// view reads what the member sees; repair restarts a submitted request's lost lifecycle.
func (q *Requests) view(ctx context.Context, r *domain.Request, repair bool) (*RequestView, error) {
	mb, err := q.Store.GetMailbox(ctx, r.MailboxID)
	if err != nil {
		return nil, err
	}
	order, err := q.Store.GetOrder(ctx, r.OrderID)
	if err != nil {
		return nil, err
	}
	if repair && r.Submitted && mb.State == domain.StateRichiesta {
		// Submitted, but the start of its lifecycle was lost: start it (a second start is none).
		if err := q.Workflow.StartMailbox(ctx, mb.ID, ""); err != nil {
			q.Log.ErrorContext(ctx, "start mailbox workflow", "requestId", r.ID, "mailboxId", mb.ID, "error", err)
		}
	}
	return &RequestView{Request: r, Mailbox: mb, Order: order}, nil
}

// Form renders the subscription form to sign.
func (q *Requests) Form(ctx context.Context, id, token string) ([]byte, error) {
	r, err := q.authorize(ctx, id, token)
	if err != nil {
		return nil, err
	}
	order, err := q.Store.GetOrder(ctx, r.OrderID)
	if err != nil {
		return nil, err
	}
	m, err := q.Store.GetMember(ctx, r.OrderID, domain.CodiceFiscale(r.MemberKey))
	if err != nil {
		return nil, err
	}
	return adhesion.Form(adhesion.Data{
		RequestID: r.ID, OrderName: order.Name, OfferCode: r.OfferCode, Nome: m.Nome, Cognome: m.Cognome,
		CodiceFiscale: m.CodiceFiscale.Value(), Albo: m.Albo, NumeroIscrizione: m.NumeroIscrizione, Email: r.Email,
		Address: r.Address, PriceCents: r.PriceCents, VATPercent: r.VATPercent, ValidityYears: order.Convention.Validity(),
		Date: inRome(r.CreatedAt),
	})
}

// inRome gives t in Italian time, for dates printed on documents (UTC if the zone is unknown).
func inRome(t time.Time) time.Time {
	if loc, err := time.LoadLocation("Europe/Rome"); err == nil {
		return t.In(loc)
	}
	return t
}

// Pay records the member's payment; a paid and documented request goes to the provider.
func (q *Requests) Pay(ctx context.Context, id, token, reference string, amountCents int) (*RequestView, error) {
	r, err := q.authorize(ctx, id, token)
	if err != nil {
		return nil, err
	}
	// The request's own rules first (amount, reference, already paid), then the payment
	// service, which must confirm the payment before it is recorded.
	probe := *r
	if changed, err := probe.Pay(reference, amountCents, q.now()); err != nil {
		return nil, err
	} else if changed {
		if err := q.Payments.Verify(ctx, strings.TrimSpace(reference), amountCents, r.ID); err != nil {
			return nil, err
		}
	}
	r, err = q.Store.UpdateRequest(ctx, id, Audit{"member", "request.paid"}, func(r *domain.Request) (bool, error) {
		return r.Pay(reference, amountCents, q.now())
	})
	if err != nil {
		return nil, err
	}
	return q.submitIfReady(ctx, r)
}

// Upload is one uploaded document.
type Upload struct {
	Kind    domain.DocumentKind
	Content []byte
}

// AddDocuments stores the documents (type checked by content) and records them on the
// request; a paid and documented request goes to the provider. The same document sent twice
// is stored once.
func (q *Requests) AddDocuments(ctx context.Context, id, token string, uploads []Upload) (*RequestView, error) {
	r, err := q.authorize(ctx, id, token)
	if err != nil {
		return nil, err
	}
	if len(uploads) == 0 {
		return nil, domain.Invalid("form", "no_documents", "send form (the signed subscription form) and/or identity (an identity document)")
	}
	if r.Submitted {
		return nil, domain.ErrRequestSubmitted
	}
	docs := map[domain.DocumentKind]domain.Document{}
	for _, u := range uploads {
		field := string(u.Kind)
		if len(u.Content) > domain.MaxDocument {
			return nil, domain.DocumentTooLarge(field)
		}
		ct, err := domain.SniffDocument(field, u.Content)
		if err != nil {
			return nil, err
		}
		d := q.document(r.ID, u.Kind, ct, u.Content)
		if err := q.Files.PutBytes(ctx, d.Key, ct, u.Content); err != nil {
			return nil, err
		}
		docs[u.Kind] = d
	}
	r, err = q.recordDocuments(ctx, id, docs)
	if err != nil {
		return nil, err
	}
	return q.submitIfReady(ctx, r)
}

// document is a checked document of the request as it is kept: under
// requests/<id>/<kind>-<sha256 prefix>, so the same document sent twice is stored once.
func (q *Requests) document(id string, kind domain.DocumentKind, contentType string, content []byte) domain.Document {
	sum := sha256.Sum256(content)
	d := domain.Document{ContentType: contentType, Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), UploadedAt: q.now()}
	d.Key = fmt.Sprintf("requests/%s/%s-%s", id, kind, d.SHA256[:16])
	return d
}

// recordDocuments records the documents on the request; one it holds already changes nothing.
func (q *Requests) recordDocuments(ctx context.Context, id string, docs map[domain.DocumentKind]domain.Document) (*domain.Request, error) {
	return q.Store.UpdateRequest(ctx, id, Audit{"member", "request.documents"}, func(r *domain.Request) (bool, error) {
		changed := false
		for k, d := range docs {
			if old, ok := r.Documents[k]; ok && old.SHA256 == d.SHA256 {
				continue
			}
			if err := r.AddDocument(k, d); err != nil {
				return false, err
			}
			changed = true
		}
		return changed, nil
	})
}

// submitIfReady sends a paid and documented request to the provider: the request is marked
// submitted, then its mailbox's lifecycle starts (from RICHIESTA_INVIATA on, as in flow 1).
func (q *Requests) submitIfReady(ctx context.Context, r *domain.Request) (*RequestView, error) {
	if r.Ready() {
		var err error
		r, err = q.Store.UpdateRequest(ctx, r.ID, Audit{"system", "request.submitted"}, func(r *domain.Request) (bool, error) {
			return r.Submit(q.now()), nil
		})
		if err != nil {
			return nil, err
		}
		q.Log.InfoContext(ctx, "self-service request submitted", "requestId", r.ID, "mailboxId", r.MailboxID)
	}
	if r.Submitted {
		if err := q.Workflow.StartMailbox(ctx, r.MailboxID, ""); err != nil {
			return nil, err // recorded as submitted: a retry of the call, or a GET, starts it
		}
	}
	return q.view(ctx, r, false)
}

// StatusPath is the path of the request's page: its access token is the credential.
func StatusPath(requestID, accessToken string) string {
	return "/richiesta/" + requestID + "/" + accessToken
}

// sendLink e-mails the member the link to the request's page, the only place the access token
// goes besides the answer that created it. A failed send fails the request's answer: asking
// again gives the same request a new token, and a new e-mail.
func (q *Requests) sendLink(ctx context.Context, order *domain.Order, nr *NewRequest) error {
	if q.LinkMail == nil {
		return nil
	}
	r := nr.Request
	msg, err := notice.RequestLinkEmail(notice.RequestLinkData{Address: r.Address, OrderName: order.Name,
		Link: q.PublicURL + StatusPath(r.ID, nr.AccessToken), AmountCents: r.AmountCents})
	if err != nil {
		return err
	}
	msg.OrderID, msg.MemberKey, msg.RequestID = r.OrderID, r.MemberKey, r.ID
	_, err = q.LinkMail.Send(ctx, r.Email, msg)
	return err
}

// Offer returns the Order whose convention the offer code names, for the convention's page.
func (q *Requests) Offer(ctx context.Context, offerCode string) (*domain.Order, error) {
	code := strings.ToUpper(strings.TrimSpace(offerCode))
	orderID, err := q.Store.OrderIDForOfferCode(ctx, code)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, domain.ErrOfferNotFound
	}
	if err != nil {
		return nil, err
	}
	order, err := q.Store.GetOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if order.Convention.OfferCode == nil || *order.Convention.OfferCode != code {
		return nil, domain.ErrOfferNotFound
	}
	return order, nil
}

// Checkout is where the member pays the request: the payment service's page, told the request
// (the remittance), the amount and where to come back.
func (q *Requests) Checkout(r *domain.Request, returnURL string) string {
	if q.CheckoutURL == "" {
		return ""
	}
	v := url.Values{"remittance": {r.ID}, "amountCents": {strconv.Itoa(r.AmountCents)}, "return": {returnURL}}
	return q.CheckoutURL + "?" + v.Encode()
}
