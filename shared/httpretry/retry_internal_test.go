package httpretry

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"2", 2 * time.Second},
		{"3600", time.Hour}, // Do caps it at MaxWait
		{"99999999999999", 0},
		{"-5", 0},
		{"soon", 0},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.header, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestBackoff_JittersBelowTheDoubledBaseAndStaysWithinMaxWait(t *testing.T) {
	p := Policy{Backoff: 200 * time.Millisecond, MaxWait: 30 * time.Second}
	for n := 1; n <= 10; n++ {
		limit := min(p.Backoff<<(n-1), p.MaxWait)
		var sum time.Duration
		for range 200 {
			d := p.backoff(n)
			if d < 0 || d > limit {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", n, d, limit)
			}
			sum += d
		}
		if mean := sum / 200; limit < p.MaxWait && (mean < limit/4 || mean > 3*limit/4) {
			t.Errorf("backoff(%d) averages %v, want about %v: not jittered", n, mean, limit/2)
		}
	}
	for _, p := range []Policy{
		{Backoff: time.Hour, MaxWait: 30 * time.Second},
		{Backoff: time.Nanosecond},
		{Backoff: time.Millisecond, MaxWait: time.Millisecond},
	} {
		for n := 1; n <= 70; n++ {
			if d := p.backoff(n); d < 0 || d > p.maxWait() {
				t.Fatalf("%+v: backoff(%d) = %v, want within [0, %v]", p, n, d, p.maxWait())
			}
		}
	}
	if d := (Policy{}).backoff(3); d != 0 {
		t.Errorf("no Backoff: backoff = %v, want 0", d)
	}
}
