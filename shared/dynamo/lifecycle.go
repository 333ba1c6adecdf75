package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// The lifecycle's ports the store implements.
var (
	_ app.BatchStore        = (*Store)(nil)
	_ app.RenewalStore      = (*Store)(nil)
	_ app.ProvisioningStore = (*Store)(nil)
	_ app.ActivationStore   = (*Store)(nil)
	_ app.RevocationStore   = (*Store)(nil)
	_ app.NoticeStore       = (*Store)(nil)
)

// retention of the records that only guard against replays.
const eventRetention = 30 * 24 * time.Hour

// UpdateMember reads the member, lets change decide, and writes it back under an optimistic lock.
func (s *Store) UpdateMember(ctx context.Context, orderID string, cf domain.CodiceFiscale, audit app.Audit, change func(*domain.Member) (bool, error)) (*domain.Member, error) {
	return optimistic(func() (*domain.Member, error) {
		var it memberItem
		ok, err := s.getItem(ctx, orderPK(orderID), memberSK(string(cf.Canonical())), &it)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, domain.ErrMemberNotFound
		}
		m := it.member()
		before := *m
		changed, err := change(m)
		if err != nil || !changed {
			return m, err
		}
		next := toMemberItem(m)
		next.Version = it.Version + 1
		p := domain.MemberPublication(&before, m)
		if domain.DomicilioMayChange(&before, m) && m.MailboxID != "" && !m.Cancelled() {
			// The own PEC changed over a convention mailbox: INI-PEC holds whichever prevails.
			mb, err := s.GetMailbox(ctx, m.MailboxID)
			if err != nil {
				return nil, err
			}
			p = domain.DomicilioChange(&before, m, mb)
		}
		err = s.putAudited(ctx, next, it.Version, orderPK(orderID), "member:"+m.Key(), audit, app.MemberChanges(&before, m), p)
		if err != nil {
			return nil, fmt.Errorf("update member: %w", err)
		}
		return m, nil
	})
}

// ListOrders returns every Order (a federation has tens of them).
func (s *Store) ListOrders(ctx context.Context) ([]*domain.Order, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexByOrder),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(allOrdersPK)},
	}
	var out []*domain.Order
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list orders: %w", err)
		}
		for _, r := range res.Items {
			var it orderItem
			if err := attributevalue.UnmarshalMap(r, &it); err != nil {
				return nil, err
			}
			out = append(out, it.order())
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// CountOpen implements app.BatchStore.
func (s *Store) CountOpen(ctx context.Context, orderID string, seq int) (int, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexOpen), Select: types.SelectCount,
		KeyConditionExpression:    aws.String("GSI3PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(openPK(orderID, seq))},
	}
	n := 0
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("count open mailboxes: %w", err)
		}
		n += int(res.Count)
		if res.LastEvaluatedKey == nil {
			return n, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// OpenMailboxIDs implements app.BatchStore.
func (s *Store) OpenMailboxIDs(ctx context.Context, orderID string, seq, limit int, cursor string) ([]string, string, error) {
	ids, next, err := s.mailboxIDsPage(ctx, openPK(orderID, seq), "", limit, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("open mailboxes: %w", err)
	}
	return ids, next, nil
}

// mailboxIDsPage reads one page of the mailbox ids of a GSI3 partition (KEYS_ONLY), up to the
// sort key upTo when it is not empty.
func (s *Store) mailboxIDsPage(ctx context.Context, partition, upTo string, limit int, cursor string) ([]string, string, error) {
	keyAttrs := []string{attrPK, attrSK, attrGSI3PK, attrGSI3SK}
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexOpen), Limit: aws.Int32(int32(limit)),
		KeyConditionExpression:    aws.String("GSI3PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(partition)},
	}
	if upTo != "" {
		in.KeyConditionExpression = aws.String("GSI3PK = :pk AND GSI3SK <= :upto")
		in.ExpressionAttributeValues[":upto"] = str(upTo)
	}
	if cursor != "" {
		start, err := decodeCursor(cursor, attrGSI3PK, partition, keyAttrs...)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, 0, len(res.Items))
	for _, it := range res.Items {
		if pk, ok := it[attrPK].(*types.AttributeValueMemberS); ok {
			ids = append(ids, strings.TrimPrefix(pk.Value, "MAILBOX#"))
		}
	}
	next := ""
	if res.LastEvaluatedKey != nil {
		next = encodeCursor(res.LastEvaluatedKey, keyAttrs...)
	}
	return ids, next, nil
}

// CreateBatch implements app.BatchStore: closing the sequence and storing the batch is one
// transaction, and every enrolment under the old sequence checks it is still open in its own
// transaction, so the batch's membership is exactly what CountOpen sees afterwards.
func (s *Store) CreateBatch(ctx context.Context, b *domain.Batch) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table, Key: key(orderPK(b.OrderID), skOrder),
			UpdateExpression:          aws.String("SET batchSeq = :next, version = version + :one"),
			ConditionExpression:       aws.String("batchSeq = :seq"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":next": num(b.Seq + 1), ":seq": num(b.Seq), ":one": num(1)},
		}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(toBatchItem(b, app.BatchPark{})), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		s.audit(orderPK(b.OrderID), "batch:"+b.ID, "batch.created", "system", b.CreatedAt),
	}})
	if reasons := cancelReasons(err); reasons != nil && reasons[0] == "ConditionalCheckFailed" {
		return domain.ErrConcurrentUpdate
	}
	if err != nil {
		return fmt.Errorf("create batch: %w", err)
	}
	return nil
}

// GetBatch implements app.BatchStore.
func (s *Store) GetBatch(ctx context.Context, id string) (*domain.Batch, app.BatchPark, error) {
	var it batchItem
	ok, err := s.getItem(ctx, batchPK(id), skBatch, &it)
	if err != nil {
		return nil, app.BatchPark{}, err
	}
	if !ok {
		return nil, app.BatchPark{}, domain.ErrBatchNotFound
	}
	b, p := it.batch()
	return b, p, nil
}

// UpdateBatch implements app.BatchStore.
func (s *Store) UpdateBatch(ctx context.Context, id string, audit app.Audit, change func(*domain.Batch, *app.BatchPark) (bool, error)) (*domain.Batch, app.BatchPark, bool, error) {
	type parked struct {
		b    *domain.Batch
		park app.BatchPark
	}
	var changed bool
	r, err := optimistic(func() (parked, error) {
		b, park, err := s.GetBatch(ctx, id)
		if err != nil {
			return parked{nil, park}, err
		}
		if changed, err = change(b, &park); err != nil || !changed {
			return parked{b, park}, err
		}
		old := b.Version
		b.Version++
		err = s.putAudited(ctx, toBatchItem(b, park), old, orderPK(b.OrderID), "batch:"+b.ID, audit, nil, nil)
		if err != nil {
			return parked{nil, park}, fmt.Errorf("update batch: %w", err)
		}
		return parked{b, park}, nil
	})
	return r.b, r.park, changed && err == nil, err
}

// ListBatches implements app.BatchStore, newest first.
func (s *Store) ListBatches(ctx context.Context, orderID string, limit int, cursor string) ([]*domain.Batch, string, error) {
	partition := orderBatchesPK(orderID)
	keyAttrs := []string{attrPK, attrSK, attrGSI2PK, attrGSI2SK}
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexByOrder), Limit: aws.Int32(int32(limit + 1)),
		ScanIndexForward:          aws.Bool(false),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(partition)},
	}
	if cursor != "" {
		start, err := decodeCursor(cursor, attrGSI2PK, partition, keyAttrs...)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("list batches: %w", err)
	}
	raw, next := res.Items, ""
	if len(raw) > limit {
		raw = raw[:limit]
		next = encodeCursor(raw[len(raw)-1], keyAttrs...)
	}
	out := make([]*domain.Batch, 0, len(raw))
	for _, r := range raw {
		var it batchItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, "", err
		}
		b, _ := it.batch()
		out = append(out, b)
	}
	return out, next, nil
}

// UpdateActivation implements app.ActivationStore: the activation item goes in the transaction
// that writes the mailbox with the link's hash, so a link exists only with its mailbox's
// change, and issuing it is one write request.
func (s *Store) UpdateActivation(ctx context.Context, id, hash string, expires time.Time, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, bool, error) {
	activation := types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table,
		Item: map[string]types.AttributeValue{
			attrPK: str(activationPK(hash)), attrSK: str(skActivation), "type": str("activation"),
			"mailboxId": str(id), AttrTTL: num(int(expires.Add(24 * time.Hour).Unix())),
		},
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}
	return s.updateMailbox(ctx, id, change, activation)
}

// ActivationMailbox implements app.ActivationStore.
func (s *Store) ActivationMailbox(ctx context.Context, hash string) (string, error) {
	var it struct {
		MailboxID string `dynamodbav:"mailboxId"`
	}
	ok, err := s.getItem(ctx, activationPK(hash), skActivation, &it)
	if err != nil {
		return "", err
	}
	if !ok || it.MailboxID == "" {
		return "", domain.ErrNotFound // unknown, or taken at the provider by someone else
	}
	return it.MailboxID, nil
}

// MoveAddress gives the mailbox another address, reserved in the same transaction (it fails
// with domain.ErrAddressTaken when the address is reserved already); change records why.
func (s *Store) MoveAddress(ctx context.Context, id, to string, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, error) {
	var orderID string
	reserve := func() types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{
			TableName: &s.table,
			Item: map[string]types.AttributeValue{
				attrPK: str(addressPK(to)), attrSK: str(skAddress), "type": str("address"),
				"mailboxId": str(id), "orderId": str(orderID), "reservedAt": str(formatTime(time.Now())),
			},
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}}
	}
	mb, err := s.GetMailbox(ctx, id)
	if err != nil {
		return nil, err
	}
	orderID = mb.OrderID
	mb, _, err = s.updateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
		m.Address = to
		return change(m)
	}, reserve())
	if r := cancelReasons(err); len(r) > 1 && r[1] == "ConditionalCheckFailed" {
		return nil, domain.ErrAddressTaken
	}
	return mb, err
}

// MarkTakenAtProvider reserves an address for nobody, for good: someone outside the platform
// holds it at the provider. A reservation the platform held loses its mailbox, so that nothing
// the provider says of the address reaches the mailbox that gave it up.
func (s *Store) MarkTakenAtProvider(ctx context.Context, address, orderID string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(addressPK(address), skAddress),
		UpdateExpression:         aws.String("SET #type = :type, takenAtProvider = :t, orderId = if_not_exists(orderId, :o), reservedAt = if_not_exists(reservedAt, :at) REMOVE mailboxId"),
		ExpressionAttributeNames: map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":type": str("address"), ":t": &types.AttributeValueMemberBOOL{Value: true}, ":o": str(orderID), ":at": str(formatTime(time.Now())),
		},
	})
	return err
}

// SeenEvent implements app.ProvisioningStore.
func (s *Store) SeenEvent(ctx context.Context, eventID string) (bool, error) {
	var it struct{}
	return s.getItem(ctx, eventPK(eventID), skEvent, &it)
}

// RecordEvent implements app.ProvisioningStore.
func (s *Store) RecordEvent(ctx context.Context, eventID, mailboxID string) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table,
		Item: map[string]types.AttributeValue{
			attrPK: str(eventPK(eventID)), attrSK: str(skEvent), "type": str("providerEvent"),
			"mailboxId": str(mailboxID), "at": str(formatTime(time.Now())),
			AttrTTL: num(int(time.Now().Add(eventRetention).Unix())),
		},
	})
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	return nil
}

// MailboxIDForAddress implements app.ProvisioningStore from the address reservation.
func (s *Store) MailboxIDForAddress(ctx context.Context, address string) (string, error) {
	var it struct {
		MailboxID string `dynamodbav:"mailboxId"`
	}
	ok, err := s.getItem(ctx, addressPK(address), skAddress, &it)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", domain.ErrNotFound
	}
	return it.MailboxID, nil
}

// errStale: the item changed since it was read; read and decide again.
var errStale = errors.New("stale version")

// optimistic runs try, which reads an item, lets the domain decide and writes the item back
// under a condition on its version, again while try reports errStale (wrapped or not), up to
// a few times.
func optimistic[T any](try func() (T, error)) (T, error) {
	for attempt := 0; attempt < 5; attempt++ {
		v, err := try()
		if !errors.Is(err, errStale) {
			return v, err
		}
	}
	var zero T
	return zero, domain.ErrConcurrentUpdate
}

// putAudited writes item if its version is still version and, when audit names an action,
// appends the audit entry in the same transaction.
func (s *Store) putAudited(ctx context.Context, item any, version int, auditPK, entity string, audit app.Audit, changes []app.FieldChange, p *domain.Publication) error {
	put := &types.Put{
		TableName: &s.table, Item: mustMarshal(item),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)},
	}
	if audit.Action == "" && p == nil {
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item,
			ConditionExpression: put.ConditionExpression, ExpressionAttributeValues: put.ExpressionAttributeValues})
		if isConditionFailed(err) {
			return errStale
		}
		return err
	}
	items := []types.TransactWriteItem{{Put: put}}
	if audit.Action != "" {
		items = append(items, s.auditEntry(auditPK, app.AuditEntry{Entity: entity, Action: audit.Action, Actor: audit.Actor, At: time.Now(), Changes: changes}))
	}
	if p != nil {
		items = append(items, s.outbox(p))
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if r := cancelReasons(err); r != nil && r[0] == "ConditionalCheckFailed" {
		return errStale
	}
	if err != nil {
		kind, _, _ := strings.Cut(entity, ":") // the entity may name a codice fiscale: not in logs
		return fmt.Errorf("write %s: %w", kind, err)
	}
	return nil
}

var _ app.ComplianceStore = (*Store)(nil)

// WithoutOwnPEC implements app.ComplianceStore: a query of the Order's member partition with a
// filter (a report, run on demand; the filter reads every member of the Order once).
func (s *Store) WithoutOwnPEC(ctx context.Context, orderID, enrolledBy string, limit int, cursor string) ([]*domain.Member, string, error) {
	partition := orderPK(orderID)
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :m)"),
		FilterExpression:       aws.String("attribute_not_exists(pec) AND attribute_not_exists(cancelledOn) AND dataIscrizione <= :by"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(partition), ":m": str("MEMBER#"), ":by": str(enrolledBy),
		},
	}
	if cursor != "" {
		start, err := decodeCursor(cursor, attrPK, partition, attrPK, attrSK)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	var out []*domain.Member
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("members without own PEC: %w", err)
		}
		for i, r := range res.Items {
			var it memberItem
			if err := attributevalue.UnmarshalMap(r, &it); err != nil {
				return nil, "", err
			}
			out = append(out, it.member())
			if len(out) == limit {
				if i == len(res.Items)-1 && res.LastEvaluatedKey == nil {
					return out, "", nil
				}
				return out, encodeCursor(r, attrPK, attrSK), nil
			}
		}
		if res.LastEvaluatedKey == nil {
			return out, "", nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// MailboxesByID implements app.ComplianceStore.
func (s *Store) MailboxesByID(ctx context.Context, ids []string) (map[string]*domain.Mailbox, error) {
	out := map[string]*domain.Mailbox{}
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, key(mailboxPK(id), skMailbox))
	}
	err := s.batchGet(ctx, keys, "", func(r map[string]types.AttributeValue) error {
		var it mailboxItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return err
		}
		out[it.ID] = it.mailbox()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mailboxes by id: %w", err)
	}
	return out, nil
}
