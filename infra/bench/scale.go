package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// --- scale: one batch of many mailboxes from submission to ATTIVATA ---

// runScale takes n mailboxes of one Order along the whole lifecycle, as the federation's first
// issuance would (BENCH_PATHS=scale; BENCH_SCALE_N, 2,000 by default): enrolment, the batch
// confirmed and paid, the provider stand-in's creation and callbacks, the activation e-mails,
// each member's click (GET the page, POST the confirmation), every execution SUCCEEDED. It
// checks that nothing is lost (every mailbox ATTIVATA) and nothing duplicated (one activation
// e-mail per member, ATTIVATA entered once per mailbox), and reports each phase's time and the
// mailboxes per minute from submission to the last ATTIVATA.
func runScale(ctx context.Context, e env, p params, t *timer) error {
	r, err := newLifecycleRun(ctx, e, p, p.n, &opCounter{})
	if err != nil {
		return err
	}
	r.patience = 30 * time.Minute
	phase := time.Now()
	var phases []string
	mark := func(name string) {
		phases = append(phases, fmt.Sprintf("%s %.1f s", name, time.Since(phase).Seconds()))
		phase = time.Now()
	}
	if err := each(ctx, p.n, r.enrol); err != nil {
		return err
	}
	mark("enrolment")
	t.start()
	batchID, err := r.authorise(ctx)
	if err != nil {
		return err
	}
	mark("confirmed and paid")
	links, err := r.links(ctx)
	if err != nil {
		return err
	}
	mark("created by the provider, activation e-mails sent")
	if err := each(ctx, p.n, func(ctx context.Context, i int) error { return r.click(ctx, links[i]) }); err != nil {
		return err
	}
	mark("clicked")
	if err := r.waitExecutions(ctx, "MailboxStateMachine", r.mailboxExecutions()); err != nil {
		return err
	}
	if err := r.waitExecutions(ctx, "BatchStateMachine", []string{"batch-" + batchID}); err != nil {
		return err
	}
	mark("every execution SUCCEEDED")
	t.stop()

	lost, twice := 0, 0
	for _, id := range r.mailboxes {
		out, err := r.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.Table, Key: keyOf("MAILBOX#"+id, "#MAILBOX"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return err
		}
		if str(out.Item["state"]) != "ATTIVATA" {
			lost++
		}
		if h, ok := out.Item["history"]; ok && strings.Count(fmt.Sprint(h), "ATTIVATA") > 1 {
			twice++
		}
	}
	perMember, err := activationEmails(ctx, e)
	if err != nil {
		return err
	}
	for i := range r.mailboxes {
		if perMember[r.email(i)] != 1 {
			twice++
		}
	}
	if lost > 0 || twice > 0 {
		return fmt.Errorf("%d mailboxes not ATTIVATA, %d duplicated (a second activation e-mail or ATTIVATA entered twice)", lost, twice)
	}
	t.rows = p.n
	perMinute := float64(p.n) / t.t1.Sub(t.t0).Minutes()
	t.extra = map[string]float64{"mailboxesPerMinute": perMinute}
	t.note("%d mailboxes, 0 lost, 0 duplicated; %.0f mailboxes a minute from submission to the last ATTIVATA; phases: %s",
		p.n, perMinute, strings.Join(phases, ", "))
	return nil
}

// activationEmails counts the activation e-mails each member received (from the SES stand-in).
func activationEmails(ctx context.Context, e env) (map[string]int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.SESURL+"/store", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	out := map[string]int{}
	for _, m := range store.Emails {
		if activationLink.MatchString(m.Body.Text) {
			for _, to := range m.Destination.To {
				out[strings.ToLower(to)]++
			}
		}
	}
	return out, nil
}
