package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/dynamo"
)

// temporary experiment: store-driven reads vs raw reads, alternately, in one process.
func runXExport(ctx context.Context, e env, p params, t *timer) error {
	ops := &opCounter{}
	db, err := newDynamoDB(ctx, e, ops)
	if err != nil {
		return err
	}
	store := dynamo.New(db, e.Table)
	upTo := app.ChangeKeyBefore(time.Now().Add(-exportSettle))
	viaStore := func() (int, error) {
		after, n := "", 0
		for {
			ch, err := store.Changes(ctx, p.order, after, upTo, 500)
			if err != nil || len(ch) == 0 {
				return n, err
			}
			keys := make([]string, 0, len(ch))
			for _, c := range ch {
				keys = append(keys, c.MemberKey)
			}
			m, err := store.MembersByKey(ctx, p.order, keys)
			if err != nil {
				return n, err
			}
			n += len(m)
			after = ch[len(ch)-1].Key
		}
	}
	pause := time.Duration(0)
	raw := func(withBatch bool) (int, error) {
		in := &dynamodb.QueryInput{
			TableName:              &e.Table,
			KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": s("INIPEC#" + p.order), ":lo": s("CHANGE#"), ":hi": s(upTo),
			},
			ConsistentRead: aws.Bool(true),
			Limit:          aws.Int32(500),
		}
		n := 0
		for {
			out, err := db.Query(ctx, in)
			if err != nil {
				return n, err
			}
			keys := make([]string, 0, len(out.Items))
			for _, it := range out.Items {
				keys = append(keys, it["memberKey"].(*types.AttributeValueMemberS).Value)
			}
			if withBatch {
				got, err := batchGetMembersPaced(ctx, db, e.Table, p.order, keys, pause)
				if err != nil {
					return n, err
				}
				n += got
			} else {
				n += len(keys)
			}
			if out.LastEvaluatedKey == nil {
				return n, nil
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	for round := 0; round < 2; round++ {
		for _, c := range []struct {
			name string
			f    func() (int, error)
		}{{"store", viaStore}, {"raw", func() (int, error) { pause = 0; return raw(true) }},
			{"raw+1ms", func() (int, error) { pause = time.Millisecond; return raw(true) }},
			{"raw+3ms", func() (int, error) { pause = 3 * time.Millisecond; return raw(true) }}} {
			t0 := time.Now()
			n, err := c.f()
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "xexport round %d %-18s %6d rows %.1f s\n", round, c.name, n, time.Since(t0).Seconds())
		}
	}
	t.start()
	t.stop()
	return nil
}

func batchGetMembersPaced(ctx context.Context, db *dynamodb.Client, table, orderID string, memberKeys []string, pause time.Duration) (int, error) {
	got := 0
	for start := 0; start < len(memberKeys); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, k := range memberKeys[start:min(start+100, len(memberKeys))] {
			keys = append(keys, keyOf("ORDER#"+orderID, "MEMBER#"+k))
		}
		out, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {Keys: keys}}})
		if err != nil {
			return got, err
		}
		got += len(out.Responses[table])
		if pause > 0 {
			time.Sleep(pause)
		}
	}
	return got, nil
}
