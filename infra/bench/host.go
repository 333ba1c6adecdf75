package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pecplatform/pec/infra/lambdahost"
)

// The paths through the host (enrol, click, cost): a child is the client, the host runs in the
// driver, and the driver counts what the host forwards to the emulators while the child runs.

// hostCounter counts the AWS calls the host forwards, by service and operation, and the items
// the DynamoDB writes carry. It is the local cloud's Intercept: it never answers a call.
type hostCounter struct {
	mu   sync.Mutex
	n    map[string]int
	keys map[string]indexKeys // by mailbox item: its index keys as last written (indexes.go)
}

// dynamoWrites are the DynamoDB operations that write. A transaction or a batch is one request;
// its items are counted apart ("items:<op>").
var dynamoWrites = []string{"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}

func (c *hostCounter) intercept(_ http.ResponseWriter, r *http.Request, call lambdahost.AWSCall) bool {
	key := call.Service
	if key == "" {
		key = call.Backend
	}
	if call.Operation != "" {
		key += ":" + call.Operation
	}
	items := 0
	var body []byte
	if call.Backend == lambdahost.BackendDynamoDB && slices.Contains(dynamoWrites, call.Operation) {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
		if err == nil {
			body = b
			if call.Operation == "TransactWriteItems" || call.Operation == "BatchWriteItem" {
				items = writtenItems(call.Operation, b)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[key]++
	if items > 0 {
		c.n["items:"+call.Operation] += items
	}
	if body != nil {
		c.indexWrites(body)
	}
	return false
}

// writtenItems counts the items a TransactWriteItems or BatchWriteItem body writes (a
// ConditionCheck writes nothing).
func writtenItems(op string, body []byte) int {
	var in struct {
		TransactItems []map[string]json.RawMessage
		RequestItems  map[string][]json.RawMessage
	}
	if json.Unmarshal(body, &in) != nil {
		return 0
	}
	n := 0
	for _, it := range in.TransactItems {
		if _, check := it["ConditionCheck"]; !check {
			n++
		}
	}
	for _, reqs := range in.RequestItems {
		n += len(reqs)
	}
	return n
}

func (c *hostCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// dynamoCounts sums the host's DynamoDB requests: writes (a transaction is one), the items
// they write (a single-item write is one), and reads.
func dynamoCounts(ops map[string]int) (writes, items, reads int) {
	for k, v := range ops {
		op, ok := strings.CutPrefix(k, "dynamodb:")
		if !ok {
			continue
		}
		if slices.Contains(dynamoWrites, op) {
			writes += v
			if op != "TransactWriteItems" && op != "BatchWriteItem" {
				items += v
			}
		} else {
			reads += v
		}
	}
	return writes, items + ops["items:TransactWriteItems"] + ops["items:BatchWriteItem"], reads
}

// latencies collects request latencies of several kinds (path, floor) from concurrent workers.
type latencies struct {
	mu sync.Mutex
	d  map[string][]time.Duration
}

func (l *latencies) add(kind string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.d == nil {
		l.d = map[string][]time.Duration{}
	}
	l.d[kind] = append(l.d[kind], d)
}

// latencyStats are in milliseconds.
type latencyStats struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
}

func (l *latencies) stats() map[string]latencyStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]latencyStats{}
	for k, ds := range l.d {
		s := slices.Clone(ds)
		slices.Sort(s)
		var sum time.Duration
		for _, d := range s {
			sum += d
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		out[k] = latencyStats{N: len(s), Mean: ms(sum) / float64(len(s)), P50: ms(s[len(s)/2]), P95: ms(s[min(len(s)*95/100, len(s)-1)])}
	}
	return out
}

// api is a client of the host's HTTP API.
type api struct {
	base string
	http *http.Client
}

func newAPI(base string) *api {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &api{base: base, http: &http.Client{Transport: t, Timeout: time.Minute}}
}

// call sends a JSON request (body nil: none) with the token, and decodes a JSON answer into out
// (nil: discarded). A status other than want is an error.
func (a *api) call(ctx context.Context, want int, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d, want %d: %.300s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// page GETs or POSTs (form non-nil) a page and wants 200.
func (a *api) page(ctx context.Context, url string, form string) error {
	method, rd := http.MethodGet, io.Reader(nil)
	if form != "" {
		method, rd = http.MethodPost, strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d: %.200s", method, url, resp.StatusCode, b)
	}
	return nil
}

// token is a portal token signed with the local cloud's key (as local.Cloud.Token signs it).
func token(e env, role, orderID string) (string, error) {
	claims := map[string]any{"role": role, "iss": lambdahost.DefaultIssuer, "aud": lambdahost.DefaultAudience, "sub": "bench-" + role}
	if orderID != "" {
		claims["order"] = orderID
	}
	return lambdahost.SignToken(e.KeyDir, claims, time.Hour)
}

// newSFN is a Step Functions client straight to moto (not through the host: not counted).
func newSFN(e env) *sfn.Client {
	return sfn.New(sfn.Options{BaseEndpoint: aws.String(e.S3URL), Region: region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

var activationLink = regexp.MustCompile(`/activate/([A-Za-z0-9_-]{43})`)

// activationLinks reads the SES stand-in's store and returns the raw link token of the latest
// activation e-mail to each address of want.
func activationLinks(ctx context.Context, e env, want map[string]bool) (map[string]string, error) {
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
	out := map[string]string{}
	for _, m := range store.Emails {
		for _, to := range m.Destination.To {
			if want[strings.ToLower(to)] {
				if l := activationLink.FindStringSubmatch(m.Body.Text); l != nil {
					out[strings.ToLower(to)] = l[1]
				}
			}
		}
	}
	return out, nil
}

// waitFor polls cond every interval until it holds, fails, or within passes.
func waitFor(ctx context.Context, what string, within time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(within)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", within, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// Targets of the paths through the host.
const (
	targetHostRatio   = 1.3
	targetTransitions = 12
	targetWrites      = 10
)

// printHostSummary prints the paths through the host next to their floors and targets.
func printHostSummary(w io.Writer, got map[string]measured) {
	enrol, okE := got["enrol"]
	click, okC := got["click"]
	cost, okK := got["cost"]
	if !okE && !okC && !okK {
		return
	}
	fmt.Fprintf(w, "\nthrough the host (%d clients, path and floor interleaved in one run; ms per request: mean, p50 / p95)\n\n", clients)
	fmt.Fprintf(w, "%-6s %-34s %-34s %7s %-8s %s\n", "path", "measured", "floor / target", "ratio", "target", "")
	for _, row := range []struct {
		label string
		m     measured
		ok    bool
	}{{"enrol", enrol, okE}, {"click", click, okC}} {
		if !row.ok {
			continue
		}
		p, f := row.m.Latency["path"], row.m.Latency["floor"]
		ratio := p.Mean / f.Mean
		fmt.Fprintf(w, "%-6s %-34s %-34s %6.2fx %-8s %s\n", row.label,
			fmt.Sprintf("%.1f ms (%.1f / %.1f), n=%d", p.Mean, p.P50, p.P95, p.N),
			fmt.Sprintf("%.1f ms (%.1f / %.1f), n=%d", f.Mean, f.P50, f.P95, f.N),
			ratio, "<=1.3x", verdict(ratio <= targetHostRatio))
	}
	if okK && cost.Rows > 0 {
		m := float64(cost.Rows)
		mb, batch := cost.Extra["mailboxTransitions"], cost.Extra["batchTransitions"]
		tr := mb + batch/m
		fmt.Fprintf(w, "%-6s %-34s %-34s %7s %-8s %s\n", "cost", fmt.Sprintf("%.2f transitions/mailbox", tr), "<= 12", "", "<=12", verdict(tr <= targetTransitions))
		writes, items, reads := dynamoCounts(cost.hostOps)
		wpm := float64(writes) / m
		fmt.Fprintf(w, "%-6s %-34s %-34s %7s %-8s %s\n", "", fmt.Sprintf("%.2f DynamoDB writes/mailbox", wpm), "<= 10", "", "<=10", verdict(wpm <= targetWrites))
		fmt.Fprintf(w, "\ncost: a batch of %d mailboxes along the happy path (enrolment, batch confirmed and paid, provider, click, ATTIVATA, workflows SUCCEEDED)\n", cost.Rows)
		fmt.Fprintf(w, "  transitions: %.2f StateEntered per mailbox execution + %.0f of the batch execution / %d\n", mb, batch, cost.Rows)
		fmt.Fprintf(w, "  DynamoDB per mailbox: %.2f write requests (a transaction is one) writing %.2f items; %.2f read requests\n",
			wpm, float64(items)/m, float64(reads)/m)
		fmt.Fprintf(w, "  every AWS request the host forwarded, per mailbox: %s\n", formatPer(cost.hostOps, m))
	}
	if okE && enrol.Rows > 0 {
		fmt.Fprintf(w, "enrol: the host forwarded, per enrolment through it (%d untimed first included): %s\n",
			2*clients, formatPer(enrol.hostOps, float64(enrol.Rows)))
	}
	fmt.Fprintf(w, "floor: the requests the path must make, issued directly to DynamoDB Local (and moto) by the same number of clients;\n"+
		"the path's own requests go through the host's forwarder, which AWS does not have\n")
}

func formatPer(ops map[string]int, n float64) string {
	keys := make([]string, 0, len(ops))
	for k := range ops {
		if !strings.HasPrefix(k, gsiWritesPrefix) && k != mailboxItemBytes && k != mailboxWriteUnits {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, float64(ops[k])/n))
	}
	return strings.Join(parts, ", ")
}
