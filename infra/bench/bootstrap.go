package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Targets of the bootstraps.
const (
	targetBootstrapMiB = 10
	targetStartMS      = 50
)

// bootstrapEvents are the first invocations: each answers without a call to AWS, except where
// the function cannot (the scheduled runs read the table; the stand-in answers them empty).
var bootstrapEvents = map[string]string{
	"ActivationFunction":       `{"routeKey":"GET /activate/{token}","rawPath":"/activate/x","requestContext":{"http":{"method":"GET"}}}`,
	"RegindePageFunction":      `{"routeKey":"GET /reginde/{token}","rawPath":"/reginde/x","requestContext":{"http":{"method":"GET"}}}`,
	"ProviderCallbackFunction": `{"routeKey":"POST /v1/provider/events","body":"{}","requestContext":{"http":{"method":"POST"}}}`,
	"BatchTaskFunction":        `{"action":"bench"}`,
	"MailboxTaskFunction":      `{"action":"bench"}`,
	"ImportJobFunction":        `{}`,
	"BatchScheduleFunction":    `{}`,
	"INIPECSyncFunction":       `{}`,
	"ExpiryFunction":           `{}`,
}

// apiEvent is an HTTP API request on a route no function serves: the router answers 404.
const apiEvent = `{"version":"2.0","routeKey":"GET /bench","rawPath":"/bench","requestContext":{"http":{"method":"GET","path":"/bench"}}}`

// bootstrapEnv is what every function gets: Lambda's own variables and the template's, with
// stand-in values (each function reads only its own; STAGE=local lets them start with these).
// AWS_ENDPOINT_URL sends the SDK to the stand-in, which answers Secrets Manager, read by the
// functions that hold secrets when they first need them.
func bootstrapEnv(id, runtimeAPI, home string) []string {
	return []string{
		"PATH=/usr/bin:/bin", "HOME=" + home, "TZ=:UTC", "LAMBDA_TASK_ROOT=" + home, "_HANDLER=bootstrap",
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI, "AWS_LAMBDA_FUNCTION_NAME=" + id, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_REGION=" + region, "AWS_DEFAULT_REGION=" + region,
		"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_SESSION_TOKEN=bench",
		"AWS_ENDPOINT_URL=http://" + runtimeAPI, "STAGE=local",
		"TABLE_NAME=Table", "PUBLIC_URL=https://pec.example.it", "PROVIDER_URL=http://127.0.0.1:9",
		"SES_FROM=noreply@example.it", "PEC_FROM=federazione@pec.example.it", "SMTP_ADDR=127.0.0.1:9",
		"SECRETS_ARN=arn:aws:secretsmanager:" + region + ":000000000000:secret:bench",
		"FILES_BUCKET=bench-files", "DOCUMENTS_BUCKET=bench-documents", "INIPEC_URL=http://127.0.0.1:9",
		"INIPEC_SYNC_FUNCTION=INIPECSyncFunction",
		"BATCH_STATE_MACHINE_ARN=arn:aws:states:" + region + ":000000000000:stateMachine:Batch",
		"MAILBOX_STATE_MACHINE_ARN=arn:aws:states:" + region + ":000000000000:stateMachine:Mailbox",
	}
}

// bootstrapRun is one process start, up to its first answer.
type bootstrapRun struct {
	ready, answered time.Duration // from the process's start to its first GET .../next, to its answer
	cpu             time.Duration // the process's CPU time, user and system, until it was stopped
	outcome         string        // "response" or "error <type>"
	awsCalls        []string      // what it asked the stand-in of AWS
}

// runtimeStandIn is a Lambda Runtime API that serves one invocation, and, on the same port,
// the AWS calls a function makes at start or in that invocation.
type runtimeStandIn struct {
	event []byte
	mu    sync.Mutex
	start time.Time
	run   bootstrapRun
	done  chan struct{}
}

func (s *runtimeStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	const prefix = "/2018-06-01/runtime/invocation/"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == prefix+"next":
		s.mu.Lock()
		first := s.run.ready == 0
		if first {
			s.run.ready = at.Sub(s.start)
		}
		s.mu.Unlock()
		if !first { // one invocation only: the next waits until the process is stopped
			<-r.Context().Done()
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "bench-1")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(30*time.Second).UnixMilli()))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+region+":000000000000:function:bench")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		_, _ = w.Write(s.event)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, prefix):
		outcome := "response"
		if strings.HasSuffix(r.URL.Path, "/error") {
			var e struct {
				Type string `json:"errorType"`
			}
			_ = json.NewDecoder(r.Body).Decode(&e)
			outcome = "error " + e.Type
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
		s.mu.Lock()
		if s.run.answered == 0 {
			s.run.answered, s.run.outcome = at.Sub(s.start), outcome
			close(s.done)
		}
		s.mu.Unlock()
	case r.Header.Get("X-Amz-Target") != "":
		target := r.Header.Get("X-Amz-Target")
		s.mu.Lock()
		s.run.awsCalls = append(s.run.awsCalls, target)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if target == "secretsmanager.GetSecretValue" {
			secret, _ := json.Marshal(map[string]string{"providerApiKey": "bench", "providerWebhookSecrets": "bench", "smtpPassword": "bench", "inipecToken": "bench"})
			_ = json.NewEncoder(w).Encode(map[string]string{"ARN": "bench", "Name": "bench", "SecretString": string(secret)})
			return
		}
		_, _ = w.Write([]byte(`{}`)) // DynamoDB: an empty table
	default:
		s.mu.Lock()
		s.run.awsCalls = append(s.run.awsCalls, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		http.Error(w, "the bench stand-in does not serve this", http.StatusNotImplemented)
	}
}

// measureBootstrap starts the bootstrap once against a fresh stand-in and times its first answer.
func measureBootstrap(ctx context.Context, id, exe string) (bootstrapRun, error) {
	event := bootstrapEvents[id]
	if event == "" {
		event = apiEvent
	}
	s := &runtimeStandIn{event: []byte(event), done: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return bootstrapRun{}, err
	}
	srv := &http.Server{Handler: s}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	home, err := os.MkdirTemp("", "bench-bootstrap-")
	if err != nil {
		return bootstrapRun{}, err
	}
	defer os.RemoveAll(home)

	cmd := exec.Command(exe)
	cmd.Env = bootstrapEnv(id, ln.Addr().String(), home)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	dieWithParent(cmd)
	exited := make(chan error, 1)
	s.mu.Lock()
	s.start = time.Now()
	err = cmd.Start()
	s.mu.Unlock()
	if err != nil {
		return bootstrapRun{}, err
	}
	go func() { exited <- cmd.Wait() }()
	var failure error
	select {
	case <-s.done:
	case err := <-exited:
		failure = fmt.Errorf("%s exited before answering (%v): %s", id, err, strings.TrimSpace(stderr.String()))
	case <-time.After(20 * time.Second):
		failure = fmt.Errorf("%s did not answer within 20 s", id)
	case <-ctx.Done():
		failure = ctx.Err()
	}
	if cmd.ProcessState == nil {
		_ = cmd.Process.Kill()
		<-exited
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.run
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return r, failure
}

// bootstrapResult is one function's size and its runs.
type bootstrapResult struct {
	id      string
	size    int64
	runs    []bootstrapRun
	answers string
}

func (b bootstrapResult) median(f func(bootstrapRun) time.Duration) time.Duration {
	ds := make([]time.Duration, len(b.runs))
	for i, r := range b.runs {
		ds[i] = f(r)
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func (b bootstrapResult) min(f func(bootstrapRun) time.Duration) time.Duration {
	m := f(b.runs[0])
	for _, r := range b.runs[1:] {
		m = min(m, f(r))
	}
	return m
}

// measureBootstraps sizes every function's deployed bootstrap (dir/<LogicalId>/bootstrap) and
// starts the copy built for this machine (nativeDir) runs times.
func measureBootstraps(ctx context.Context, dir, nativeDir string, runs int) ([]bootstrapResult, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("the bootstraps (make build): %w", err)
	}
	var out []bootstrapResult
	for _, e := range entries {
		fi, err := os.Stat(filepath.Join(dir, e.Name(), "bootstrap"))
		if err != nil {
			continue
		}
		b := bootstrapResult{id: e.Name(), size: fi.Size()}
		exe := filepath.Join(nativeDir, e.Name(), "bootstrap")
		for range runs {
			r, err := measureBootstrap(ctx, b.id, exe)
			if err != nil {
				return nil, err
			}
			b.runs = append(b.runs, r)
		}
		last := b.runs[len(b.runs)-1]
		b.answers = last.outcome
		if n := len(last.awsCalls); n > 0 {
			b.answers += fmt.Sprintf("; %d AWS call(s) to the stand-in: %s", n, strings.Join(compact(last.awsCalls), ", "))
		}
		fmt.Fprintf(os.Stderr, "bench: %-26s %5.1f MiB, first answer in %5.1f ms (median of %d), %s\n",
			b.id, mebibytes(b.size), millis(b.median(answered)), runs, b.answers)
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no bootstrap in %s (make build)", dir)
	}
	return out, nil
}

func answered(r bootstrapRun) time.Duration { return r.answered }
func ready(r bootstrapRun) time.Duration    { return r.ready }
func cpuOf(r bootstrapRun) time.Duration    { return r.cpu }

// compact lists each distinct call once, with how many times it was made.
func compact(calls []string) []string {
	n := map[string]int{}
	var order []string
	for _, c := range calls {
		if n[c] == 0 {
			order = append(order, c)
		}
		n[c]++
	}
	for i, c := range order {
		if n[c] > 1 {
			order[i] = fmt.Sprintf("%s x%d", c, n[c])
		}
	}
	return order
}

func mebibytes(b int64) float64      { return float64(b) / (1 << 20) }
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func printBootstraps(w io.Writer, bs []bootstrapResult, runs int, nativeNote string) {
	fmt.Fprintf(w, "\nbench: each function's bootstrap (linux/arm64, as deployed), started %d times against a Lambda Runtime API stand-in%s\n\n", runs, nativeNote)
	fmt.Fprintf(w, "%-26s %9s %-8s %-7s %12s %-8s %-7s %8s %8s %8s  %s\n", "function", "size", "target", "", "first answer", "target", "", "(min)", "ready", "CPU", "answer")
	for _, b := range bs {
		size, start := mebibytes(b.size), millis(b.median(answered))
		fmt.Fprintf(w, "%-26s %5.1f MiB %-8s %-7s %9.1f ms %-8s %-7s %5.1f ms %5.1f ms %5.1f ms  %s\n", b.id, size,
			fmt.Sprintf("<=%d MiB", targetBootstrapMiB), verdict(size <= targetBootstrapMiB), start,
			fmt.Sprintf("<=%d ms", targetStartMS), verdict(start <= targetStartMS), millis(b.min(answered)),
			millis(b.median(ready)), millis(b.median(cpuOf)), b.answers)
	}
	fmt.Fprintf(w, "\nsize: the stripped static binary (MiB, as du -h and make build print it); first answer: from the process's start to its first response (or error) POST, median\n"+
		"of the runs; ready: to its first GET .../invocation/next (init done); CPU: the process's user+system time\n")
}
