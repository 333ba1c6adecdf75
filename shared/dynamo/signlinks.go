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

// The links to the holder's signing page: SIGNLINK#<hash of the token> / #SIGNLINK, gone
// through TTL a day after they expire.
const skSignLink = "#SIGNLINK"

func signLinkPK(hash string) string { return "SIGNLINK#" + hash }

// PutSignLink implements app.SigningStore.
func (s *Store) PutSignLink(ctx context.Context, hash string, l app.SignLink) error {
	return s.putLink(ctx, "sign link", l.ExpiresAt, map[string]types.AttributeValue{
		attrPK: str(signLinkPK(hash)), attrSK: str(skSignLink), "type": str("signLink"),
		"mailboxId": str(l.MailboxID), "round": num(l.Round), "linkExpiresAt": str(formatTime(l.ExpiresAt)),
	})
}

// putLink writes a link's item (keyed by the hash of its token) once, never over another, and
// lets it go through TTL a day after the link expires.
func (s *Store) putLink(ctx context.Context, what string, expires time.Time, item map[string]types.AttributeValue) error {
	item[AttrTTL] = num(int(expires.Add(24 * time.Hour).Unix()))
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err != nil {
		return fmt.Errorf("put %s: %w", what, err)
	}
	return nil
}

// GetSignLink implements app.SigningStore.
func (s *Store) GetSignLink(ctx context.Context, hash string) (*app.SignLink, error) {
	var it struct {
		MailboxID string `dynamodbav:"mailboxId"`
		Round     int    `dynamodbav:"round"`
		ExpiresAt string `dynamodbav:"linkExpiresAt"`
	}
	ok, err := s.getItem(ctx, signLinkPK(hash), skSignLink, &it)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &app.SignLink{MailboxID: it.MailboxID, Round: it.Round, ExpiresAt: parseTime(it.ExpiresAt)}, nil
}
