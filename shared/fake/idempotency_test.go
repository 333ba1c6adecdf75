package fake_test

import (
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/fake"
)

func TestIdempotency_ClaimCompleteRelease(t *testing.T) {
	s := fake.NewStore()
	ctx := t.Context()
	if r, err := s.Claim(ctx, "k", "fp1", time.Minute); r != nil || err != nil {
		t.Fatalf("first claim: %+v, %v", r, err)
	}
	if r, _ := s.Claim(ctx, "k", "fp2", time.Minute); r == nil || r.Done || r.Fingerprint != "fp1" || r.Status != 0 {
		t.Fatalf("claim of a key in progress: %+v", r)
	}
	if err := s.Release(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Claim(ctx, "k", "fp2", time.Minute); r != nil {
		t.Fatalf("claim after release: %+v", r)
	}
	if err := s.Complete(ctx, "k", app.IdempotentResponse{Fingerprint: "fp2", Status: 201, Body: "{}"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	want := app.IdempotentResponse{Fingerprint: "fp2", Done: true, Status: 201, Body: "{}"}
	if r, _ := s.Claim(ctx, "k", "fp3", time.Minute); r == nil || *r != want {
		t.Errorf("claim of a completed key: %+v, want %+v (a release does not drop an answer)", r, want)
	}
	if err := s.Release(ctx, "unknown"); err != nil {
		t.Errorf("release of an unknown key: %v", err)
	}
}

func TestIdempotency_ALapsedClaimIsFreeAgain(t *testing.T) {
	s := fake.NewStore()
	if r, _ := s.Claim(t.Context(), "k", "fp1", -2*time.Second); r != nil {
		t.Fatal(r)
	}
	if r, _ := s.Claim(t.Context(), "k", "fp2", time.Minute); r != nil {
		t.Errorf("a claim whose lease ran out still holds the key: %+v", r)
	}
	if r, _ := s.Claim(t.Context(), "k", "fp3", time.Minute); r == nil || r.Fingerprint != "fp2" {
		t.Errorf("the new claim does not hold the key: %+v", r)
	}
}
