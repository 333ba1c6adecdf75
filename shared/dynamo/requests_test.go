package dynamo_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHit_CountsPerClientAndWindowUnderConcurrency: of 20 concurrent hits with a limit of 5,
// exactly 5 pass; another client and the next window have their own counts.
func TestHit_CountsPerClientAndWindowUnderConcurrency(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	client := "client-" + uniq()
	start := time.Now().Truncate(time.Minute)
	var passed atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ok, err := store.Hit(ctx, client, start, time.Minute, 5)
			if err != nil {
				t.Error(err)
			}
			if ok {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := passed.Load(); n != 5 {
		t.Errorf("%d hits passed, want 5", n)
	}
	if ok, err := store.Hit(ctx, client+"-other", start, time.Minute, 5); !ok || err != nil {
		t.Errorf("another client: %v %v", ok, err)
	}
	if ok, err := store.Hit(ctx, client, start.Add(time.Minute), time.Minute, 5); !ok || err != nil {
		t.Errorf("the next window: %v %v", ok, err)
	}
	if ok, err := store.Hit(ctx, client, start, time.Hour, 5); !ok || err != nil {
		t.Errorf("a window of another length: %v %v", ok, err)
	}
}
