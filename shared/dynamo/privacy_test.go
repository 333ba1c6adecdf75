package dynamo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/dynamo"
)

// A member's key is the codice fiscale: when DynamoDB fails, the store's errors (which reach
// the logs) name the kind of item, never its key.
func TestStore_ErrorsNeverCarryTheCodiceFiscale(t *testing.T) {
	c := localcloud.ForTests(t)
	db := dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String(c.DynamoDBURL), Region: localcloud.Region,
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		DisableValidateResponseChecksum: true,
		RetryMaxAttempts:                1,
	})
	s := dynamo.New(db, "no-such-table") // every call fails
	cf := domain.CodiceFiscale(cfs[0])
	m, err := enrolment(cfs[0], "Carlo", "Zurzi").Member("T-PRIVACY", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, getErr := s.GetMember(ctx, "T-PRIVACY", cf)
	_, updErr := s.UpdateMember(ctx, "T-PRIVACY", cf, app.Audit{}, func(*domain.Member) (bool, error) { return true, nil })
	_, keysErr := s.MembersByKey(ctx, "T-PRIVACY", []string{cfs[0]})
	for op, err := range map[string]error{
		"GetMember":      getErr,
		"UpdateMember":   updErr,
		"CreateMember":   s.CreateMember(ctx, m, nil, "order:T-PRIVACY"),
		"MembersByKey":   keysErr,
		"PutRegindeLink": s.PutRegindeLink(ctx, strings.Repeat("a", 64), "T-PRIVACY", cf, time.Now().Add(time.Hour)),
	} {
		if err == nil {
			t.Errorf("%s on a missing table did not fail", op)
			continue
		}
		if strings.Contains(strings.ToUpper(err.Error()), cfs[0]) {
			t.Errorf("%s: the error carries the codice fiscale: %v", op, err)
		}
	}
}
