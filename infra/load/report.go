package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxTail is the target: a rate is sustained when every request kind's p99 is at most
// maxTail times its p50, with no error.
const maxTail = 3.0

// stats are the latencies of one request kind in one attack (errors included: a request that
// failed took its time too).
type stats struct {
	N, Errors           int
	Mean, P50, P95, P99 time.Duration
}

// summarize computes nearest-rank percentiles.
func summarize(lat []time.Duration, errors int) stats {
	st := stats{N: len(lat), Errors: errors}
	if len(lat) == 0 {
		return st
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	rank := func(q float64) time.Duration { return s[max(int(math.Ceil(q*float64(len(s))))-1, 0)] }
	st.P50, st.P95, st.P99 = rank(0.50), rank(0.95), rank(0.99)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	st.Mean = sum / time.Duration(len(s))
	return st
}

// tail is p99 / p50.
func (s stats) tail() float64 {
	if s.P50 <= 0 {
		return 0
	}
	return float64(s.P99) / float64(s.P50)
}

// attackResult is one attack of the mix at one rate: its latencies by kind and together.
type attackResult struct {
	Kinds  [nKinds]stats
	All    stats
	Errors []string // a few distinct ones, to say what went wrong
	CPU    cpuUse
	// The host's DynamoDB requests while the attack ran (the path's attacks only), and the
	// time they took, as the host's forwarder saw them.
	DynamoCalls int
	DynamoBusy  time.Duration
	// The HTTP requests those calls took, and how many of them failed (an error or a 4xx/5xx
	// answer, which the SDK may have retried after a backoff of a second or more).
	DynamoAttempts, DynamoFailed int
}

const keptErrors = 3

// collect reads an attack's results to the end.
func collect(results <-chan *vegeta.Result) attackResult {
	var lat [nKinds + 1][]time.Duration
	var errs [nKinds + 1]int
	var r attackResult
	for res := range results {
		k := kindOf(res.Method, res.URL)
		lat[k] = append(lat[k], res.Latency)
		if res.Error == "" && res.Code >= 200 && res.Code < 300 {
			continue
		}
		errs[k]++
		msg := fmt.Sprintf("%s: %d %s %.160s", k, res.Code, res.Error, strings.TrimSpace(string(res.Body)))
		if len(r.Errors) < keptErrors && !slices.Contains(r.Errors, msg) {
			r.Errors = append(r.Errors, msg)
		}
	}
	var all []time.Duration
	allErrs := 0
	for k := range nKinds + 1 {
		if k < nKinds {
			r.Kinds[k] = summarize(lat[k], errs[k])
		}
		all = append(all, lat[k]...)
		allErrs += errs[k]
	}
	r.All = summarize(all, allErrs)
	return r
}

// step is one rate: the mix through the host (the path), then the same requests at the same
// rate against the floor.
type step struct {
	Rate        int
	Duration    time.Duration
	Path, Floor attackResult
	// Discarded: other work took more than disturbedCores of the machine meanwhile, and the
	// rate was run again.
	Discarded bool
}

// disturbedCores of other processes' work during an attack make it run again (at most
// maxReruns times in a run): the machine is shared.
const (
	disturbedCores = 0.5
	maxReruns      = 3
)

// others is the most CPU other work took during the step's two attacks, in cores.
func (s step) others() float64 { return max(s.Path.CPU.Other, s.Floor.CPU.Other) }

// verdict tells whether the host sustained the rate: every request sent, none failed, and
// every kind's p99 within maxTail times its p50.
func (s step) verdict() (bool, string) {
	if s.Discarded {
		return false, fmt.Sprintf("other work took %.2f cores: run again", s.others())
	}
	var why []string
	if want := float64(s.Rate) * s.Duration.Seconds(); float64(s.Path.All.N) < 0.95*want {
		why = append(why, fmt.Sprintf("sent %d of %.0f requests", s.Path.All.N, want))
	}
	if e := s.Path.All.Errors; e > 0 {
		why = append(why, fmt.Sprintf("%d errors", e))
	}
	for k, st := range s.Path.Kinds {
		if st.N > 0 && st.tail() > maxTail {
			why = append(why, fmt.Sprintf("%s p99 %.1fx p50", kind(k), st.tail()))
		}
	}
	ok := len(why) == 0
	if ok {
		why = append(why, "ok")
	}
	if o := s.others(); o > disturbedCores {
		why = append(why, fmt.Sprintf("(other work took %.2f cores)", o))
	}
	return ok, strings.Join(why, "; ")
}

// search finds the highest sustained rate: from start it doubles the rate until try fails
// (or max is passed), then halves the interval between the last good and the first failing
// rate refine times, on multiples of 5. It returns 0 when start fails.
func search(start, maxRate, refine int, try func(rate int) (bool, error)) (int, error) {
	good, bad := 0, 0
	for rate := start; rate <= maxRate; rate *= 2 {
		ok, err := try(rate)
		if err != nil {
			return good, err
		}
		if !ok {
			bad = rate
			break
		}
		good = rate
	}
	if good == 0 || bad == 0 {
		return good, nil
	}
	for range refine {
		mid := (good + bad) / 2 / 5 * 5
		if mid <= good || mid >= bad {
			break
		}
		ok, err := try(mid)
		if err != nil {
			return good, err
		}
		if ok {
			good = mid
		} else {
			bad = mid
		}
	}
	return good, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// printTable prints each rate's latencies by kind, next to its floor's.
func printTable(w io.Writer, steps []step) {
	line := func(format string, args ...any) {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf(format, args...), " "))
	}
	line("%6s  %-8s %5s %7s %7s %7s %8s %7s   %9s %6s %6s %7s   %s", "rate/s", "request", "n", "p50 ms", "p95 ms", "p99 ms", "p99/p50", "errors",
		"floor p50", "p95", "p99", "errors", "verdict")
	for _, s := range steps {
		for k := range nKinds + 1 {
			p, f, label, rate, verdict := s.Path.All, s.Floor.All, "all", "", ""
			if k < nKinds {
				p, f, label = s.Path.Kinds[k], s.Floor.Kinds[k], kind(k).String()
				if k == 0 {
					rate = fmt.Sprint(s.Rate)
				}
			} else {
				_, verdict = s.verdict()
			}
			line("%6s  %-8s %5d %7s %7s %7s %8.1f %7d   %9s %6s %6s %7d   %s", rate, label, p.N,
				ms(p.P50), ms(p.P95), ms(p.P99), p.tail(), p.Errors, ms(f.P50), ms(f.P95), ms(f.P99), f.Errors, verdict)
		}
	}
}

// printCPU prints where each attack's time went: the machine's CPUs by process, and the
// DynamoDB requests.
func printCPU(w io.Writer, steps []step, cpus int) {
	line := func(format string, args ...any) {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf(format, args...), " "))
	}
	line("%6s  %-6s %12s %14s %5s %8s   %14s %7s %11s %8s", "rate/s", "attack", "this process", "DynamoDB Local", "moto", "the rest",
		"DynamoDB calls", "failed", "in DynamoDB", "latency")
	line("%6s  %-6s %12s %14s %5s %8s   %14s %7s %11s %8s", "", "", fmt.Sprintf("(of %d CPUs)", cpus), "", "", "", "per request", "calls", "mean ms", "mean ms")
	for _, s := range steps {
		for i, a := range []attackResult{s.Path, s.Floor} {
			rate, label, busy := fmt.Sprint(s.Rate), "path", "-"
			if i == 1 {
				rate, label = "", "floor"
			} else if a.All.N > 0 {
				busy = fmt.Sprintf("%.1f", float64(a.DynamoBusy)/float64(time.Millisecond)/float64(a.All.N))
			}
			per := 0.0
			if a.All.N > 0 {
				per = float64(a.DynamoCalls) / float64(a.All.N)
			}
			line("%6s  %-6s %12.2f %14.2f %5.2f %8.2f   %14.2f %7d %11s %8s", rate, label, a.CPU.Self, a.CPU.DynamoDB, a.CPU.Moto, a.CPU.Other,
				per, a.DynamoFailed, busy, ms(a.All.Mean))
		}
	}
}
