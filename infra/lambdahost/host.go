package lambdahost

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Options configure a Host.
type Options struct {
	TemplatePath string
	// Functions builds each function's handler, keyed by the function's CodeUri (e.g.
	// "functions/orders", trailing slash tolerated) or by its logical ID (needed when several
	// functions share a CodeUri, as with BuildMethod: makefile and CodeUri: .).
	Functions  map[string]Constructor
	Parameters map[string]string // overrides of template Parameters (else their Default)
	Env        map[string]string // added to every function's environment (local overrides)
	// Emulator endpoints the host forwards AWS calls to and Setup creates resources on.
	DynamoDBURL, MotoURL, SESURL string
	KeyDir                       string // where the local JWT signing key lives (generated if missing)
	Region                       string // default "eu-south-1"
	Logger                       *slog.Logger
	// Intercept, if set, sees every forwarded AWS call first.
	Intercept Interceptor
	// Faults, if set, injects throttling, 5xx and delays into the forwarded AWS calls and the
	// Lambda Invoke API (service "lambda"); see GET /_local/faults.
	Faults *Faults
}

// Host serves a SAM template's functions locally. It is an http.Handler: serve it on the port
// that moto's MOTO_PORT and the functions' AWS endpoint point to.
type Host struct {
	log       *slog.Logger
	region    string
	tpl       *template
	params    []Parameter
	functions map[string]*function // by logical ID
	apis      map[string]*httpAPI
	routes    []*route // most specific first
	schedules []*schedule
	tables    []*tableSpec
	machines  []*machineSpec
	buckets   []*bucketSpec
	// s3Triggers are the functions' S3 events by bucket name.
	s3Triggers map[string][]*s3Trigger
	// ebRules are the functions' EventBridge rules that the host's events may match.
	ebRules   []*ebRule
	s3        *s3.Client // on moto: Setup, and the HeadObject some events need
	s3Seq     atomic.Uint64
	async     inflight
	key       *rsa.PrivateKey
	fwd       *forwarder
	faults    *Faults
	dynamoURL string
	motoURL   string
}

// New reads the template and builds every function once. It fails if a function of the template
// has no Constructor, or if something the host needs cannot be resolved.
func New(ctx context.Context, o Options) (*Host, error) {
	h := &Host{
		log:       o.Logger,
		region:    o.Region,
		functions: map[string]*function{},
		apis:      map[string]*httpAPI{},
		dynamoURL: o.DynamoDBURL,
		motoURL:   o.MotoURL,
		faults:    o.Faults,
	}
	if h.log == nil {
		h.log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if h.region == "" {
		h.region = "eu-south-1"
	}
	var err error
	if h.tpl, err = loadTemplate(o.TemplatePath, h.region, o.Parameters); err != nil {
		return nil, err
	}
	if err := h.tpl.checkOverrides(); err != nil {
		return nil, err
	}
	if h.params, err = h.tpl.parameters(); err != nil {
		return nil, err
	}
	if h.key, err = LoadOrCreateKey(o.KeyDir); err != nil {
		return nil, fmt.Errorf("JWT key: %w", err)
	}
	h.fwd, err = newForwarder(map[string]string{BackendDynamoDB: o.DynamoDBURL, BackendMoto: o.MotoURL, BackendSES: o.SESURL},
		o.Intercept, o.Faults, func(c AWSCall, err error) {
			h.log.Error("emulator unreachable", "backend", c.Backend, "service", c.Service, "error", err)
		}, h.observeS3)
	if err != nil {
		return nil, err
	}
	h.fwd.ses = h.forwardSES

	if o.MotoURL != "" {
		h.s3 = s3.New(s3.Options{
			Region:       h.region,
			BaseEndpoint: aws.String(o.MotoURL),
			UsePathStyle: true,
			Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		})
	}

	used := map[string]bool{}
	var triggers []*s3Trigger
	for _, r := range h.tpl.ofType(typeFunction) {
		f, err := h.buildFunction(r, o.Env)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", r.ID, err)
		}
		cons, ok := constructorFor(f, o.Functions)
		if !ok {
			return nil, fmt.Errorf("function %s (CodeUri %q): no Constructor in Options.Functions", f.id, f.codeURI)
		}
		for k := range o.Functions {
			if k == f.id || normalizeCodeURI(k) == f.codeURI {
				used[k] = true
			}
		}
		env := f.env
		v, err := cons(ctx, func(k string) string { return env[k] })
		if err != nil {
			return nil, fmt.Errorf("function %s: constructor: %w", f.id, err)
		}
		if err := validHandler(v); err != nil {
			return nil, fmt.Errorf("function %s: %w", f.id, err)
		}
		f.handler = lambda.NewHandler(v)
		rts, err := h.buildRoutes(r, f)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", f.id, err)
		}
		h.routes = append(h.routes, rts...)
		if f.schedules, err = h.buildSchedules(r, f); err != nil {
			return nil, fmt.Errorf("function %s: %w", f.id, err)
		}
		h.schedules = append(h.schedules, f.schedules...)
		trs, err := h.buildS3Triggers(r, f)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", f.id, err)
		}
		triggers = append(triggers, trs...)
		rules, err := h.buildEventBridgeRules(r, f)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", f.id, err)
		}
		h.ebRules = append(h.ebRules, rules...)
		h.functions[f.id] = f
	}
	for k := range o.Functions {
		if !used[k] {
			h.log.Warn("constructor matches no function of the template", "key", k)
		}
	}
	sortRoutes(h.routes)
	for i := 1; i < len(h.routes); i++ {
		if a, b := h.routes[i-1], h.routes[i]; a.RouteKey() == b.RouteKey() {
			return nil, fmt.Errorf("route %s is defined by both %s and %s", a.RouteKey(), a.Function, b.Function)
		}
	}
	for _, r := range h.tpl.ofType(typeTable) {
		t, err := h.buildTable(r)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", r.ID, err)
		}
		h.tables = append(h.tables, t)
	}
	for _, r := range h.tpl.ofType(typeStateMachine) {
		m, err := h.buildStateMachine(r)
		if err != nil {
			return nil, fmt.Errorf("state machine %s: %w", r.ID, err)
		}
		h.machines = append(h.machines, m)
	}
	for _, r := range h.tpl.ofType(typeBucket) {
		b, err := h.buildBucket(r)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w", r.ID, err)
		}
		h.buckets = append(h.buckets, b)
	}
	h.s3Triggers = groupTriggers(triggers)
	if !slices.ContainsFunc(h.buckets, func(b *bucketSpec) bool { return b.eventBridge }) {
		for _, r := range h.ebRules {
			if slices.Equal(r.sources, []string{sourceS3}) {
				h.log.Warn("EventBridge rule never raised: no bucket of the template sends its events to EventBridge (EventBridgeConfiguration.EventBridgeEnabled)",
					"function", r.fn.id, "event", r.event)
			}
		}
	}
	return h, nil
}

// requestInfo is what the request log line says about a request.
type requestInfo struct {
	route        string // a route template or a fixed label, never the raw path
	function     string
	requestID    string
	invocationID string // the Lambda request ID the function saw
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ServeHTTP dispatches, in this order: the Lambda Invoke API, AWS calls to forward, the local
// endpoints (/_local/...), then the template's HttpApi routes. So an AWS call never reaches a route.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	info := &requestInfo{route: "-"}
	defer func() {
		if rec.status == 0 {
			rec.status = http.StatusOK // nothing written: net/http answers 200
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("route", info.route), slog.Int("status", rec.status),
			slog.Int64("duration_ms", time.Since(start).Milliseconds()), slog.String("request_id", info.requestID),
		}
		if info.function != "" {
			attrs = append(attrs, slog.String("function", info.function))
		}
		if info.invocationID != "" && info.invocationID != info.requestID {
			attrs = append(attrs, slog.String("invocation_id", info.invocationID))
		}
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	}()

	if name, ok := invokePath(r); ok {
		invoke := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serveInvoke(w, r, name, info) })
		if h.faults != nil && h.faults.inject(rec, r, AWSCall{Backend: "lambda", Service: "lambda", Operation: "Invoke"}, invoke) {
			info.route = "POST /2015-03-31/functions/{name}/invocations (fault)"
			return
		}
		invoke(rec, r)
		return
	}
	if bucket, ok := h.postObjectBucket(r); ok && h.s3 != nil {
		info.route = "aws moto s3 PostObject"
		h.servePostObject(rec, r, bucket)
		return
	}
	if isAWSCall(r) {
		c := classify(r)
		info.route = "aws " + c.Backend
		if c.Service != "" {
			info.route += " " + c.Service
		}
		if c.Operation != "" {
			info.route += " " + c.Operation
		}
		h.fwd.ServeHTTP(rec, r)
		info.requestID = rec.Header().Get("X-Amzn-Requestid")
		if info.requestID == "" {
			info.requestID = rec.Header().Get("X-Amz-Request-Id") // S3's header
		}
		return
	}
	switch p := r.URL.Path; {
	case p == "/_local/jwks.json" && r.Method == http.MethodGet:
		info.route = "GET /_local/jwks.json"
		w.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(http.StatusOK)
		_, _ = rec.Write(jwks(&h.key.PublicKey))
		return
	case p == "/_local/faults":
		info.route = r.Method + " /_local/faults"
		h.serveFaults(rec, r)
		return
	case strings.HasPrefix(p, "/_local/run/") && !strings.Contains(p[len("/_local/run/"):], "/"):
		h.serveRun(rec, r, p[len("/_local/run/"):], info)
		return
	}
	h.serveAPI(rec, r, info)
}

// Faults returns the host's fault injector (nil when it has none).
func (h *Host) Faults() *Faults { return h.faults }

// serveFaults shows the fault rules and counters (GET) or replaces the rules (PUT
// {"spec": "dynamodb=0.1,...", "seed": 1}).
func (h *Host) serveFaults(w http.ResponseWriter, r *http.Request) {
	if h.faults == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "fault injection is off (FAULTS)"})
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, h.faults.view())
	case http.MethodPut:
		var body struct {
			Spec string `json:"spec"`
			Seed int64  `json:"seed"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "want {\"spec\": ..., \"seed\": ...}"})
			return
		}
		if err := h.faults.Set(body.Spec, body.Seed); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, h.faults.view())
	default:
		w.Header().Set("Allow", "GET, PUT")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "GET or PUT"})
	}
}

// invokePath recognises POST /2015-03-31/functions/{name}/invocations and returns the name.
func invokePath(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/2015-03-31/functions/")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, "/invocations")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	if u, err := url.PathUnescape(name); err == nil {
		name = u
	}
	return name, true
}

// lookup finds a function by logical ID, name, partial ARN (123456789012:function:name) or ARN,
// with or without a qualifier.
func (h *Host) lookup(ref string) (*function, bool) {
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.Split(ref, ":")
		if len(parts) < 7 || parts[5] != "function" {
			return nil, false
		}
		name = parts[6]
	} else if _, after, ok := strings.Cut(ref, ":function:"); ok {
		name, _, _ = strings.Cut(after, ":")
	} else {
		name, _, _ = strings.Cut(ref, ":")
	}
	if f, ok := h.functions[name]; ok {
		return f, true
	}
	for _, f := range h.functions {
		if f.name == name {
			return f, true
		}
	}
	return nil, false
}

// serveInvoke is the Lambda Invoke API, as moto's Step Functions interpreter and SDK clients call it.
func (h *Host) serveInvoke(w http.ResponseWriter, r *http.Request, name string, info *requestInfo) {
	info.route = "POST /2015-03-31/functions/{name}/invocations"
	requestID := newUUID()
	info.requestID = requestID
	w.Header().Set("X-Amzn-Requestid", requestID)
	f, ok := h.lookup(name)
	if !ok {
		w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
		writeJSON(w, http.StatusNotFound, map[string]string{"Type": "User",
			"Message": fmt.Sprintf("Function not found: arn:aws:lambda:%s:%s:function:%s", h.region, AccountID, name)})
		return
	}
	info.function = f.id
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		w.Header().Set("X-Amzn-Errortype", "InvalidRequestContentException")
		writeJSON(w, http.StatusBadRequest, map[string]string{"Type": "User", "message": "cannot read the payload"})
		return
	}
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		h.invokeAsync(f, requestID, payload, "trigger", "invoke")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	out, ferr := f.invoke(r.Context(), requestID, payload)
	if ferr != nil {
		h.log.Error("function failed", "function", f.id, "request_id", requestID, "error_type", ferr.Type, "error", ferr.Message)
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		writeJSON(w, http.StatusOK, ferr)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// Invoke runs a function (by logical ID, name or ARN) with payload, as the Invoke API would. A
// handler's failure is a *FunctionError; an unknown function wraps ErrUnknownFunction.
func (h *Host) Invoke(ctx context.Context, logicalID string, payload []byte) ([]byte, error) {
	f, ok := h.lookup(logicalID)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownFunction, logicalID)
	}
	out, ferr := f.invoke(ctx, newUUID(), payload)
	if ferr != nil {
		return nil, ferr
	}
	return out, nil
}

// Functions returns the logical IDs of the template's functions, sorted.
func (h *Host) Functions() []string {
	out := make([]string, 0, len(h.functions))
	for id := range h.functions {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Routes returns the HttpApi routes, most specific first (the order they are matched in).
func (h *Host) Routes() []Route {
	out := make([]Route, len(h.routes))
	for i, r := range h.routes {
		out[i] = r.Route
	}
	return out
}

// Schedules returns the functions' Schedule and ScheduleV2 events.
func (h *Host) Schedules() []Schedule {
	out := make([]Schedule, len(h.schedules))
	for i, s := range h.schedules {
		out[i] = s.Schedule
	}
	return out
}

// Tables returns the physical names of the template's DynamoDB tables.
func (h *Host) Tables() []string {
	out := make([]string, len(h.tables))
	for i, t := range h.tables {
		out[i] = t.Name
	}
	return out
}

// StateMachines returns the ARNs of the template's state machines.
func (h *Host) StateMachines() []string {
	out := make([]string, len(h.machines))
	for i, m := range h.machines {
		out[i] = m.Arn
	}
	return out
}

var _ http.Handler = (*Host)(nil)
