package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/dynamo"
	"github.com/pecplatform/pec/shared/inipec"
	"github.com/pecplatform/pec/shared/inipecupload"
)

// workers is the import's concurrency (app's importWorkers), which the floor copies.
const workers = 8

// chunkRows is the template's ImportChunkRows default (what the import job runs with in AWS).
const chunkRows = 500

// exportSettle is inipecsync.New's default settle time; the outbox the export setup writes is older.
const exportSettle = 10 * time.Minute

func createOrder(ctx context.Context, store *dynamo.Store, id string, convention bool) error {
	now := time.Now().UTC()
	o := &domain.Order{ID: id, Name: "Bench " + id, PEC: "ordine@pec.example.it",
		Convention: domain.Convention{WebPEC: convention, PriceCents: 500, VATPercent: 22}, CreatedAt: now, UpdatedAt: now}
	if err := o.Validate(); err != nil {
		return err
	}
	_, err := store.PutOrder(ctx, o, app.RoleFederation)
	return err
}

// --- import: the real import job over an uploaded CSV ---

func runImport(ctx context.Context, e env, p params, t *timer) error {
	ops := &opCounter{}
	db, err := newDynamoDB(ctx, e, ops)
	if err != nil {
		return err
	}
	store := dynamo.New(db, e.Table)
	files, err := newBucket(ctx, e)
	if err != nil {
		return err
	}
	if err := createOrder(ctx, store, p.order, true); err != nil {
		return err
	}
	// As imports.New (shared/wire/imports) builds it, with the store and the bucket on the local
	// cloud. Continue is never needed: the run has no deadline, so it never hands over.
	j := &app.Imports{Service: app.New(store, domain.MustAlbi(domain.DefaultAlbi())), Store: store, Uploads: files, Log: logger(),
		Now: time.Now, UploadTTL: time.Hour, Chunk: chunkRows, Reserve: 90 * time.Second}
	caller := app.Caller{Role: app.RoleOrder, OrderID: p.order}
	im, uploadURL, _, err := j.Create(ctx, caller, p.order)
	if err != nil {
		return err
	}
	// The upload, as a client does it: a PUT of the stream to the pre-signed URL (untimed).
	g := gen{n: p.n, salt: p.salt}
	size := g.csvSize()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(g.writeCSV(pw)) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, uploadURL, pr)
	if err != nil {
		return err
	}
	req.ContentLength = size
	up := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("upload: HTTP %d", resp.StatusCode)
	}
	t.note("uploaded %.1f MB of CSV in %.1f s (untimed)", float64(size)/1e6, time.Since(up).Seconds())

	before := ops.snapshot()
	t.start()
	err = j.Run(ctx, im.ID, "bench-"+im.ID)
	t.stop()
	t.ops = diffOps(ops.snapshot(), before)
	if err != nil {
		return fmt.Errorf("import run: %w", err)
	}
	got, err := store.GetImport(ctx, im.ID)
	if err != nil {
		return err
	}
	if got.State != app.ImportDone || got.Processed != p.n || got.Created != p.n || got.FailedCount != 0 || got.Runs != 1 {
		return fmt.Errorf("import ended %s: processed %d, created %d, existing %d, failed %d, runs %d (want %d created)",
			got.State, got.Processed, got.Created, got.Existing, got.FailedCount, got.Runs, p.n)
	}
	t.rows = got.Created
	return checkShapes(ctx, db, e.Table, p, g, im.ID, t)
}

// checkShapes compares what the real path wrote for a member and its homonym with the items the
// floor builds for them: same attributes, same types. A difference would make the floor unfair.
func checkShapes(ctx context.Context, db *dynamodb.Client, table string, p params, g gen, importID string, t *timer) error {
	idx := []int{0}
	if p.n > homonymGap+1 {
		idx = append(idx, homonymGap) // the first homonym (number 1)
	}
	for _, i := range idx {
		m := g.member(i)
		composed, err := domain.ComposeAddress(m.Nome, m.Cognome, pecDomain, m.Homonym)
		if err != nil {
			return err
		}
		if composed != m.address(m.Homonym) {
			return fmt.Errorf("the floor's address %q is not the path's %q", m.address(m.Homonym), composed)
		}
		get := func(k map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
			out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: k, ConsistentRead: aws.Bool(true)})
			if err != nil || out.Item == nil {
				return nil, fmt.Errorf("shape check: item %v not found (%v)", k["SK"], err)
			}
			return out.Item, nil
		}
		mem, err := get(keyOf("ORDER#"+p.order, "MEMBER#"+m.CF))
		if err != nil {
			return err
		}
		mbID := mem["mailboxId"].(*types.AttributeValueMemberS).Value
		mb, err := get(keyOf("MAILBOX#"+mbID, "#MAILBOX"))
		if err != nil {
			return err
		}
		if a := mb["address"].(*types.AttributeValueMemberS).Value; a != composed {
			return fmt.Errorf("member %d got address %s, want %s", i, a, composed)
		}
		addr, err := get(keyOf("ADDRESS#"+composed, "#ADDRESS"))
		if err != nil {
			return err
		}
		want := enrolmentItems(p.order, m, composed, mbID, importID, time.Now(), "")
		for _, c := range []struct {
			name      string
			got, want map[string]types.AttributeValue
		}{{"member", mem, want.Member}, {"mailbox", mb, want.Mailbox}, {"address", addr, want.Address}} {
			if gs, ws := shape(c.got), shape(c.want); gs != ws {
				return fmt.Errorf("the floor's %s item differs from the path's:\n path  %s\n floor %s", c.name, gs, ws)
			}
		}
	}
	out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :a)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("ORDER#" + p.order), ":a": s("AUDIT#")}, Limit: aws.Int32(1)})
	if err != nil || len(out.Items) == 0 {
		return fmt.Errorf("shape check: no audit item (%v)", err)
	}
	if gs, ws := shape(out.Items[0]), shape(enrolmentItems(p.order, g.member(0), "", "", "", time.Now(), "").Audit); gs != ws {
		return fmt.Errorf("the floor's audit item differs from the path's:\n path  %s\n floor %s", gs, ws)
	}
	t.note("shape check: the floor writes the same attributes as the path (member, audit, mailbox, address)")
	return nil
}

// shape lists an item's attribute names with their types, nested ones included.
func shape(item map[string]types.AttributeValue) string {
	keys := make([]string, 0, len(item))
	for k, v := range item {
		keys = append(keys, k+":"+typeOf(v))
	}
	sort.Strings(keys)
	return strings.Join(keys, " ")
}

func typeOf(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberM:
		return "M{" + shape(v.Value) + "}"
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = typeOf(e)
		}
		return "L[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf("%T", v)
}

// --- import-floor: per member, exactly the two requests the enrolment must make ---

func runImportFloor(ctx context.Context, e env, p params, t *timer) error {
	ops := &opCounter{}
	db, err := newDynamoDB(ctx, e, ops)
	if err != nil {
		return err
	}
	if err := createOrder(ctx, dynamo.New(db, e.Table), p.order, true); err != nil {
		return err
	}
	before := ops.snapshot()
	t.start()
	err = importFloor(ctx, db, e.Table, p)
	t.stop()
	t.ops = diffOps(ops.snapshot(), before)
	t.rows = p.n
	return err
}

func importFloor(ctx context.Context, db *dynamodb.Client, table string, p params) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g := gen{n: p.n, salt: p.salt}
	importID := randomHex(16)
	members := make(chan member, 64)
	go func() {
		defer close(members)
		for i := range p.n {
			select {
			case members <- g.member(i):
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for m := range members {
				if err := floorEnrol(ctx, db, table, p.order, m, importID); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// floorEnrol reads the 8 candidate addresses in one BatchGetItem, then writes the member, the
// audit entry, the mailbox and the address reservation with the Order's batch check in one
// TransactWriteItems: what Store.TakenAddresses and Store.CreateMember send.
func floorEnrol(ctx context.Context, db *dynamodb.Client, table, orderID string, m member, importID string) error {
	keys := make([]map[string]types.AttributeValue, 0, 8)
	for h := range 8 {
		keys = append(keys, keyOf("ADDRESS#"+m.address(h), "#ADDRESS"))
	}
	req := map[string]types.KeysAndAttributes{table: {Keys: keys, ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("PK")}}
	for len(req) > 0 {
		out, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return fmt.Errorf("floor batch get: %w", err)
		}
		req = out.UnprocessedKeys
	}
	it := enrolmentItems(orderID, m, m.address(m.Homonym), randomHex(16), importID, time.Now(), "")
	cond := aws.String("attribute_not_exists(PK)")
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &table, Item: it.Member, ConditionExpression: cond}},
		{Put: &types.Put{TableName: &table, Item: it.Audit}},
		{Put: &types.Put{TableName: &table, Item: it.Mailbox, ConditionExpression: cond}},
		{Put: &types.Put{TableName: &table, Item: it.Address, ConditionExpression: cond}},
		{ConditionCheck: &types.ConditionCheck{TableName: &table, Key: it.OrderKey, ConditionExpression: aws.String("batchSeq = :seq"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":seq": n(0)}}},
	}})
	if err != nil {
		return fmt.Errorf("floor transaction (member %s): %w", m.Numero, err)
	}
	return nil
}

// --- warmup: DynamoDB Local's JIT and SQLite, before anything is timed ---

func runWarmup(ctx context.Context, e env, p params, t *timer) error {
	if err := runImportFloor(ctx, e, p, t); err != nil {
		return err
	}
	ops := &opCounter{}
	db, err := newDynamoDB(ctx, e, ops)
	if err != nil {
		return err
	}
	// The reads of the export: Query pages and BatchGetItems of 100 members.
	in := &dynamodb.QueryInput{TableName: &e.Table, KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :m)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("ORDER#" + p.order), ":m": s("MEMBER#")},
		ConsistentRead:            aws.Bool(true), Limit: aws.Int32(500)}
	for {
		out, err := db.Query(ctx, in)
		if err != nil {
			return err
		}
		var keys []string
		for _, it := range out.Items {
			keys = append(keys, strings.TrimPrefix(it["SK"].(*types.AttributeValueMemberS).Value, "MEMBER#"))
		}
		if _, err := batchGetMembers(ctx, db, e.Table, p.order, keys); err != nil {
			return err
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// --- export-setup: an Order with n members (own PEC) and n INI-PEC changes in its outbox ---

func runExportSetup(ctx context.Context, e env, p params, t *timer) error {
	ops := &opCounter{}
	db, err := newDynamoDB(ctx, e, ops)
	if err != nil {
		return err
	}
	if err := createOrder(ctx, dynamo.New(db, e.Table), p.order, false); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	t.start()
	defer t.stop()
	g := gen{n: p.n, salt: p.salt}
	base := time.Now().Add(-2 * exportSettle).UTC() // older than the settle time: every change is due
	batches := make(chan []types.WriteRequest, 16)
	go func() {
		defer close(batches)
		var reqs []types.WriteRequest
		for i := range p.n {
			m := g.member(i)
			pec := m.pec()
			at := base.Add(time.Duration(i) * time.Microsecond)
			mem := enrolmentItems(p.order, m, "", "", "", at, pec).Member
			change := map[string]types.AttributeValue{
				"PK": s("INIPEC#" + p.order), "SK": s("CHANGE#" + ft(at) + "#" + randomHex(6)),
				"type": s("inipecChange"), "kind": s(string(domain.PublishInsert)), "memberKey": s(m.CF),
				"address": s(pec), "at": s(ft(at)), dynamo.AttrTTL: n(int(at.Add(400 * 24 * time.Hour).Unix())),
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: mem}},
				types.WriteRequest{PutRequest: &types.PutRequest{Item: change}})
			if len(reqs) >= 24 || i == p.n-1 {
				select {
				case batches <- reqs:
				case <-ctx.Done():
					return
				}
				reqs = nil
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for reqs := range batches {
				pending := map[string][]types.WriteRequest{e.Table: reqs}
				for backoff := 10 * time.Millisecond; len(pending) > 0; backoff *= 2 {
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
					if err != nil {
						cancel(fmt.Errorf("export setup: %w", err))
						return
					}
					if pending = out.UnprocessedItems; len(pending) > 0 {
						time.Sleep(backoff)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	t.rows = p.n
	return nil
}

// --- export: the real INI-PEC sync ---

func runExport(ctx context.Context, e env, p params, t *timer) error {
	ops := &opCounter{}
	db, err := newDynamoDB(ctx, e, ops)
	if err != nil {
		return err
	}
	store := dynamo.New(db, e.Table)
	files, err := newBucket(ctx, e)
	if err != nil {
		return err
	}
	format, err := inipec.FormatFromEnv(func(string) string { return "" }) // the template's defaults, as the stand-in
	if err != nil {
		return err
	}
	// As inipecsync.New (shared/wire/inipecsync) builds it, with the store and the archive on
	// the local cloud and the delivery to the local INI-PEC stand-in behind the host.
	s := &app.INIPEC{Store: store, Archive: files, Format: format, Log: logger(), Now: time.Now, Settle: exportSettle,
		Deliver: &inipecupload.HTTPUploader{BaseURL: e.INIPECURL, Token: e.INIPECToken}}
	before := ops.snapshot()
	t.start()
	res, err := s.Sync(ctx)
	t.stop()
	t.ops = diffOps(ops.snapshot(), before)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	var mine *app.Delivery
	for _, d := range res.Delivered {
		if d.OrderID == p.order {
			mine = d
		} else {
			t.note("the sync also delivered %d changes of Order %s", d.Inserts+d.Updates+d.Deletes, d.OrderID)
		}
	}
	if mine == nil || mine.Inserts != p.n || mine.State != app.DeliveryDelivered {
		return fmt.Errorf("the sync delivered %+v for the Order, want %d inserts", mine, p.n)
	}
	t.note("delivered %s: %d inserts; %d other Orders had nothing to send", mine.FileName, mine.Inserts, res.Unchanged)
	t.rows = mine.Inserts
	return nil
}

// --- export-floor: the outbox pages and the member reads, nothing else ---

func runExportFloor(ctx context.Context, e env, p params, t *timer) error {
	ops := &opCounter{}
	db, err := newDynamoDB(ctx, e, ops)
	if err != nil {
		return err
	}
	upTo := app.ChangeKeyBefore(time.Now().Add(-exportSettle))
	in := &dynamodb.QueryInput{
		TableName:              &e.Table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s("INIPEC#" + p.order), ":lo": s("CHANGE#"), ":hi": s(upTo),
		},
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(500),
	}
	changes, members := 0, 0
	before := ops.snapshot()
	t.start()
	for {
		out, err := db.Query(ctx, in)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(out.Items))
		for _, it := range out.Items {
			keys = append(keys, it["memberKey"].(*types.AttributeValueMemberS).Value)
		}
		changes += len(keys)
		got, err := batchGetMembers(ctx, db, e.Table, p.order, keys)
		if err != nil {
			return err
		}
		members += got
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	t.stop()
	t.ops = diffOps(ops.snapshot(), before)
	if changes != p.n || members != p.n {
		return fmt.Errorf("the floor read %d changes and %d members, want %d", changes, members, p.n)
	}
	t.rows = changes
	return nil
}

// batchGetMembers reads the members in consistent BatchGetItems of 100 keys, as
// Store.MembersByKey (Store.batchGet) does, and returns how many it got.
func batchGetMembers(ctx context.Context, db *dynamodb.Client, table, orderID string, memberKeys []string) (int, error) {
	got := 0
	for start := 0; start < len(memberKeys); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, k := range memberKeys[start:min(start+100, len(memberKeys))] {
			keys = append(keys, keyOf("ORDER#"+orderID, "MEMBER#"+k))
		}
		req := map[string]types.KeysAndAttributes{table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for backoff := 10 * time.Millisecond; len(req) > 0; backoff *= 2 {
			out, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return got, err
			}
			got += len(out.Responses[table])
			if req = out.UnprocessedKeys; len(req) > 0 {
				time.Sleep(backoff)
			}
		}
	}
	return got, nil
}

func diffOps(after, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}
