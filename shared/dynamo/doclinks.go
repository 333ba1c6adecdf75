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

// The provider's document links: DOCLINK#<hash of the token> / #DOCLINK, gone through TTL a
// day after they expire.
const skDocLink = "#DOCLINK"

func docLinkPK(hash string) string { return "DOCLINK#" + hash }

var _ app.DocumentLinkStore = (*Store)(nil)

// PutDocumentLink implements app.DocumentLinkStore.
func (s *Store) PutDocumentLink(ctx context.Context, hash string, l app.DocumentLink) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table,
		Item: map[string]types.AttributeValue{
			attrPK: str(docLinkPK(hash)), attrSK: str(skDocLink), "type": str("documentLink"),
			"requestId": str(l.RequestID), "kind": str(string(l.Kind)), "key": str(l.Key),
			"linkExpiresAt": str(formatTime(l.ExpiresAt)), AttrTTL: num(int(l.ExpiresAt.Add(24 * time.Hour).Unix())),
		},
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if err != nil {
		return fmt.Errorf("put document link: %w", err)
	}
	return nil
}

// GetDocumentLink implements app.DocumentLinkStore.
func (s *Store) GetDocumentLink(ctx context.Context, hash string) (*app.DocumentLink, error) {
	var it struct {
		RequestID string `dynamodbav:"requestId"`
		Kind      string `dynamodbav:"kind"`
		Key       string `dynamodbav:"key"`
		ExpiresAt string `dynamodbav:"linkExpiresAt"`
	}
	ok, err := s.getItem(ctx, docLinkPK(hash), skDocLink, &it)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &app.DocumentLink{RequestID: it.RequestID, Kind: domain.DocumentKind(it.Kind), Key: it.Key, ExpiresAt: parseTime(it.ExpiresAt)}, nil
}
