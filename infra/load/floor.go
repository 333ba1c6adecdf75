package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/domain"
)

// floor serves the mix's routes with nothing but the DynamoDB requests each one makes, sent
// straight to DynamoDB Local: no JWT check, no API Gateway event, no function, no forwarder.
// Attacked at the same rate as the host, it is the floor of the path's latency. Its requests
// are those of shared/dynamo (see floorEnrol and the handlers); ops counts them, so that the
// run can show they match what the host forwarded for the same requests.
type floor struct {
	db    *dynamodb.Client
	table string
	ops   opCounts
	http  *attempts // the HTTP requests the SDK sent: ops and its retries
}

// attempts counts the HTTP requests an SDK client sends and those that failed (an error or a
// 4xx/5xx status), which it may have retried.
type attempts struct {
	next         aws.HTTPClient
	sent, failed atomic.Int64
}

func (a *attempts) Do(r *http.Request) (*http.Response, error) {
	a.sent.Add(1)
	resp, err := a.next.Do(r)
	if err != nil || resp.StatusCode >= 400 {
		a.failed.Add(1)
	}
	return resp, err
}

// opCounts counts DynamoDB requests by operation.
type opCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *opCounts) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[op]++
}

func (c *opCounts) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// newFloor is the floor on a client of DynamoDB Local built as the functions build theirs
// (the SDK's default HTTP client and retryer), without the host in between.
func newFloor(endpoint, table string) *floor {
	h := &attempts{next: awshttp.NewBuildableClient()}
	db := dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String(endpoint), Region: localcloud.Region,
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		DisableValidateResponseChecksum: true,
		HTTPClient:                      h,
	})
	return &floor{db: db, table: table, http: h}
}

func (f *floor) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/orders/{order}/members", f.serve(f.enrol))
	mux.HandleFunc("GET /v1/orders/{order}/members/{cf}", f.serve(f.member))
	mux.HandleFunc("GET /v1/orders/{order}/mailboxes", f.serve(f.list))
	mux.HandleFunc("GET /v1/orders/{order}/mailboxes/summary", f.serve(f.summary))
	return mux
}

func (f *floor) serve(fn func(ctx context.Context, r *http.Request) (int, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, err := fn(r.Context(), r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("{}"))
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }

func keyOf(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": s(pk), "SK": s(sk)}
}

func (f *floor) getItem(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	f.ops.add("GetItem")
	out, err := f.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &f.table, Key: keyOf(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// getOrder is Store.GetOrder's read, which the listing, the summary and the enrolment make.
func (f *floor) getOrder(ctx context.Context, order string) error {
	it, err := f.getItem(ctx, "ORDER#"+order, "#ORDER")
	if err == nil && it == nil {
		err = fmt.Errorf("no Order %s", order)
	}
	return err
}

// enrol: GetItem of the Order, BatchGetItem of the 8 candidate addresses, then the
// TransactWriteItems of Store.CreateMember: member, audit entry, mailbox, address
// reservation, and the check of the Order's batch sequence.
func (f *floor) enrol(ctx context.Context, r *http.Request) (int, error) {
	order := r.PathValue("order")
	var p person
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p); err != nil {
		return 0, err
	}
	if err := f.getOrder(ctx, order); err != nil {
		return 0, err
	}
	keys := make([]map[string]types.AttributeValue, 0, 8)
	var first string
	for h := range 8 {
		a, err := domain.ComposeAddress(p.Nome, p.Cognome, pecDomain, h)
		if err != nil {
			return 0, err
		}
		if h == 0 {
			first = a
		}
		keys = append(keys, keyOf("ADDRESS#"+a, "#ADDRESS"))
	}
	req := map[string]types.KeysAndAttributes{f.table: {Keys: keys, ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("PK")}}
	for len(req) > 0 {
		f.ops.add("BatchGetItem")
		out, err := f.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return 0, err
		}
		req = out.UnprocessedKeys
	}
	it := enrolmentItems(order, p, first, newID(), time.Now())
	cond := aws.String("attribute_not_exists(PK)")
	f.ops.add("TransactWriteItems")
	_, err := f.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &f.table, Item: it.Member, ConditionExpression: cond}},
		{Put: &types.Put{TableName: &f.table, Item: it.Audit}},
		{Put: &types.Put{TableName: &f.table, Item: it.Mailbox, ConditionExpression: cond}},
		{Put: &types.Put{TableName: &f.table, Item: it.Address, ConditionExpression: cond}},
		{ConditionCheck: &types.ConditionCheck{TableName: &f.table, Key: keyOf("ORDER#"+order, "#ORDER"),
			ConditionExpression: aws.String("batchSeq = :seq"), ExpressionAttributeValues: map[string]types.AttributeValue{":seq": n(0)}}},
	}})
	if err != nil {
		return 0, err
	}
	return http.StatusCreated, nil
}

// member: GetItem of the member, then of its mailbox (Service.GetMember).
func (f *floor) member(ctx context.Context, r *http.Request) (int, error) {
	cf, err := domain.ParseCodiceFiscale(r.PathValue("cf"))
	if err != nil {
		return 0, err
	}
	it, err := f.getItem(ctx, "ORDER#"+r.PathValue("order"), "MEMBER#"+cf.Canonical().Value())
	if err != nil {
		return 0, err
	}
	if it == nil {
		return http.StatusNotFound, nil
	}
	if mb, ok := it["mailboxId"].(*types.AttributeValueMemberS); ok {
		if _, err := f.getItem(ctx, "MAILBOX#"+mb.Value, "#MAILBOX"); err != nil {
			return 0, err
		}
	}
	return http.StatusOK, nil
}

// list: GetItem of the Order, then one page of the state index (Store.ListMailboxes asks
// for one item more than the page).
func (f *floor) list(ctx context.Context, r *http.Request) (int, error) {
	order, state := r.PathValue("order"), r.URL.Query().Get("state")
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil {
		return 0, err
	}
	if err := f.getOrder(ctx, order); err != nil {
		return 0, err
	}
	f.ops.add("Query")
	_, err = f.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &f.table, IndexName: aws.String("GSI1"), KeyConditionExpression: aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": "GSI1PK"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("ORDER#" + order + "#STATE#" + state)},
		Limit:                     aws.Int32(int32(limit + 1)),
	})
	if err != nil {
		return 0, err
	}
	return http.StatusOK, nil
}

// summary: GetItem of the Order, then a counting Query of the state index per state
// (Store.CountMailboxes).
func (f *floor) summary(ctx context.Context, r *http.Request) (int, error) {
	order := r.PathValue("order")
	if err := f.getOrder(ctx, order); err != nil {
		return 0, err
	}
	for _, st := range domain.States {
		in := &dynamodb.QueryInput{
			TableName: &f.table, IndexName: aws.String("GSI1"), KeyConditionExpression: aws.String("GSI1PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("ORDER#" + order + "#STATE#" + string(st))},
			Select:                    types.SelectCount,
		}
		for {
			f.ops.add("Query")
			out, err := f.db.Query(ctx, in)
			if err != nil {
				return 0, err
			}
			if out.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	return http.StatusOK, nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// timeLayout is shared/dynamo's fixed-width time layout.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// enrolment is what enrolling one member of a convention Order writes, item by item as
// shared/dynamo's CreateMember writes them (the same attributes and types: the host's lists
// read the floor's mailboxes too).
type enrolment struct {
	Member, Audit, Mailbox, Address map[string]types.AttributeValue
}

func enrolmentItems(order string, p person, address, mailboxID string, now time.Time) enrolment {
	at := now.UTC().Format(timeLayout)
	actor := "order:" + order
	sortKey := at + "#" + mailboxID
	return enrolment{
		Member: map[string]types.AttributeValue{
			"PK": s("ORDER#" + order), "SK": s("MEMBER#" + p.CodiceFiscale), "type": s("member"), "orderId": s(order),
			"codiceFiscale": s(p.CodiceFiscale), "nome": s(p.Nome), "cognome": s(p.Cognome), "albo": s(p.Albo),
			"numeroIscrizione": s(p.NumeroIscrizione), "dataIscrizione": s(p.DataIscrizione), "email": s(p.Email),
			"ctu": &types.AttributeValueMemberBOOL{Value: false}, "mailboxId": s(mailboxID),
			"enrolledAt": s(at), "updatedAt": s(at), "version": n(0),
		},
		Audit: map[string]types.AttributeValue{
			"PK": s("ORDER#" + order), "SK": s("AUDIT#" + at + "#" + newID()[:12]), "type": s("audit"),
			"entity": s("member:" + p.CodiceFiscale), "action": s("member.enrolled"), "actor": s(actor), "at": s(at),
		},
		Mailbox: map[string]types.AttributeValue{
			"PK": s("MAILBOX#" + mailboxID), "SK": s("#MAILBOX"),
			"GSI1PK": s("ORDER#" + order + "#STATE#RICHIESTA"), "GSI1SK": s(sortKey),
			"GSI2PK": s("ORDER#" + order + "#MAILBOXES"), "GSI2SK": s(sortKey),
			"GSI3PK": s("ORDER#" + order + "#OPEN#0"), "GSI3SK": s(sortKey),
			"type": s("mailbox"), "id": s(mailboxID), "address": s(address), "state": s("RICHIESTA"),
			"orderId": s(order), "albo": s(p.Albo), "memberKey": s(p.CodiceFiscale), "createdAt": s(at), "updatedAt": s(at),
			"history": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"state": s("RICHIESTA"), "at": s(at), "actor": s(actor), "reason": s("enrolled"),
			}}}},
			"batchSeq": n(0), "activationsSent": n(0), "version": n(0),
		},
		Address: map[string]types.AttributeValue{
			"PK": s("ADDRESS#" + address), "SK": s("#ADDRESS"), "type": s("address"),
			"mailboxId": s(mailboxID), "orderId": s(order), "reservedAt": s(at),
		},
	}
}
