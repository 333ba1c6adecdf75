package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.TransferStore = (*Store)(nil)

// TransferMember implements app.TransferStore in one transaction: the record left in the old
// Order (under its version), the new Order's record (new there), the mailbox (under its
// version), the new Order's batch sequence (when the mailbox waits for a batch), an audit
// entry in each Order and the INI-PEC changes.
func (s *Store) TransferMember(ctx context.Context, orderID string, cf domain.CodiceFiscale, toOrderID string,
	decide func(m *domain.Member, mb *domain.Mailbox, to *domain.Order) (*app.MemberTransfer, error)) (*app.MemberTransfer, error) {
	return optimistic(func() (*app.MemberTransfer, error) {
		var it memberItem
		ok, err := s.getItem(ctx, orderPK(orderID), memberSK(string(cf.Canonical())), &it)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, domain.ErrMemberNotFound
		}
		m := it.member()
		var mb *domain.Mailbox
		if m.MailboxID != "" {
			if mb, err = s.GetMailbox(ctx, m.MailboxID); err != nil {
				return nil, err
			}
		}
		to, err := s.GetOrder(ctx, toOrderID)
		if err != nil {
			return nil, err
		}
		tr, err := decide(m, mb, to)
		if err != nil || tr.Done {
			return tr, err
		}
		left, moved := toMemberItem(tr.Left), toMemberItem(tr.Member)
		left.Version, moved.Version = it.Version+1, 0
		items := []types.TransactWriteItem{
			{Put: &types.Put{TableName: &s.table, Item: mustMarshal(left), ConditionExpression: aws.String("version = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(it.Version)}}},
			{Put: &types.Put{TableName: &s.table, Item: mustMarshal(moved), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		}
		if tr.Mailbox != nil {
			old := tr.Mailbox.Version
			tr.Mailbox.Version++
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: mustMarshal(toMailboxItem(tr.Mailbox)),
				ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(old)}}})
			if tr.Mailbox.State == domain.StateRichiesta {
				items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
					TableName: &s.table, Key: key(orderPK(toOrderID), skOrder),
					ConditionExpression:       aws.String("batchSeq = :seq"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":seq": num(tr.Mailbox.BatchSeq)},
				}})
			}
		}
		now := time.Now()
		changes := app.MemberChanges(m, tr.Member)
		items = append(items,
			s.auditEntry(orderPK(orderID), app.AuditEntry{Entity: "member:" + m.Key(), Action: "member.transferred_out", Actor: tr.Audit.Actor, At: now, Changes: changes}),
			s.auditEntry(orderPK(toOrderID), app.AuditEntry{Entity: "member:" + m.Key(), Action: "member.transferred_in", Actor: tr.Audit.Actor, At: now, Changes: changes}))
		for _, p := range tr.Publications {
			items = append(items, s.outbox(p))
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if reasons := cancelReasons(err); reasons != nil {
			switch {
			case reasons[1] == "ConditionalCheckFailed":
				return nil, domain.ErrMemberExists
			case reasons[0] == "ConditionalCheckFailed", len(reasons) > 2 && reasons[2] == "ConditionalCheckFailed",
				len(reasons) > 3 && reasons[3] == "ConditionalCheckFailed":
				return nil, errStale // the member, the mailbox or the batch sequence moved: decide again
			}
		}
		if err != nil {
			return nil, fmt.Errorf("transfer member: %w", err)
		}
		return tr, nil
	})
}
