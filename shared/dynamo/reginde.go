package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.RegindeStore = (*Store)(nil)

// PutRegindeLink implements app.RegindeStore: the link's hash names the member it was issued
// to, until a day after it expires.
func (s *Store) PutRegindeLink(ctx context.Context, hash, orderID string, cf domain.CodiceFiscale, expires time.Time) error {
	return s.putLink(ctx, "reginde link", expires, map[string]types.AttributeValue{
		attrPK: str(regindePK(hash)), attrSK: str(skReginde), "type": str("regindeLink"),
		"orderId": str(orderID), "memberKey": str(string(cf.Canonical())),
	})
}

// RegindeLink implements app.RegindeStore.
func (s *Store) RegindeLink(ctx context.Context, hash string) (string, domain.CodiceFiscale, error) {
	var it struct {
		OrderID   string `dynamodbav:"orderId"`
		MemberKey string `dynamodbav:"memberKey"`
	}
	ok, err := s.getItem(ctx, regindePK(hash), skReginde, &it)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", domain.ErrNotFound
	}
	return it.OrderID, domain.CodiceFiscale(it.MemberKey), nil
}

// ListCTU implements app.RegindeStore from the sparse CTU indexes: every CTU of the Order
// (GSI2), or only those who did or did not confirm (GSI1), by surname. Never a scan.
func (s *Store) ListCTU(ctx context.Context, q app.CTUQuery) ([]*domain.Member, string, error) {
	index, pkAttr, skAttr, partition := indexByOrder, attrGSI2PK, attrGSI2SK, ctuPK(q.OrderID)
	if q.Confirmed != nil {
		index, pkAttr, skAttr, partition = indexByState, attrGSI1PK, attrGSI1SK, ctuStatePK(q.OrderID, *q.Confirmed)
	}
	raw, next, err := s.queryPage(ctx, index, pkAttr, skAttr, partition, q.Limit, q.Cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list CTU members: %w", err)
	}
	members := make([]*domain.Member, 0, len(raw))
	for _, r := range raw {
		var it memberItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, "", err
		}
		members = append(members, it.member())
	}
	return members, next, nil
}
