package app

import (
	"context"
	"errors"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// The ports several use cases share. Each use case declares its own store port beside it
// (BatchStore, ProvisioningStore, ActivationStore, ...), from the pieces below.

// Audit names who makes a change and what it is, for the Order's audit trail. An empty
// Action records nothing (workflow bookkeeping such as a parked token is not a change of the
// Order's records).
type Audit struct {
	Actor, Action string
}

// OrderReader reads an Order.
type OrderReader interface {
	GetOrder(ctx context.Context, id string) (*domain.Order, error)
}

// MailboxUpdater changes a mailbox under its optimistic lock.
type MailboxUpdater interface {
	// UpdateMailbox reads the mailbox, lets change decide, and writes the result under an
	// optimistic lock, deciding again if someone wrote in between. It also writes, in the same
	// transaction, the INI-PEC change the new state makes (domain.MailboxPublication).
	UpdateMailbox(ctx context.Context, id string, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, bool, error)
}

// MailboxRecords is what every use case of one mailbox reads and changes: the mailbox, its
// member and its Order.
type MailboxRecords interface {
	OrderReader
	MailboxUpdater
	GetMember(ctx context.Context, orderID string, cf domain.CodiceFiscale) (*domain.Member, error)
	GetMailbox(ctx context.Context, id string) (*domain.Mailbox, error)
}

// MemberUpdater changes a member under its optimistic lock, with an entry in the Order's audit
// trail and, in the same transaction, the INI-PEC change the member's new domicilio makes.
type MemberUpdater interface {
	UpdateMember(ctx context.Context, orderID string, cf domain.CodiceFiscale, audit Audit, change func(*domain.Member) (bool, error)) (*domain.Member, error)
}

// Workflow is what the lifecycle needs from Step Functions.
type Workflow interface {
	// StartBatch and StartMailbox start the named execution; a start that already happened is
	// not an error, so a retried start never makes a second lifecycle.
	StartBatch(ctx context.Context, batchID string) error
	StartMailbox(ctx context.Context, mailboxID, batchID string) error
	// Resume completes a parked step; Fail fails it with a named error that the state machine
	// catches. A token whose step is gone (timed out, already resumed) is not an error.
	Resume(ctx context.Context, token string) error
	// ResumeOrGone is Resume, reporting whether the step was gone (the workflow moved on or
	// ended), so that the caller can do itself what the workflow would have done.
	ResumeOrGone(ctx context.Context, token string) (gone bool, err error)
	Fail(ctx context.Context, token, errorName, cause string) error
	// FailOrGone is Fail, reporting whether the step was gone.
	FailOrGone(ctx context.Context, token, errorName, cause string) (gone bool, err error)
}

// Mailer delivers a message to one address: ordinary e-mail (SES) for members, PEC (SMTP)
// for Orders.
type Mailer interface {
	Send(ctx context.Context, to string, m notice.Message) (messageID string, err error)
}

// DocumentLinks makes expiring download links to stored documents.
type DocumentLinks interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Provider is the PEC provider, as the lifecycle uses it to have mailboxes created, renewed
// and closed. Its adapter speaks the provider's own protocol.
type Provider interface {
	// Submit asks for the mailbox; idempotent on RequestID. Returns the provider's reference.
	Submit(ctx context.Context, r SubmitRequest) (ref string, err error)
	// Deactivate asks the provider to close (or cancel the request for) the mailbox; idempotent.
	Deactivate(ctx context.Context, mb ProviderMailbox, reason string) error
	// Renew extends the mailbox's validity until r.ValidUntil; idempotent on (RenewalID, RequestID).
	Renew(ctx context.Context, r RenewRequest) error
}

// ProviderMailbox names a mailbox to the provider: by the platform's id, by its address (the
// account's name at most providers) and by the provider's own reference once it gave one.
type ProviderMailbox struct {
	RequestID   string
	Address     string
	ProviderRef string
}

// ProviderStatusReader is a provider that can be asked where one mailbox stands. A provider that
// calls nobody back (Aruba) is polled with it; the callbacks of one whose callbacks carry no
// proof (Legalmail) are checked with it.
type ProviderStatusReader interface {
	Status(ctx context.Context, mb ProviderMailbox) (ProviderStatus, error)
}

// ProviderActivationDocuments is a provider that creates a mailbox only once its holder has sent
// the provider's own activation form, signed, and an identity document (Legalmail): the
// platform hands the member the form and forwards what they give back.
type ProviderActivationDocuments interface {
	// ActivationForm is the provider's form for the mailbox (a PDF), to be signed by its holder.
	ActivationForm(ctx context.Context, mb ProviderMailbox) ([]byte, error)
	// SendActivationDocuments sends the signed form and the identity document, whose content
	// type is identityType (application/pdf, image/jpeg or image/png). The mailbox's outcome
	// comes later, as for a submission; documents the provider finds wrong may be sent again.
	SendActivationDocuments(ctx context.Context, mb ProviderMailbox, form, identity []byte, identityType string) error
}

// ProviderStatus is what the provider says of one mailbox.
type ProviderStatus struct {
	// Outcome is ProviderCreated, ProviderRejected or ProviderDeactivated once there is one,
	// empty while the provider is still working on the request.
	Outcome     string
	Reason      string // a short machine-made reason for a rejection or a deactivation
	ProviderRef string
	State       string // the provider's own word for the state, for the audit trail
	Quota       *Quota // nil where the provider does not tell
	// DocumentsRefused: with no outcome yet, the provider refused the holder's signed form
	// or identity document (Legalmail's documenti_errati): the member is asked again.
	DocumentsRefused bool
}

// Quota is a mailbox's storage as the provider reports it.
type Quota struct {
	UsedBytes  int64
	LimitBytes int64
}

// Percent is the share of the quota in use, 0 to 100 (and over, where the provider allows it).
func (q Quota) Percent() int {
	if q.LimitBytes <= 0 {
		return 0
	}
	return int(q.UsedBytes * 100 / q.LimitBytes)
}

// AddressChecker is a provider that can tell whether an address is still free on its side:
// someone outside the platform may have taken it.
type AddressChecker interface {
	AddressAvailable(ctx context.Context, address string, holder ProviderHolder) (bool, error)
}

// ProviderHolder is the person a mailbox belongs to, as providers identify them.
type ProviderHolder struct {
	Nome          string
	Cognome       string
	CodiceFiscale string
	Email         string // the member's ordinary e-mail, for providers that require a contact
}

// SubmitRequest is what the provider needs to create a mailbox, and nothing more.
type SubmitRequest struct {
	RequestID     string // our mailbox id; the provider deduplicates on it
	Address       string
	Nome          string
	Cognome       string
	CodiceFiscale string // the holder's identity, required by providers for a PEC contract
	Email         string // the member's ordinary e-mail: sent only to providers that require it
	// Phone and Residence are the holder's as enrolled (empty when not): sent only to providers
	// that require them (Legalmail); birth facts come from CodiceFiscale (domain.Birth).
	Phone     string
	Residence *domain.Residence
	// Documents are the signed subscription form and the identity document of a member's
	// self-service request (none for a mailbox the Order authorised and paid).
	Documents []ProviderDocument
}

// ProviderDocument is a document the provider downloads from a link that expires.
type ProviderDocument struct {
	Kind        string // form or identity
	ContentType string
	Size        int64
	SHA256      string
	URL         string
	ExpiresAt   time.Time
}

// RenewRequest extends a mailbox's validity, once per renewal.
type RenewRequest struct {
	RequestID   string // our mailbox id, as submitted
	ProviderRef string // the provider's reference, when it gave one
	RenewalID   string // our renewal batch id
	Address     string // the mailbox, as a check
	ValidUntil  string // YYYY-MM-DD, the new last day of validity
}

// ErrProviderRefused is wrapped by every Provider error that retrying cannot cure (a request
// the provider refuses for good). Any other error is the provider being unavailable.
var ErrProviderRefused = errors.New("provider: permanent failure")

// ProviderEvent is an outcome the provider reports for one of the platform's addresses.
type ProviderEvent struct {
	EventID     string // the provider's id of the event: a repeated id changes nothing
	Type        string // one of the Provider* event types
	Address     string
	ProviderRef string
	Reason      string
}

// Provider event types.
const (
	ProviderCreated     = "mailbox.created"
	ProviderRejected    = "mailbox.rejected"
	ProviderDeactivated = "mailbox.deactivated"
)

// Error names the state machines catch. They are the Go type names of the errors the task
// functions return, which is how Lambda reports them to Step Functions.
const (
	ErrNameRevoked  = "MailboxRevoked"
	ErrNameRejected = "MailboxRejected"
	ErrNameDeclined = "MailboxDeclined"
)

// MailboxRevoked is returned by a task whose mailbox was revoked meanwhile.
type MailboxRevoked struct{ ID string }

func (e *MailboxRevoked) Error() string { return "mailbox " + e.ID + " is revoked" }

// MailboxRejected is returned by a task whose mailbox the provider refused.
type MailboxRejected struct{ ID string }

func (e *MailboxRejected) Error() string { return "mailbox " + e.ID + " was refused by the provider" }

var errMailboxNotFound = &domain.Error{Kind: domain.KindNotFound, Code: "mailbox_not_found", Message: "no such mailbox"}

// orderAccess checks the Order id, the caller's right to it, and that it exists.
func orderAccess(ctx context.Context, orders OrderReader, c Caller, orderID string) error {
	if err := domain.ValidateOrderID(orderID); err != nil {
		return err
	}
	if !c.CanAccessOrder(orderID) {
		return domain.ErrForbidden
	}
	_, err := orders.GetOrder(ctx, orderID)
	return err
}

// memberOf reads the member a mailbox belongs to.
func memberOf(ctx context.Context, s MailboxRecords, mb *domain.Mailbox) (*domain.Member, error) {
	return s.GetMember(ctx, mb.OrderID, domain.CodiceFiscale(mb.MemberKey))
}

// lastReason is the reason of the mailbox's latest transition.
func lastReason(mb *domain.Mailbox) string {
	if n := len(mb.History); n > 0 {
		return mb.History[n-1].Reason
	}
	return ""
}

// utcNow reads a clock in UTC.
func utcNow(now func() time.Time) time.Time { return now().UTC() }

// FirstAccess is how a member reaches a new mailbox, as its provider has it: the adapter of each
// provider kind supplies it (the pages and e-mails only word it).
type FirstAccess struct {
	ProviderName string // "Aruba PEC"
	WebmailURL   string // where the mailbox is read in a browser
	// CredentialsBy is how the first credentials reach the member: CredentialsByEmail (to the
	// ordinary e-mail address given at enrolment) or CredentialsBySMS.
	CredentialsBy string
	SupportURL    string // the provider's help pages
}

// How a provider sends the first credentials.
const (
	CredentialsByEmail = "email"
	CredentialsBySMS   = "sms"
)
