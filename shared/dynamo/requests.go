package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.RequestStore = (*Store)(nil)

const (
	skRequest = "#REQUEST"
	skRate    = "#RATE"
)

func requestPK(id string) string { return "REQUEST#" + id }

type documentItem struct {
	Key         string `dynamodbav:"key"`
	ContentType string `dynamodbav:"contentType"`
	Size        int64  `dynamodbav:"size"`
	SHA256      string `dynamodbav:"sha256"`
	UploadedAt  string `dynamodbav:"uploadedAt"`
}

// refusalItem is an upload refused after it was stored.
type refusalItem struct {
	Key    string `dynamodbav:"key"`
	Reason string `dynamodbav:"reason"`
	At     string `dynamodbav:"at"`
}

type requestItem struct {
	PK, SK string
	// An unpaid request is in GSI3's REQUESTS#UNPAID partition by creation time (sparse), for
	// the daily run that abandons those left unpaid.
	GSI3PK      string                  `dynamodbav:",omitempty"`
	GSI3SK      string                  `dynamodbav:",omitempty"`
	Notified    string                  `dynamodbav:"expiryNotifiedAt,omitempty"`
	AbandonedAt string                  `dynamodbav:"abandonedAt,omitempty"`
	Type        string                  `dynamodbav:"type"`
	ID          string                  `dynamodbav:"id"`
	OrderID     string                  `dynamodbav:"orderId"`
	OfferCode   string                  `dynamodbav:"offerCode"`
	MemberKey   string                  `dynamodbav:"memberKey"`
	MailboxID   string                  `dynamodbav:"mailboxId"`
	Address     string                  `dynamodbav:"address"`
	Email       string                  `dynamodbav:"email"`
	PriceCents  int                     `dynamodbav:"priceCents"`
	VATPercent  float64                 `dynamodbav:"vatPercent"`
	AmountCents int                     `dynamodbav:"amountCents"`
	TokenHash   string                  `dynamodbav:"tokenHash"`
	PaymentRef  string                  `dynamodbav:"paymentRef,omitempty"`
	PaidCents   int                     `dynamodbav:"paidCents,omitempty"`
	PaidAt      string                  `dynamodbav:"paidAt,omitempty"`
	Documents   map[string]documentItem `dynamodbav:"documents,omitempty"`
	Refused     map[string]refusalItem  `dynamodbav:"refused,omitempty"`
	Submitted   bool                    `dynamodbav:"submitted"`
	SubmittedAt string                  `dynamodbav:"submittedAt,omitempty"`
	CreatedAt   string                  `dynamodbav:"createdAt"`
	UpdatedAt   string                  `dynamodbav:"updatedAt"`
	Version     int                     `dynamodbav:"version"`
}

// unpaidRequestsPK is GSI3's partition of the unpaid requests.
const unpaidRequestsPK = "REQUESTS#UNPAID"

func toRequestItem(r *domain.Request) requestItem {
	it := requestItem{PK: requestPK(r.ID), SK: skRequest, Type: "request", ID: r.ID, OrderID: r.OrderID,
		OfferCode: r.OfferCode, MemberKey: r.MemberKey, MailboxID: r.MailboxID, Address: r.Address, Email: r.Email,
		PriceCents: r.PriceCents, VATPercent: r.VATPercent, AmountCents: r.AmountCents, TokenHash: r.TokenHash,
		Submitted: r.Submitted, SubmittedAt: optTime(r.SubmittedAt), CreatedAt: formatTime(r.CreatedAt),
		UpdatedAt: formatTime(r.UpdatedAt), Version: r.Version}
	if p := r.Payment; p != nil {
		it.PaymentRef, it.PaidCents, it.PaidAt = p.Reference, p.AmountCents, formatTime(p.PaidAt)
	}
	it.Notified, it.AbandonedAt = optTime(r.ExpiryNotified), optTime(r.AbandonedAt)
	if r.Unpaid() {
		it.GSI3PK, it.GSI3SK = unpaidRequestsPK, formatTime(r.CreatedAt)+"#"+r.ID
	}
	if len(r.Documents) > 0 {
		it.Documents = map[string]documentItem{}
		for k, d := range r.Documents {
			it.Documents[string(k)] = documentItem{Key: d.Key, ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256, UploadedAt: formatTime(d.UploadedAt)}
		}
	}
	if len(r.Refused) > 0 {
		it.Refused = map[string]refusalItem{}
		for k, f := range r.Refused {
			it.Refused[string(k)] = refusalItem{Key: f.Key, Reason: f.Reason, At: formatTime(f.At)}
		}
	}
	return it
}

func (it requestItem) request() *domain.Request {
	r := &domain.Request{ID: it.ID, OrderID: it.OrderID, OfferCode: it.OfferCode, MemberKey: it.MemberKey,
		MailboxID: it.MailboxID, Address: it.Address, Email: it.Email, PriceCents: it.PriceCents,
		VATPercent: it.VATPercent, AmountCents: it.AmountCents, TokenHash: it.TokenHash, Submitted: it.Submitted,
		SubmittedAt: parseTime(it.SubmittedAt), CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt),
		Version: it.Version, ExpiryNotified: parseTime(it.Notified), AbandonedAt: parseTime(it.AbandonedAt)}
	if it.PaymentRef != "" {
		r.Payment = &domain.Payment{Reference: it.PaymentRef, AmountCents: it.PaidCents, PaidAt: parseTime(it.PaidAt)}
	}
	if len(it.Documents) > 0 {
		r.Documents = map[domain.DocumentKind]domain.Document{}
		for k, d := range it.Documents {
			r.Documents[domain.DocumentKind(k)] = domain.Document{Key: d.Key, ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256, UploadedAt: parseTime(d.UploadedAt)}
		}
	}
	if len(it.Refused) > 0 {
		r.Refused = map[domain.DocumentKind]domain.DocumentRefusal{}
		for k, f := range it.Refused {
			r.Refused[domain.DocumentKind(k)] = domain.DocumentRefusal{Key: f.Key, Reason: f.Reason, At: parseTime(f.At)}
		}
	}
	return r
}

// CreateRequest implements app.RequestStore: in one transaction, the request, its mailbox, the
// address reservation, and the member's link to the mailbox. The member must still have the
// mailbox it had when read (prevMailboxID, "" for none), no own PEC, and be in the albo.
func (s *Store) CreateRequest(ctx context.Context, r *domain.Request, mb *domain.Mailbox, m *domain.Member, prevMailboxID string) error {
	cond := "attribute_not_exists(mailboxId)"
	values := map[string]types.AttributeValue{":mb": str(mb.ID), ":now": str(formatTime(r.CreatedAt)), ":one": num(1)}
	if prevMailboxID != "" {
		cond, values[":prev"] = "mailboxId = :prev", str(prevMailboxID)
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table, Key: key(orderPK(m.OrderID), memberSK(m.Key())),
			UpdateExpression:          aws.String("SET mailboxId = :mb, updatedAt = :now ADD version :one"),
			ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(pec) AND attribute_not_exists(cancelledOn) AND " + cond),
			ExpressionAttributeValues: values,
		}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(toMailboxItem(mb)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{
			TableName: &s.table,
			Item: map[string]types.AttributeValue{
				attrPK: str(addressPK(mb.Address)), attrSK: str(skAddress), "type": str("address"),
				"mailboxId": str(mb.ID), "orderId": str(mb.OrderID), "reservedAt": str(formatTime(mb.CreatedAt)),
			},
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(toRequestItem(r)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		s.audit(orderPK(m.OrderID), "member:"+m.Key(), "request.created", "member", r.CreatedAt),
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons := cancelReasons(err); reasons != nil {
		switch {
		case reasons[0] == "ConditionalCheckFailed":
			return domain.ErrConcurrentUpdate // the member changed: read again and decide again
		case len(reasons) > 2 && reasons[2] == "ConditionalCheckFailed":
			return domain.ErrAddressTaken
		}
	}
	if err != nil {
		return fmt.Errorf("create request: %w", err)
	}
	s.entered(ctx, mb.State)
	return nil
}

// GetRequest implements app.RequestStore.
func (s *Store) GetRequest(ctx context.Context, id string) (*domain.Request, error) {
	var it requestItem
	ok, err := s.getItem(ctx, requestPK(id), skRequest, &it)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.ErrRequestNotFound
	}
	return it.request(), nil
}

// UpdateRequest implements app.RequestStore: read, decide, write under an optimistic lock.
func (s *Store) UpdateRequest(ctx context.Context, id string, audit app.Audit, change func(*domain.Request) (bool, error)) (*domain.Request, error) {
	return optimistic(func() (*domain.Request, error) {
		r, err := s.GetRequest(ctx, id)
		if err != nil {
			return nil, err
		}
		changed, err := change(r)
		if err != nil || !changed {
			return r, err
		}
		old := r.Version
		r.Version++
		if err := s.putAudited(ctx, toRequestItem(r), old, orderPK(r.OrderID), "member:"+r.MemberKey, audit, nil, nil); err != nil {
			return nil, err
		}
		return r, nil
	})
}

// Hit implements app.RequestStore: it counts one hit of client in the window that starts at
// start and lasts window, and reports whether the count is still within max. The counters
// expire through TTL a window after they close.
func (s *Store) Hit(ctx context.Context, client string, start time.Time, window time.Duration, max int) (bool, error) {
	pk := "RATE#" + client + "#" + strconv.FormatInt(int64(window/time.Second), 10) + "#" + strconv.FormatInt(start.Unix(), 10)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(pk, skRate),
		UpdateExpression:          aws.String("SET #ttl = if_not_exists(#ttl, :ttl) ADD hits :one"),
		ConditionExpression:       aws.String("attribute_not_exists(hits) OR hits < :max"),
		ExpressionAttributeNames:  map[string]string{"#ttl": AttrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":max": num(max), ":ttl": num(int(start.Add(2 * window).Unix()))},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

var _ app.AbandonedStore = (*Store)(nil)

// UnpaidRequests implements app.AbandonedStore from GSI3's sparse partition of unpaid requests.
func (s *Store) UnpaidRequests(ctx context.Context, createdBefore time.Time, limit int, cursor string) ([]string, string, error) {
	ids, next, err := s.mailboxIDsPage(ctx, unpaidRequestsPK, formatTime(createdBefore), limit, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("unpaid requests: %w", err)
	}
	for i, id := range ids {
		ids[i] = strings.TrimPrefix(id, "REQUEST#")
	}
	return ids, next, nil
}
