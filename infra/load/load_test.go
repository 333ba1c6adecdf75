package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/pecplatform/pec/shared/domain"
)

func testMix() *mix {
	orders := []string{"LOAD-A", "LOAD-B", "LOAD-C"}
	tokens := map[string]string{}
	for _, o := range orders {
		tokens[o] = "token-of-" + o
	}
	return newMix(orders, tokens, 10)
}

func TestMix_TheFourRequestsInTurnWithTheirOrdersToken(t *testing.T) {
	m := testMix()
	tr := m.targeter("http://127.0.0.1:3000")
	seen := map[kind]int{}
	for s := range 400 {
		var tg vegeta.Target
		if err := tr(&tg); err != nil {
			t.Fatal(err)
		}
		k := kindOf(tg.Method, tg.URL)
		if want := kind(s % 4); k != want {
			t.Fatalf("request %d is %s %s (%s), want a %s", s, tg.Method, tg.URL, k, want)
		}
		seen[k]++
		u, err := url.Parse(tg.URL)
		if err != nil || u.Host != "127.0.0.1:3000" {
			t.Fatalf("request %d: URL %q is not on the base", s, tg.URL)
		}
		order := strings.Split(u.Path, "/")[3]
		if got := tg.Header.Get("Authorization"); got != "Bearer token-of-"+order {
			t.Errorf("request %d to %s carries %q", s, order, got)
		}
		switch k {
		case enrol:
			if tg.Header.Get("Content-Type") != "application/json" {
				t.Errorf("enrolment without a JSON content type")
			}
		case member:
			cf := strings.Split(u.Path, "/")[5]
			g := indexOf(t, cf)
			if g >= 30 || m.orderOf(g) != order {
				t.Errorf("member read of member %d in %s: not a seeded member of that Order", g, order)
			}
		case list:
			q := u.Query()
			if q.Get("state") != "RICHIESTA" || q.Get("limit") != "50" {
				t.Errorf("list query %q", u.RawQuery)
			}
		}
	}
	if !reflect.DeepEqual(seen, map[kind]int{enrol: 100, member: 100, list: 100, summary: 100}) {
		t.Errorf("kinds = %v, want a quarter each", seen)
	}
}

// indexOf finds which generated member a codice fiscale belongs to (the first 1 000).
func indexOf(t *testing.T, cf string) int {
	t.Helper()
	for g := range 1000 {
		if codiceFiscale(g) == cf {
			return g
		}
	}
	t.Fatalf("%s is no generated member's", cf)
	return -1
}

// The path's and the floor's attacks run one after the other, but every enrolment of the run,
// theirs included, must be a new member with a new address: the targeters share one counter.
func TestMix_EnrolmentsAreNewPeopleWithValidCodes(t *testing.T) {
	m := testMix()
	var mu sync.Mutex
	cfs, addresses := map[string]bool{}, map[string]bool{}
	var wg sync.WaitGroup
	for _, base := range []string{"http://127.0.0.1:3000", "http://127.0.0.1:4000"} {
		tr := m.targeter(base)
		wg.Go(func() {
			for range 2000 {
				var tg vegeta.Target
				if err := tr(&tg); err != nil {
					t.Error(err)
					return
				}
				if kindOf(tg.Method, tg.URL) != enrol {
					continue
				}
				var p person
				if err := json.Unmarshal(tg.Body, &p); err != nil {
					t.Error(err)
					return
				}
				cf, err := domain.ParseCodiceFiscale(p.CodiceFiscale)
				if err != nil {
					t.Errorf("%s: %v", p.CodiceFiscale, err)
				}
				if cf.Value() != p.CodiceFiscale {
					t.Errorf("%s is not in its canonical form", p.CodiceFiscale)
				}
				addr, err := domain.ComposeAddress(p.Nome, p.Cognome, pecDomain, 0)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				if cfs[p.CodiceFiscale] || addresses[addr] {
					t.Errorf("enrolled twice: %s %s", p.CodiceFiscale, addr)
				}
				cfs[p.CodiceFiscale], addresses[addr] = true, true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(cfs) != 1000 {
		t.Errorf("%d enrolments, want 1000", len(cfs))
	}
	if indexOf(t, codiceFiscale(30)) != 30 {
		t.Error("codiceFiscale is not one to one")
	}
}

func TestKindOf_OnlyTheMixsRoutes(t *testing.T) {
	for _, tc := range []struct {
		method, url string
		want        kind
	}{
		{"POST", "http://h/v1/orders/X/members", enrol},
		{"GET", "http://h/v1/orders/X/members/ZRZCRL72R10H501D", member},
		{"GET", "http://h/v1/orders/X/mailboxes?state=ATTIVATA&limit=50", list},
		{"GET", "http://h/v1/orders/X/mailboxes/summary", summary},
		{"GET", "http://h/v1/orders/X/members", nKinds},
		{"POST", "http://h/v1/orders/X/mailboxes/summary", nKinds},
		{"GET", "http://h/v1/mailboxes/X", nKinds},
		{"GET", "://bad", nKinds},
	} {
		if got := kindOf(tc.method, tc.url); got != tc.want {
			t.Errorf("%s %s = %s, want %s", tc.method, tc.url, got, tc.want)
		}
	}
}

func TestLoopback_OnlyThisMachine(t *testing.T) {
	if err := loopback("http://127.0.0.1:3000"); err != nil {
		t.Error(err)
	}
	for _, base := range []string{"http://10.0.0.1:3000", "https://127.0.0.1:3000", "http://example.it", "http://0.0.0.0:3000"} {
		if loopback(base) == nil {
			t.Errorf("%s accepted", base)
		}
	}
}

func msd(v int) time.Duration { return time.Duration(v) * time.Millisecond }

func TestSummarize_NearestRankPercentiles(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, msd(i))
	}
	got := summarize(lat, 2)
	want := stats{N: 100, Errors: 2, Mean: 50500 * time.Microsecond, P50: msd(50), P95: msd(95), P99: msd(99)}
	if got != want {
		t.Errorf("summarize = %+v, want %+v", got, want)
	}
	if lat[0] != msd(100) {
		t.Error("summarize sorted its argument")
	}
	if one := summarize([]time.Duration{msd(7)}, 0); one.P50 != msd(7) || one.P99 != msd(7) {
		t.Errorf("one sample: %+v", one)
	}
	if none := summarize(nil, 0); none != (stats{}) {
		t.Errorf("no sample: %+v", none)
	}
}

func results(rs ...*vegeta.Result) <-chan *vegeta.Result {
	ch := make(chan *vegeta.Result, len(rs))
	for _, r := range rs {
		ch <- r
	}
	close(ch)
	return ch
}

func TestCollect_ByKindWithTheErrors(t *testing.T) {
	r := collect(results(
		&vegeta.Result{Method: "POST", URL: "http://h/v1/orders/X/members", Code: 201, Latency: msd(30)},
		&vegeta.Result{Method: "POST", URL: "http://h/v1/orders/X/members", Code: 500, Error: "500 Internal Server Error", Body: []byte(`{"error":{"code":"internal"}}`), Latency: msd(40)},
		&vegeta.Result{Method: "GET", URL: "http://h/v1/orders/X/mailboxes/summary", Code: 200, Latency: msd(10)},
		&vegeta.Result{Method: "GET", URL: "http://h/v1/orders/X/mailboxes/summary", Error: "dial tcp: connection refused", Latency: msd(1)},
	))
	if r.Kinds[enrol].N != 2 || r.Kinds[enrol].Errors != 1 || r.Kinds[summary].N != 2 || r.Kinds[summary].Errors != 1 || r.Kinds[member].N != 0 {
		t.Errorf("by kind: %+v", r.Kinds)
	}
	if r.All.N != 4 || r.All.Errors != 2 || r.All.P99 != msd(40) {
		t.Errorf("all: %+v", r.All)
	}
	want := []string{`enrol: 500 500 Internal Server Error {"error":{"code":"internal"}}`, "summary: 0 dial tcp: connection refused "}
	if !reflect.DeepEqual(r.Errors, want) {
		t.Errorf("errors = %q, want %q", r.Errors, want)
	}
}

func kinds(p50, p99 time.Duration) [nKinds]stats {
	var ks [nKinds]stats
	for k := range ks {
		ks[k] = stats{N: 50, P50: p50, P99: p99}
	}
	return ks
}

func TestVerdict(t *testing.T) {
	good := step{Rate: 10, Duration: 20 * time.Second, Path: attackResult{All: stats{N: 200}, Kinds: kinds(msd(10), msd(30))}}
	if ok, why := good.verdict(); !ok || why != "ok" {
		t.Errorf("p99 = 3x p50, no error: %v %s", ok, why)
	}
	slow := good
	slow.Path.Kinds[list].P99 = msd(31)
	if ok, why := slow.verdict(); ok || why != "list p99 3.1x p50" {
		t.Errorf("list p99 3.1x: %v %s", ok, why)
	}
	failing := good
	failing.Path.All.Errors = 1
	if ok, why := failing.verdict(); ok || why != "1 errors" {
		t.Errorf("an error: %v %s", ok, why)
	}
	busy := good
	busy.Floor.CPU.Other = 0.8
	if ok, why := busy.verdict(); !ok || why != "ok; (other work took 0.80 cores)" {
		t.Errorf("disturbed: %v %s", ok, why)
	}
	busy.Discarded = true
	if ok, why := busy.verdict(); ok || why != "other work took 0.80 cores: run again" {
		t.Errorf("discarded: %v %s", ok, why)
	}
	short := good
	short.Path.All.N = 189
	if ok, why := short.verdict(); ok || why != "sent 189 of 200 requests" {
		t.Errorf("fewer requests than the rate: %v %s", ok, why)
	}
}

func TestSearch_DoublesThenBisects(t *testing.T) {
	for _, tc := range []struct {
		limit      int // the highest rate try accepts
		wantBest   int
		wantTrials []int
	}{
		{75, 70, []int{10, 20, 40, 80, 60, 70}},
		{40, 40, []int{10, 20, 40, 80, 60, 50}},
		{12, 10, []int{10, 20, 15}},
		{5, 0, []int{10}},
		{1000, 640, []int{10, 20, 40, 80, 160, 320, 640}},
	} {
		var trials []int
		best, err := search(10, 640, 2, func(rate int) (bool, error) {
			trials = append(trials, rate)
			return rate <= tc.limit, nil
		})
		if err != nil || best != tc.wantBest || !reflect.DeepEqual(trials, tc.wantTrials) {
			t.Errorf("limit %d: best %d %v, trials %v; want %d, %v", tc.limit, best, err, trials, tc.wantBest, tc.wantTrials)
		}
	}
	_, err := search(10, 640, 2, func(rate int) (bool, error) {
		if rate == 40 {
			return false, fmt.Errorf("interrupted")
		}
		return true, nil
	})
	if err == nil {
		t.Error("an error of try did not stop the search")
	}
}

func TestParseOptions(t *testing.T) {
	env := map[string]string{"LOAD_RATES": "10, 40", "LOAD_DURATION": "5s"}
	o, err := parseOptions(nil, func(k string) string { return env[k] })
	if err != nil || !reflect.DeepEqual(o.rates, []int{10, 40}) || o.duration != 5*time.Second || o.start != 20 || o.maxRate != 640 {
		t.Errorf("parseOptions = %+v, %v", o, err)
	}
	for _, bad := range []map[string]string{{"LOAD_RATES": "10,x"}, {"LOAD_RATES": "0"}, {"LOAD_DURATION": "soon"}, {"LOAD_DURATION": "10ms"}} {
		if _, err := parseOptions(nil, func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestPrintTable(t *testing.T) {
	st := func(n, e int, p50, p95, p99 int) stats {
		return stats{N: n, Errors: e, P50: msd(p50), P95: msd(p95), P99: msd(p99)}
	}
	s := step{Rate: 20, Duration: 10 * time.Second}
	s.Path.Kinds = [nKinds]stats{st(50, 0, 40, 60, 80), st(50, 0, 8, 12, 30), st(50, 0, 9, 14, 20), st(50, 0, 12, 20, 25)}
	s.Path.All = st(200, 0, 11, 50, 70)
	s.Floor.Kinds = [nKinds]stats{st(50, 0, 30, 45, 60), st(50, 0, 3, 5, 8), st(50, 0, 4, 6, 9), st(50, 0, 7, 10, 12)}
	s.Floor.All = st(200, 0, 6, 40, 55)
	var b strings.Builder
	printTable(&b, []step{s})
	want := `rate/s  request      n  p50 ms  p95 ms  p99 ms  p99/p50  errors   floor p50    p95    p99  errors   verdict
    20  enrol       50    40.0    60.0    80.0      2.0       0        30.0   45.0   60.0       0
        member      50     8.0    12.0    30.0      3.8       0         3.0    5.0    8.0       0
        list        50     9.0    14.0    20.0      2.2       0         4.0    6.0    9.0       0
        summary     50    12.0    20.0    25.0      2.1       0         7.0   10.0   12.0       0
        all        200    11.0    50.0    70.0      6.4       0         6.0   40.0   55.0       0   member p99 3.8x p50
`
	if b.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", b.String(), want)
	}
}

func TestProcStat_ParsesANameWithSpacesAndParentheses(t *testing.T) {
	p := t.TempDir() + "/stat"
	line := "4242 (java (dynamo) x) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 30 0 100 0 0"
	if err := os.WriteFile(p, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	name, ppid, cpu, ok := procStat(p)
	if !ok || name != "java (dynamo) x" || ppid != 17 || cpu != 3 {
		t.Errorf("procStat = %q %d %v %v, want java (dynamo) x, 17, 3 s", name, ppid, cpu, ok)
	}
}

func TestCPUUse_PerSecondByProcess(t *testing.T) {
	t0 := time.Now()
	a := cpuSample{at: t0, self: 10, children: map[string]float64{"java": 20, "python3": 5, "node": 1}, machine: 100}
	b := cpuSample{at: t0.Add(2 * time.Second), self: 11, children: map[string]float64{"java": 22, "python3": 5.2, "node": 1.2}, machine: 104}
	got := a.use(b)
	want := cpuUse{Self: 0.5, DynamoDB: 1, Moto: 0.1, Other: 0.4}
	for _, f := range [][2]float64{{got.Self, want.Self}, {got.DynamoDB, want.DynamoDB}, {got.Moto, want.Moto}, {got.Other, want.Other}} {
		if math.Abs(f[0]-f[1]) > 1e-9 {
			t.Errorf("use = %+v, want %+v", got, want)
		}
	}
}

func TestAttackDuration_AtLeastAHundredOfEachKind(t *testing.T) {
	for _, tc := range []struct {
		rate int
		d    time.Duration
		want time.Duration
	}{
		{20, 20 * time.Second, 20 * time.Second},
		{10, 20 * time.Second, 40 * time.Second},
		{40, 5 * time.Second, 10 * time.Second},
		{30, time.Second, 14 * time.Second},
		{640, 20 * time.Second, 20 * time.Second},
	} {
		if got := attackDuration(tc.rate, tc.d); got != tc.want {
			t.Errorf("attackDuration(%d, %s) = %s, want %s", tc.rate, tc.d, got, tc.want)
		}
	}
}
