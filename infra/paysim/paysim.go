// Package paysim is the local stand-in of the payment service (pagoPA, or the provider's
// shop) that confirms members' payments of self-service requests. A member "pays" with
// POST /payments; the platform asks with GET /payments/{reference} (shared/payments).
package paysim

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
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
	s.mux.HandleFunc("GET /checkout", s.checkout)
	s.mux.HandleFunc("POST /checkout", s.checkoutPay)
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

// checkout is the payment service's page where a member pays: the amount, the request it is
// for, and a "Paga" button. (The real service is a payment provider's page; the stand-in only
// records the payment and sends the member back.)
func (s *Sim) checkout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	amount, err := strconv.Atoi(q.Get("amountCents"))
	back, berr := url.Parse(q.Get("return"))
	if err != nil || amount <= 0 || q.Get("remittance") == "" || berr != nil || (back.Scheme != "http" && back.Scheme != "https") {
		http.Error(w, "checkout needs remittance, amountCents > 0 and an http(s) return URL", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Referrer-Policy", "no-referrer")
	checkoutPage.Execute(w, map[string]any{"Remittance": q.Get("remittance"), "Amount": fmt.Sprintf("%d,%02d", amount/100, amount%100),
		"AmountCents": amount, "Return": back.String()})
}

func (s *Sim) checkoutPay(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	amount, err := strconv.Atoi(r.PostForm.Get("amountCents"))
	back, berr := url.Parse(r.PostForm.Get("return"))
	remittance := r.PostForm.Get("remittance")
	if err != nil || amount <= 0 || remittance == "" || berr != nil || (back.Scheme != "http" && back.Scheme != "https") {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	p := Payment{Reference: "PAY-" + remittance, AmountCents: amount, Remittance: remittance, Status: "PAID", PaidAt: time.Now().UTC()}
	s.mu.Lock()
	if _, ok := s.payments[p.Reference]; !ok {
		s.payments[p.Reference] = p
	}
	s.mu.Unlock()
	q := back.Query()
	q.Set("pagamento", p.Reference)
	back.RawQuery = q.Encode()
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}

var checkoutPage = template.Must(template.New("checkout").Parse(`<!doctype html>
<html lang="it"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pagamento – servizio di prova</title></head>
<body><main>
<h1>Pagamento</h1>
<p>Servizio di pagamento di prova (ambiente locale).</p>
<p>Importo: € {{.Amount}}</p>
<form method="post" action="checkout">
<input type="hidden" name="remittance" value="{{.Remittance}}">
<input type="hidden" name="amountCents" value="{{.AmountCents}}">
<input type="hidden" name="return" value="{{.Return}}">
<button type="submit">Paga</button>
</form>
</main></body></html>
`))

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
