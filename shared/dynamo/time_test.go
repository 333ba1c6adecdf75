package dynamo

import (
	"testing"
	"time"
)

func TestFormatTime_SortsAsTimesCompare(t *testing.T) {
	base := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	times := []time.Time{base, base.Add(100 * time.Millisecond), base.Add(120 * time.Millisecond), base.Add(time.Second)}
	for i := 1; i < len(times); i++ {
		if a, b := formatTime(times[i-1]), formatTime(times[i]); a >= b {
			t.Errorf("%s sorts after %s", a, b)
		}
	}
	if got := parseTime(formatTime(times[2])); !got.Equal(times[2]) {
		t.Errorf("round trip: %v", got)
	}
}
