package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.ExpiryStore = (*Store)(nil)

const renewalLinePrefix = "MAILBOX#"

// DueMailboxIDs implements app.ExpiryStore from the sparse expiry entries of GSI3: only ATTIVATA
// mailboxes are there, sorted by the day they are next due, so the query reads only due ones.
func (s *Store) DueMailboxIDs(ctx context.Context, orderID, today string, limit int, cursor string) ([]string, string, error) {
	// '~' sorts after every character of a mailbox id: the whole of day today is included.
	ids, next, err := s.mailboxIDsPage(ctx, expiryPK(orderID), today+"#~", limit, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("due mailboxes: %w", err)
	}
	return ids, next, nil
}

// RenewalCandidates implements app.ExpiryStore: a query of the Order's ATTIVATA partition of
// GSI1 with a filter on the expiry (an Order asks for a renewal a few times a year; the filter
// reads the Order's active mailboxes once, and only ids travel back).
func (s *Store) RenewalCandidates(ctx context.Context, orderID, before string, each func(mailboxID, renewalBatchID string) error) error {
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexByState),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		FilterExpression:          aws.String("expiresOn < :before"),
		ProjectionExpression:      aws.String("id, renewalBatchId"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(statePK(orderID, domain.StateAttivata)), ":before": str(before)},
	}
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("renewal candidates: %w", err)
		}
		for _, r := range res.Items {
			var it struct {
				ID             string `dynamodbav:"id"`
				RenewalBatchID string `dynamodbav:"renewalBatchId"`
			}
			if err := attributevalue.UnmarshalMap(r, &it); err != nil {
				return err
			}
			if err := each(it.ID, it.RenewalBatchID); err != nil {
				return err
			}
		}
		if res.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// AddToRenewal implements app.ExpiryStore: the mailbox's mark and the batch's line are written
// in one transaction, so the batch lists exactly the mailboxes marked with it.
func (s *Store) AddToRenewal(ctx context.Context, batchID, mailboxID string, change func(*domain.Mailbox) (bool, error)) (bool, error) {
	return optimistic(func() (bool, error) {
		mb, err := s.GetMailbox(ctx, mailboxID)
		if err != nil {
			return false, err
		}
		changed, err := change(mb)
		if err != nil || !changed {
			return false, err
		}
		old := mb.Version
		mb.Version++
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{
				TableName: &s.table, Item: mustMarshal(toMailboxItem(mb)),
				ConditionExpression:       aws.String("version = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(old)},
			}},
			{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
				attrPK: str(batchPK(batchID)), attrSK: str(renewalLinePrefix + mailboxID), "type": str("renewalLine"),
				"mailboxId": str(mailboxID),
			}}},
		}})
		if r := cancelReasons(err); r != nil && r[0] == "ConditionalCheckFailed" {
			return false, errStale
		}
		if err != nil {
			return false, fmt.Errorf("add to renewal: %w", err)
		}
		return true, nil
	})
}

// RenewalMailboxIDs implements app.ExpiryStore from the batch's lines, in the batch's partition.
func (s *Store) RenewalMailboxIDs(ctx context.Context, batchID string, limit int, cursor string) ([]string, string, error) {
	partition := batchPK(batchID)
	in := &dynamodb.QueryInput{
		TableName: &s.table, Limit: aws.Int32(int32(limit)), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :line)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(partition), ":line": str(renewalLinePrefix)},
	}
	if cursor != "" {
		start, err := decodeCursor(cursor, attrPK, partition, attrPK, attrSK)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("renewal mailboxes: %w", err)
	}
	ids := make([]string, 0, len(res.Items))
	for _, it := range res.Items {
		if sk, ok := it[attrSK].(*types.AttributeValueMemberS); ok {
			ids = append(ids, strings.TrimPrefix(sk.Value, renewalLinePrefix))
		}
	}
	next := ""
	if res.LastEvaluatedKey != nil {
		next = encodeCursor(res.LastEvaluatedKey, attrPK, attrSK)
	}
	return ids, next, nil
}

// PutRenewalBatch implements app.ExpiryStore.
func (s *Store) PutRenewalBatch(ctx context.Context, b *domain.Batch) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(toBatchItem(b, app.BatchPark{})), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		s.audit(orderPK(b.OrderID), "batch:"+b.ID, "batch.created", "system", b.CreatedAt),
	}})
	if reasons := cancelReasons(err); reasons != nil && reasons[0] == "ConditionalCheckFailed" {
		return domain.ErrConcurrentUpdate
	}
	if err != nil {
		return fmt.Errorf("put renewal batch: %w", err)
	}
	return nil
}
