package lambdahost_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestInvokeAPI_EventInvocationsAreRetriedAndWaitedFor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.host.WaitIdle(ctx); err != nil { // nothing ever ran
		t.Fatal(err)
	}
	r := f.do(t, "POST", "/2015-03-31/functions/pec-local-fail/invocations", strings.NewReader(`{}`), map[string]string{"X-Amz-Invocation-Type": "Event"})
	if r.Status != 202 {
		t.Fatalf("Event invocation: %d", r.Status)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := f.host.WaitIdle(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitIdle during the retries = %v, want a deadline error", err)
	}
	if err := f.host.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.toys.count("fail"); n != 3 {
		t.Errorf("a failing Event invocation ran %d times, want 3 (Lambda retries twice)", n)
	}
	logs := f.logs.String()
	if strings.Count(logs, `"msg":"async invocation failed"`) != 3 || strings.Count(logs, `"msg":"async invocation given up"`) != 1 ||
		!strings.Contains(logs, `"trigger":"invoke"`) {
		t.Errorf("log:\n%s", logs)
	}

	r = f.do(t, "POST", "/2015-03-31/functions/WorkerFunction/invocations", strings.NewReader(`{"n":1}`), map[string]string{"X-Amz-Invocation-Type": "Event"})
	if err := f.host.WaitIdle(ctx); err != nil || r.Status != 202 || f.toys.count("worker") != 1 {
		t.Errorf("a succeeding Event invocation: %d, ran %d times, %v", r.Status, f.toys.count("worker"), err)
	}
}
