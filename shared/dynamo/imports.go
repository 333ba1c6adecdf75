package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.ImportStore = (*Store)(nil)

// Imports and their failures expire with the uploaded file's usefulness.
const importRetention = 90 * 24 * time.Hour

func importPK(id string) string { return "IMPORT#" + id }

const skImport = "#IMPORT"

type importItem struct {
	PK, SK      string
	Type        string   `dynamodbav:"type"`
	ID          string   `dynamodbav:"id"`
	OrderID     string   `dynamodbav:"orderId"`
	Key         string   `dynamodbav:"key"`
	ActorRole   string   `dynamodbav:"actorRole"`
	ActorOrder  string   `dynamodbav:"actorOrder,omitempty"`
	ActorSub    string   `dynamodbav:"actorSubject,omitempty"`
	State       string   `dynamodbav:"state"`
	Processed   int      `dynamodbav:"processed"`
	Created     int      `dynamodbav:"created"`
	Existing    int      `dynamodbav:"existing"`
	FailedCount int      `dynamodbav:"failedCount"`
	Offset      int64    `dynamodbav:"offset"`
	NextLine    int      `dynamodbav:"nextLine"`
	Header      []string `dynamodbav:"header,omitempty"`
	Sep         string   `dynamodbav:"sep,omitempty"`
	Owner       string   `dynamodbav:"owner,omitempty"`
	LeaseUntil  string   `dynamodbav:"leaseUntil,omitempty"`
	Runs        int      `dynamodbav:"runs"`
	Error       string   `dynamodbav:"error,omitempty"`
	CreatedAt   string   `dynamodbav:"createdAt"`
	UpdatedAt   string   `dynamodbav:"updatedAt"`
	ExpiresAt   int64    `dynamodbav:"expiresAt"`
	Version     int      `dynamodbav:"version"`
}

func toImportItem(im *app.Import) importItem {
	it := importItem{PK: importPK(im.ID), SK: skImport, Type: "import", ID: im.ID, OrderID: im.OrderID, Key: im.Key,
		ActorRole: im.Actor.Role, ActorOrder: im.Actor.OrderID, ActorSub: im.Actor.Subject, State: im.State, Processed: im.Processed,
		Created: im.Created, Existing: im.Existing, FailedCount: im.FailedCount, Offset: im.Offset, NextLine: im.NextLine,
		Header: im.Header, Owner: im.Owner, Runs: im.Runs, Error: im.Error, CreatedAt: formatTime(im.CreatedAt),
		UpdatedAt: formatTime(im.UpdatedAt), ExpiresAt: im.CreatedAt.Add(importRetention).Unix(), Version: im.Version}
	if im.Sep != 0 {
		it.Sep = string(im.Sep)
	}
	if !im.LeaseUntil.IsZero() {
		it.LeaseUntil = formatTime(im.LeaseUntil)
	}
	return it
}

func (it importItem) imp() *app.Import {
	im := &app.Import{ID: it.ID, OrderID: it.OrderID, Key: it.Key, Actor: app.Caller{Role: it.ActorRole, OrderID: it.ActorOrder, Subject: it.ActorSub},
		State: it.State, Processed: it.Processed, Created: it.Created, Existing: it.Existing, FailedCount: it.FailedCount,
		Offset: it.Offset, NextLine: it.NextLine, Header: it.Header, Owner: it.Owner, Runs: it.Runs, Error: it.Error,
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt), Version: it.Version}
	if it.Sep != "" {
		im.Sep = []rune(it.Sep)[0]
	}
	if it.LeaseUntil != "" {
		im.LeaseUntil = parseTime(it.LeaseUntil)
	}
	return im
}

// PutImport implements app.ImportStore.
func (s *Store) PutImport(ctx context.Context, im *app.Import) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: mustMarshal(toImportItem(im)),
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err != nil {
		return fmt.Errorf("put import: %w", err)
	}
	return nil
}

// GetImport implements app.ImportStore.
func (s *Store) GetImport(ctx context.Context, id string) (*app.Import, error) {
	var it importItem
	ok, err := s.getItem(ctx, importPK(id), skImport, &it)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.ErrNotFound
	}
	return it.imp(), nil
}

// UpdateImport implements app.ImportStore under an optimistic lock.
func (s *Store) UpdateImport(ctx context.Context, id string, change func(*app.Import) (bool, error)) (*app.Import, bool, error) {
	var changed bool
	im, err := optimistic(func() (*app.Import, error) {
		im, err := s.GetImport(ctx, id)
		if err != nil {
			return nil, err
		}
		if changed, err = change(im); err != nil || !changed {
			return im, err
		}
		old := im.Version
		im.Version++
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: mustMarshal(toImportItem(im)),
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(old)}})
		if isConditionFailed(err) {
			return nil, errStale
		}
		if err != nil {
			return nil, fmt.Errorf("update import: %w", err)
		}
		return im, nil
	})
	return im, changed && err == nil, err
}

// PutFailures implements app.ImportStore: one item per failed line, so a line imported again
// after a resume overwrites its own failure.
func (s *Store) PutFailures(ctx context.Context, importID string, failures []app.Failure) error {
	exp := num(int(time.Now().Add(importRetention).Unix()))
	for start := 0; start < len(failures); start += 25 {
		var reqs []types.WriteRequest
		for _, f := range failures[start:min(start+25, len(failures))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				attrPK: str(importPK(importID)), attrSK: str(fmt.Sprintf("FAIL#%09d", f.Line)), "type": str("importFailure"),
				"line": num(f.Line), "code": str(f.Code), "field": str(f.Field), "message": str(f.Message), AttrTTL: exp,
			}}})
		}
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for backoff := 10 * time.Millisecond; len(pending) > 0; backoff *= 2 {
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("put failures: %w", err)
			}
			if pending = out.UnprocessedItems; len(pending) > 0 {
				if err := sleep(ctx, backoff); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Failures implements app.ImportStore, in line order; limit 0 means all.
func (s *Store) Failures(ctx context.Context, importID string, limit int) ([]app.Failure, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :f)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(importPK(importID)), ":f": str("FAIL#")},
	}
	var out []app.Failure
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("failures: %w", err)
		}
		for _, r := range res.Items {
			var f app.Failure
			if err := attributevalue.UnmarshalMap(r, &f); err != nil {
				return nil, err
			}
			out = append(out, f)
			if limit > 0 && len(out) == limit {
				return out, nil
			}
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
