package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
)

var _ app.Idempotency = (*Store)(nil)

type idempotencyItem struct {
	PK, SK      string
	Type        string `dynamodbav:"type"`
	Fingerprint string `dynamodbav:"fingerprint"`
	Claim       string `dynamodbav:"claim,omitempty"` // which Claim call wrote it
	Done        bool   `dynamodbav:"done"`
	Status      int    `dynamodbav:"status"`
	Body        string `dynamodbav:"body"`
	LeaseUntil  int64  `dynamodbav:"leaseUntil"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
}

func idempotencyPK(k string) string { return "IDEMPOTENCY#" + k }

// Claim implements app.Idempotency with a conditional put: the key is free when absent, or
// when its first request never completed and its lease has run out.
func (s *Store) Claim(ctx context.Context, k, fingerprint string, lease time.Duration) (*app.IdempotentResponse, error) {
	now := time.Now()
	claim := app.NewID()
	it := idempotencyItem{
		PK: idempotencyPK(k), SK: skIdempotency, Type: "idempotency", Fingerprint: fingerprint, Claim: claim,
		LeaseUntil: now.Add(lease).Unix(), ExpiresAt: now.Add(24 * time.Hour).Unix(),
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      mustMarshal(it),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR (done = :false AND leaseUntil < :now)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":false": &types.AttributeValueMemberBOOL{Value: false}, ":now": &types.AttributeValueMemberN{Value: fmt.Sprint(now.Unix())}},
	})
	if err == nil {
		return nil, nil
	}
	if !isConditionFailed(err) {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	var old idempotencyItem
	ok, err := s.getItem(ctx, idempotencyPK(k), skIdempotency, &old)
	if err != nil {
		return nil, err
	}
	if !ok { // completed and expired between the two calls: a rare race, try once more
		return s.Claim(ctx, k, fingerprint, lease)
	}
	if old.Claim == claim && !old.Done {
		// Our own put: its answer was lost and the SDK's retry found the item it had written.
		return nil, nil
	}
	return &app.IdempotentResponse{Fingerprint: old.Fingerprint, Done: old.Done, Status: old.Status, Body: old.Body}, nil
}

// Complete implements app.Idempotency.
func (s *Store) Complete(ctx context.Context, k string, r app.IdempotentResponse, ttl time.Duration) error {
	it := idempotencyItem{
		PK: idempotencyPK(k), SK: skIdempotency, Type: "idempotency", Fingerprint: r.Fingerprint,
		Done: true, Status: r.Status, Body: r.Body, ExpiresAt: time.Now().Add(ttl).Unix(),
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: mustMarshal(it)})
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// Release implements app.Idempotency; a completed answer is never released.
func (s *Store) Release(ctx context.Context, k string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &s.table,
		Key:                       key(idempotencyPK(k), skIdempotency),
		ConditionExpression:       aws.String("done = :false"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":false": &types.AttributeValueMemberBOOL{Value: false}},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
