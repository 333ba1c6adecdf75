package httpretry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/httpretry"
)

// serve answers with the statuses in turn (the last repeats), setting retryAfter on every answer
// when not empty, and counts the requests.
func serve(t *testing.T, retryAfter string, statuses ...int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(statuses[min(n, len(statuses))-1])
	}))
	t.Cleanup(s.Close)
	return s, &calls
}

// get is an attempt as the adapters make them: a 5xx is worth another attempt, a 4xx is not.
func get(url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return httpretry.Again(err, nil)
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 500:
			return httpretry.Again(fmt.Errorf("status %d", resp.StatusCode), resp.Header)
		case resp.StatusCode >= 400:
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}

func TestDo_RetriesUntilTheServerAnswers(t *testing.T) {
	s, calls := serve(t, "", 503, 500, 200)
	var retries []int
	p := httpretry.Policy{Attempts: 4, Backoff: time.Millisecond, OnRetry: func(_ context.Context, attempt int, _ time.Duration, _ error) {
		retries = append(retries, attempt)
	}}
	if err := p.Do(t.Context(), get(s.URL)); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 || len(retries) != 2 || retries[0] != 1 || retries[1] != 2 {
		t.Fatalf("%d calls, retries after attempts %v; want 3 calls, retries after 1 and 2", calls.Load(), retries)
	}
}

func TestDo_GivesUpAfterTheAttempts(t *testing.T) {
	s, calls := serve(t, "", 502)
	err := httpretry.Policy{Attempts: 3, Backoff: time.Millisecond}.Do(t.Context(), get(s.URL))
	var stop *httpretry.Error
	if !errors.As(err, &stop) || stop.Attempts != 3 || stop.Ctx != nil || stop.Last == nil || stop.Last.Error() != "status 502" {
		t.Fatalf("Do = %#v, want an *Error after 3 attempts with the last status", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls, want 3", calls.Load())
	}
}

func TestDo_ReturnsAPermanentFailureAtOnce(t *testing.T) {
	s, calls := serve(t, "", 401)
	err := httpretry.Policy{Attempts: 3, Backoff: time.Millisecond}.Do(t.Context(), get(s.URL))
	var stop *httpretry.Error
	if err == nil || errors.As(err, &stop) || err.Error() != "status 401" || calls.Load() != 1 {
		t.Fatalf("Do = %v after %d calls, want the 401 after 1", err, calls.Load())
	}
}

func TestDo_WaitsAsTheServerAsksWithinMaxWait(t *testing.T) {
	for _, tc := range []struct {
		header  string
		maxWait time.Duration
		want    time.Duration
	}{
		{"2", time.Minute, 2 * time.Second},
		{"3600", 0, httpretry.DefaultMaxWait},
		{"3600", 5 * time.Second, 5 * time.Second},
		{"0", time.Minute, -1}, // the backoff's, below 1 ms
	} {
		s, _ := serve(t, tc.header, 503)
		ctx, cancel := context.WithCancel(t.Context())
		var got time.Duration
		p := httpretry.Policy{Attempts: 2, Backoff: time.Millisecond, MaxWait: tc.maxWait, OnRetry: func(_ context.Context, _ int, wait time.Duration, _ error) {
			got = wait
			cancel() // no need to sit through the wait
		}}
		err := p.Do(ctx, get(s.URL))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Retry-After %s: Do = %v, want context.Canceled", tc.header, err)
		}
		if tc.want >= 0 && got != tc.want || tc.want < 0 && got >= time.Millisecond {
			t.Errorf("Retry-After %s, MaxWait %v: waited %v, want %v", tc.header, tc.maxWait, got, tc.want)
		}
	}
}

func TestDo_StopsWhenTheCallerGivesUp(t *testing.T) {
	s, calls := serve(t, "", 503)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := httpretry.Policy{Attempts: 5, Backoff: time.Hour}.Do(ctx, get(s.URL))
	var stop *httpretry.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &stop) || stop.Attempts != 1 || stop.Last == nil {
		t.Fatalf("Do = %v, want DeadlineExceeded after 1 attempt", err)
	}
	if calls.Load() != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("%d calls in %v", calls.Load(), time.Since(start))
	}
}

func TestDo_BoundsEachAttempt(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	start := time.Now()
	err := httpretry.Policy{Attempts: 2, Backoff: time.Millisecond, Timeout: 50 * time.Millisecond}.Do(t.Context(), get(slow.URL))
	var stop *httpretry.Error
	if !errors.As(err, &stop) || stop.Attempts != 2 || stop.Ctx != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do = %v, want an *Error after 2 timed-out attempts", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v, want about 2 x 50 ms", d)
	}
}
