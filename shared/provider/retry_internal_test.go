package provider

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
		{"30", 30 * time.Second},
		{"3600", 30 * time.Second},
		{"99999999999999", 0},
		{"-5", 0},
		{"soon", 0},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second},
		{now.Add(time.Hour).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.header, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestJitter_StaysBetweenHalfAndWhole(t *testing.T) {
	for range 1000 {
		if got := jitter(200 * time.Millisecond); got < 100*time.Millisecond || got > 200*time.Millisecond {
			t.Fatalf("jitter(200ms) = %v", got)
		}
	}
}
