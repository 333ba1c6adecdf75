package lambdahost

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault kinds and modes.
const (
	FaultThrottle = "throttle" // the service's own throttling error, in its wire format
	Fault5xx      = "5xx"      // an internal error / service unavailable, in its wire format
	FaultDelay    = "delay"    // the call is held for a while, then forwarded normally

	// FaultBefore answers the fault before forwarding: the emulator never sees the call.
	FaultBefore = "before"
	// FaultLost forwards the call, lets the emulator do it, and replaces its answer with the
	// fault: the write happened but the caller thinks it failed, which is what idempotency is for.
	FaultLost = "lost"
)

// FaultRule is the fault injection of one service (its SigV4 signing name: dynamodb, states,
// ses, s3, lambda, secretsmanager...; "*" for every service without its own rule).
type FaultRule struct {
	Rate  float64       `json:"rate"`            // share of calls that get a fault, 0..1
	Kinds []string      `json:"kinds"`           // chosen evenly; default throttle and 5xx
	Modes []string      `json:"modes"`           // for throttle and 5xx, chosen evenly; default before
	Delay time.Duration `json:"delay,omitempty"` // how long a delay fault holds the call (default 1s)
}

// FaultCount counts what one service's calls got.
type FaultCount struct {
	Calls    int64 `json:"calls"`
	Throttle int64 `json:"throttle"`
	Server   int64 `json:"5xx"`
	Delay    int64 `json:"delay"`
	Lost     int64 `json:"lost"` // throttles and 5xx whose call the emulator did carry out
}

// Injected is the number of calls that got a fault.
func (c FaultCount) Injected() int64 { return c.Throttle + c.Server + c.Delay }

// Faults injects faults into the AWS calls the host forwards. Whether call n of a service gets
// a fault depends only on the seed, the service and n, so a run with the same seed and the
// same sequence of calls gets the same faults (concurrent calls may still come in another
// order). Safe for concurrent use; rules can change while the host runs.
type Faults struct {
	mu     sync.Mutex
	seed   uint64
	rules  map[string]FaultRule
	counts map[string]*FaultCount
}

// NewFaults returns an injector with the rules of spec (see ParseFaults).
func NewFaults(spec string, seed int64) (*Faults, error) {
	rules, err := ParseFaults(spec)
	if err != nil {
		return nil, err
	}
	return &Faults{seed: uint64(seed), rules: rules, counts: map[string]*FaultCount{}}, nil
}

// ParseFaults reads a fault specification: comma-separated service=rate[:option...], where an
// option is a kind (throttle, 5xx, delay=<duration>) or a mode (before, lost). For example
// "dynamodb=0.1,states=0.1,ses=0.1" (10% throttles or 5xx, never reaching the emulator), or
// "dynamodb=0.05:lost,ses=0.2:throttle:delay=2s". An empty spec injects nothing.
func ParseFaults(spec string) (map[string]FaultRule, error) {
	rules := map[string]FaultRule{}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		service, rest, ok := strings.Cut(part, "=")
		if !ok || service == "" {
			return nil, fmt.Errorf("faults: %q is not service=rate[:option...]", part)
		}
		opts := strings.Split(rest, ":")
		rate, err := strconv.ParseFloat(opts[0], 64)
		if err != nil || rate < 0 || rate > 1 {
			return nil, fmt.Errorf("faults: %s: the rate must be a number from 0 to 1", service)
		}
		r := FaultRule{Rate: rate, Delay: time.Second}
		for _, o := range opts[1:] {
			switch {
			case o == FaultThrottle || o == Fault5xx || o == FaultDelay:
				r.Kinds = append(r.Kinds, o)
			case strings.HasPrefix(o, FaultDelay+"="):
				d, err := time.ParseDuration(o[len(FaultDelay)+1:])
				if err != nil || d <= 0 {
					return nil, fmt.Errorf("faults: %s: %q is not a duration", service, o)
				}
				r.Kinds, r.Delay = append(r.Kinds, FaultDelay), d
			case o == FaultBefore || o == FaultLost:
				r.Modes = append(r.Modes, o)
			default:
				return nil, fmt.Errorf("faults: %s: unknown option %q (throttle, 5xx, delay=<duration>, before, lost)", service, o)
			}
		}
		if len(r.Kinds) == 0 {
			r.Kinds = []string{FaultThrottle, Fault5xx}
		}
		if len(r.Modes) == 0 {
			r.Modes = []string{FaultBefore}
		}
		r.Kinds, r.Modes = slices.Compact(r.Kinds), slices.Compact(r.Modes)
		rules[strings.ToLower(service)] = r
	}
	return rules, nil
}

// Set replaces the rules (and the seed); the counters stay.
func (f *Faults) Set(spec string, seed int64) error {
	rules, err := ParseFaults(spec)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.rules, f.seed = rules, uint64(seed)
	f.mu.Unlock()
	return nil
}

// Counts returns the counters by service.
func (f *Faults) Counts() map[string]FaultCount {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]FaultCount, len(f.counts))
	for k, c := range f.counts {
		out[k] = *c
	}
	return out
}

// faultsView is what GET /_local/faults shows.
type faultsView struct {
	Seed   uint64                `json:"seed"`
	Rules  map[string]FaultRule  `json:"rules"`
	Counts map[string]FaultCount `json:"counts"`
}

func (f *Faults) view() faultsView {
	counts := f.Counts()
	f.mu.Lock()
	defer f.mu.Unlock()
	return faultsView{Seed: f.seed, Rules: maps.Clone(f.rules), Counts: counts}
}

// fault is the decision for one call.
type fault struct {
	kind, mode string
	delay      time.Duration
}

// decide counts the call and decides its fault, if any.
func (f *Faults) decide(service string) (fault, bool) {
	if f == nil {
		return fault{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := service
	if key == "" {
		key = "unsigned"
	}
	c := f.counts[key]
	if c == nil {
		c = &FaultCount{}
		f.counts[key] = c
	}
	c.Calls++
	r, ok := f.rules[key]
	if !ok {
		r, ok = f.rules["*"]
	}
	if !ok || r.Rate <= 0 {
		return fault{}, false
	}
	u := f.uniform(key, c.Calls, 0)
	if u >= r.Rate {
		return fault{}, false
	}
	d := fault{kind: r.Kinds[int(f.uniform(key, c.Calls, 1)*float64(len(r.Kinds)))],
		mode: r.Modes[int(f.uniform(key, c.Calls, 2)*float64(len(r.Modes)))], delay: r.Delay}
	switch d.kind {
	case FaultThrottle:
		c.Throttle++
	case Fault5xx:
		c.Server++
	case FaultDelay:
		c.Delay++
	}
	if d.kind != FaultDelay && d.mode == FaultLost {
		c.Lost++
	}
	return d, true
}

// uniform is a number in [0, 1) that depends only on the seed, the service, the call's number
// and which draw it is.
func (f *Faults) uniform(service string, n int64, draw byte) float64 {
	h := fnv.New64a()
	var b [17]byte
	binary.LittleEndian.PutUint64(b[:8], f.seed)
	binary.LittleEndian.PutUint64(b[8:16], uint64(n))
	b[16] = draw
	h.Write(b[:])
	h.Write([]byte(service))
	x := h.Sum64()
	// fnv's low bits mix poorly over close inputs: finish with splitmix64.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// writeFault answers a call with the service's own throttling or server error, as the service
// would put it on the wire, so that the SDK's retryer and error types see the real thing.
func writeFault(w http.ResponseWriter, r *http.Request, call AWSCall, kind string) {
	h := w.Header()
	h.Set("X-Amzn-Requestid", newUUID())
	throttle := kind == FaultThrottle
	jsonBody := func(status int, typ, msg string) {
		b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
	restJSON := func(status int, typ, msg string) {
		h.Set("X-Amzn-Errortype", typ+":")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"message":%q}`, msg)
	}
	switch {
	case call.Backend == BackendDynamoDB:
		const ns = "com.amazonaws.dynamodb.v20120810#"
		switch {
		case throttle && (call.Operation == "GetItem" || call.Operation == "Query" || call.Operation == "BatchGetItem" || call.Operation == "Scan"):
			jsonBody(http.StatusBadRequest, ns+"ProvisionedThroughputExceededException",
				"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.")
		case throttle:
			jsonBody(http.StatusBadRequest, ns+"ThrottlingException", "Rate of requests exceeds the allowed throughput.")
		default:
			jsonBody(http.StatusInternalServerError, ns+"InternalServerError", "Internal server error")
		}
	case call.Backend == BackendSES || call.Service == "lambda":
		if throttle {
			restJSON(http.StatusTooManyRequests, "TooManyRequestsException", "Too many requests.")
		} else {
			restJSON(http.StatusInternalServerError, "ServiceException", "Internal failure.")
		}
	case call.Service == "s3":
		status, code, msg := http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."
		if !throttle {
			status, code, msg = http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."
		}
		h.Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
	case r.Header.Get("X-Amz-Target") != "": // JSON protocols: Step Functions, Secrets Manager...
		if throttle {
			h.Set("X-Amzn-Errortype", "ThrottlingException")
			jsonBody(http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		} else {
			h.Set("X-Amzn-Errortype", "ServiceUnavailable")
			jsonBody(http.StatusServiceUnavailable, "ServiceUnavailable", "Service unavailable")
		}
	default:
		if throttle {
			restJSON(http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded")
		} else {
			restJSON(http.StatusServiceUnavailable, "ServiceUnavailable", "Service unavailable")
		}
	}
}

// discard is where a lost call's real answer goes.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// inject applies the fault decided for call. It reports whether the call was answered (the
// fault written); false means: forward it as usual (a delay fault, after its delay).
func (f *Faults) inject(w http.ResponseWriter, r *http.Request, call AWSCall, forward http.Handler) bool {
	d, ok := f.decide(call.Service)
	if !ok {
		return false
	}
	if d.kind == FaultDelay {
		t := time.NewTimer(d.delay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		return false
	}
	if d.mode == FaultLost {
		forward.ServeHTTP(&discard{h: http.Header{}}, r)
	}
	writeFault(w, r, call, d.kind)
	return true
}
