package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// ProvisioningStore is what asking the provider for mailboxes, and taking its outcomes, need
// from persistence.
type ProvisioningStore interface {
	MailboxRecords
	// GetRequest reads a member's self-service request (its documents go to the provider).
	GetRequest(ctx context.Context, id string) (*domain.Request, error)
	// MailboxIDForAddress returns the mailbox an address was assigned to.
	MailboxIDForAddress(ctx context.Context, address string) (string, error)
	// SeenEvent reports whether a provider event was already processed; RecordEvent marks it.
	SeenEvent(ctx context.Context, eventID string) (bool, error)
	RecordEvent(ctx context.Context, eventID, mailboxID string) error
	// TakenAddresses reports which of the addresses are reserved already.
	TakenAddresses(ctx context.Context, addresses []string) (map[string]bool, error)
	// MoveAddress gives the mailbox another address, reserved in the same write (failing with
	// domain.ErrAddressTaken when it is reserved already); change records why.
	MoveAddress(ctx context.Context, id, to string, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, error)
	// MarkTakenAtProvider reserves an address for nobody, for good: someone outside the
	// platform holds it at the provider.
	MarkTakenAtProvider(ctx context.Context, address, orderID string) error
}

// Provisioning asks the provider for each authorised mailbox and applies what the provider
// reports back: created (ABILITATA), rejected or deactivated (REVOCATA).
type Provisioning struct {
	Store    ProvisioningStore
	Workflow Workflow
	Provider Provider
	// Status asks the provider where a mailbox stands (nil for a provider that only calls
	// back); Addresses asks whether an address is still free there (nil: it cannot tell).
	Status    ProviderStatusReader
	Addresses AddressChecker
	// Documents issues the provider's links to a self-service request's documents; nil where
	// no self-service mailbox is submitted.
	Documents *ProviderDocumentLinks
	Now       func() time.Time
	Crash     Crash // tests only: die between two writes (nil in production)
	Metrics   Metrics
}

// ErrUnknownAddress: a provider event for an address this platform never assigned.
var ErrUnknownAddress = &domain.Error{Kind: domain.KindNotFound, Code: "unknown_address", Message: "no mailbox has this address"}

func (p *Provisioning) now() time.Time { return utcNow(p.Now) }

// SubmitMailbox moves the mailbox to RICHIESTA_INVIATA, parks the workflow until the
// provider calls back, and asks the provider for the mailbox.
func (p *Provisioning) SubmitMailbox(ctx context.Context, mailboxID, batchID, token string) error {
	mb, _, err := p.Store.UpdateMailbox(ctx, mailboxID, func(m *domain.Mailbox) (bool, error) {
		if m.State == domain.StateRevocata {
			return false, nil
		}
		if _, err := m.Transition(domain.StateRichiestaInviata, p.now(), "system", "authorized and paid"); err != nil {
			return false, err
		}
		if m.State != domain.StateRichiestaInviata {
			return false, nil // the provider answered already: nothing to wait for
		}
		m.BatchID = batchID
		m.Park = domain.Park{Token: token, Waiting: domain.WaitingProvider}
		return true, nil
	})
	if err != nil {
		return err
	}
	switch mb.State {
	case domain.StateRevocata:
		return &MailboxRevoked{ID: mailboxID}
	case domain.StateRichiestaInviata:
	default:
		return p.Workflow.Resume(ctx, token)
	}
	member, err := memberOf(ctx, p.Store, mb)
	if err != nil {
		return err
	}
	if p.Addresses != nil && mb.ProviderRef == "" {
		if mb, err = p.finalAddress(ctx, mb, member); errors.Is(err, ErrProviderRefused) {
			return p.refused(ctx, mailboxID, "rejected: no address the provider can give")
		} else if err != nil {
			return err
		}
	}
	req := SubmitRequest{RequestID: mb.ID, Address: mb.Address,
		Nome: member.Nome, Cognome: member.Cognome, CodiceFiscale: member.CodiceFiscale.Value(), Email: member.Email,
		Phone: member.Phone, Residence: member.Residence}
	if mb.RequestID != "" {
		if req.Documents, err = p.documentsOf(ctx, mb.RequestID); err != nil {
			return err
		}
	}
	ref, err := p.Provider.Submit(ctx, req)
	if errors.Is(err, ErrProviderRefused) {
		return p.refused(ctx, mailboxID, "rejected: the provider refused the request")
	}
	if err != nil {
		return err // ProviderUnavailable: the state machine retries with backoff
	}
	_, _, err = p.Store.UpdateMailbox(ctx, mailboxID, func(m *domain.Mailbox) (bool, error) {
		if m.ProviderRef == ref {
			return false, nil
		}
		m.ProviderRef = ref
		return true, nil
	})
	return err
}

// refused revokes a mailbox the provider will not create, and fails the parked step.
func (p *Provisioning) refused(ctx context.Context, mailboxID, reason string) error {
	if _, _, err := p.Store.UpdateMailbox(ctx, mailboxID, func(m *domain.Mailbox) (bool, error) {
		m.Park = domain.Park{}
		return m.Transition(domain.StateRevocata, p.now(), "provider", reason)
	}); err != nil {
		return err
	}
	return &MailboxRejected{ID: mailboxID}
}

// documentsOf links the provider to a self-service request's documents.
func (p *Provisioning) documentsOf(ctx context.Context, requestID string) ([]ProviderDocument, error) {
	r, err := p.Store.GetRequest(ctx, requestID)
	if err != nil {
		return nil, err
	}
	if p.Documents == nil {
		return nil, errors.New("self-service mailbox, but no document links configured (PUBLIC_URL)")
	}
	var out []ProviderDocument
	for _, k := range domain.DocumentKinds {
		d, ok := r.Documents[k]
		if !ok {
			continue
		}
		url, expires, err := p.Documents.Issue(ctx, r.ID, k, d.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, ProviderDocument{Kind: string(k), ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256,
			URL: url, ExpiresAt: expires})
	}
	return out, nil
}

// ProviderEvent applies an authenticated provider callback. A duplicate event id, or an
// event that arrives late (the mailbox has moved on), changes nothing and is not an error.
func (p *Provisioning) ProviderEvent(ctx context.Context, ev ProviderEvent) error {
	seen, err := p.Store.SeenEvent(ctx, ev.EventID)
	if err != nil || seen {
		return err
	}
	id, err := p.Store.MailboxIDForAddress(ctx, strings.ToLower(ev.Address))
	if errors.Is(err, domain.ErrNotFound) {
		return ErrUnknownAddress
	}
	if err != nil {
		return err
	}
	var token string
	var failWith string
	mb, changed, err := p.Store.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
		var changed bool
		var err error
		switch ev.Type {
		case ProviderCreated:
			changed, err = m.Transition(domain.StateAbilitata, p.now(), "provider", "created")
			if changed && ev.ProviderRef != "" {
				m.ProviderRef = ev.ProviderRef
			}
		case ProviderRejected:
			changed, err = m.Transition(domain.StateRevocata, p.now(), "provider", reasonOr("rejected", ev.Reason))
		case ProviderDeactivated:
			// A mailbox the provider closed can no longer be anyone's domicilio digitale.
			changed, err = m.Transition(domain.StateRevocata, p.now(), "provider", reasonOr("deactivated by the provider", ev.Reason))
		}
		token, failWith = providerSignal(m, ev.Type)
		return changed, err
	})
	if err != nil {
		return err
	}
	if changed && ev.Type == ProviderRejected {
		count(ctx, p.Metrics, MetricProviderRejections, 1, Dimension{"Operation", "callback"})
	}
	p.Crash.at(CrashAfterCallback, mb.Address)
	if token != "" {
		if failWith != "" {
			err = p.Workflow.Fail(ctx, token, failWith, ev.Type)
		} else {
			err = p.Workflow.Resume(ctx, token)
		}
		if err != nil {
			return err
		}
		if err := forgetPark(ctx, p.Store, id, token); err != nil {
			return err
		}
	}
	return p.Store.RecordEvent(ctx, ev.EventID, id)
}

// providerSignal tells which parked step the outcome of a provider event must resume or fail,
// once the outcome is written. The step stays parked with the mailbox until it has been told
// (see forgetPark): a callback that dies in between, or whose write's answer is lost, leaves
// the step parked, and the provider's re-delivery of the event tells it.
func providerSignal(m *domain.Mailbox, event string) (token, failWith string) {
	switch {
	case event == ProviderCreated && m.State == domain.StateAbilitata:
		token, _ = m.Parked(domain.WaitingProvider)
	case event == ProviderRejected && m.State == domain.StateRevocata:
		if token, _ = m.Parked(domain.WaitingProvider); token != "" {
			failWith = ErrNameRejected
		}
	case event == ProviderDeactivated && m.State == domain.StateRevocata && m.Park.Token != "":
		token, failWith = m.Park.Token, ErrNameRevoked
	}
	return token, failWith
}

// forgetPark clears the parked step once it has been told, unless another step parked since.
func forgetPark(ctx context.Context, s MailboxUpdater, id, token string) error {
	_, _, err := s.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
		if m.Park.Token != token {
			return false, nil
		}
		m.Park = domain.Park{}
		if m.State != domain.StateAbilitata {
			m.Activation.Hash = "" // a used link: kept only until its step was told
		}
		return true, nil
	})
	return err
}

func reasonOr(prefix, reason string) string {
	if reason == "" {
		return prefix
	}
	return prefix + ": " + reason
}
