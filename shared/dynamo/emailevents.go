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

// Members' e-mails and their problems:
//
//	Sent e-mail     SENT#<SES message id>       #SENT                       (expires through TTL)
//	E-mail problem  EMAILPROBLEM#<orderId>      <member key>#<kind>#<address>
const (
	skSent          = "#SENT"
	sentRetention   = 60 * 24 * time.Hour // SES reports a bounce within days, a complaint within weeks
	problemRetained = 400 * 24 * time.Hour
)

func sentPK(id string) string            { return "SENT#" + id }
func emailProblemPK(order string) string { return "EMAILPROBLEM#" + order }

var _ app.EmailEventStore = (*Store)(nil)

// PutSentMail implements app.EmailEventStore.
func (s *Store) PutSentMail(ctx context.Context, messageID string, m app.SentMail) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: map[string]types.AttributeValue{
		attrPK: str(sentPK(messageID)), attrSK: str(skSent), "type": str("sentMail"),
		"orderId": str(m.OrderID), "memberKey": str(m.MemberKey), "to": str(m.To), "at": str(formatTime(m.At)),
		AttrTTL: num(int(m.At.Add(sentRetention).Unix())),
	}})
	if err != nil {
		return fmt.Errorf("put sent mail: %w", err)
	}
	return nil
}

// SentMail implements app.EmailEventStore.
func (s *Store) SentMail(ctx context.Context, messageID string) (*app.SentMail, error) {
	var it struct {
		OrderID   string `dynamodbav:"orderId"`
		MemberKey string `dynamodbav:"memberKey"`
		To        string `dynamodbav:"to"`
		At        string `dynamodbav:"at"`
	}
	ok, err := s.getItem(ctx, sentPK(messageID), skSent, &it)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &app.SentMail{OrderID: it.OrderID, MemberKey: it.MemberKey, To: it.To, At: parseTime(it.At)}, nil
}

type problemItem struct {
	PK, SK     string
	Type       string `dynamodbav:"type"`
	MemberKey  string `dynamodbav:"memberKey"`
	Kind       string `dynamodbav:"kind"`
	Address    string `dynamodbav:"address"`
	At         string `dynamodbav:"at"`
	ReportedOn string `dynamodbav:"reportedOn,omitempty"`
	ExpiresAt  int    `dynamodbav:"expiresAt"`
}

// PutEmailProblem implements app.EmailEventStore: once per member, kind and address.
func (s *Store) PutEmailProblem(ctx context.Context, p app.EmailProblemReport) (bool, error) {
	it := problemItem{PK: emailProblemPK(p.OrderID), SK: p.MemberKey + "#" + string(p.Kind) + "#" + p.Address, Type: "emailProblem",
		MemberKey: p.MemberKey, Kind: string(p.Kind), Address: p.Address, At: formatTime(p.At), ExpiresAt: int(p.At.Add(problemRetained).Unix())}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: mustMarshal(it),
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("put e-mail problem: %w", err)
	}
	return true, nil
}

// UnreportedProblems implements app.EmailEventStore: the Order's problem partition (a few
// items), those not yet in a digest.
func (s *Store) UnreportedProblems(ctx context.Context, orderID string) ([]app.EmailProblemReport, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		FilterExpression:          aws.String("attribute_not_exists(reportedOn)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(emailProblemPK(orderID))}}
	var out []app.EmailProblemReport
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("e-mail problems: %w", err)
		}
		for _, r := range res.Items {
			var it problemItem
			if err := attributevalue.UnmarshalMap(r, &it); err != nil {
				return nil, err
			}
			out = append(out, app.EmailProblemReport{OrderID: orderID, MemberKey: it.MemberKey, Kind: domain.EmailProblemKind(it.Kind),
				Address: it.Address, At: parseTime(it.At), Key: it.SK})
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// MarkReported implements app.EmailEventStore.
func (s *Store) MarkReported(ctx context.Context, orderID string, keys []string, day string) error {
	for _, k := range keys {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(emailProblemPK(orderID), k),
			UpdateExpression:          aws.String("SET reportedOn = :d"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": str(day)}})
		if err != nil && !isConditionFailed(err) {
			return fmt.Errorf("mark e-mail problem reported: %w", err)
		}
	}
	return nil
}
