package dynamo

import (
	"context"

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
	return s.putLink(ctx, "document link", l.ExpiresAt, map[string]types.AttributeValue{
		attrPK: str(docLinkPK(hash)), attrSK: str(skDocLink), "type": str("documentLink"),
		"requestId": str(l.RequestID), "kind": str(string(l.Kind)), "key": str(l.Key),
		"linkExpiresAt": str(formatTime(l.ExpiresAt)),
	})
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
