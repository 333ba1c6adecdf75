package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/dynamo"
)

// clients is the concurrency of the paths through the host and of their floors.
const clients = 4

// stateMachineARN is the ARN prefix of the template's state machines on the local cloud.
const stateMachineARN = "arn:aws:states:" + region + ":123456789012:"

// lifecycleRun is one Order of a path through the host, with its clients.
type lifecycleRun struct {
	e              env
	p              params
	db             *dynamodb.Client
	api            *api
	sfn            *sfn.Client
	orderTok, fed  string
	g              gen
	mailboxes, cfs []string
}

func newLifecycleRun(ctx context.Context, e env, p params, members int, ops *opCounter) (*lifecycleRun, error) {
	db, err := newDynamoDB(ctx, e, ops)
	if err != nil {
		return nil, err
	}
	// The Order is written directly: its creation is no part of any measured path.
	if err := createOrder(ctx, dynamo.New(db, e.Table), p.order, true); err != nil {
		return nil, err
	}
	r := &lifecycleRun{e: e, p: p, db: db, api: newAPI(e.APIURL), sfn: newSFN(e), g: gen{n: members, salt: p.salt},
		mailboxes: make([]string, members), cfs: make([]string, members)}
	if r.orderTok, err = token(e, app.RoleOrder, p.order); err != nil {
		return nil, err
	}
	if r.fed, err = token(e, app.RoleFederation, ""); err != nil {
		return nil, err
	}
	return r, nil
}

// email is member i's address: unique to the Order, so that its activation e-mail is found.
func (r *lifecycleRun) email(i int) string {
	return "m" + strconv.Itoa(i) + "." + strings.ToLower(r.p.order) + "@example.it"
}

// enrol enrols member i through the host's API and records its mailbox.
func (r *lifecycleRun) enrol(ctx context.Context, i int) error {
	m := r.g.member(i)
	body := map[string]any{"codiceFiscale": m.CF, "nome": m.Nome, "cognome": m.Cognome, "albo": alboTSRM,
		"numeroIscrizione": m.Numero, "dataIscrizione": m.Data, "email": r.email(i)}
	var out struct {
		Mailbox struct {
			ID string `json:"id"`
		} `json:"mailbox"`
	}
	if err := r.api.call(ctx, 201, "POST", "/v1/orders/"+r.p.order+"/members", r.orderTok, body, &out); err != nil {
		return err
	}
	r.mailboxes[i], r.cfs[i] = out.Mailbox.ID, m.CF
	return nil
}

// each runs fn for 0..n-1 on the clients; the first error stops it.
func each(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := range n {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range jobs {
				if err := fn(ctx, i); err != nil {
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

// authorise creates the Order's batch of every enrolled mailbox, confirms and pays it, as the
// Order and the federation do, and returns its id.
func (r *lifecycleRun) authorise(ctx context.Context) (string, error) {
	var b struct {
		ID           string `json:"id"`
		MailboxCount int    `json:"mailboxCount"`
		AmountCents  int    `json:"amountCents"`
	}
	if err := r.api.call(ctx, 201, "POST", "/v1/orders/"+r.p.order+"/batches", r.orderTok, nil, &b); err != nil {
		return "", err
	}
	if b.MailboxCount != len(r.mailboxes) {
		return "", fmt.Errorf("the batch has %d mailboxes, want %d", b.MailboxCount, len(r.mailboxes))
	}
	if err := r.api.call(ctx, 200, "POST", "/v1/batches/"+b.ID+"/confirm", r.orderTok, nil, nil); err != nil {
		return "", err
	}
	pay := map[string]any{"reference": "BENCH-" + b.ID, "amountCents": b.AmountCents}
	return b.ID, r.api.call(ctx, 200, "POST", "/v1/batches/"+b.ID+"/payment", r.fed, pay, nil)
}

// links waits for every member's activation e-mail and returns the raw link tokens by member.
func (r *lifecycleRun) links(ctx context.Context) ([]string, error) {
	want := map[string]bool{}
	for i := range r.mailboxes {
		want[r.email(i)] = true
	}
	var got map[string]string
	err := waitFor(ctx, fmt.Sprintf("%d activation e-mails", len(want)), 5*time.Minute, func() (bool, error) {
		var err error
		got, err = activationLinks(ctx, r.e, want)
		return len(got) == len(want), err
	})
	if err != nil {
		return nil, fmt.Errorf("%w (%d arrived)", err, len(got))
	}
	out := make([]string, len(r.mailboxes))
	for i := range out {
		out[i] = got[r.email(i)]
	}
	return out, nil
}

// click is the member's GET of the activation page and POST of the confirmation.
func (r *lifecycleRun) click(ctx context.Context, raw string) error {
	link := r.e.APIURL + "/activate/" + raw
	if err := r.api.page(ctx, link, ""); err != nil {
		return err
	}
	return r.api.page(ctx, link, "choice=confirm")
}

// waitExecutions waits until each named execution of the state machine has ended and wants
// every one SUCCEEDED.
func (r *lifecycleRun) waitExecutions(ctx context.Context, machine string, names []string) error {
	left := map[string]bool{}
	for _, n := range names {
		left[n] = true
	}
	return waitFor(ctx, fmt.Sprintf("%d %s executions to end", len(names), machine), 3*time.Minute, func() (bool, error) {
		for n := range left {
			arn := stateMachineARN + "execution:" + machine + ":" + n
			out, err := r.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
			if err != nil {
				return false, err
			}
			switch out.Status {
			case sfntypes.ExecutionStatusRunning:
				continue
			case sfntypes.ExecutionStatusSucceeded:
				delete(left, n)
			default:
				return false, fmt.Errorf("execution %s ended %s", n, out.Status)
			}
		}
		return len(left) == 0, nil
	})
}

func (r *lifecycleRun) mailboxExecutions() []string {
	names := make([]string, len(r.mailboxes))
	for i, id := range r.mailboxes {
		names[i] = "mailbox-" + id
	}
	return names
}

// --- enrol: enrolments through the host vs their DynamoDB requests, interleaved ---

// runEnrol enrols 2n members of one Order on the clients: the even ones through the host's
// API (POST /v1/orders/{id}/members), the odd ones as the floor, the requests the enrolment
// makes issued directly: GetItem of the Order, BatchGetItem of the 8 candidate addresses and
// the TransactWriteItems of member, audit, mailbox, address and the Order's batch check.
func runEnrol(ctx context.Context, e env, p params, t *timer) error {
	ops := &opCounter{}
	r, err := newLifecycleRun(ctx, e, p, 2*p.n+2*clients, ops)
	if err != nil {
		return err
	}
	floor := func(ctx context.Context, i int) error {
		orderKey := keyOf("ORDER#"+p.order, "#ORDER")
		if _, err := r.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.Table, Key: orderKey, ConsistentRead: aws.Bool(true)}); err != nil {
			return err
		}
		return floorEnrol(ctx, r.db, e.Table, p.order, r.g.member(i), "")
	}
	one := func(lat *latencies) func(ctx context.Context, i int) error {
		return func(ctx context.Context, i int) error {
			kind, fn := "path", r.enrol
			if i%2 == 1 {
				kind, fn = "floor", floor
			}
			start := time.Now()
			if err := fn(ctx, i); err != nil {
				return fmt.Errorf("%s enrolment %d: %w", kind, i, err)
			}
			if lat != nil {
				lat.add(kind, time.Since(start))
			}
			return nil
		}
	}
	// A few of each first, untimed: the host builds the function at its first call.
	warm := 2 * clients
	if err := each(ctx, warm, func(ctx context.Context, i int) error { return one(nil)(ctx, 2*p.n+i) }); err != nil {
		return err
	}
	lat := &latencies{}
	before := ops.snapshot()
	t.start()
	err = each(ctx, 2*p.n, one(lat))
	t.stop()
	t.ops = diffOps(ops.snapshot(), before)
	t.rows = p.n
	t.latency = lat.stats()
	t.note("%d enrolments through the host and %d by the floor, interleaved on %d clients (plus %d untimed first)", p.n, p.n, clients, warm)
	return err
}

// --- click: activation clicks through the host vs their requests, interleaved ---

// runClick brings 2n mailboxes of one Order through the real lifecycle to ABILITATA with their
// activation e-mail sent (untimed), then clicks them on the clients: the even ones through the
// host (GET of the page, POST of the confirmation), the odd ones as the floor, the requests
// the click makes issued directly (clickFloor). Both resume the mailbox's workflow.
func runClick(ctx context.Context, e env, p params, t *timer) error {
	ops := &opCounter{}
	r, err := newLifecycleRun(ctx, e, p, 2*p.n, ops)
	if err != nil {
		return err
	}
	setup := time.Now()
	if err := each(ctx, 2*p.n, r.enrol); err != nil {
		return err
	}
	if _, err := r.authorise(ctx); err != nil {
		return err
	}
	links, err := r.links(ctx)
	if err != nil {
		return err
	}
	t.note("setup: %d mailboxes enrolled, authorised, created by the provider, activation e-mails sent in %.1f s (untimed)",
		2*p.n, time.Since(setup).Seconds())
	// The page once, untimed: the host builds the function at its first call.
	if err := r.api.page(ctx, e.APIURL+"/activate/"+links[0], ""); err != nil {
		return err
	}
	lat := &latencies{}
	before := ops.snapshot()
	t.start()
	err = each(ctx, 2*p.n, func(ctx context.Context, i int) error {
		kind, fn := "path", r.click
		if i%2 == 1 {
			kind, fn = "floor", r.clickFloor
		}
		start := time.Now()
		if err := fn(ctx, links[i]); err != nil {
			return fmt.Errorf("%s click %d: %w", kind, i, err)
		}
		lat.add(kind, time.Since(start))
		return nil
	})
	t.stop()
	t.ops = diffOps(ops.snapshot(), before)
	t.rows = p.n
	t.latency = lat.stats()
	if err != nil {
		return err
	}
	// Every workflow ends before the next child starts, so that none of its work is counted there.
	return r.waitExecutions(ctx, "MailboxStateMachine", r.mailboxExecutions())
}

// clickFloor makes the requests of a click directly. GET: the activation item, the mailbox,
// the member and the Order, each a consistent GetItem (the page needs all four). POST: the
// same four reads, the mailbox made ATTIVATA under its version with the INI-PEC change it
// makes (one TransactWriteItems) and the workflow resumed (SendTaskSuccess to moto).
func (r *lifecycleRun) clickFloor(ctx context.Context, raw string) error {
	hash := app.HashLinkToken(raw)
	read := func() (map[string]types.AttributeValue, error) {
		get := func(pk, sk string) (map[string]types.AttributeValue, error) {
			out, err := r.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &r.e.Table, Key: keyOf(pk, sk), ConsistentRead: aws.Bool(true)})
			if err == nil && out.Item == nil {
				err = fmt.Errorf("no item %s", sk)
			}
			if err != nil {
				return nil, err
			}
			return out.Item, nil
		}
		act, err := get("ACTIVATION#"+hash, "#ACTIVATION")
		if err != nil {
			return nil, err
		}
		mb, err := get("MAILBOX#"+str(act["mailboxId"]), "#MAILBOX")
		if err != nil {
			return nil, err
		}
		if _, err := get("ORDER#"+r.p.order, "MEMBER#"+str(mb["memberKey"])); err != nil {
			return nil, err
		}
		_, err = get("ORDER#"+r.p.order, "#ORDER")
		return mb, err
	}
	if _, err := read(); err != nil {
		return err
	}
	mb, err := read()
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	version, _ := strconv.Atoi(mb["version"].(*types.AttributeValueMemberN).Value)
	activated := make(map[string]types.AttributeValue, len(mb)+2)
	for k, v := range mb {
		activated[k] = v
	}
	id := str(mb["id"])
	history := append([]types.AttributeValue(nil), mb["history"].(*types.AttributeValueMemberL).Value...)
	history = append(history, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"state": s("ATTIVATA"), "at": s(ft(now)), "actor": s("member"), "reason": s("confirmed")}})
	expires := now.AddDate(3, 0, 0)
	due := expires.AddDate(0, 0, -60).Format(time.DateOnly)
	for k, v := range map[string]types.AttributeValue{
		"state": s("ATTIVATA"), "GSI1PK": s("ORDER#" + r.p.order + "#STATE#ATTIVATA"), "updatedAt": s(ft(now)),
		"history": &types.AttributeValueMemberL{Value: history}, "version": n(version + 1),
		"expiresOn": s(expires.Format(time.DateOnly)), "expiryDueOn": s(due),
		"GSI3PK": s("ORDER#" + r.p.order + "#EXPIRY"), "GSI3SK": s(due + "#" + id),
	} {
		activated[k] = v
	}
	change := map[string]types.AttributeValue{
		"PK": s("INIPEC#" + r.p.order), "SK": s("CHANGE#" + ft(now) + "#" + randomHex(6)), "type": s("inipecChange"),
		"kind": s("insert"), "memberKey": mb["memberKey"], "address": mb["address"], "at": s(ft(now)),
		dynamo.AttrTTL: n(int(now.Add(400 * 24 * time.Hour).Unix())),
	}
	if _, err := r.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &r.e.Table, Item: activated, ConditionExpression: aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": n(version)}}},
		{Put: &types.Put{TableName: &r.e.Table, Item: change}},
	}}); err != nil {
		return fmt.Errorf("floor write: %w", err)
	}
	tok := str(mb["taskToken"])
	_, err = r.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &tok, Output: aws.String("{}")})
	return err
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// --- cost: one batch of mailboxes along the happy path, counted ---

// runCost takes n mailboxes of one Order along the happy path through the host: enrolment,
// batch created, confirmed and paid, the provider's creation, the member's click, ATTIVATA;
// it waits for every workflow to succeed and counts the state transitions of each execution
// (its StateEntered events, as AWS bills them). The driver counts the AWS requests the host
// forwarded meanwhile.
func runCost(ctx context.Context, e env, p params, t *timer) error {
	ops := &opCounter{}
	r, err := newLifecycleRun(ctx, e, p, p.n, ops)
	if err != nil {
		return err
	}
	t.start()
	if err := each(ctx, p.n, r.enrol); err != nil {
		return err
	}
	batchID, err := r.authorise(ctx)
	if err != nil {
		return err
	}
	links, err := r.links(ctx)
	if err != nil {
		return err
	}
	if err := each(ctx, p.n, func(ctx context.Context, i int) error { return r.click(ctx, links[i]) }); err != nil {
		return err
	}
	if err := r.waitExecutions(ctx, "MailboxStateMachine", r.mailboxExecutions()); err != nil {
		return err
	}
	if err := r.waitExecutions(ctx, "BatchStateMachine", []string{"batch-" + batchID}); err != nil {
		return err
	}
	t.stop()
	for _, id := range r.mailboxes {
		out, err := r.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.Table, Key: keyOf("MAILBOX#"+id, "#MAILBOX"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return err
		}
		if st := str(out.Item["state"]); st != "ATTIVATA" {
			return fmt.Errorf("mailbox %s ended %s, want ATTIVATA", id, st)
		}
	}
	mailboxStates := map[string]int{}
	mailboxTotal := 0
	for _, name := range r.mailboxExecutions() {
		entered, err := r.statesEntered(ctx, "MailboxStateMachine", name)
		if err != nil {
			return err
		}
		for _, s := range entered {
			mailboxStates[s]++
		}
		mailboxTotal += len(entered)
	}
	batchEntered, err := r.statesEntered(ctx, "BatchStateMachine", "batch-"+batchID)
	if err != nil {
		return err
	}
	t.rows = p.n
	t.extra = map[string]float64{
		"mailboxTransitions": float64(mailboxTotal) / float64(p.n),
		"batchTransitions":   float64(len(batchEntered)),
	}
	t.note("states entered per mailbox execution: %s; by the batch's: %s", formatOps(perMailbox(mailboxStates, p.n)), strings.Join(batchEntered, ", "))
	return nil
}

func perMailbox(counts map[string]int, n int) map[string]int {
	out := map[string]int{}
	for k, v := range counts {
		out[k] = v / n
	}
	return out
}

// statesEntered lists the states an execution entered, in order.
func (r *lifecycleRun) statesEntered(ctx context.Context, machine, name string) ([]string, error) {
	arn := stateMachineARN + "execution:" + machine + ":" + name
	in := &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, MaxResults: 1000}
	var entered []string
	for {
		out, err := r.sfn.GetExecutionHistory(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", name, err)
		}
		for _, ev := range out.Events {
			if strings.HasSuffix(string(ev.Type), "StateEntered") && ev.StateEnteredEventDetails != nil {
				entered = append(entered, aws.ToString(ev.StateEnteredEventDetails.Name))
			}
		}
		if out.NextToken == nil {
			return entered, nil
		}
		in.NextToken = out.NextToken
	}
}
