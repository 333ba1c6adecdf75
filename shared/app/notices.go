package app

import (
	"context"
	"fmt"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// NoticeStore is what the notices to Orders read.
type NoticeStore interface {
	MailboxRecords
	GetRequest(ctx context.Context, id string) (*domain.Request, error)
}

// OrderNotices tells an Order, by PEC, what happened to one of its members' mailboxes.
type OrderNotices struct {
	Store     NoticeStore
	OrderMail Mailer
}

// NoticeKind names a notice to the Order about one mailbox.
type NoticeKind string

const (
	NoticeDeclined    NoticeKind = "declined"
	NoticeRejected    NoticeKind = "rejected"
	NoticeUnactivated NoticeKind = "unactivated"
)

// NotifyOrder sends the Order the notice of that kind about the mailbox.
func (n *OrderNotices) NotifyOrder(ctx context.Context, kind NoticeKind, mailboxID string) error {
	mb, err := n.Store.GetMailbox(ctx, mailboxID)
	if err != nil {
		return err
	}
	member, order, err := n.memberAndOrder(ctx, mb)
	if err != nil {
		return err
	}
	d := notice.MemberNoticeData{OrderName: order.Name, Nome: member.Nome, Cognome: member.Cognome,
		NumeroIscrizione: member.NumeroIscrizione, Address: mb.Address, OwnPEC: member.PEC,
		Reminders: max(mb.Activation.Sent-1, 0), Reason: lastReason(mb), Email: member.Email}
	var m notice.Message
	switch kind {
	case NoticeDeclined:
		m, err = notice.DeclineNotice(d)
	case NoticeRejected:
		m, err = notice.RejectionNotice(d)
	case NoticeUnactivated:
		m, err = notice.UnactivatedNotice(d)
	default:
		return fmt.Errorf("unknown notice %q", kind)
	}
	if err != nil {
		return err
	}
	_, err = n.OrderMail.Send(ctx, order.PEC, m)
	return err
}

// SelfServiceActive tells the Order that a member's self-service mailbox is active and is now
// the member's domicilio digitale: the member writes to nobody.
func (n *OrderNotices) SelfServiceActive(ctx context.Context, mb *domain.Mailbox) error {
	member, order, err := n.memberAndOrder(ctx, mb)
	if err != nil {
		return err
	}
	offer := ""
	if r, err := n.Store.GetRequest(ctx, mb.RequestID); err == nil {
		offer = r.OfferCode
	}
	m, err := notice.SelfServiceNotice(notice.MemberNoticeData{OrderName: order.Name, Nome: member.Nome, Cognome: member.Cognome,
		NumeroIscrizione: member.NumeroIscrizione, Address: mb.Address, Reason: offer})
	if err != nil {
		return err
	}
	_, err = n.OrderMail.Send(ctx, order.PEC, m)
	return err
}

func (n *OrderNotices) memberAndOrder(ctx context.Context, mb *domain.Mailbox) (*domain.Member, *domain.Order, error) {
	member, err := memberOf(ctx, n.Store, mb)
	if err != nil {
		return nil, nil, err
	}
	order, err := n.Store.GetOrder(ctx, mb.OrderID)
	if err != nil {
		return nil, nil, err
	}
	return member, order, nil
}
