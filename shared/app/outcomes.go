package app

import (
	"context"
	"errors"
	"strings"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
	"github.com/pecplatform/pec/shared/provider"
)

// ErrUnknownAddress: a provider event for an address this platform never assigned.
var ErrUnknownAddress = &domain.Error{Kind: domain.KindNotFound, Code: "unknown_address", Message: "no mailbox has this address"}

// ProviderEvent applies an authenticated provider callback. A duplicate event id, or an
// event that arrives late (the mailbox has moved on), changes nothing and is not an error.
func (l *Lifecycle) ProviderEvent(ctx context.Context, ev provider.Event) error {
	seen, err := l.Store.SeenEvent(ctx, ev.EventID)
	if err != nil || seen {
		return err
	}
	id, err := l.Store.MailboxIDForAddress(ctx, strings.ToLower(ev.Address))
	if errors.Is(err, domain.ErrNotFound) {
		return ErrUnknownAddress
	}
	if err != nil {
		return err
	}
	var token string
	var failWith string
	mb, _, err := l.Store.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
		var changed bool
		var err error
		switch ev.Type {
		case provider.EventCreated:
			changed, err = m.Transition(domain.StateAbilitata, l.now(), "provider", "created")
			if changed && ev.ProviderRef != "" {
				m.ProviderRef = ev.ProviderRef
			}
		case provider.EventRejected:
			changed, err = m.Transition(domain.StateRevocata, l.now(), "provider", reasonOr("rejected", ev.Reason))
		case provider.EventDeactivated:
			// A mailbox the provider closed can no longer be anyone's domicilio digitale.
			changed, err = m.Transition(domain.StateRevocata, l.now(), "provider", reasonOr("deactivated by the provider", ev.Reason))
		}
		token, failWith = providerSignal(m, ev.Type)
		return changed, err
	})
	if err != nil {
		return err
	}
	l.Crash.at(CrashAfterCallback, mb.Address)
	if token != "" {
		if failWith != "" {
			err = l.Workflow.Fail(ctx, token, failWith, ev.Type)
		} else {
			err = l.Workflow.Resume(ctx, token)
		}
		if err != nil {
			return err
		}
		if err := l.forgetPark(ctx, id, token); err != nil {
			return err
		}
	}
	return l.Store.RecordEvent(ctx, ev.EventID, id)
}

// providerSignal tells which parked step the outcome of a provider event must resume or fail,
// once the outcome is written. The step stays parked with the mailbox until it has been told
// (see forgetPark): a callback that dies in between, or whose write's answer is lost, leaves
// the step parked, and the provider's re-delivery of the event tells it.
func providerSignal(m *domain.Mailbox, event string) (token, failWith string) {
	switch {
	case event == provider.EventCreated && m.State == domain.StateAbilitata:
		token, _ = m.Parked(domain.WaitingProvider)
	case event == provider.EventRejected && m.State == domain.StateRevocata:
		if token, _ = m.Parked(domain.WaitingProvider); token != "" {
			failWith = ErrNameRejected
		}
	case event == provider.EventDeactivated && m.State == domain.StateRevocata && m.Park.Token != "":
		token, failWith = m.Park.Token, ErrNameRevoked
	}
	return token, failWith
}

// forgetPark clears the parked step once it has been told, unless another step parked since.
func (l *Lifecycle) forgetPark(ctx context.Context, id, token string) error {
	_, _, err := l.Store.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
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

// Errors of the activation link, shown to members as pages without detail.
var (
	ErrLinkUnknown = &domain.Error{Kind: domain.KindNotFound, Code: "link_unknown", Message: "unknown activation link"}
	ErrLinkGone    = &domain.Error{Kind: domain.KindGone, Code: "link_gone", Message: "the activation link expired or was used"}
)

// ActivationView is what the activation page shows.
type ActivationView struct {
	Mailbox *domain.Mailbox
	Member  *domain.Member
	Order   *domain.Order
}

// ViewActivation resolves a link for the page.
func (l *Lifecycle) ViewActivation(ctx context.Context, raw string) (*ActivationView, error) {
	hash := HashLinkToken(raw)
	id, err := l.Store.ActivationMailbox(ctx, hash)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, ErrLinkUnknown
	}
	if err != nil {
		return nil, err
	}
	mb, err := l.Store.GetMailbox(ctx, id)
	if err != nil {
		return nil, err
	}
	if !mb.ActivationUsable(hash, l.now()) && !mb.ActivationUsed(hash) {
		return nil, ErrLinkGone
	}
	member, err := l.memberOf(ctx, mb)
	if err != nil {
		return nil, err
	}
	order, err := l.Store.GetOrder(ctx, mb.OrderID)
	if err != nil {
		return nil, err
	}
	return &ActivationView{Mailbox: mb, Member: member, Order: order}, nil
}

// Activate applies the member's choice. Confirming makes the mailbox ATTIVATA; declining
// revokes it (reason "declined") and, when the member gives an existing PEC, records it as
// their domicilio digitale. The link works once: the choice clears it.
func (l *Lifecycle) Activate(ctx context.Context, raw string, confirm bool, ownPEC string) (*ActivationView, error) {
	if !confirm && strings.TrimSpace(ownPEC) != "" {
		pec, err := domain.NormaliseEmail(ownPEC)
		if err != nil {
			return nil, domain.Invalid("pec", "invalid_pec", "pec must be an e-mail address")
		}
		ownPEC = pec
	} else {
		ownPEC = ""
	}
	v, err := l.ViewActivation(ctx, raw)
	if err != nil {
		return nil, err
	}
	hash := HashLinkToken(raw)
	var token string
	mb, _, err := l.Store.UpdateMailbox(ctx, v.Mailbox.ID, func(m *domain.Mailbox) (bool, error) {
		token = ""
		if m.ActivationUsed(hash) {
			// This link's choice is written but its step was never told: finish that.
			token, _ = m.Parked(domain.WaitingMember)
			return false, nil
		}
		if !m.ActivationUsable(hash, l.now()) {
			return false, ErrLinkGone // a second click racing the first
		}
		var err error
		if confirm {
			var changed bool
			if changed, err = m.Transition(domain.StateAttivata, l.now(), "member", "confirmed"); changed {
				// In the same conditional write as the activation: never an active mailbox without it.
				m.StartValidity(domain.Today(l.now()), v.Order.Convention.Validity())
			}
		} else {
			_, err = m.Transition(domain.StateRevocata, l.now(), "member", "declined")
		}
		// The link and the parked step stay until the step is told (forgetPark): the link is
		// no longer usable, but clicking it again finishes a choice whose resumption was lost.
		token, _ = m.Parked(domain.WaitingMember)
		return true, err
	})
	if err != nil {
		return nil, err
	}
	v.Mailbox = mb
	confirmed := mb.State == domain.StateAttivata
	if !confirmed && ownPEC != "" {
		if v.Member, err = l.Store.UpdateMember(ctx, mb.OrderID, v.Member.CodiceFiscale, Audit{"member", "member.own_pec_given"}, func(m *domain.Member) (bool, error) {
			m.PEC, m.UpdatedAt = ownPEC, l.now()
			return true, nil
		}); err != nil {
			return nil, err
		}
	}
	l.Crash.at(CrashAfterClick, mb.Address)
	switch {
	case token != "" && confirmed:
		var gone bool
		if gone, err = l.Workflow.ResumeOrGone(ctx, token); err == nil && gone {
			l.afterLateActivation(ctx, mb.ID) // the workflow ended (reminders exhausted)
		}
	case token != "":
		err = l.Workflow.Fail(ctx, token, ErrNameDeclined, "declined by the member")
	case !confirmed:
		// The workflow already ended (reminders exhausted): tell the Order from here.
		err = l.NotifyOrder(ctx, NoticeDeclined, mb.ID)
	default:
		l.afterLateActivation(ctx, mb.ID) // no workflow waits on this mailbox any more
	}
	if err == nil && token != "" {
		err = l.forgetPark(ctx, mb.ID, token)
	}
	return v, err
}

// afterLateActivation does what the workflow's AfterActivation step would have done, for a
// member who confirmed after the workflow ended. The activation itself is recorded: a
// failure here is logged, not shown to the member.
func (l *Lifecycle) afterLateActivation(ctx context.Context, mailboxID string) {
	if err := l.Activated(ctx, mailboxID); err != nil {
		l.Log.ErrorContext(ctx, "after a late activation", "mailboxId", mailboxID, "error", err)
	}
}

// Revoke makes a mailbox REVOCATA from any state. Revoking a revoked mailbox is a success that
// changes nothing. A waiting workflow is failed with MailboxRevoked and tells the provider
// itself; otherwise, if the provider knows the mailbox, it is told from here.
func (l *Lifecycle) Revoke(ctx context.Context, c Caller, id, reason string) (*domain.Mailbox, error) {
	reason, err := domain.ValidateReason(reason)
	if err != nil {
		return nil, err
	}
	mb, err := l.Store.GetMailbox(ctx, id)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !c.CanAccessOrder(mb.OrderID)) {
		return nil, errMailboxNotFound
	}
	if err != nil {
		return nil, err
	}
	return l.revoke(ctx, id, c.Actor(), reason)
}

var errMailboxNotFound = &domain.Error{Kind: domain.KindNotFound, Code: "mailbox_not_found", Message: "no such mailbox"}

func (l *Lifecycle) revoke(ctx context.Context, id, actor, reason string) (*domain.Mailbox, error) {
	return l.revokeIf(ctx, id, actor, reason, nil)
}

// revokeIf revokes as revoke does, but only if cond (when given) holds for the mailbox as it is
// written, so that the decision and the revocation are one conditional write.
func (l *Lifecycle) revokeIf(ctx context.Context, id, actor, reason string, cond func(*domain.Mailbox) bool) (*domain.Mailbox, error) {
	var token string
	mb, changed, err := l.Store.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
		if cond != nil && !cond(m) {
			return false, nil
		}
		changed, err := m.Transition(domain.StateRevocata, l.now(), actor, reason)
		token = ""
		if changed {
			m.Activation.Hash = ""
			token, _ = m.Unpark(m.Park.Waiting)
		}
		return changed, err
	})
	if err != nil {
		return mb, err
	}
	if !changed {
		// Already revoked: if telling the provider failed the first time, this retry tells it
		// again (the provider's deactivation is idempotent).
		return mb, l.DeactivateAtProvider(ctx, id)
	}
	if token != "" {
		return mb, l.Workflow.Fail(ctx, token, ErrNameRevoked, "revoked")
	}
	return mb, l.DeactivateAtProvider(ctx, id)
}

// ResendActivation sends a fresh link to a mailbox waiting for its member; the old link dies.
func (l *Lifecycle) ResendActivation(ctx context.Context, c Caller, id string) (*domain.Mailbox, error) {
	mb, err := l.Store.GetMailbox(ctx, id)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !c.CanAccessOrder(mb.OrderID)) {
		return nil, errMailboxNotFound
	}
	if err != nil {
		return nil, err
	}
	if mb.State != domain.StateAbilitata {
		return nil, errNotAwaitingActivation
	}
	return l.issueActivation(ctx, mb, mb.Activation.Sent, nil)
}

// CancelMember records that the member left the albo and revokes their mailbox, if any.
func (l *Lifecycle) CancelMember(ctx context.Context, c Caller, orderID, codiceFiscale, date, reason string) (*domain.Member, *domain.Mailbox, error) {
	if err := l.orderAccess(ctx, c, orderID); err != nil {
		return nil, nil, err
	}
	cf, err := domain.ParseCodiceFiscale(codiceFiscale)
	if err != nil {
		return nil, nil, err
	}
	on, reason, err := domain.ValidateCancellation(date, reason, l.now())
	if err != nil {
		return nil, nil, err
	}
	m, err := l.Store.UpdateMember(ctx, orderID, cf, Audit{c.Actor(), "member.cancelled"}, func(m *domain.Member) (bool, error) {
		if m.Cancelled() {
			return false, nil
		}
		m.CancelledOn, m.CancelReason, m.UpdatedAt = on, reason, l.now()
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if m.MailboxID == "" {
		return m, nil, nil
	}
	mb, err := l.revoke(ctx, m.MailboxID, c.Actor(), "member cancelled from the albo: "+m.CancelReason)
	return m, mb, err
}

// RunBatching is the scheduled batching: for every Order in the convention it gathers the new
// RICHIESTA mailboxes into a batch, as POST /v1/orders/{id}/batches would. It also repairs: a
// batch confirmed and paid at least RepairAfter ago whose mailboxes have not all started (its
// workflow ended first, say because the Order paid after every reminder) is started from here.
func (l *Lifecycle) RunBatching(ctx context.Context) (created, repaired int, err error) {
	orders, err := l.Store.ListOrders(ctx)
	if err != nil {
		return 0, 0, err
	}
	var errs []error
	for _, o := range orders {
		n, err := l.repairBatches(ctx, o.ID)
		repaired += n
		if err != nil {
			errs = append(errs, err)
		}
		if !o.Convention.WebPEC {
			continue
		}
		_, err = l.CreateBatch(ctx, Caller{Role: RoleFederation}, o.ID)
		switch {
		case errors.Is(err, domain.ErrNothingToAuthorize):
		case err != nil:
			errs = append(errs, err)
		default:
			created++
		}
	}
	return created, repaired, errors.Join(errs...)
}

// repairBatches looks at the Order's recent batches (a batch is repaired long before twenty
// newer ones exist).
func (l *Lifecycle) repairBatches(ctx context.Context, orderID string) (int, error) {
	batches, _, err := l.Store.ListBatches(ctx, orderID, 20, "")
	if err != nil {
		return 0, err
	}
	repaired := 0
	for _, b := range batches {
		// A renewal batch is repaired mailbox by mailbox, by the expiry run (see Expiry).
		if !b.Submitted() || b.IsRenewal() || l.now().Sub(b.UpdatedAt) < l.RepairAfter {
			continue
		}
		open, err := l.Store.CountOpen(ctx, orderID, b.Seq)
		if err != nil || open == 0 {
			if err != nil {
				return repaired, err
			}
			continue
		}
		l.Log.WarnContext(ctx, "starting the mailboxes of a submitted batch", "batchId", b.ID, "open", open)
		for cursor := ""; ; {
			if cursor, err = l.StartMailboxes(ctx, b.ID, cursor); err != nil {
				return repaired, err
			}
			if cursor == "" {
				break
			}
		}
		repaired++
	}
	return repaired, nil
}

// Activated runs what follows a mailbox's activation. The workflow calls it once the member
// has confirmed, and retries it on failure, so each of its steps is idempotent: a CTU member
// gets the ReGIndE e-mail once.
func (l *Lifecycle) Activated(ctx context.Context, mailboxID string) error {
	mb, err := l.Store.GetMailbox(ctx, mailboxID)
	if err != nil || mb.State != domain.StateAttivata {
		return err
	}
	if err := l.ensureValidity(ctx, mb); err != nil {
		return err
	}
	// ReGIndE first: it records what it sent, so a retry after a failed notice below does
	// not send it again.
	if l.Reginde != nil {
		if err := l.Reginde.NotifyActivated(ctx, mb); err != nil {
			return err
		}
	}
	if mb.RequestID != "" {
		return l.notifySelfService(ctx, mb)
	}
	return nil
}

// notifySelfService tells the Order, by PEC, that a member's self-service mailbox is active and
// is now the member's domicilio digitale: the member writes to nobody.
func (l *Lifecycle) notifySelfService(ctx context.Context, mb *domain.Mailbox) error {
	member, err := l.memberOf(ctx, mb)
	if err != nil {
		return err
	}
	order, err := l.Store.GetOrder(ctx, mb.OrderID)
	if err != nil {
		return err
	}
	offer := ""
	if r, err := l.Store.GetRequest(ctx, mb.RequestID); err == nil {
		offer = r.OfferCode
	}
	m, err := notice.SelfServiceNotice(notice.MemberNoticeData{OrderName: order.Name, Nome: member.Nome, Cognome: member.Cognome,
		NumeroIscrizione: member.NumeroIscrizione, Address: mb.Address, Reason: offer})
	if err != nil {
		return err
	}
	_, err = l.OrderMail.Send(ctx, order.PEC, m)
	return err
}
