// Package payments confirms members' payments with the payment service (pagoPA or the
// provider's shop): a self-service request counts as paid only once the service says so.
package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/domain"

	"github.com/pecplatform/pec/shared/app"
)

var (
	_ app.Payments = Unverified{}
	_ app.Payments = HTTPVerifier{}
)

// ErrNotConfirmed is the answer to a payment the service does not confirm as made, for that
// amount and that request.
var ErrNotConfirmed = domain.Invalid("reference", "payment_not_confirmed",
	"the payment service does not confirm a payment with this reference, for this amount and this request")

// Unverified accepts every payment as reported. It is for the local cloud and tests only: a
// deployment without PAYMENT_SERVICE_URL would let a member record a payment never made, so
// each use is logged as a warning.
type Unverified struct{ Log *slog.Logger }

// Verify implements app.Payments.
func (u Unverified) Verify(ctx context.Context, _ string, _ int, requestID string) error {
	u.Log.WarnContext(ctx, "payment recorded without verification: PAYMENT_SERVICE_URL is not set", "requestId", requestID)
	return nil
}

// HTTPVerifier asks the payment service about a payment:
//
//	GET {BaseURL}/payments/{reference}    Authorization: Bearer {APIKey}
//	200 {"status": "PAID", "amountCents": 488, "remittance": "<requestId>"}
//	404 when the service has no such payment
//
// A payment is confirmed when it is PAID, for exactly the amount, with the request's id as its
// remittance information (so one payment cannot pay two requests).
type HTTPVerifier struct {
	BaseURL string
	APIKey  string
	Client  *http.Client // a client with a 10-second timeout when nil
}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Verify implements app.Payments.
func (v HTTPVerifier) Verify(ctx context.Context, reference string, amountCents int, requestID string) error {
	client := v.Client
	if client == nil {
		client = defaultClient
	}
	target := strings.TrimRight(v.BaseURL, "/") + "/payments/" + url.PathEscape(reference)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("payments: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+v.APIKey)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("payments: ask about a payment: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return ErrNotConfirmed
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("payments: the payment service answered HTTP %d", resp.StatusCode)
	}
	var p struct {
		Status      string `json:"status"`
		AmountCents int    `json:"amountCents"`
		Remittance  string `json:"remittance"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&p); err != nil {
		return errors.New("payments: the payment service's answer is not the expected JSON")
	}
	if p.Status != "PAID" || p.AmountCents != amountCents || p.Remittance != requestID {
		return ErrNotConfirmed
	}
	return nil
}
