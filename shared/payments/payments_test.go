package payments_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pecplatform/pec/shared/payments"
)

// service is a payment service that knows one payment.
func service(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer key":
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/payments/PAY 1":
			fmt.Fprint(w, `{"status":"PAID","amountCents":488,"remittance":"req-1"}`)
		case r.URL.Path == "/payments/PENDING":
			fmt.Fprint(w, `{"status":"PENDING","amountCents":488,"remittance":"req-1"}`)
		case r.URL.Path == "/payments/DOWN":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPVerifier_ConfirmsOnlyAPaymentOfThatAmountForThatRequest(t *testing.T) {
	v := payments.HTTPVerifier{BaseURL: service(t).URL + "/", APIKey: "key"}
	ctx := context.Background()
	if err := v.Verify(ctx, "PAY 1", 488, "req-1"); err != nil {
		t.Fatalf("a paid payment: %v", err)
	}
	for _, tc := range []struct {
		name, ref, request string
		amount             int
	}{
		{"another amount", "PAY 1", "req-1", 400},
		{"another request", "PAY 1", "req-2", 488},
		{"not paid yet", "PENDING", "req-1", 488},
		{"unknown", "NOPE", "req-1", 488},
	} {
		if err := v.Verify(ctx, tc.ref, tc.amount, tc.request); !errors.Is(err, payments.ErrNotConfirmed) {
			t.Errorf("%s: %v, want ErrNotConfirmed", tc.name, err)
		}
	}
	if err := v.Verify(ctx, "DOWN", 488, "req-1"); err == nil || errors.Is(err, payments.ErrNotConfirmed) {
		t.Errorf("a service that is down: %v, want a transient error", err)
	}
	bad := payments.HTTPVerifier{BaseURL: v.BaseURL, APIKey: "wrong"}
	if err := bad.Verify(ctx, "PAY 1", 488, "req-1"); err == nil || errors.Is(err, payments.ErrNotConfirmed) {
		t.Errorf("a wrong key: %v, want an error that is not the member's fault", err)
	}
}
