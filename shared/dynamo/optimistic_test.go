package dynamo

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pecplatform/pec/shared/domain"
)

func TestOptimistic_RetriesAStaleWriteThenGivesUp(t *testing.T) {
	tries := 0
	_, err := optimistic(func() (int, error) {
		tries++
		return tries, fmt.Errorf("write batch: %w", errStale)
	})
	if !errors.Is(err, domain.ErrConcurrentUpdate) || tries != 5 {
		t.Fatalf("err %v after %d tries, want ErrConcurrentUpdate after 5", err, tries)
	}
}

func TestOptimistic_ReturnsTheFirstFreshOutcome(t *testing.T) {
	boom := errors.New("boom")
	tries := 0
	v, err := optimistic(func() (int, error) {
		if tries++; tries < 3 {
			return 0, errStale
		}
		return tries, boom
	})
	if v != 3 || !errors.Is(err, boom) {
		t.Fatalf("got %d, %v; want 3, boom", v, err)
	}
}
