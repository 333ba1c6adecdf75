// Package paysim is the local stand-in of the payment service (pagoPA, or the provider's
// shop) that confirms members' payments of self-service requests. A member "pays" with
// POST /payments; the platform asks with GET /payments/{reference} (shared/payments).
package paysim

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Payment is one payment the stand-in holds as made.
type Payment struct {
	Reference   string    `json:"reference"`
	AmountCents int       `json:"amountCents"`
	Remittance  string    `json:"remittance"` // the request id the payment is for
	Status      string    `json:"status"`
	PaidAt      time.Time `json:"paidAt"`
}

// Sim is the stand-in, an http.Handler.
type Sim struct {
	key string
	mux *http.ServeMux

	mu       sync.Mutex
	payments map[string]Payment
}

// New returns a stand-in that answers the platform only with the API key key.
func New(key string) *Sim {
	s := &Sim{key: key, mux: http.NewServeMux(), payments: map[string]Payment{}}
	s.mux.HandleFunc("POST /payments", s.pay)
	s.mux.HandleFunc("GET /payments/{reference}", s.get)
	return s
}

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// pay records a payment as made: what the member does at the payment service.
func (s *Sim) pay(w http.ResponseWriter, r *http.Request) {
	var p Payment
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&p); err != nil ||
		strings.TrimSpace(p.Reference) == "" || p.AmountCents <= 0 || p.Remittance == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "send {reference, amountCents > 0, remittance}"})
		return
	}
	p.Reference, p.Status, p.PaidAt = strings.TrimSpace(p.Reference), "PAID", time.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.payments[p.Reference]; ok {
		if old.AmountCents != p.AmountCents || old.Remittance != p.Remittance {
			writeJSON(w, http.StatusConflict, map[string]string{"error": "this reference was used for another payment"})
			return
		}
		writeJSON(w, http.StatusOK, old)
		return
	}
	s.payments[p.Reference] = p
	writeJSON(w, http.StatusCreated, p)
}

func (s *Sim) get(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.key {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "bad API key"})
		return
	}
	s.mu.Lock()
	p, ok := s.payments[r.PathValue("reference")]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such payment"})
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
