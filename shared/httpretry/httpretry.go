// Package httpretry retries an HTTP call: a few attempts, each with its own timeout, waiting
// between them by exponential backoff with jitter, or as long as the server asked
// (Retry-After).
package httpretry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// DefaultMaxWait caps a wait when Policy.MaxWait is zero.
const DefaultMaxWait = 30 * time.Second

// Policy says how Do retries.
type Policy struct {
	Attempts int           // attempts in all; one when zero
	Backoff  time.Duration // the longest wait before the second attempt, doubling after each; no wait when zero
	MaxWait  time.Duration // the longest wait, the server's Retry-After included; DefaultMaxWait when zero
	Timeout  time.Duration // per attempt; none when zero

	// OnRetry, when set, hears of each failed attempt that Do retries, before it waits.
	OnRetry func(ctx context.Context, attempt int, wait time.Duration, err error)
}

// Error is Do's error when it stops retrying: the attempts ran out, or ctx ended.
type Error struct {
	Attempts int   // the attempts made
	Last     error // the last attempt's failure, as given to Again
	Ctx      error // context.Cause of the caller's ctx when it ended first; nil when the attempts ran out
}

func (e *Error) Error() string {
	if e.Ctx != nil {
		return fmt.Sprintf("%v (last attempt: %v)", e.Ctx, e.Last)
	}
	return fmt.Sprintf("giving up after %d attempts: %v", e.Attempts, e.Last)
}

func (e *Error) Unwrap() []error {
	if e.Ctx == nil {
		return []error{e.Last}
	}
	return []error{e.Ctx, e.Last}
}

// again is an attempt's failure worth another attempt.
type again struct {
	err   error
	after time.Duration // the server's Retry-After; 0 when it gave none
}

func (a *again) Error() string { return a.err.Error() }
func (a *again) Unwrap() error { return a.err }

// Again marks err, an attempt's failure, as worth another attempt. header, when not nil, is the
// failed answer's: the wait before the next attempt is its Retry-After, if it has one.
func Again(err error, header http.Header) error {
	return &again{err: err, after: retryAfter(header.Get("Retry-After"), time.Now())}
}

// Do calls try until it succeeds or fails for good (an error not made by Again), which Do
// returns as is. A failure try marks with Again is tried again, up to p.Attempts attempts in
// all; then, or when ctx ends first, Do returns an *Error. try gets ctx bounded by p.Timeout.
func (p Policy) Do(ctx context.Context, try func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := p.try(ctx, try)
		var a *again
		if !errors.As(err, &a) {
			return err
		}
		if ctx.Err() != nil {
			return &Error{Attempts: attempt, Last: a.err, Ctx: context.Cause(ctx)}
		}
		if attempt >= p.Attempts {
			return &Error{Attempts: attempt, Last: a.err}
		}
		wait := min(a.after, p.maxWait())
		if wait == 0 {
			wait = p.backoff(attempt)
		}
		if p.OnRetry != nil {
			p.OnRetry(ctx, attempt, wait, a.err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &Error{Attempts: attempt, Last: a.err, Ctx: context.Cause(ctx)}
		case <-t.C:
		}
	}
}

func (p Policy) try(ctx context.Context, try func(ctx context.Context) error) error {
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	return try(ctx)
}

func (p Policy) maxWait() time.Duration {
	if p.MaxWait <= 0 {
		return DefaultMaxWait
	}
	return p.MaxWait
}

// backoff is the wait after the failed attempt n: the AWS SDK's exponential backoff with full
// jitter, uniform below Backoff·2^(n-1), at most MaxWait. The SDK counts from a base of one
// second; its delays are rescaled to the base Backoff.
func (p Policy) backoff(n int) time.Duration {
	if p.Backoff <= 0 {
		return 0
	}
	scale := float64(p.Backoff) / float64(time.Second)
	sdkMax := time.Duration(min(float64(p.maxWait())/scale, math.MaxInt64/2))
	d, err := retry.NewExponentialJitterBackoff(sdkMax).BackoffDelay(n-1, nil)
	if err != nil { // no randomness to be had: the longest wait
		return p.maxWait()
	}
	return min(time.Duration(float64(d)*scale), p.maxWait())
}

// retryAfter reads a Retry-After header as seconds or an HTTP date; 0 when absent or unusable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.ParseUint(h, 10, 32); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return max(d, 0)
}
