// Command load is `make load`: a mixed portal load through the local host at fixed rates, each
// next to its DynamoDB floor, and the highest rate the host sustains on this machine.
//
// It starts its own local cloud on free ports (localcloud.Start, on 127.0.0.1 only), creates
// LOAD_ORDERS Orders of the convention through the API and enrols LOAD_SEED members in each,
// then attacks with vegeta (github.com/tsenart/vegeta/v12, as a library) at a constant rate
// for LOAD_DURATION (longer when the rate would give fewer than minPerKind requests of a kind):
// a quarter each of enrolments (new members with valid codici fiscali, each a mailbox in
// RICHIESTA), member reads, mailbox lists by state (the first page of 50 RICHIESTA mailboxes)
// and per-state summaries, all with an Order's portal token. Each rate runs twice: through
// the host (the path), then the same requests at the same rate against the floor, an
// in-process server that makes only the DynamoDB requests each one makes, straight to DynamoDB
// Local (floor.go).
//
// The rates: LOAD_RATES=10,20,40 runs those; without it the run searches: it doubles the rate
// from LOAD_START (20) until one is not sustained (an error, a request kind's p99 over 3x its
// p50, or fewer requests sent than asked) or LOAD_MAX (640) is passed, then bisects twice
// between the last good rate and the first bad one. The machine is shared: each attack waits
// for a second in which other processes take less than 0.3 cores (90 s at most in a run), and
// a rate during which they took more than half a core is run again (three times at most). Every
// attack ends by itself after its duration; vegeta's workers are bounded (maxWorkers) and each
// request times out after 10 s.
//
// Before the rates, one request at a time, it measures where a request's time goes: the
// DynamoDB requests the host forwarded for it and the time they took (the run forwards the
// host's DynamoDB calls itself, through a timed proxy like the host's), and the CPU time of
// this process and of DynamoDB Local per request. LOAD_PROFILE=<file> writes a CPU profile
// of the rates' attacks, labelled part=host|client|floor (go tool pprof -tags <file>).
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/pecplatform/pec/infra/lambdahost"
	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/wire"
)

const (
	maxWorkers     = 256 // vegeta's workers at most: requests in flight
	requestTimeout = 10 * time.Second
	pause          = time.Second // after an attack: the emulators settle
	// Before an attack the run waits for a second in which other processes took less than
	// quietCores, for quietBudget at most in the whole run.
	quietCores  = 0.3
	quietBudget = 90 * time.Second
	calibrateN  = 40 // requests of each kind, one at a time, for "where the time goes"
	// minPerKind requests of each kind at least in an attack: a p99 of fewer is their maximum.
	minPerKind = 100
)

// loadParameters lift the API's throttling (200 requests/s by default): the run looks for the
// rate the host sustains, not the one the template allows. The waits stay the template's.
var loadParameters = map[string]string{"ThrottleRateLimit": "100000", "ThrottleBurstLimit": "100000"}

type options struct {
	rates          []int // fixed rates; none: search
	start, maxRate int
	refine         int
	duration       time.Duration
	orders, seed   int
	profile        string
	logDir         string
	calibrate      int
	startTimeout   time.Duration
}

func main() {
	o, err := parseOptions(os.Args[1:], os.Getenv)
	if err == nil {
		err = run(o)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		os.Exit(1)
	}
}

func parseOptions(args []string, getenv func(string) string) (options, error) {
	o := options{refine: 2, logDir: filepath.Join(".local", "load"), calibrate: calibrateN, startTimeout: 3 * time.Minute}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	rates := fs.String("rates", getenv("LOAD_RATES"), "comma-separated requests per second to run (env LOAD_RATES); empty: search")
	dur := fs.String("duration", cmp.Or(getenv("LOAD_DURATION"), "20s"), "each attack's duration (env LOAD_DURATION)")
	fs.IntVar(&o.start, "start", envInt(getenv, "LOAD_START", 20), "the search's first rate (env LOAD_START)")
	fs.IntVar(&o.maxRate, "max", envInt(getenv, "LOAD_MAX", 640), "the search's highest rate (env LOAD_MAX)")
	fs.IntVar(&o.orders, "orders", envInt(getenv, "LOAD_ORDERS", 8), "Orders (env LOAD_ORDERS)")
	fs.IntVar(&o.seed, "seed", envInt(getenv, "LOAD_SEED", 60), "members enrolled in each Order before the load (env LOAD_SEED)")
	fs.StringVar(&o.profile, "profile", getenv("LOAD_PROFILE"), "write a CPU profile of the attacks to this file (env LOAD_PROFILE)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	d, err := time.ParseDuration(*dur)
	if err != nil || d < time.Second {
		return o, fmt.Errorf("LOAD_DURATION=%q: want a duration of 1s or more", *dur)
	}
	o.duration = d
	if o.rates, err = parseRates(*rates); err != nil {
		return o, err
	}
	if o.start <= 0 || o.maxRate < o.start || o.orders <= 0 || o.seed <= 0 {
		return o, fmt.Errorf("want 0 < LOAD_START <= LOAD_MAX, LOAD_ORDERS > 0 and LOAD_SEED > 0")
	}
	return o, nil
}

func envInt(getenv func(string) string, name string, def int) int {
	if v, err := strconv.Atoi(getenv(name)); err == nil {
		return v
	}
	return def
}

// parseRates reads "10,20,40" (requests per second).
func parseRates(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		r, err := strconv.Atoi(f)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("LOAD_RATES: %q is not a positive number of requests per second", f)
		}
		out = append(out, r)
	}
	return out, nil
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	if err := os.MkdirAll(o.logDir, 0o755); err != nil {
		return err
	}
	// The functions log every request, as in Lambda: to a file. The host's own request log
	// (API Gateway's and the forwarder's lines) is left out but for its warnings.
	flog, err := os.Create(filepath.Join(o.logDir, "functions.log"))
	if err != nil {
		return err
	}
	defer flog.Close()
	wire.LogOutput = flog
	hlog, err := os.Create(filepath.Join(o.logDir, "host.log"))
	if err != nil {
		return err
	}
	defer hlog.Close()

	fmt.Fprintf(os.Stderr, "load: starting the local cloud on free ports...\n")
	meter := &dynamoMeter{}
	var c *localcloud.Cloud
	// The host's goroutines (its server, the functions, their SDK clients) inherit this label.
	pprof.Do(ctx, pprof.Labels("part", "host"), func(ctx context.Context) {
		startCtx, cancel := context.WithTimeout(ctx, o.startTimeout)
		defer cancel()
		c, err = localcloud.Start(startCtx, localcloud.Config{Parameters: loadParameters, Intercept: meter.intercept,
			Logger: slog.New(slog.NewJSONHandler(hlog, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	})
	if err != nil {
		return fmt.Errorf("start the local cloud: %w", err)
	}
	defer c.Close()
	if err := meter.forwardTo(c.DynamoDBURL, hlog); err != nil {
		return err
	}
	if err := loopback(c.APIURL); err != nil {
		return err
	}
	tables := c.Host.Tables()
	if len(tables) != 1 {
		return fmt.Errorf("want one table, the template has %v", tables)
	}
	fl := newFloor(c.DynamoDBURL, tables[0])
	floorURL, closeFloor, err := serveFloor(ctx, fl)
	if err != nil {
		return err
	}
	defer closeFloor()

	m, err := setup(ctx, c, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "load: measuring one request at a time (%d of each kind)...\n", o.calibrate)
	cal, err := calibrate(ctx, m, c.APIURL, floorURL, meter, fl, o.calibrate)
	if err != nil {
		return err
	}

	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	var steps []step
	r := &runner{m: m, api: c.APIURL, floorURL: floorURL, meter: meter, floor: fl, quietBudget: quietBudget, quietThreshold: quietCores}
	reruns := maxReruns
	try := func(rate int) (bool, error) {
		for {
			s, err := r.step(ctx, rate, o.duration)
			if err != nil {
				return false, err
			}
			s.Discarded = s.others() > disturbedCores && reruns > 0
			steps = append(steps, s)
			ok, why := s.verdict()
			fmt.Fprintf(os.Stderr, "load: %4d/s  path p50 %s p99 %s ms, %d errors; floor p50 %s p99 %s ms: %s\n", rate,
				ms(s.Path.All.P50), ms(s.Path.All.P99), s.Path.All.Errors, ms(s.Floor.All.P50), ms(s.Floor.All.P99), why)
			for _, e := range s.Path.Errors {
				fmt.Fprintf(os.Stderr, "load:        %s\n", e)
			}
			if !s.Discarded {
				return ok, nil
			}
			reruns--
		}
	}
	best := 0
	if len(o.rates) > 0 {
		for _, r := range o.rates {
			ok, err := try(r)
			if err != nil {
				return err
			}
			if ok {
				best = max(best, r)
			}
		}
	} else if best, err = search(o.start, o.maxRate, o.refine, try); err != nil {
		return err
	}

	w := os.Stdout
	fmt.Fprintf(w, "\nmake load: %d Orders of %d members and more; a quarter each of enrolment, member read, mailbox list by state, summary;\n", o.orders, o.seed)
	fmt.Fprintf(w, "vegeta at a constant rate for %s (at least %d requests of each kind) through the host, then the same requests at the same rate against the floor;\n%d CPUs (%s/%s)\n\n",
		o.duration, minPerKind, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	printCalibration(w, cal)
	fmt.Fprintln(w)
	printTable(w, steps)
	fmt.Fprintln(w)
	printCPU(w, steps, runtime.NumCPU())
	fmt.Fprintln(w)
	if best > 0 {
		fmt.Fprintf(w, "highest rate sustained (0 errors, every request kind's p99 <= %.0fx its p50): %d requests/s\n", maxTail, best)
	} else {
		fmt.Fprintf(w, "no rate was sustained (0 errors, every request kind's p99 <= %.0fx its p50)\n", maxTail)
	}
	fmt.Fprintf(w, "floor: the DynamoDB requests of the same requests, issued straight to DynamoDB Local by an in-process server (no JWT check, no function, no forwarder)\n"+
		"this process: the host, the functions, the floor's server and the load client; the rest: the other emulators and whatever else runs on the machine\n"+
		"whole run %.0f s, of which %.0f s waiting for other work to pause; logs in %s\n", time.Since(began).Seconds(), r.waited.Seconds(), o.logDir)
	return nil
}

// --- the host's DynamoDB calls, timed ---

// dynamoMeter forwards the host's DynamoDB calls itself (as its Intercept), as the host's
// forwarder would, and counts them and the time each took.
type dynamoMeter struct {
	proxy atomic.Pointer[httputil.ReverseProxy]
	mu    sync.Mutex
	ops   map[string]int
	busy  time.Duration
}

// forwardTo starts forwarding to endpoint, with a transport of its own that has the settings of
// the one the host's forwarder uses (net/http's default); errors go to errorLog.
func (m *dynamoMeter) forwardTo(endpoint string, errorLog io.Writer) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	m.proxy.Store(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = u.Scheme, u.Host
			pr.Out.Host = pr.In.Host // the signature covers it
		},
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		ErrorLog:  log.New(errorLog, "dynamodb proxy: ", log.LstdFlags),
	})
	return nil
}

func (m *dynamoMeter) intercept(w http.ResponseWriter, r *http.Request, call lambdahost.AWSCall) bool {
	p := m.proxy.Load()
	if call.Backend != lambdahost.BackendDynamoDB || p == nil {
		return false
	}
	start := time.Now()
	rec := &status{ResponseWriter: w}
	p.ServeHTTP(rec, r)
	d := time.Since(start)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ops == nil {
		m.ops = map[string]int{}
	}
	op := call.Operation
	if rec.code >= 400 {
		op = failedOp // the function's SDK may retry it: not one of the request's operations
	}
	m.ops[op]++
	m.busy += d
	return true
}

// failedOp counts the DynamoDB calls answered with an error status.
const failedOp = "(failed)"

// status records a response's status code.
type status struct {
	http.ResponseWriter
	code int
}

func (s *status) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *status) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (m *dynamoMeter) snapshot() (map[string]int, time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ops := make(map[string]int, len(m.ops))
	for k, v := range m.ops {
		ops[k] = v
	}
	return ops, m.busy
}

func total(ops map[string]int) int {
	n := 0
	for _, v := range ops {
		n += v
	}
	return n
}

func diff(after, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// --- the floor's server ---

func serveFloor(ctx context.Context, f *floor) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: f.handler(), ReadHeaderTimeout: 10 * time.Second}
	pprof.Do(ctx, pprof.Labels("part", "floor"), func(context.Context) { go srv.Serve(ln) })
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// --- the Orders and their first members ---

func newClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t, Timeout: time.Minute}
}

// do sends a target and wants a 2xx answer.
func do(ctx context.Context, hc *http.Client, t vegeta.Target) error {
	req, err := t.Request()
	if err != nil {
		return err
	}
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %.200s", t.Method, t.URL, resp.StatusCode, b)
	}
	return nil
}

// setup creates the Orders through the API and enrols their first members through the host,
// 8 at a time.
func setup(ctx context.Context, c *localcloud.Cloud, o options) (*mix, error) {
	fed, err := c.Token(app.RoleFederation, "")
	if err != nil {
		return nil, err
	}
	stamp := strings.ToUpper(strconv.FormatInt(time.Now().Unix()%46656, 36))
	orders := make([]string, o.orders)
	tokens := map[string]string{}
	hc := newClient()
	for i := range orders {
		id := fmt.Sprintf("LOAD-%s-%02d", stamp, i+1)
		orders[i] = id
		if tokens[id], err = c.Token(app.RoleOrder, id); err != nil {
			return nil, err
		}
		body := fmt.Sprintf(`{"name":"Ordine di carico %d","pec":"ordine%d@pec.example.it","convention":{"webpec":true,"offerCode":null,"priceCents":400,"vatPercent":22}}`, i+1, i+1)
		t := vegeta.Target{Method: http.MethodPut, URL: c.APIURL + "/v1/orders/" + id, Body: []byte(body),
			Header: http.Header{"Authorization": {"Bearer " + fed}, "Content-Type": {"application/json"}}}
		if err := do(ctx, hc, t); err != nil {
			return nil, err
		}
	}
	m := newMix(orders, tokens, o.seed)
	fmt.Fprintf(os.Stderr, "load: enrolling %d members in %d Orders through the host...\n", o.seed*o.orders, o.orders)
	jobs := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for g := range jobs {
				body, err := json.Marshal(newPerson(g))
				if err != nil {
					errs <- err
					return
				}
				t := vegeta.Target{Method: http.MethodPost, URL: c.APIURL + "/v1/orders/" + m.orderOf(g) + "/members", Body: body,
					Header: http.Header{"Authorization": {"Bearer " + tokens[m.orderOf(g)]}, "Content-Type": {"application/json"}}}
				if err := do(ctx, hc, t); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var failed error
feed:
	for g := range o.seed * o.orders {
		select {
		case jobs <- g:
		case failed = <-errs:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if failed == nil {
		failed = <-errs
	}
	return m, failed
}

// --- where the time goes: one request at a time ---

// calibration is one request kind measured one at a time through the host and at the floor.
type calibration struct {
	kind               kind
	n                  int
	path, floor        stats
	hostOps, floorOps  map[string]int // DynamoDB requests, all of the kind's
	dynamoBusy         time.Duration  // the host's DynamoDB calls' time, all of the kind's
	selfCPU, dynamoCPU float64        // seconds, all of the kind's, through the host
	floorDynamoCPU     float64        // DynamoDB Local's seconds at the floor
}

// calibrate sends n requests of each kind one at a time, through the host and then to the
// floor, after 4 untimed ones each.
func calibrate(ctx context.Context, m *mix, api, floorURL string, meter *dynamoMeter, fl *floor, n int) ([]calibration, error) {
	hc := newClient()
	var out []calibration
	for k := range nKinds {
		// A failed request counts (and is said), as in the attacks; only an interruption stops.
		one := func(base string, warm func()) ([]time.Duration, int, error) {
			var lat []time.Duration
			failed := 0
			for i := range n + 4 {
				if i == 4 {
					warm()
				}
				var t vegeta.Target
				if err := m.target(&t, base, uint64(i)*uint64(nKinds)+uint64(k)); err != nil {
					return nil, 0, err
				}
				start := time.Now()
				if err := do(ctx, hc, t); err != nil {
					if ctx.Err() != nil {
						return nil, 0, ctx.Err()
					}
					failed++
					fmt.Fprintf(os.Stderr, "load: %s: %v\n", k, err)
				}
				if i >= 4 {
					lat = append(lat, time.Since(start))
				}
			}
			return lat, failed, nil
		}
		cal := calibration{kind: k, n: n}
		var ops0 map[string]int
		var busy0 time.Duration
		var c0 cpuSample
		lat, failed, err := one(api, func() { ops0, busy0 = meter.snapshot(); c0 = sampleCPU() })
		if err != nil {
			return nil, err
		}
		c1 := sampleCPU()
		ops1, busy1 := meter.snapshot()
		var fops0 map[string]int
		var f0 cpuSample
		flat, ffailed, err := one(floorURL, func() { fops0 = fl.ops.snapshot(); f0 = sampleCPU() })
		if err != nil {
			return nil, err
		}
		f1 := sampleCPU()
		cal.path, cal.floor = summarize(lat, failed), summarize(flat, ffailed)
		cal.hostOps, cal.dynamoBusy = diff(ops1, ops0), busy1-busy0
		cal.floorOps = diff(fl.ops.snapshot(), fops0)
		cal.selfCPU, cal.dynamoCPU = c1.self-c0.self, c1.children["java"]-c0.children["java"]
		cal.floorDynamoCPU = f1.children["java"] - f0.children["java"]
		out = append(out, cal)
	}
	return out, nil
}

func perRequest(ops map[string]int, n int) string {
	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.3g", k, float64(ops[k])/float64(n)))
	}
	return strings.Join(parts, ", ")
}

func printCalibration(w io.Writer, cals []calibration) {
	fmt.Fprintf(w, "where a request's time goes, one request at a time (%d of each kind; means, ms; CPU ms per request)\n\n", cals[0].n)
	fmt.Fprintf(w, "%-8s %6s %8s %9s %8s %9s %8s %8s  %s\n", "request", "path", "in Dyn.", "host+fn", "floor", "host CPU", "DDB CPU", "floor", "DynamoDB requests per request: through the host / by the floor")
	var failed []string
	for _, c := range cals {
		n := float64(c.n)
		busy := float64(c.dynamoBusy) / float64(time.Millisecond) / n
		path := float64(c.path.Mean) / float64(time.Millisecond)
		same := ""
		if perRequest(c.hostOps, c.n) == perRequest(c.floorOps, c.n) {
			same = " (the same)"
		}
		fmt.Fprintf(w, "%-8s %6.1f %8.1f %9.1f %8.1f %9.2f %8.2f %8.2f  %s / %s%s\n", c.kind, path, busy, path-busy,
			float64(c.floor.Mean)/float64(time.Millisecond), 1000*c.selfCPU/n, 1000*c.dynamoCPU/n, 1000*c.floorDynamoCPU/n,
			perRequest(c.hostOps, c.n), perRequest(c.floorOps, c.n), same)
		if c.path.Errors+c.floor.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s %d through the host, %d at the floor", c.kind, c.path.Errors, c.floor.Errors))
		}
	}
	fmt.Fprintf(w, "path: latency through the host; in Dyn.: the host's DynamoDB calls (timed at its forwarder); host+fn: the rest (JWT check, API event, function, SDK);\n"+
		"floor: the same DynamoDB requests straight to DynamoDB Local; host CPU: this process (host, functions, client) per request through the host;\n"+
		"DDB CPU: DynamoDB Local's per request through the host / at the floor\n")
	if len(failed) > 0 {
		fmt.Fprintf(w, "failed: %s\n", strings.Join(failed, "; "))
	}
}

// --- one rate ---

// runner runs the rates: the mix through the host, then at the floor.
type runner struct {
	m              *mix
	api, floorURL  string
	meter          *dynamoMeter
	floor          *floor
	quietBudget    time.Duration // what is left of the run's waiting for a quiet machine
	waited         time.Duration
	quietThreshold float64
}

// quiet waits, before an attack, for a second in which other work took less than
// quietThreshold cores, within what is left of the run's budget: the machine is shared, and
// its other users come and go.
func (r *runner) quiet(ctx context.Context) error {
	for r.quietBudget > 0 {
		a := sampleCPU()
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
		if a.use(sampleCPU()).Other < r.quietThreshold {
			return nil
		}
		r.quietBudget -= time.Second
		r.waited += time.Second
	}
	return nil
}

func (r *runner) step(ctx context.Context, rate int, d time.Duration) (step, error) {
	d = attackDuration(rate, d)
	s := step{Rate: rate, Duration: d}
	if err := r.quiet(ctx); err != nil {
		return s, err
	}
	ops0, busy0 := r.meter.snapshot()
	var err error
	if s.Path, err = attack(ctx, r.m.targeter(r.api), rate, d); err != nil {
		return s, err
	}
	ops1, busy1 := r.meter.snapshot()
	s.Path.DynamoCalls, s.Path.DynamoBusy = total(diff(ops1, ops0)), busy1-busy0
	s.Path.DynamoAttempts, s.Path.DynamoFailed = s.Path.DynamoCalls, ops1[failedOp]-ops0[failedOp]
	s.Path.DynamoCalls -= s.Path.DynamoFailed
	if err := sleep(ctx, pause); err != nil {
		return s, err
	}
	if err := r.quiet(ctx); err != nil {
		return s, err
	}
	fl := r.floor
	fops0, sent0, failed0 := total(fl.ops.snapshot()), fl.http.sent.Load(), fl.http.failed.Load()
	if s.Floor, err = attack(ctx, r.m.targeter(r.floorURL), rate, d); err != nil {
		return s, err
	}
	s.Floor.DynamoCalls = total(fl.ops.snapshot()) - fops0
	s.Floor.DynamoAttempts, s.Floor.DynamoFailed = int(fl.http.sent.Load()-sent0), int(fl.http.failed.Load()-failed0)
	return s, sleep(ctx, pause)
}

// attackDuration is d, or longer if d at rate would send fewer than minPerKind requests of
// each kind.
func attackDuration(rate int, d time.Duration) time.Duration {
	need := time.Duration(math.Ceil(float64(minPerKind*int(nKinds))/float64(rate))) * time.Second
	return max(d, need)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// attack runs one constant-rate attack to its end (or until ctx is done).
func attack(ctx context.Context, tr vegeta.Targeter, rate int, d time.Duration) (attackResult, error) {
	a := vegeta.NewAttacker(vegeta.Timeout(requestTimeout), vegeta.MaxWorkers(maxWorkers),
		vegeta.LocalAddr(net.IPAddr{IP: net.IPv4(127, 0, 0, 1)}), vegeta.KeepAlive(true), vegeta.Redirects(vegeta.NoFollow))
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			a.Stop()
		case <-done:
		}
	}()
	var r attackResult
	c0 := sampleCPU()
	pprof.Do(ctx, pprof.Labels("part", "client"), func(context.Context) {
		r = collect(a.Attack(tr, vegeta.Rate{Freq: rate, Per: time.Second}, d, ""))
	})
	r.CPU = c0.use(sampleCPU())
	if err := ctx.Err(); err != nil {
		return r, errors.Join(errors.New("interrupted"), err)
	}
	return r, nil
}
