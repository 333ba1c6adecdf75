package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// The search of an Order's members (app.MemberSearchStore). GSI4 holds the Order's members
// in cognome-nome order (projection ALL), GSI5 in nome-cognome order (keys, GSI4SK, albo and
// ctu). A page is read from GSI4 in order; a search by name reads the GSI4 ranges of its
// prefixes in order too, and the GSI5 ranges of its prefixes whole (they are narrow: the
// members whose nome begins so), then merges them by GSI4SK. Nothing reads the Order's
// partition.

// maxGivenMatches bounds the members a search by nome reads in one request.
const maxGivenMatches = 5000

// searchRounds bounds the reads of one page when filters skip many members: past it, the page
// is handed out short with a cursor after the last member examined.
const searchRounds = 8

var errQueryTooBroad = &domain.Error{Kind: domain.KindInvalid, Code: "query_too_broad",
	Message: "q matches too many names: type more letters", Field: "q"}

// SearchMembers implements app.MemberSearchStore.
func (s *Store) SearchMembers(ctx context.Context, q app.MemberQuery) ([]app.MemberFile, string, error) {
	pk := membersPK(q.OrderID)
	after := ""
	if q.Cursor != "" {
		var err error
		if after, err = decodeSearchCursor(q.Cursor, pk); err != nil {
			return nil, "", err
		}
	}
	var given []string
	if q.Name != nil {
		var err error
		if given, err = s.givenMatches(ctx, pk, q); err != nil {
			return nil, "", err
		}
	}
	out := []app.MemberFile{}
	for round := 0; round < searchRounds; round++ {
		need := q.Limit - len(out)
		keys, read, err := s.nextNameKeys(ctx, pk, q, after, given, need+1)
		if err != nil {
			return nil, "", err
		}
		more := len(keys) > need
		if more {
			keys = keys[:need]
		}
		files, err := s.memberFiles(ctx, q.OrderID, keys, read)
		if err != nil {
			return nil, "", err
		}
		for _, k := range keys {
			after = k
			if f, ok := files[k]; ok && q.Keeps(f) {
				out = append(out, f)
			}
		}
		if !more {
			return out, "", nil
		}
		if len(out) == q.Limit {
			break
		}
	}
	return out, encodeSearchCursor(pk, after), nil
}

// nextNameKeys returns the first n GSI4 sort keys after after that the query's name ranges
// (all of GSI4 without a name) and its albo and ctu filters select, in order, with the members
// read on the way.
func (s *Store) nextNameKeys(ctx context.Context, pk string, q app.MemberQuery, after string, given []string, n int) ([]string, map[string]*domain.Member, error) {
	read := map[string]*domain.Member{}
	prefixes := []string{""}
	if q.Name != nil {
		prefixes = q.Name.ByName
	}
	var keys []string
	for _, p := range prefixes {
		got, err := s.nameRange(ctx, pk, p, q, after, n, read)
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, got...)
	}
	from, _ := slices.BinarySearch(given, after+"\x00")
	keys = append(keys, given[from:min(len(given), from+n)]...)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	return keys[:min(len(keys), n)], read, nil
}

// nameRange reads up to n members of GSI4 whose sort key begins with prefix and follows after.
func (s *Store) nameRange(ctx context.Context, pk, prefix string, q app.MemberQuery, after string, n int, read map[string]*domain.Member) ([]string, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexNames),
		KeyConditionExpression:    aws.String("GSI4PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		Limit:                     aws.Int32(int32(min(max(n, 25), 1000))),
	}
	if prefix != "" {
		in.KeyConditionExpression = aws.String("GSI4PK = :pk AND begins_with(GSI4SK, :p)")
		in.ExpressionAttributeValues[":p"] = str(prefix)
	}
	switch {
	case after == "" || after < prefix:
	case strings.HasPrefix(after, prefix):
		in.ExclusiveStartKey = map[string]types.AttributeValue{attrPK: str(orderPK(q.OrderID)),
			attrSK: str(memberSK(after[strings.LastIndex(after, "!")+1:])), attrGSI4PK: str(pk), attrGSI4SK: str(after)}
	default:
		return nil, nil // the range lies before the cursor
	}
	addFilter(in, q)
	var keys []string
	for len(keys) < n {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("search members: %w", err)
		}
		for _, r := range res.Items {
			var it memberItem
			if err := attributevalue.UnmarshalMap(r, &it); err != nil {
				return nil, err
			}
			if it.Type != "member" {
				continue
			}
			keys = append(keys, it.GSI4SK)
			read[it.GSI4SK] = it.member()
		}
		if res.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	return keys, nil
}

// givenMatches reads the GSI4 sort keys of the members whose nome-cognome key begins with one
// of the query's given prefixes, sorted.
func (s *Store) givenMatches(ctx context.Context, pk string, q app.MemberQuery) ([]string, error) {
	var keys []string
	for _, p := range q.Name.ByGiven {
		in := &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(indexGiven),
			KeyConditionExpression:    aws.String("GSI5PK = :pk AND begins_with(GSI5SK, :p)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":p": str(p)},
			ProjectionExpression:      aws.String(attrGSI4SK),
		}
		addFilter(in, q)
		for {
			res, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("search members by nome: %w", err)
			}
			for _, r := range res.Items {
				if v, ok := r[attrGSI4SK].(*types.AttributeValueMemberS); ok {
					keys = append(keys, v.Value)
				}
			}
			if len(keys) > maxGivenMatches {
				return nil, errQueryTooBroad
			}
			if res.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = res.LastEvaluatedKey
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// addFilter adds the albo and ctu filters, which both indexes project.
func addFilter(in *dynamodb.QueryInput, q app.MemberQuery) {
	var conds []string
	if q.Albo != "" {
		conds = append(conds, "albo = :albo")
		in.ExpressionAttributeValues[":albo"] = str(q.Albo)
	}
	if q.CTU != nil {
		conds = append(conds, "#ctu = :ctu")
		in.ExpressionAttributeNames = map[string]string{"#ctu": "ctu"}
		in.ExpressionAttributeValues[":ctu"] = &types.AttributeValueMemberBOOL{Value: *q.CTU}
	}
	if len(conds) > 0 {
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
	}
}

// memberFiles returns the members of the keys with their mailboxes: those already read, the
// others read from the table.
func (s *Store) memberFiles(ctx context.Context, orderID string, keys []string, read map[string]*domain.Member) (map[string]app.MemberFile, error) {
	files := map[string]app.MemberFile{}
	var missing []map[string]types.AttributeValue
	for _, k := range keys {
		if m, ok := read[k]; ok {
			files[k] = app.MemberFile{Member: m}
			continue
		}
		missing = append(missing, key(orderPK(orderID), memberSK(k[strings.LastIndex(k, "!")+1:])))
	}
	err := s.batchGet(ctx, missing, "", func(r map[string]types.AttributeValue) error {
		var it memberItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return err
		}
		m := it.member()
		files[m.NameKey()] = app.MemberFile{Member: m}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	var mailboxes []map[string]types.AttributeValue
	for _, f := range files {
		if f.Member.MailboxID != "" {
			mailboxes = append(mailboxes, key(mailboxPK(f.Member.MailboxID), skMailbox))
		}
	}
	byID := map[string]*domain.Mailbox{}
	err = s.batchGet(ctx, mailboxes, "", func(r map[string]types.AttributeValue) error {
		var it mailboxItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return err
		}
		byID[it.ID] = it.mailbox()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read mailboxes: %w", err)
	}
	for k, f := range files {
		f.Mailbox = byID[f.Member.MailboxID]
		files[k] = f
	}
	return files, nil
}

// searchCursor is the search's opaque cursor: the partition and the last GSI4 key examined.
type searchCursor struct {
	Partition string `json:"p"`
	After     string `json:"a"`
}

func encodeSearchCursor(pk, after string) string {
	b, _ := json.Marshal(searchCursor{pk, after})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSearchCursor(s, pk string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c searchCursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.Partition != pk || strings.Count(c.After, "!") != 2 {
		return "", errBadCursor
	}
	return c.After, nil
}

var _ app.AuditStore = (*Store)(nil)

// ListAudit implements app.AuditStore: the Order's partition of audit entries (or the member's
// partition of GSI4), newest first.
func (s *Store) ListAudit(ctx context.Context, orderID, memberKey string, limit int, cursor string) ([]app.AuditEntry, string, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :a)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orderPK(orderID)), ":a": str("AUDIT#")},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit + 1)),
	}
	keyAttrs, partAttr, part := []string{attrPK, attrSK}, attrPK, orderPK(orderID)
	if memberKey != "" {
		part = memberAuditPK(orderID, memberKey)
		in.IndexName = aws.String(indexNames)
		in.KeyConditionExpression = aws.String("GSI4PK = :pk")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":pk": str(part)}
		keyAttrs, partAttr = []string{attrPK, attrSK, attrGSI4PK, attrGSI4SK}, attrGSI4PK
	}
	if cursor != "" {
		start, err := decodeCursor(cursor, partAttr, part, keyAttrs...)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	var raw []map[string]types.AttributeValue
	for len(raw) <= limit {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list audit: %w", err)
		}
		raw = append(raw, res.Items...)
		if res.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	next := ""
	if len(raw) > limit {
		raw = raw[:limit]
		next = encodeCursor(raw[len(raw)-1], keyAttrs...)
	}
	out := make([]app.AuditEntry, 0, len(raw))
	for _, r := range raw {
		var it auditItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, "", err
		}
		out = append(out, it.entry())
	}
	return out, next, nil
}

var _ app.FederationStore = (*Store)(nil)

// ListOrdersPage implements app.FederationStore: the Orders' partition of GSI2, by id.
func (s *Store) ListOrdersPage(ctx context.Context, limit int, cursor string) ([]*domain.Order, string, error) {
	raw, next, err := s.queryPage(ctx, indexByOrder, attrGSI2PK, attrGSI2SK, allOrdersPK, limit, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list orders: %w", err)
	}
	out := make([]*domain.Order, 0, len(raw))
	for _, r := range raw {
		var it orderItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, "", err
		}
		out = append(out, it.order())
	}
	return out, next, nil
}

// ListBatchesByState implements app.FederationStore: the state's partition of GSI4, oldest
// first.
func (s *Store) ListBatchesByState(ctx context.Context, state domain.BatchState, limit int, cursor string) ([]*domain.Batch, string, error) {
	raw, next, err := s.queryPage(ctx, indexNames, attrGSI4PK, attrGSI4SK, batchesInStatePK(state), limit, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list batches: %w", err)
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

var _ app.SuspensionEndStore = (*Store)(nil)

// SuspensionsEnded implements app.SuspensionEndStore: the members whose suspension ended before
// the day, from GSI3's sparse partition, as order id and member key.
func (s *Store) SuspensionsEnded(ctx context.Context, day string, limit int, cursor string) ([][2]string, string, error) {
	keyAttrs := []string{attrPK, attrSK, attrGSI3PK, attrGSI3SK}
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexOpen), Limit: aws.Int32(int32(limit)),
		KeyConditionExpression:    aws.String("GSI3PK = :pk AND GSI3SK < :day"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(suspensionsEndingPK), ":day": str(day)},
	}
	if cursor != "" {
		start, err := decodeCursor(cursor, attrGSI3PK, suspensionsEndingPK, keyAttrs...)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("suspensions ended: %w", err)
	}
	var out [][2]string
	for _, it := range res.Items {
		if sk, ok := it[attrGSI3SK].(*types.AttributeValueMemberS); ok {
			if parts := strings.SplitN(sk.Value, "#", 3); len(parts) == 3 {
				out = append(out, [2]string{parts[1], parts[2]})
			}
		}
	}
	next := ""
	if res.LastEvaluatedKey != nil {
		next = encodeCursor(res.LastEvaluatedKey, keyAttrs...)
	}
	return out, next, nil
}
