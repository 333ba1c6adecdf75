package lambdahost

import (
	"context"
	"sync"
	"time"
)

// Asynchronous invocations (the Invoke API's Event type, S3 events) are retried as Lambda retries
// them: up to asyncRetries more times after a handler error or timeout, with the same request ID.
// Lambda waits a minute, then two; locally the delays are short.
const (
	asyncRetries    = 2
	asyncRetryDelay = 200 * time.Millisecond // then twice that
)

// inflight counts the asynchronous work under way; its zero value is idle.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil while nothing ever ran
}

func (c *inflight) add() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		c.idle = make(chan struct{})
	}
	c.n++
}

func (c *inflight) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	if c.n == 0 {
		close(c.idle)
	}
}

func (c *inflight) wait(ctx context.Context) error {
	c.mu.Lock()
	ch := c.idle
	c.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitIdle waits until no asynchronous invocation (S3 event, Invoke API call of the Event type) is
// in flight, retries included, or until ctx is done. Work started while it waits is waited for too.
func (h *Host) WaitIdle(ctx context.Context) error {
	for {
		if err := h.async.wait(ctx); err != nil {
			return err
		}
		h.async.mu.Lock()
		n := h.async.n
		h.async.mu.Unlock()
		if n == 0 {
			return nil
		}
	}
}

// invokeAsync runs f in the background as Lambda runs an asynchronous invocation, logging every
// failed attempt; attrs are added to the log lines (what triggered it).
func (h *Host) invokeAsync(f *function, requestID string, payload []byte, attrs ...any) {
	h.async.add()
	go func() {
		defer h.async.done()
		for attempt := 1; ; attempt++ {
			start := time.Now()
			_, ferr := f.invoke(context.Background(), requestID, payload)
			line := append([]any{"function", f.id, "request_id", requestID, "attempt", attempt,
				"duration_ms", time.Since(start).Milliseconds()}, attrs...)
			if ferr == nil {
				h.log.Info("async invocation", line...)
				return
			}
			h.log.Error("async invocation failed", append(line, "error_type", ferr.Type, "error", ferr.Message)...)
			if attempt > asyncRetries {
				h.log.Error("async invocation given up", append(line, "error_type", ferr.Type)...)
				return
			}
			time.Sleep(asyncRetryDelay * time.Duration(attempt))
		}
	}()
}
