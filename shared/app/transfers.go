package app

import (
	"context"
	"errors"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// MemberTransfer is a member's move to another Order, as decided: every record it writes, in
// one transaction.
type MemberTransfer struct {
	Left    *domain.Member  // the record the old Order keeps: cancelled, transferred to the new one
	Member  *domain.Member  // the record in the new Order
	Mailbox *domain.Mailbox // the convention mailbox, now the new Order's; nil when none
	// Publications are INI-PEC's: the deletion in the old Order's file, the insertion in the
	// new one's, when the member has a published domicilio digitale.
	Publications []*domain.Publication
	Audit        Audit
	Done         bool // the member had already moved there: nothing is written
}

// TransferStore is what transfers need from persistence.
type TransferStore interface {
	OrderReader
	GetMember(ctx context.Context, orderID string, cf domain.CodiceFiscale) (*domain.Member, error)
	GetMailbox(ctx context.Context, id string) (*domain.Mailbox, error)
	// TransferMember reads the member of orderID, their mailbox and the Order toOrderID, lets
	// decide build the transfer, and writes it all or nothing: the member unchanged since the
	// read, absent from the new Order (domain.ErrMemberExists otherwise), the mailbox unchanged,
	// the new Order's open batch sequence the one the mailbox joins. A loser decides again.
	TransferMember(ctx context.Context, orderID string, cf domain.CodiceFiscale, toOrderID string,
		decide func(m *domain.Member, mb *domain.Mailbox, to *domain.Order) (*MemberTransfer, error)) (*MemberTransfer, error)
}

// Transfers move members between Orders.
type Transfers struct {
	Store TransferStore
	Now   func() time.Time
}

var (
	errMailboxInProgress = &domain.Error{Kind: domain.KindConflict, Code: "mailbox_in_progress",
		Message: "the member's mailbox is on its way (in a batch, at the provider, waiting for the member, or being renewed): transfer the member once it is ATTIVATA, or revoke it"}
	errTargetHasMember = &domain.Error{Kind: domain.KindConflict, Code: "member_exists",
		Message: "the member is already enrolled in the Order of destination"}
	errUnknownTarget = domain.Invalid("toOrderId", "invalid_to_order_id", "toOrderId names no Order")
)

// Transfer moves a member to another Order, asked by the Order they leave or by the
// federation: their record there is closed as transferred (without revoking anything), a new
// record opens in the new Order with the new numero di iscrizione, and the convention mailbox
// moves with its history. INI-PEC gets the deletion in the old Order's file and the insertion
// in the new Order's. Asking again is answered with the member as transferred.
func (t *Transfers) Transfer(ctx context.Context, c Caller, orderID, codiceFiscale, toOrderID, date, numero string) (*domain.Member, *domain.Mailbox, error) {
	if err := orderAccess(ctx, t.Store, c, orderID); err != nil {
		return nil, nil, err
	}
	cf, err := domain.ParseCodiceFiscale(codiceFiscale)
	if err != nil {
		return nil, nil, err
	}
	now := utcNow(t.Now)
	on, numero, err := domain.ValidateTransfer(orderID, toOrderID, date, numero, now)
	if err != nil {
		return nil, nil, err
	}
	actor := c.Actor()
	_, err = t.Store.TransferMember(ctx, orderID, cf, toOrderID, func(m *domain.Member, mb *domain.Mailbox, to *domain.Order) (*MemberTransfer, error) {
		if m.TransferredTo == to.ID {
			return &MemberTransfer{Done: true}, nil
		}
		if m.Cancelled() {
			return nil, errMemberCancelled
		}
		tr := &MemberTransfer{Audit: Audit{Actor: actor}}
		left := *m
		left.CancelledOn, left.CancelReason, left.TransferredTo = on, "transferred to the Order "+to.ID, to.ID
		left.MailboxID, left.UpdatedAt = "", now
		moved := *m
		moved.OrderID, moved.NumeroIscrizione, moved.DataIscrizione, moved.TransferredFrom = to.ID, numero, on, orderID
		moved.EnrolledAt, moved.UpdatedAt, moved.ImportID, moved.RequestKey = now, now, "", ""
		tr.Left, tr.Member = &left, &moved
		if mb != nil {
			switch {
			case mb.State == domain.StateRichiesta && mb.BatchID == "":
				mb.BatchSeq = to.BatchSeq // joins the new Order's next batch
			case mb.State == domain.StateRichiesta, mb.State == domain.StateRichiestaInviata, mb.State == domain.StateAbilitata, mb.RenewalBatchID != "":
				return nil, errMailboxInProgress
			}
			if addr := domain.PublishedDomicilio(m, mb); addr != "" {
				tr.Publications = append(tr.Publications,
					&domain.Publication{Kind: domain.PublishDelete, OrderID: orderID, MemberKey: m.Key(), Address: addr, At: now},
					&domain.Publication{Kind: domain.PublishInsert, OrderID: to.ID, MemberKey: m.Key(), Address: addr, At: now})
			}
			mb.OrderID, mb.UpdatedAt = to.ID, now
			mb.History = append(mb.History, domain.Transition{State: mb.State, At: now, Actor: actor,
				Reason: "member transferred from the Order " + orderID + " to " + to.ID})
			tr.Mailbox = mb
		} else if addr := domain.PublishedDomicilio(m, nil); addr != "" {
			tr.Publications = append(tr.Publications,
				&domain.Publication{Kind: domain.PublishDelete, OrderID: orderID, MemberKey: m.Key(), Address: addr, At: now},
				&domain.Publication{Kind: domain.PublishInsert, OrderID: to.ID, MemberKey: m.Key(), Address: addr, At: now})
		}
		return tr, nil
	})
	switch {
	case errors.Is(err, domain.ErrOrderNotFound):
		return nil, nil, errUnknownTarget
	case errors.Is(err, domain.ErrMemberExists):
		return nil, nil, errTargetHasMember
	case err != nil:
		return nil, nil, err
	}
	m, err := t.Store.GetMember(ctx, toOrderID, cf)
	if err != nil {
		return nil, nil, err
	}
	var mb *domain.Mailbox
	if m.MailboxID != "" {
		if mb, err = t.Store.GetMailbox(ctx, m.MailboxID); err != nil {
			return nil, nil, err
		}
	}
	return m, mb, nil
}
