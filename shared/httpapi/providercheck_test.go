package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
	"github.com/pecplatform/pec/shared/httpapi"
)

// The Legalmail callback: its body is never read; the platform asks the provider.
func TestProviderCheck_AsksTheProviderAndTrustsNoBody(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	store, provider, flow := fake.NewStore(), &fake.Provider{}, &fake.Workflow{}
	cf, _ := domain.ParseCodiceFiscale("ZRZCRL72R10H501D")
	const id = "0123456789abcdef0123456789abcdef"
	mb := domain.NewMailbox(id, "carlo.zurzi@pec.tsrm.org", "TO", "TSRM", cf, now, "order:TO")
	mb.Transition(domain.StateRichiestaInviata, now, "system", "submitted")
	mb.Park = domain.Park{Token: "tok", Waiting: domain.WaitingProvider}
	store.PutMailbox(mb)
	store.PutMember(&domain.Member{OrderID: "TO", CodiceFiscale: cf, Nome: "Carlo", Cognome: "Zurzi", MailboxID: id})
	h := httpapi.ProviderCheck(&app.Provisioning{Store: store, Workflow: flow, Provider: provider, Status: provider,
		Now: func() time.Time { return now }}, slog.New(slog.DiscardHandler))
	call := func(mailboxID, body string) httpapi.Response {
		t.Helper()
		r := httpapi.Request{RouteKey: "POST /v1/provider/legalmail/{mailboxId}", Body: body,
			PathParameters: map[string]string{"mailboxId": mailboxID}}
		res, err := h(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	// A forged "evasa" while the provider says nothing yet: nothing moves.
	if res := call(id, `{"stato":"evasa"}`); res.StatusCode != 204 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got, _ := store.GetMailbox(t.Context(), id); got.State != domain.StateRichiestaInviata {
		t.Fatalf("a forged callback moved the mailbox to %s", got.State)
	}
	provider.SetStatus(mb.Address, app.ProviderStatus{Outcome: app.ProviderCreated, State: "evasa", ProviderRef: "lm-1"})
	for range 2 { // the real callback, and a repeat
		if res := call(id, ""); res.StatusCode != 204 {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	if got, _ := store.GetMailbox(t.Context(), id); got.State != domain.StateAbilitata || got.ProviderRef != "lm-1" {
		t.Errorf("mailbox %s %q, want ABILITATA", got.State, got.ProviderRef)
	}
	if n := len(flow.Resumed()); n != 1 {
		t.Errorf("%d resumptions, want 1", n)
	}
	for _, tc := range []struct {
		id   string
		want int
	}{{"not-an-id", 404}, {"ffffffffffffffffffffffffffffffff", 404}} {
		res := call(tc.id, "")
		var body struct{ Error struct{ Code string } }
		json.Unmarshal([]byte(res.Body), &body)
		if res.StatusCode != tc.want || body.Error.Code != "not_found" {
			t.Errorf("%s: %d %s", tc.id, res.StatusCode, res.Body)
		}
	}
	provider.FailAlways("Status", fake.ErrUnavailable)
	store.PutMailbox(mb) // waiting again
	if res := call(id, ""); res.StatusCode != 503 {
		t.Errorf("provider down: %d, want 503 so that it calls again", res.StatusCode)
	}
}
