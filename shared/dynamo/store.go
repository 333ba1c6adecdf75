// Package dynamo persists the platform's records in one DynamoDB table.
package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Store is the DynamoDB implementation of app.Store.
type Store struct {
	db    API
	table string
	// Metrics, when set, counts the mailboxes entering each state (app.MetricTransitions),
	// once their write is committed: every path that moves a mailbox goes through the store.
	Metrics app.Metrics
}

// entered counts a mailbox entering a state.
func (s *Store) entered(ctx context.Context, st domain.State) {
	if s.Metrics != nil && st != "" {
		s.Metrics.Record(ctx, app.Metric{Name: app.MetricTransitions, Value: 1, Unit: app.UnitCount, Dimension: app.Dimension{Name: "State", Value: string(st)}})
	}
}

var _ app.Store = (*Store)(nil)

// New returns a store on the table.
func New(db API, table string) *Store { return &Store{db: db, table: table} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: pk}, attrSK: &types.AttributeValueMemberS{Value: sk}}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: fmt.Sprint(n)} }

func (s *Store) getItem(ctx context.Context, pk, sk string, out any) (bool, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fmt.Errorf("get %s item: %w", itemKind(pk, sk), err)
	}
	if res.Item == nil {
		return false, nil
	}
	return true, attributevalue.UnmarshalMap(res.Item, out)
}

// itemKind names an item's kind for error messages (MEMBER, ORDER, ...): keys may hold a
// codice fiscale, which must not reach the logs.
func itemKind(pk, sk string) string {
	if k, _, _ := strings.Cut(strings.TrimPrefix(sk, "#"), "#"); k != "" {
		return k
	}
	k, _, _ := strings.Cut(pk, "#")
	return k
}

func mustMarshal(v any) map[string]types.AttributeValue {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err)) // only fixed item structs are marshalled
	}
	return m
}

func (s *Store) audit(pk, entity, action, actor string, at time.Time) types.TransactWriteItem {
	return s.auditEntry(pk, app.AuditEntry{Entity: entity, Action: action, Actor: actor, At: at})
}

// auditEntry is the write of an entry of the Order's audit trail (pk is the Order's); an
// entry about a member (their record, or their mailbox with MemberKey set) is also in the
// member's own partition of GSI4.
func (s *Store) auditEntry(pk string, e app.AuditEntry) types.TransactWriteItem {
	var b [6]byte
	_, _ = rand.Read(b[:])
	if k, ok := strings.CutPrefix(e.Entity, "member:"); ok && e.MemberKey == "" {
		e.MemberKey = k
	}
	it := auditItem{PK: pk, SK: "AUDIT#" + formatTime(e.At) + "#" + hex.EncodeToString(b[:]), Type: "audit",
		Entity: e.Entity, Action: e.Action, Actor: e.Actor, At: formatTime(e.At), MemberKey: e.MemberKey, Changes: e.Changes}
	if e.MemberKey != "" {
		it.GSI4PK, it.GSI4SK = memberAuditPK(strings.TrimPrefix(pk, "ORDER#"), e.MemberKey), it.SK
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: mustMarshal(it)}}
}

// changeRetention keeps delivered INI-PEC changes as history for this long.
const changeRetention = 400 * 24 * time.Hour

// outbox returns the write that records an INI-PEC change, for the transaction that makes it.
func (s *Store) outbox(p *domain.Publication) types.TransactWriteItem {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
		attrPK: str(inipecPK(p.OrderID)), attrSK: str("CHANGE#" + formatTime(p.At) + "#" + hex.EncodeToString(b[:])),
		"type": str("inipecChange"), "kind": str(string(p.Kind)), "memberKey": str(p.MemberKey),
		"address": str(p.Address), "at": str(formatTime(p.At)),
		AttrTTL: num(int(p.At.Add(changeRetention).Unix())),
	}}}
}

// cancelReasons returns the per-item codes of a cancelled transaction, or nil for other errors.
func cancelReasons(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	return codes
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// PutOrder creates or updates the Order under an optimistic lock, keeping the offer code
// unique across Orders, and records the change in the Order's audit trail.
func (s *Store) PutOrder(ctx context.Context, o *domain.Order, actor string) (bool, error) {
	var old orderItem
	exists, err := s.getItem(ctx, orderPK(o.ID), skOrder, &old)
	if err != nil {
		return false, err
	}
	action := "order.created"
	put := &types.Put{TableName: &s.table, ConditionExpression: aws.String("attribute_not_exists(PK)")}
	if exists {
		action = "order.updated"
		o.CreatedAt = parseTime(old.CreatedAt)
		o.BatchSeq = old.BatchSeq // only CreateBatch moves it
		o.Version = old.Version + 1
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(old.Version)}
	}
	put.Item = mustMarshal(toOrderItem(o))
	items := []types.TransactWriteItem{{Put: put}, s.audit(orderPK(o.ID), "order:"+o.ID, action, actor, o.UpdatedAt)}
	newCode := ""
	if o.Convention.OfferCode != nil {
		newCode = *o.Convention.OfferCode
	}
	offerAt := -1
	if newCode != old.OfferCode {
		if old.OfferCode != "" {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(offerPK(old.OfferCode), skOffer)}})
		}
		if newCode != "" {
			offerAt = len(items)
			items = append(items, types.TransactWriteItem{Put: &types.Put{
				TableName: &s.table,
				Item: map[string]types.AttributeValue{
					attrPK: str(offerPK(newCode)), attrSK: str(skOffer), "type": str("offer"), "orderId": str(o.ID),
				},
				ConditionExpression:       aws.String("attribute_not_exists(PK) OR orderId = :o"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":o": str(o.ID)},
			}})
		}
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons := cancelReasons(err); reasons != nil {
		if offerAt >= 0 && reasons[offerAt] == "ConditionalCheckFailed" {
			return false, domain.ErrOfferCodeTaken
		}
		if reasons[0] == "ConditionalCheckFailed" {
			return false, domain.ErrConcurrentUpdate
		}
	}
	if err != nil {
		return false, fmt.Errorf("put order: %w", err)
	}
	return !exists, nil
}

// GetOrder reads an Order.
func (s *Store) GetOrder(ctx context.Context, id string) (*domain.Order, error) {
	var it orderItem
	ok, err := s.getItem(ctx, orderPK(id), skOrder, &it)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.ErrOrderNotFound
	}
	return it.order(), nil
}

// OrderIDForOfferCode returns the Order that owns the convention offer code.
func (s *Store) OrderIDForOfferCode(ctx context.Context, code string) (string, error) {
	var it struct {
		OrderID string `dynamodbav:"orderId"`
	}
	ok, err := s.getItem(ctx, offerPK(code), skOffer, &it)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", domain.ErrNotFound
	}
	return it.OrderID, nil
}

// CreateMember writes the member, and the mailbox with its address reservation when there is
// one, in one transaction: the member must be new in the Order and the address unreserved.
func (s *Store) CreateMember(ctx context.Context, m *domain.Member, mb *domain.Mailbox, actor string) error {
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(toMemberItem(m)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		s.audit(orderPK(m.OrderID), "member:"+m.Key(), "member.enrolled", actor, m.EnrolledAt),
	}
	if mb != nil {
		items = append(items,
			types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: mustMarshal(toMailboxItem(mb)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			types.TransactWriteItem{Put: &types.Put{
				TableName: &s.table,
				Item: map[string]types.AttributeValue{
					attrPK: str(addressPK(mb.Address)), attrSK: str(skAddress), "type": str("address"),
					"mailboxId": str(mb.ID), "orderId": str(mb.OrderID), "reservedAt": str(formatTime(mb.CreatedAt)),
				},
				// An address, once assigned, is never assigned again: reservations are never deleted.
				ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}},
			// The batch sequence the mailbox joins must still be open (see CreateBatch).
			types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName: &s.table, Key: key(orderPK(m.OrderID), skOrder),
				ConditionExpression:       aws.String("batchSeq = :seq"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":seq": num(mb.BatchSeq)},
			}},
		)
	}
	// Last, so that the positions above hold in the cancellation reasons.
	if p := domain.MemberPublication(nil, m); p != nil {
		items = append(items, s.outbox(p))
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons := cancelReasons(err); reasons != nil {
		switch {
		case reasons[0] == "ConditionalCheckFailed":
			return domain.ErrMemberExists
		case len(reasons) > 3 && reasons[3] == "ConditionalCheckFailed":
			return domain.ErrAddressTaken
		case len(reasons) > 4 && reasons[4] == "ConditionalCheckFailed":
			return errBatchClosed
		case len(reasons) > 2 && reasons[2] == "ConditionalCheckFailed":
			return domain.ErrConcurrentUpdate // a mailbox id collision: practically impossible
		}
	}
	if err != nil {
		return fmt.Errorf("create member: %w", err)
	}
	if mb != nil {
		s.entered(ctx, mb.State)
	}
	return nil
}

// errBatchClosed: the Order closed the batch sequence the enrolment read; enrol again.
var errBatchClosed = domain.ErrConcurrentUpdate

// GetMember reads a member by codice fiscale, whichever omocodic form is given.
func (s *Store) GetMember(ctx context.Context, orderID string, cf domain.CodiceFiscale) (*domain.Member, error) {
	var it memberItem
	ok, err := s.getItem(ctx, orderPK(orderID), memberSK(string(cf.Canonical())), &it)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.ErrMemberNotFound
	}
	return it.member(), nil
}

// GetMailbox reads a mailbox.
func (s *Store) GetMailbox(ctx context.Context, id string) (*domain.Mailbox, error) {
	var it mailboxItem
	ok, err := s.getItem(ctx, mailboxPK(id), skMailbox, &it)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.ErrNotFound
	}
	return it.mailbox(), nil
}

// UpdateMailbox reads the mailbox, lets change decide, and writes the result back only if
// nobody changed the mailbox in between (optimistic lock on its version). A stale writer
// re-reads and decides again, up to a few times. When change reports no change, nothing is
// written.
func (s *Store) UpdateMailbox(ctx context.Context, id string, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, bool, error) {
	return s.updateMailbox(ctx, id, change)
}

// updateMailbox is UpdateMailbox, with other items written in the mailbox's transaction.
func (s *Store) updateMailbox(ctx context.Context, id string, change func(*domain.Mailbox) (bool, error), with ...types.TransactWriteItem) (*domain.Mailbox, bool, error) {
	var changed bool
	var entered domain.State
	mb, err := optimistic(func() (*domain.Mailbox, error) {
		mb, err := s.GetMailbox(ctx, id)
		if err != nil {
			return nil, err
		}
		before := *mb
		entered = ""
		if changed, err = change(mb); err != nil || !changed {
			return mb, err
		}
		extra := with
		if mb.State != before.State {
			entered = mb.State
		}
		if mb.State != before.State || mb.Address != before.Address {
			extra = append(slices.Clip(with), s.mailboxAudit(&before, mb))
		}
		old := mb.Version
		mb.Version++
		p := domain.MailboxPublication(&before, mb)
		if p != nil {
			if m, err := s.GetMember(ctx, mb.OrderID, domain.CodiceFiscale(mb.MemberKey)); err == nil {
				p = domain.OwnPECPrevails(p, m)
			}
		}
		if err := s.putMailboxIfVersion(ctx, mb, old, p, extra...); err != nil {
			return nil, err
		}
		return mb, nil
	})
	if changed && err == nil {
		s.entered(ctx, entered)
	}
	return mb, changed && err == nil, err
}

// mailboxAudit is the audit entry of a mailbox's move to another state or address (see
// app.MailboxAction); the actor is the one its history records for the move.
func (s *Store) mailboxAudit(before, after *domain.Mailbox) types.TransactWriteItem {
	e := app.AuditEntry{Entity: "mailbox:" + after.ID, Action: app.MailboxAction(before, after),
		Actor: "system", At: after.UpdatedAt, MemberKey: after.MemberKey, Changes: app.MailboxChanges(before, after)}
	if n := len(after.History); n > 0 {
		e.Actor, e.At = after.History[n-1].Actor, after.History[n-1].At
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	return s.auditEntry(orderPK(after.OrderID), e)
}

// putMailboxIfVersion writes the mailbox if its version is still version, with the INI-PEC
// change it makes, if any, and the items with, in the same transaction.
func (s *Store) putMailboxIfVersion(ctx context.Context, mb *domain.Mailbox, version int, p *domain.Publication, with ...types.TransactWriteItem) error {
	put := &types.Put{
		TableName:                 &s.table,
		Item:                      mustMarshal(toMailboxItem(mb)),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)},
	}
	if p == nil && len(with) == 0 {
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item,
			ConditionExpression: put.ConditionExpression, ExpressionAttributeValues: put.ExpressionAttributeValues})
		if isConditionFailed(err) {
			return errStale
		}
		return err
	}
	items := append([]types.TransactWriteItem{{Put: put}}, with...)
	if p != nil {
		items = append(items, s.outbox(p))
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if r := cancelReasons(err); r != nil && r[0] == "ConditionalCheckFailed" {
		return errStale
	}
	return err
}

// cursor is the opaque pagination token: the last key of the previous page.
type cursor map[string]string

func encodeCursor(item map[string]types.AttributeValue, attrs ...string) string {
	c := cursor{}
	for _, a := range attrs {
		if v, ok := item[a].(*types.AttributeValueMemberS); ok {
			c[a] = v.Value
		}
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = &domain.Error{Kind: domain.KindMalformed, Code: "invalid_cursor", Message: "cursor is not one this API returned", Field: "cursor"}

func decodeCursor(s, partitionAttr, partition string, attrs ...string) (map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err != nil || json.Unmarshal(b, &c) != nil || c[partitionAttr] != partition {
		return nil, errBadCursor
	}
	out := map[string]types.AttributeValue{}
	for _, a := range attrs {
		if c[a] == "" {
			return nil, errBadCursor
		}
		out[a] = str(c[a])
	}
	return out, nil
}

// ListMailboxes pages through an Order's mailboxes, oldest first, from an index: never a scan.
func (s *Store) ListMailboxes(ctx context.Context, q app.MailboxQuery) ([]*domain.Mailbox, string, error) {
	index, pkAttr, skAttr, partition := indexByOrder, attrGSI2PK, attrGSI2SK, orderMailboxesPK(q.OrderID)
	if q.State != "" {
		index, pkAttr, skAttr, partition = indexByState, attrGSI1PK, attrGSI1SK, statePK(q.OrderID, domain.State(q.State))
	}
	raw, next, err := s.queryPage(ctx, index, pkAttr, skAttr, partition, q.Limit, q.Cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list mailboxes: %w", err)
	}
	items := make([]*domain.Mailbox, 0, len(raw))
	for _, r := range raw {
		var it mailboxItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, "", err
		}
		items = append(items, it.mailbox())
	}
	return items, next, nil
}

// queryPage reads one page of limit items of an index partition from the opaque cursor on,
// and returns the cursor of the next page ("" after the last).
func (s *Store) queryPage(ctx context.Context, index, pkAttr, skAttr, partition string, limit int, cursor string) ([]map[string]types.AttributeValue, string, error) {
	keyAttrs := []string{attrPK, attrSK, pkAttr, skAttr}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(partition)},
		// One more than asked, so that a full last page does not hand out a cursor to nothing.
		Limit: aws.Int32(int32(limit + 1)),
	}
	if cursor != "" {
		start, err := decodeCursor(cursor, pkAttr, partition, keyAttrs...)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	var raw []map[string]types.AttributeValue
	for len(raw) <= limit {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", err
		}
		raw = append(raw, out.Items...)
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	next := ""
	if len(raw) > limit {
		raw = raw[:limit]
		next = encodeCursor(raw[len(raw)-1], keyAttrs...)
	}
	return raw, next, nil
}

// CountMailboxes counts an Order's mailboxes per state from the state index.
func (s *Store) CountMailboxes(ctx context.Context, orderID string) (map[domain.State]int, error) {
	counts := map[domain.State]int{}
	for _, st := range domain.States {
		in := &dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(indexByState),
			KeyConditionExpression:    aws.String("GSI1PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(statePK(orderID, st))},
			Select:                    types.SelectCount,
		}
		for {
			out, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("count mailboxes: %w", err)
			}
			counts[st] += int(out.Count)
			if out.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	return counts, nil
}

// TakenAddresses reports which addresses are reserved.
func (s *Store) TakenAddresses(ctx context.Context, addresses []string) (map[string]bool, error) {
	taken := map[string]bool{}
	keys := make([]map[string]types.AttributeValue, 0, len(addresses))
	seen := map[string]bool{}
	for _, a := range addresses {
		if !seen[a] {
			seen[a] = true
			keys = append(keys, key(addressPK(a), skAddress))
		}
	}
	err := s.batchGet(ctx, keys, "PK", func(it map[string]types.AttributeValue) error {
		if pk, ok := it[attrPK].(*types.AttributeValueMemberS); ok {
			taken[pk.Value[len("ADDRESS#"):]] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("taken addresses: %w", err)
	}
	return taken, nil
}

// batchGet reads the items with the keys, 100 per request, retrying what DynamoDB leaves
// unprocessed with backoff, and hands each item found to each (in no particular order).
// projection, when set, limits the attributes read.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, projection string, each func(map[string]types.AttributeValue) error) error {
	for start := 0; start < len(keys); start += 100 {
		ka := types.KeysAndAttributes{Keys: keys[start:min(start+100, len(keys))], ConsistentRead: aws.Bool(true)}
		if projection != "" {
			ka.ProjectionExpression = aws.String(projection)
		}
		req := map[string]types.KeysAndAttributes{s.table: ka}
		for backoff := 10 * time.Millisecond; len(req) > 0; backoff *= 2 {
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return err
			}
			for _, it := range out.Responses[s.table] {
				if err := each(it); err != nil {
					return err
				}
			}
			if req = out.UnprocessedKeys; len(req) > 0 {
				if err := sleep(ctx, backoff); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
