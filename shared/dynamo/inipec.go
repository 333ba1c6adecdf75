package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.INIPECStore = (*Store)(nil)

type changeItem struct {
	SK        string `dynamodbav:"SK"`
	Kind      string `dynamodbav:"kind"`
	MemberKey string `dynamodbav:"memberKey"`
	Address   string `dynamodbav:"address"`
	At        string `dynamodbav:"at"`
}

type deliveryItem struct {
	PK, SK      string
	Type        string `dynamodbav:"type"`
	OrderID     string `dynamodbav:"orderId"`
	N           int    `dynamodbav:"n"`
	FileName    string `dynamodbav:"fileName"`
	FromKey     string `dynamodbav:"fromKey"`
	ToKey       string `dynamodbav:"toKey"`
	ArchiveKey  string `dynamodbav:"archiveKey,omitempty"`
	Inserts     int    `dynamodbav:"inserts"`
	Updates     int    `dynamodbav:"updates"`
	Deletes     int    `dynamodbav:"deletes"`
	Bytes       int64  `dynamodbav:"bytes,omitempty"`
	State       string `dynamodbav:"state"`
	Outcome     string `dynamodbav:"outcome,omitempty"`
	PreparedAt  string `dynamodbav:"preparedAt"`
	DeliveredAt string `dynamodbav:"deliveredAt,omitempty"`
	Kind        string `dynamodbav:"kind"`
	NoChanges   bool   `dynamodbav:"noChanges,omitempty"`
}

func deliverySK(n int) string { return fmt.Sprintf("DELIVERY#%09d", n) }

func toDeliveryItem(d *app.Delivery) deliveryItem {
	it := deliveryItem{PK: inipecPK(d.OrderID), SK: deliverySK(d.N), Type: "inipecDelivery", OrderID: d.OrderID, N: d.N,
		FileName: d.FileName, FromKey: d.FromKey, ToKey: d.ToKey, ArchiveKey: d.ArchiveKey, Inserts: d.Inserts, Updates: d.Updates, Deletes: d.Deletes,
		Bytes: d.Bytes, State: d.State, Outcome: d.Outcome, PreparedAt: formatTime(d.PreparedAt), Kind: d.Kind, NoChanges: d.NoChanges}
	if !d.DeliveredAt.IsZero() {
		it.DeliveredAt = formatTime(d.DeliveredAt)
	}
	return it
}

func (it deliveryItem) delivery() *app.Delivery {
	d := &app.Delivery{OrderID: it.OrderID, N: it.N, FileName: it.FileName, FromKey: it.FromKey, ToKey: it.ToKey, ArchiveKey: it.ArchiveKey,
		Inserts: it.Inserts, Updates: it.Updates, Deletes: it.Deletes, Bytes: it.Bytes, State: it.State, Outcome: it.Outcome,
		PreparedAt: parseTime(it.PreparedAt), Kind: it.Kind, NoChanges: it.NoChanges}
	if d.Kind == "" {
		d.Kind = "delta"
	}
	if it.DeliveredAt != "" {
		d.DeliveredAt = parseTime(it.DeliveredAt)
	}
	return d
}

// Changes implements app.INIPECStore.
func (s *Store) Changes(ctx context.Context, orderID, after, upTo string, limit int) ([]app.Change, error) {
	lo := after
	if lo == "" {
		lo = "CHANGE#"
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(inipecPK(orderID)), ":lo": str(lo), ":hi": str(upTo),
		},
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(int32(limit + 1)),
	})
	if err != nil {
		return nil, fmt.Errorf("inipec changes: %w", err)
	}
	out := make([]app.Change, 0, len(res.Items))
	for _, r := range res.Items {
		var it changeItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, err
		}
		if it.SK == after {
			continue // BETWEEN is inclusive; the range starts after the last delivered change
		}
		out = append(out, app.Change{Key: it.SK, Kind: domain.PublicationKind(it.Kind), MemberKey: it.MemberKey, Address: it.Address, At: parseTime(it.At)})
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// LastDelivery implements app.INIPECStore.
func (s *Store) LastDelivery(ctx context.Context, orderID string) (*app.Delivery, error) {
	ds, _, err := s.ListDeliveries(ctx, orderID, "delta", 1, "")
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return ds[0], nil
}

// PrepareDelivery implements app.INIPECStore.
func (s *Store) PrepareDelivery(ctx context.Context, d *app.Delivery) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: mustMarshal(toDeliveryItem(d)),
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if isConditionFailed(err) {
		return domain.ErrConcurrentUpdate
	}
	if err != nil {
		return fmt.Errorf("prepare delivery: %w", err)
	}
	return nil
}

// CompleteDelivery implements app.INIPECStore.
func (s *Store) CompleteDelivery(ctx context.Context, d *app.Delivery) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: mustMarshal(toDeliveryItem(d)),
		ConditionExpression:       aws.String("#s = :prepared"),
		ExpressionAttributeNames:  map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":prepared": str(app.DeliveryPrepared)}})
	if isConditionFailed(err) {
		return nil // another run completed it
	}
	if err != nil {
		return fmt.Errorf("complete delivery: %w", err)
	}
	return nil
}

// ListDeliveries implements app.INIPECStore, newest first.
func (s *Store) ListDeliveries(ctx context.Context, orderID, kind string, limit int, cursor string) ([]*app.Delivery, string, error) {
	partition := inipecPK(orderID)
	prefix := "DELIVERY#"
	if kind == "full" {
		prefix = "EXPORT#"
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :d)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(partition), ":d": str(prefix)},
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(limit + 1)),
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
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	raw, next := res.Items, ""
	if len(raw) > limit {
		raw = raw[:limit]
		next = encodeCursor(raw[len(raw)-1], attrPK, attrSK)
	}
	out := make([]*app.Delivery, 0, len(raw))
	for _, r := range raw {
		var it deliveryItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, "", err
		}
		out = append(out, it.delivery())
	}
	return out, next, nil
}

// MembersByKey implements app.INIPECStore.
func (s *Store) MembersByKey(ctx context.Context, orderID string, keys []string) (map[string]*domain.Member, error) {
	out := map[string]*domain.Member{}
	seen := map[string]bool{}
	var ks []map[string]types.AttributeValue
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			ks = append(ks, key(orderPK(orderID), memberSK(k)))
		}
	}
	err := s.batchGet(ctx, ks, "", func(r map[string]types.AttributeValue) error {
		var it memberItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return err
		}
		m := it.member()
		out[m.Key()] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("members by key: %w", err)
	}
	return out, nil
}

var _ app.FullStore = (*Store)(nil)

// MembersPage implements app.FullStore.
func (s *Store) MembersPage(ctx context.Context, orderID string, limit int, cursor string) ([]*domain.Member, string, error) {
	partition := orderPK(orderID)
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :m)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(partition), ":m": str("MEMBER#")},
		Limit:                     aws.Int32(int32(limit)),
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
		return nil, "", fmt.Errorf("members page: %w", err)
	}
	out := make([]*domain.Member, 0, len(res.Items))
	for _, r := range res.Items {
		var it memberItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, "", err
		}
		out = append(out, it.member())
	}
	next := ""
	if res.LastEvaluatedKey != nil {
		next = encodeCursor(res.LastEvaluatedKey, attrPK, attrSK)
	}
	return out, next, nil
}

// PutExport records a full export in the Order's INI-PEC history (beside, not among, the
// numbered daily deliveries that the delta's cursor follows).
func (s *Store) PutExport(ctx context.Context, d *app.Delivery) error {
	it := toDeliveryItem(d)
	it.SK = "EXPORT#" + formatTime(d.PreparedAt)
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: mustMarshal(it)})
	if err != nil {
		return fmt.Errorf("put export: %w", err)
	}
	return nil
}
