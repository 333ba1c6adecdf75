package app_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// offer returns an offer code as an Order carries it.
func offer(code string) *string { return &code }

func TestPutOrder_CreatesThenUpdatesAndAuditsBoth(t *testing.T) {
	f := newSvcFixture(t)
	o := &domain.Order{ID: "TSRM-LU", Name: "Ordine di Lucca", PEC: "Ordine@PEC.example.it"}
	created, err := f.svc.PutOrder(t.Context(), asFederation, o)
	if err != nil || !created {
		t.Fatalf("create: created %v, %v", created, err)
	}
	f.clock.Advance(time.Hour)
	o = &domain.Order{ID: "TSRM-LU", Name: "Ordine TSRM PSTRP di Lucca", PEC: "ordine@pec.example.it"}
	if created, err = f.svc.PutOrder(t.Context(), asFederation, o); err != nil || created {
		t.Fatalf("update: created %v, %v", created, err)
	}
	got, err := f.svc.GetOrder(t.Context(), asFederation, "TSRM-LU")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Ordine TSRM PSTRP di Lucca" || got.PEC != "ordine@pec.example.it" || got.Version != 1 ||
		!got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0.Add(time.Hour)) || got.Convention.ValidityYears != domain.DefaultValidityYears {
		t.Errorf("stored %+v", got)
	}
	if a := actions(f.store, "TSRM-LU", ""); !slices.Equal(a, []string{"federation order.created", "federation order.updated"}) {
		t.Errorf("audit trail %v", a)
	}
}

func TestPutOrder_AnOfferCodeBelongsToOneOrder(t *testing.T) {
	f := newSvcFixture(t)
	f.putOrder(t, &domain.Order{ID: "TSRM-LU", Name: "Lucca", PEC: "lu@pec.example.it", Convention: domain.Convention{OfferCode: offer(" lu-2026 ")}})
	if id, err := f.store.OrderIDForOfferCode(t.Context(), "LU-2026"); err != nil || id != "TSRM-LU" {
		t.Fatalf("the code is kept upper-cased and trimmed: %q, %v", id, err)
	}
	_, err := f.svc.PutOrder(t.Context(), asFederation, &domain.Order{ID: "TSRM-PI", Name: "Pisa", PEC: "pi@pec.example.it",
		Convention: domain.Convention{OfferCode: offer("LU-2026")}})
	if !errors.Is(err, domain.ErrOfferCodeTaken) || field(err) != "convention.offerCode" {
		t.Fatalf("another Order's code: %v", err)
	}
	if o, _ := f.store.GetOrder(t.Context(), "TSRM-PI"); o.Convention.OfferCode != nil {
		t.Error("the refused update was written")
	}
	// Lucca gives the code up: Pisa may take it.
	f.putOrder(t, &domain.Order{ID: "TSRM-LU", Name: "Lucca", PEC: "lu@pec.example.it", Convention: domain.Convention{OfferCode: offer("LU-2027")}})
	f.putOrder(t, &domain.Order{ID: "TSRM-PI", Name: "Pisa", PEC: "pi@pec.example.it", Convention: domain.Convention{OfferCode: offer("LU-2026")}})
	if id, _ := f.store.OrderIDForOfferCode(t.Context(), "LU-2026"); id != "TSRM-PI" {
		t.Errorf("LU-2026 belongs to %q", id)
	}
}

func TestPutOrder_RefusesOrdersAndInvalidFields(t *testing.T) {
	tests := []struct {
		name   string
		caller app.Caller
		order  domain.Order
		code   string
		field  string
	}{
		{"an Order configures nothing", asFI, domain.Order{ID: "TSRM-FI", Name: "Firenze", PEC: "fi@pec.example.it"}, "forbidden", ""},
		{"bad id", asFederation, domain.Order{ID: "tsrm fi", Name: "Firenze", PEC: "fi@pec.example.it"}, "invalid_order_id", "orderId"},
		{"no name", asFederation, domain.Order{ID: "TSRM-FI", PEC: "fi@pec.example.it"}, "invalid_name", "name"},
		{"bad PEC", asFederation, domain.Order{ID: "TSRM-FI", Name: "Firenze", PEC: "Ordine <fi@pec.example.it>"}, "invalid_pec", "pec"},
		{"bad offer code", asFederation, domain.Order{ID: "TSRM-FI", Name: "Firenze", PEC: "fi@pec.example.it", Convention: domain.Convention{OfferCode: offer("a")}}, "invalid_offer_code", "convention.offerCode"},
		{"negative price", asFederation, domain.Order{ID: "TSRM-FI", Name: "Firenze", PEC: "fi@pec.example.it", Convention: domain.Convention{PriceCents: -1}}, "invalid_price", "convention.priceCents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSvcFixture(t)
			_, err := f.svc.PutOrder(t.Context(), tt.caller, &tt.order)
			if code(err) != tt.code || field(err) != tt.field {
				t.Errorf("got %v (field %q), want %s (field %q)", err, field(err), tt.code, tt.field)
			}
			if o, _ := f.store.GetOrder(t.Context(), "TSRM-FI"); o.Name != "Ordine TSRM PSTRP di Firenze" {
				t.Errorf("the Order changed: %+v", o)
			}
		})
	}
}

func TestGetOrder_OnlyTheFederationAndTheOrderItself(t *testing.T) {
	tests := []struct {
		name   string
		caller app.Caller
		id     string
		code   string
	}{
		{"federation", asFederation, "TSRM-FI", ""},
		{"the Order", asFI, "TSRM-FI", ""},
		{"another Order", asPI, "TSRM-FI", "forbidden"},
		{"no role", app.Caller{}, "TSRM-FI", "forbidden"},
		{"unknown Order", asFederation, "TSRM-XX", "order_not_found"},
		{"malformed id", asFederation, "tsrm/fi", "invalid_order_id"},
	}
	f := newSvcFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := f.svc.GetOrder(t.Context(), tt.caller, tt.id)
			if code(err) != tt.code || (err == nil && o.ID != tt.id) {
				t.Errorf("got %+v, %v; want %q", o, err, tt.code)
			}
		})
	}
}
