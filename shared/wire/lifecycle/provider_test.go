package lifecycle

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/legalmailsim"
	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/secrets"
)

// side builds the provider side of a function configured by vars, as newParts does.
func side(t *testing.T, vars map[string]string) (providerSide, error) {
	t.Helper()
	env, err := wire.Load(t.Context(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	sec, err := secrets.New(env)
	if err != nil {
		t.Fatal(err)
	}
	return newProviderSide(env, &parts{env: env, secrets: sec})
}

// PROVIDER_KIND legalmail: the Legalmail adapter at PROVIDER_URL with the providerApiKey as its
// token, asked for statuses, holding the members' activation documents, and registering each
// mailbox with its own callback URL under PUBLIC_URL.
func TestProviderSide_LegalmailIsWiredWithTheTokenAndEachMailboxsCallback(t *testing.T) {
	const token = "openapi-token"
	sim := legalmailsim.New(legalmailsim.Options{Token: token, Delay: time.Hour})
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	vars := map[string]string{"STAGE": "local", "PROVIDER_KIND": KindLegalmail, "PROVIDER_URL": srv.URL,
		"PROVIDER_API_KEY": token, "PUBLIC_URL": "https://pec.example.it/"}
	s, err := side(t, vars)
	if err != nil {
		t.Fatal(err)
	}
	if s.kind != KindLegalmail || s.status == nil || s.documents == nil || s.addresses != nil || s.access.WebmailURL == "" {
		t.Fatalf("side %+v", s)
	}
	const mailboxID = "0123456789abcdef0123456789abcdef"
	ref, err := s.api.Submit(t.Context(), app.SubmitRequest{RequestID: mailboxID, Address: "mario.rossi@pec.tsrm.org",
		Nome: "Mario", Cognome: "Rossi", CodiceFiscale: "RSSMRA80A01H501U", Email: "mario@example.it", Phone: "+390583123456",
		Residence: &domain.Residence{Address: "Via Roma 1", City: "Lucca", PostCode: "55100", Province: "LU"}})
	if err != nil {
		t.Fatal(err)
	}
	// Legalmail's view of the mailbox holds the callback registered for it.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/pec/"+ref, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Data struct {
			Callback struct{ URL, Method string }
		}
	}
	_ = json.NewDecoder(res.Body).Decode(&got)
	res.Body.Close()
	if want := "https://pec.example.it/v1/provider/legalmail/" + mailboxID; got.Data.Callback.URL != want || got.Data.Callback.Method != "JSON" {
		t.Errorf("callback %+v, want %s by JSON", got.Data.Callback, want)
	}
	form, err := s.documents.ActivationForm(t.Context(), app.ProviderMailbox{ProviderRef: ref})
	if err != nil || len(form) == 0 {
		t.Fatalf("activation form: %v", err)
	}
	st, err := s.status.Status(t.Context(), app.ProviderMailbox{ProviderRef: ref})
	if err != nil || st.State != "registrata" {
		t.Fatalf("status %+v, %v", st, err)
	}

	vars["LEGALMAIL_MAILBOX_TYPE"] = "PLATINUM"
	if _, err := side(t, vars); err == nil || !strings.Contains(err.Error(), "MailboxType") {
		t.Errorf("a mailbox type the document lacks: %v", err)
	}
	vars["PROVIDER_KIND"] = "infocert"
	if _, err := side(t, vars); err == nil || !strings.Contains(err.Error(), "legalmail") {
		t.Errorf("an unknown kind: %v", err)
	}
}
