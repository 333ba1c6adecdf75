package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/infra/providersim"
)

// --- scale: one Order's batch of n mailboxes, from enrolment to ATTIVATA, checked ---

// scalePoll is how often the scale path looks at the provider stand-in, the SES stand-in and
// the workflows: the milestones it records are this coarse.
const scalePoll = 2 * time.Second

// scaleDeadline bounds the whole scale path: the run stops with what it saw when it passes.
func scaleDeadline(n int) time.Duration {
	return 10*time.Minute + time.Duration(n)*500*time.Millisecond
}

// The scale path's phases, in the order they are reported (seconds in result.Extra).
var scalePhases = []struct{ key, label string }{
	{"enrol", "enrolment of every member (POST /v1/orders/{id}/members)"},
	{"authorise", "the batch created, confirmed by the Order, paid"},
	{"started", "payment -> every mailbox execution started (the batch's execution SUCCEEDED)"},
	{"created", "payment -> every mailbox created at the provider stand-in"},
	{"emailed", "payment -> every activation e-mail in the SES stand-in (every mailbox ABILITATA)"},
	{"clicks", "the clicks: GET the page, POST the confirmation (every mailbox ATTIVATA)"},
	{"ended", "last click -> every mailbox execution SUCCEEDED"},
}

// runScale takes n mailboxes of one Order along the whole happy path through the host, as
// quickly as the local cloud goes: the enrolments, the batch confirmed and paid, the mailbox
// executions started a page at a time, the provider stand-in's creations and callbacks, the
// activation e-mails, then the members' clicks (each link read from the SES stand-in's store,
// the page fetched and the confirmation posted), until every execution has ended. Then it
// checks that nothing was lost or done twice.
func runScale(ctx context.Context, e env, p params, t *timer) error {
	ctx, cancel := context.WithTimeout(ctx, scaleDeadline(p.n))
	defer cancel()
	ops := &opCounter{}
	r, err := newLifecycleRun(ctx, e, p, p.n, ops)
	if err != nil {
		return err
	}
	phase := map[string]float64{}
	t.start()
	start := time.Now()
	lap := func(key string, from time.Time) { phase[key] = time.Since(from).Seconds() }
	if err := each(ctx, p.n, r.enrol); err != nil {
		return fmt.Errorf("enrolment: %w", err)
	}
	lap("enrol", start)
	authorised := time.Now()
	batchID, err := r.authorise(ctx)
	if err != nil {
		return fmt.Errorf("authorisation: %w", err)
	}
	lap("authorise", authorised)
	mails, err := r.watchSubmission(ctx, batchID, phase)
	if err != nil {
		return err
	}
	clicks := time.Now()
	links := make([]string, p.n)
	for i := range links {
		links[i] = mails.link[r.email(i)]
	}
	if err := each(ctx, p.n, func(ctx context.Context, i int) error { return r.click(ctx, links[i]) }); err != nil {
		return fmt.Errorf("clicks: %w", err)
	}
	lap("clicks", clicks)
	ended := time.Now()
	if err := r.waitAllExecutions(ctx, "MailboxStateMachine", r.mailboxExecutions()); err != nil {
		return err
	}
	lap("ended", ended)
	t.stop()
	phase["total"] = time.Since(start).Seconds()
	t.rows = p.n
	t.extra = phase

	// The checks, untimed: nothing lost, nothing twice.
	final, err := scanSES(ctx, e, r.addresses())
	if err != nil {
		return err
	}
	c, err := r.checkScale(ctx, batchID, final)
	if err != nil {
		return err
	}
	for k, v := range c {
		t.extra[k] = v
	}
	if c["lost"] > 0 || c["duplicated"] > 0 {
		return fmt.Errorf("%v lost, %v duplicated (%s)", c["lost"], c["duplicated"], strings.Join(t.notes, "; "))
	}
	return nil
}

func (r *lifecycleRun) addresses() map[string]bool {
	want := make(map[string]bool, len(r.mailboxes))
	for i := range r.mailboxes {
		want[r.email(i)] = true
	}
	return want
}

// watchSubmission follows the batch from its payment until every member has an activation
// e-mail, recording when every mailbox execution had started, every mailbox was created at the
// provider and every e-mail was sent (since the payment, within scalePoll).
func (r *lifecycleRun) watchSubmission(ctx context.Context, batchID string, phase map[string]float64) (sesMails, error) {
	paid := time.Now()
	want := r.addresses()
	ids := make(map[string]bool, len(r.mailboxes))
	for _, id := range r.mailboxes {
		ids[id] = true
	}
	batchARN := stateMachineARN + "execution:BatchStateMachine:batch-" + batchID
	var mails sesMails
	created := 0
	err := waitEvery(ctx, "every activation e-mail", scalePoll, func() (bool, error) {
		if _, ok := phase["started"]; !ok {
			out, err := r.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &batchARN})
			if err != nil {
				return false, err
			}
			switch out.Status {
			case sfntypes.ExecutionStatusSucceeded:
				phase["started"] = time.Since(paid).Seconds()
			case sfntypes.ExecutionStatusRunning:
			default:
				return false, fmt.Errorf("the batch's execution ended %s", out.Status)
			}
		}
		if _, ok := phase["created"]; !ok {
			subs, err := providerSubmits(ctx, r.e, ids)
			if err != nil {
				return false, err
			}
			if created = len(subs); created == len(ids) {
				phase["created"] = time.Since(paid).Seconds()
			}
		}
		var err error
		if mails, err = scanSES(ctx, r.e, want); err != nil {
			return false, err
		}
		if len(mails.link) == len(want) {
			phase["emailed"] = time.Since(paid).Seconds()
		}
		_, started := phase["started"]
		_, done := phase["created"]
		return started && done && len(mails.link) == len(want), nil
	})
	if err != nil {
		_, started := phase["started"]
		return mails, fmt.Errorf("%w: executions all started %v, %d of %d created at the provider, %d activation e-mails",
			err, started, created, len(ids), len(mails.link))
	}
	return mails, nil
}

// sesMails are the SES stand-in's e-mails to a set of addresses.
type sesMails struct {
	link     map[string]string // address -> the link token of its latest activation e-mail
	perAddr  map[string]int    // address -> activation e-mails (with a link)
	perLink  map[string]int    // link token -> e-mails carrying it
	others   int               // e-mails to the addresses without an activation link
	storeLen int               // every e-mail in the store
}

// scanSES reads the SES stand-in's store (GET /store) and sorts the e-mails to want.
func scanSES(ctx context.Context, e env, want map[string]bool) (sesMails, error) {
	m := sesMails{link: map[string]string{}, perAddr: map[string]int{}, perLink: map[string]int{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.SESURL+"/store", nil)
	if err != nil {
		return m, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	var store struct {
		Emails []struct {
			Destination struct {
				To []string `json:"to"`
			} `json:"destination"`
			Body struct {
				Text string `json:"text"`
			} `json:"body"`
		} `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		return m, fmt.Errorf("the SES stand-in's store: %w", err)
	}
	m.storeLen = len(store.Emails)
	for _, mail := range store.Emails {
		for _, to := range mail.Destination.To {
			to = strings.ToLower(to)
			if !want[to] {
				continue
			}
			l := activationLink.FindStringSubmatch(mail.Body.Text)
			if l == nil {
				m.others++
				continue
			}
			m.link[to] = l[1]
			m.perAddr[to]++
			m.perLink[l[1]]++
		}
	}
	return m, nil
}

// providerSubmits reads what the provider stand-in received (GET /v1/mailboxes) and returns,
// for each request id of ids it got, the submits and the distinct mailboxes (provider
// references) it created for it.
func providerSubmits(ctx context.Context, e env, ids map[string]bool) (map[string][2]int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.ProviderURL+"/v1/mailboxes", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+localcloud.ProviderAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the provider stand-in's list: HTTP %d", resp.StatusCode)
	}
	var got []providersim.Received
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		return nil, err
	}
	refs := map[string]map[string]bool{}
	out := map[string][2]int{}
	for _, g := range got {
		if g.Kind != "submit" || !ids[g.RequestID] {
			continue
		}
		if refs[g.RequestID] == nil {
			refs[g.RequestID] = map[string]bool{}
		}
		refs[g.RequestID][g.ProviderRef] = true
		c := out[g.RequestID]
		c[0]++
		c[1] = len(refs[g.RequestID])
		out[g.RequestID] = c
	}
	return out, nil
}

// waitAllExecutions waits until none of the named executions of the machine runs, listing
// them a page of 1 000 at a time (n DescribeExecutions per poll would load moto more than the
// run), and wants every one SUCCEEDED.
func (r *lifecycleRun) waitAllExecutions(ctx context.Context, machine string, names []string) error {
	var last map[string]sfntypes.ExecutionStatus
	err := waitEvery(ctx, fmt.Sprintf("%d %s executions to end", len(names), machine), scalePoll, func() (bool, error) {
		var err error
		if last, err = r.executionStatuses(ctx, machine); err != nil {
			return false, err
		}
		for _, n := range names {
			switch last[n] {
			case sfntypes.ExecutionStatusSucceeded:
			case sfntypes.ExecutionStatusRunning, "":
				return false, nil
			default:
				return false, fmt.Errorf("execution %s ended %s", n, last[n])
			}
		}
		return true, nil
	})
	if err != nil {
		counts := map[string]int{}
		for _, n := range names {
			counts[string(cmpStatus(last[n]))]++
		}
		return fmt.Errorf("%w (%s)", err, formatOps(counts))
	}
	return nil
}

func cmpStatus(s sfntypes.ExecutionStatus) sfntypes.ExecutionStatus {
	if s == "" {
		return "NOT_STARTED"
	}
	return s
}

// executionStatuses lists every execution of the machine by name.
func (r *lifecycleRun) executionStatuses(ctx context.Context, machine string) (map[string]sfntypes.ExecutionStatus, error) {
	arn := stateMachineARN + "stateMachine:" + machine
	in := &sfn.ListExecutionsInput{StateMachineArn: &arn, MaxResults: 1000}
	out := map[string]sfntypes.ExecutionStatus{}
	for {
		page, err := r.sfn.ListExecutions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list the %s executions: %w", machine, err)
		}
		for _, x := range page.Executions {
			out[aws.ToString(x.Name)] = x.Status
		}
		if page.NextToken == nil {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// checkScale counts what was lost or done twice: each mailbox ATTIVATA (and each state
// entered once in its history), each member one activation e-mail with a link of its own,
// each mailbox created once at the provider, every execution SUCCEEDED; and the state
// transitions per mailbox, as runCost counts them.
func (r *lifecycleRun) checkScale(ctx context.Context, batchID string, mails sesMails) (map[string]float64, error) {
	n := len(r.mailboxes)
	var mu sync.Mutex
	states, entries := map[string]int{}, map[string]int{}
	notAttivata, repeatedState := 0, 0
	var itemBytes int
	err := each(ctx, n, func(ctx context.Context, i int) error {
		out, err := r.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &r.e.Table, Key: keyOf("MAILBOX#"+r.mailboxes[i], "#MAILBOX"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return err
		}
		seen := map[string]int{}
		if h, ok := out.Item["history"].(*types.AttributeValueMemberL); ok {
			for _, v := range h.Value {
				if m, ok := v.(*types.AttributeValueMemberM); ok {
					seen[str(m.Value["state"])]++
				}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		st := str(out.Item["state"])
		states[st]++
		if st != "ATTIVATA" {
			notAttivata++
		}
		for s, c := range seen {
			entries[s] += c
			if c > 1 {
				repeatedState++
			}
		}
		itemBytes = max(itemBytes, itemSize(out.Item))
		return nil
	})
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, id := range r.mailboxes {
		ids[id] = true
	}
	subs, err := providerSubmits(ctx, r.e, ids)
	if err != nil {
		return nil, err
	}
	createdTwice, submits, notCreated := 0, 0, n-len(subs)
	for _, c := range subs {
		submits += c[0]
		if c[1] > 1 {
			createdTwice++
		}
	}
	mailsTwice, linksTwice, noMail := 0, 0, n-len(mails.perAddr)
	for _, c := range mails.perAddr {
		if c > 1 {
			mailsTwice++
		}
	}
	for _, c := range mails.perLink {
		if c > 1 {
			linksTwice++
		}
	}
	statuses, err := r.executionStatuses(ctx, "MailboxStateMachine")
	if err != nil {
		return nil, err
	}
	notSucceeded := 0
	for _, name := range r.mailboxExecutions() {
		if statuses[name] != sfntypes.ExecutionStatusSucceeded {
			notSucceeded++
		}
	}
	batch, err := r.executionStatuses(ctx, "BatchStateMachine")
	if err != nil {
		return nil, err
	}
	if batch["batch-"+batchID] != sfntypes.ExecutionStatusSucceeded {
		notSucceeded++
	}
	// The transitions, as AWS bills them: every StateEntered of every execution.
	var transitions int
	err = each(ctx, n, func(ctx context.Context, i int) error {
		entered, err := r.statesEntered(ctx, "MailboxStateMachine", "mailbox-"+r.mailboxes[i])
		mu.Lock()
		transitions += len(entered)
		mu.Unlock()
		return err
	})
	if err != nil {
		return nil, err
	}
	batchEntered, err := r.statesEntered(ctx, "BatchStateMachine", "batch-"+batchID)
	if err != nil {
		return nil, err
	}
	lost := notAttivata + notCreated + noMail + notSucceeded
	dup := repeatedState + createdTwice + mailsTwice + linksTwice
	return map[string]float64{
		"lost": float64(lost), "duplicated": float64(dup),
		"notAttivata": float64(notAttivata), "notCreated": float64(notCreated), "noMail": float64(noMail), "notSucceeded": float64(notSucceeded),
		"repeatedState": float64(repeatedState), "createdTwice": float64(createdTwice), "mailsTwice": float64(mailsTwice), "linksTwice": float64(linksTwice),
		"attivata": float64(states["ATTIVATA"]), "submits": float64(submits), "providerMailboxes": float64(len(subs)),
		"mails": float64(len(mails.perAddr)), "links": float64(len(mails.perLink)), "otherMails": float64(mails.others),
		"mailboxTransitions": float64(transitions) / float64(n), "batchTransitions": float64(len(batchEntered)),
		"mailboxItemBytes": float64(itemBytes),
		"historyEntries":   float64(entries["RICHIESTA"]+entries["RICHIESTA_INVIATA"]+entries["ABILITATA"]+entries["ATTIVATA"]) / float64(n),
	}, nil
}

// itemSize is an item's size as DynamoDB counts it for capacity: attribute names and values
// (strings in UTF-8 bytes, numbers about their digit count, lists and maps 3 bytes plus their
// elements).
func itemSize(item map[string]types.AttributeValue) int {
	size := 0
	for k, v := range item {
		size += len(k) + valueSize(v)
	}
	return size
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return (len(v.Value)+1)/2 + 1
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// waitEvery polls cond every interval until it holds or fails, or ctx (the path's deadline)
// ends.
func waitEvery(ctx context.Context, what string, interval time.Duration, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(interval):
		}
	}
}
