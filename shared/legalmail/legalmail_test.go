package legalmail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/legalmailsim"
	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/legalmail"
)

const (
	token = "openapi-token"
	mario = "RSSMRA80A01H501U" // born 1 January 1980 in Rome
	laura = "BNCLRA85T41Z110C" // born 1 December 1985 in France (Z110)
	id1   = "0123456789abcdef0123456789abcdef"
)

// platform is the platform's callback route: it records what Legalmail calls it with.
type platform struct {
	mu    sync.Mutex
	calls []call
}

type call struct {
	MailboxID, ContentType string
	Body                   map[string]any
}

func (p *platform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	p.mu.Lock()
	p.calls = append(p.calls, call{MailboxID: strings.TrimPrefix(r.URL.Path, "/v1/provider/legalmail/"), ContentType: r.Header.Get("Content-Type"), Body: body})
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (p *platform) states(t *testing.T) []string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, c := range p.calls {
		data, _ := c.Body["data"].(map[string]any)
		stato, _ := data["stato"].(string)
		out = append(out, c.MailboxID+":"+stato)
	}
	return out
}

func (p *platform) first() call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[0]
}

type fixture struct {
	sim    *legalmailsim.Sim
	client *legalmail.Client
	hook   *platform
}

func setup(t *testing.T, o legalmailsim.Options) *fixture {
	t.Helper()
	o.Token, o.CallbackBackoff = token, time.Millisecond
	if o.Delay == 0 {
		o.Delay = 20 * time.Millisecond
	}
	f := &fixture{sim: legalmailsim.New(o), hook: &platform{}}
	t.Cleanup(f.sim.Close)
	api := httptest.NewServer(f.sim)
	t.Cleanup(api.Close)
	hooks := httptest.NewServer(f.hook)
	t.Cleanup(hooks.Close)
	f.client = &legalmail.Client{BaseURL: api.URL, Attempts: 2, Backoff: time.Millisecond,
		Token:       func(context.Context) (string, error) { return token, nil },
		CallbackURL: func(id string) string { return hooks.URL + "/v1/provider/legalmail/" + id },
		Now:         func() time.Time { return time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC) }}
	return f
}

func submit(address, cf string) app.SubmitRequest {
	return app.SubmitRequest{RequestID: id1, Address: address, Nome: "Mario", Cognome: "Rossi", CodiceFiscale: cf,
		Email: "mario.rossi@example.it", Phone: "+390583123456",
		Residence: &domain.Residence{Address: "Via Fillungo 1", City: "Lucca", PostCode: "55100", Province: "lu"}}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func pdfOf(text string) []byte {
	b, err := legalmailsim.ActivationForm("000000000000000000000000", text, "x@pec.tsrm.org", "STANDARD")
	if err != nil {
		panic(err)
	}
	return b
}

func TestSubmit_SendsWhatTheDocumentRequiresAndNothingElse(t *testing.T) {
	f := setup(t, legalmailsim.Options{})
	ref, err := f.client.Submit(t.Context(), submit("mario.rossi@pec.tsrm.org", mario))
	if err != nil || len(ref) != 24 {
		t.Fatalf("submit = %q, %v", ref, err)
	}
	got := f.sim.Requests()
	want := []string{"callback.method", "callback.url", "cap_titolare", "codice_fiscale_richiedente", "cognome_richiedente",
		"comune_titolare", "casella_pec", "data_nascita_richiedente", "email", "indirizzo_titolare", "nazione_nascita_richiedente",
		"nazione_titolare", "nome_richiedente", "provincia_titolare", "sesso_richiedente", "sottotipo_cliente", "telefono",
		"tipo_casella", "tipo_cliente"}
	if len(got) != 1 || got[0].Kind != "submit" || got[0].ProviderRef != ref || !slices.Equal(got[0].Fields, slices.Sorted(slices.Values(want))) {
		t.Fatalf("received %+v\nwant fields %v", got, slices.Sorted(slices.Values(want)))
	}
	st, err := f.client.Status(t.Context(), app.ProviderMailbox{RequestID: id1, Address: "mario.rossi@pec.tsrm.org", ProviderRef: ref})
	if err != nil || st.Outcome != "" || st.State != legalmail.StatoRegistrata || st.ProviderRef != ref {
		t.Errorf("status = %+v, %v; want pending, registrata", st, err)
	}
}

// The values Legalmail checks against the codice fiscale: the stand-in refuses a date or a sex
// that disagree with it, as InfoCert would.
func TestSubmit_BirthFactsComeFromTheCodiceFiscale(t *testing.T) {
	for _, tc := range []struct {
		cf, date, sex, country string
	}{
		{mario, "01/01/1980", "M", "IT"},
		{laura, "01/12/1985", "F", "Z110"}, // born abroad: the country's code from the codice fiscale
	} {
		var got map[string]any
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewDecoder(r.Body).Decode(&got)
			io.WriteString(w, `{"success":true,"message":"","error":null,"data":{"id":"6045fdee3a716847a978a471","stato":"registrata"}}`)
		}))
		c := &legalmail.Client{BaseURL: srv.URL, Token: func(context.Context) (string, error) { return token, nil },
			Now: func() time.Time { return time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC) }}
		if _, err := c.Submit(t.Context(), submit("a.b@pec.tsrm.org", tc.cf)); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if got["data_nascita_richiedente"] != tc.date || got["sesso_richiedente"] != tc.sex || got["nazione_nascita_richiedente"] != tc.country ||
			got["tipo_casella"] != legalmail.DefaultMailboxType || got["tipo_cliente"] != "PS" || got["sottotipo_cliente"] != "X" ||
			got["provincia_titolare"] != "LU" || got["nazione_titolare"] != "IT" || got["callback"] != nil {
			t.Errorf("%s: sent %v", tc.cf[:6], got)
		}
	}
	f := setup(t, legalmailsim.Options{})
	if _, err := f.client.Submit(t.Context(), submit("laura.bianchi@pec.tsrm.org", laura)); err != nil {
		t.Errorf("the stand-in refused a holder born abroad: %v", err)
	}
}

func TestSubmit_WithoutPhoneOrResidenceIsRefusedWithoutACall(t *testing.T) {
	f := setup(t, legalmailsim.Options{})
	for field, change := range map[string]func(*app.SubmitRequest){
		"telefono":  func(r *app.SubmitRequest) { r.Phone = "" },
		"residenza": func(r *app.SubmitRequest) { r.Residence = nil },
		"email":     func(r *app.SubmitRequest) { r.Email = "" },
		"residenza.cap": func(r *app.SubmitRequest) {
			r.Residence = &domain.Residence{Address: "Via Roma 1", City: "Lucca", PostCode: "551", Province: "LU"}
		},
		"codice_fiscale_richiedente": func(r *app.SubmitRequest) { r.CodiceFiscale = "RSSMRA80A01H501X" },
	} {
		r := submit("mario.rossi@pec.tsrm.org", mario)
		change(&r)
		_, err := f.client.Submit(t.Context(), r)
		var ref *legalmail.Refused
		if !errors.As(err, &ref) || !errors.Is(err, app.ErrProviderRefused) || ref.Field != field || ref.Status != 0 {
			t.Errorf("without %s: %v", field, err)
		}
		if strings.Contains(err.Error(), "RSSMRA") {
			t.Errorf("the error quotes the codice fiscale: %v", err)
		}
	}
	if n := len(f.sim.Requests()) + f.sim.Refused(); n != 0 {
		t.Errorf("%d calls reached Legalmail", n)
	}
}

func TestSubmit_ARetryAfterALostAnswerFindsTheMailbox(t *testing.T) {
	f := setup(t, legalmailsim.Options{})
	ctx := t.Context()
	ref, err := f.client.Submit(ctx, submit("mario.rossi@pec.tsrm.org", mario))
	if err != nil {
		t.Fatal(err)
	}
	// The same request again (its answer lost): Legalmail refuses the address, the client finds
	// its own registration.
	again, err := f.client.Submit(ctx, submit("mario.rossi@pec.tsrm.org", mario))
	if err != nil || again != ref {
		t.Fatalf("retried submit = %q, %v; want %q", again, err, ref)
	}
	if n := len(f.sim.Requests()); n != 1 {
		t.Errorf("%d registrations, want 1", n)
	}
	// Another request for the address (another mailbox id), or an address taken outside, is
	// refused for good.
	other := submit("mario.rossi@pec.tsrm.org", mario)
	other.RequestID = "fedcba9876543210fedcba9876543210"
	if _, err := f.client.Submit(ctx, other); !errors.Is(err, app.ErrProviderRefused) {
		t.Errorf("another request's address: %v", err)
	}
	f.sim.Take("carla.verdi@pec.tsrm.org")
	_, err = f.client.Submit(ctx, submit("carla.verdi@pec.tsrm.org", mario))
	var r *legalmail.Refused
	if !errors.As(err, &r) || r.Status != http.StatusNotAcceptable {
		t.Errorf("an address taken outside: %v", err)
	}
}

func TestLifecycle_DocumentsThenEvasaThenRevoked_EachChangeCalledBack(t *testing.T) {
	f := setup(t, legalmailsim.Options{Delay: 30 * time.Millisecond})
	ctx := t.Context()
	ref, err := f.client.Submit(ctx, submit("mario.rossi@pec.tsrm.org", mario))
	if err != nil {
		t.Fatal(err)
	}
	mb := app.ProviderMailbox{RequestID: id1, Address: "mario.rossi@pec.tsrm.org", ProviderRef: ref}
	form, err := f.client.ActivationForm(ctx, mb)
	if err != nil || !bytes.HasPrefix(form, []byte("%PDF-")) {
		t.Fatalf("form: %d bytes, %v", len(form), err)
	}
	// The member's scan of their identity card, as a PNG: Legalmail takes PDFs only, and one
	// PDF for a DOMICILIODIGITALE mailbox.
	if err := f.client.SendActivationDocuments(ctx, mb, form, scan(), "image/png"); err != nil {
		t.Fatal(err)
	}
	if got := f.sim.Requests(); len(got) != 2 || got[1].Kind != "activate" || len(got[1].Documents) != 1 {
		t.Fatalf("received %+v, want one joined document", got)
	}
	if err := f.client.SendActivationDocuments(ctx, mb, form, scan(), "image/png"); err != nil {
		t.Errorf("sent again (a retry): %v", err)
	}
	eventually(t, "evasa", func() bool {
		st, err := f.client.Status(ctx, mb)
		return err == nil && st.Outcome == app.ProviderCreated && st.State == legalmail.StatoEvasa
	})
	if err := f.client.Deactivate(ctx, mb, "revoked"); err != nil {
		t.Fatal(err)
	}
	if err := f.client.Deactivate(ctx, mb, "revoked"); err != nil {
		t.Errorf("revoked twice: %v", err)
	}
	st, err := f.client.Status(ctx, mb)
	if err != nil || st.Outcome != app.ProviderDeactivated || st.Reason != legalmail.StatoRevocata {
		t.Errorf("status after the revocation = %+v, %v", st, err)
	}
	want := []string{id1 + ":in_evasione", id1 + ":evasa", id1 + ":revocata"}
	eventually(t, "three callbacks", func() bool { return len(f.hook.states(t)) == 3 })
	if got := f.hook.states(t); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("callbacks %v, want %v", got, want)
	}
	if c := f.hook.first(); c.ContentType != "application/json" {
		t.Errorf("callback content type %q, want JSON as registered", c.ContentType)
	}
}

// scan is a small PNG, as a phone photographs an identity card.
func scan() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	for x := range 320 {
		img.Set(x, x*200/320, color.Black)
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func TestActivation_TwoDocumentsForAStandardMailboxAndWrongDocumentsSentAgain(t *testing.T) {
	f := setup(t, legalmailsim.Options{Delay: time.Hour})
	f.client.MailboxType = "STANDARD"
	ctx := t.Context()
	ref, err := f.client.Submit(ctx, submit("mario.rossi@pec.tsrm.org", mario))
	if err != nil {
		t.Fatal(err)
	}
	mb := app.ProviderMailbox{Address: "mario.rossi@pec.tsrm.org", ProviderRef: ref}
	if err := f.client.SendActivationDocuments(ctx, mb, pdfOf("form"), pdfOf("identity"), "application/pdf"); err != nil {
		t.Fatal(err)
	}
	if got := f.sim.Requests(); len(got[1].Documents) != 2 {
		t.Errorf("documents %+v, want the form and the identity apart", got[1].Documents)
	}
	// InfoCert finds them wrong: the status waits, and the documents may be sent again.
	if err := f.sim.SetStato(ref, legalmailsim.DocumentiErrati); err != nil {
		t.Fatal(err)
	}
	if st, err := f.client.Status(ctx, mb); err != nil || st.Outcome != "" || st.State != legalmail.StatoDocumentiErrati {
		t.Errorf("status = %+v, %v; want pending documenti_errati", st, err)
	}
	if err := f.client.SendActivationDocuments(ctx, mb, pdfOf("form"), pdfOf("identity"), "application/pdf"); err != nil {
		t.Errorf("sent again: %v", err)
	}
	// What Legalmail does not take is refused before it is sent.
	for _, tc := range []struct {
		identity []byte
		typ      string
	}{
		{[]byte("plain text"), "text/plain"},
		{pdfOf("identity"), "image/jpeg"}, // declared as one thing, is another
	} {
		err := f.client.SendActivationDocuments(ctx, mb, pdfOf("form"), tc.identity, tc.typ)
		var r *legalmail.Refused
		if !errors.As(err, &r) || r.Field != "identity" {
			t.Errorf("%s: %v", tc.typ, err)
		}
	}
}

func TestStatus_AnnulledRegistrationIsARejectionAndAnUnknownOneToo(t *testing.T) {
	f := setup(t, legalmailsim.Options{Reject: regexp.MustCompile(`^rifiutata\.`)})
	ctx := t.Context()
	ref, err := f.client.Submit(ctx, submit("rifiutata.rossi@pec.tsrm.org", mario))
	if err != nil {
		t.Fatal(err)
	}
	mb := app.ProviderMailbox{Address: "rifiutata.rossi@pec.tsrm.org", ProviderRef: ref}
	eventually(t, "registrazione_annullata", func() bool {
		st, err := f.client.Status(ctx, mb)
		return err == nil && st.Outcome == app.ProviderRejected && st.State == legalmail.StatoRegistrazioneAnnullata
	})
	eventually(t, "its callback", func() bool { return len(f.hook.states(t)) == 1 })
	// A registration that was never activated has nothing to revoke.
	if err := f.client.Deactivate(ctx, mb, "revoked"); err != nil {
		t.Errorf("revoking an annulled registration: %v", err)
	}
	unknown := app.ProviderMailbox{Address: "x@pec.tsrm.org", ProviderRef: "6045fdee3a716847a978a471"}
	if st, err := f.client.Status(ctx, unknown); err != nil || st.Outcome != app.ProviderRejected || st.State != "not_found" {
		t.Errorf("unknown: %+v, %v", st, err)
	}
	if err := f.client.Deactivate(ctx, unknown, "revoked"); err != nil {
		t.Errorf("revoking an unknown mailbox: %v", err)
	}
	if st, err := f.client.Status(ctx, app.ProviderMailbox{Address: "nessuno@pec.tsrm.org"}); err != nil || st.Outcome != app.ProviderRejected {
		t.Errorf("no reference, no mailbox: %+v, %v", st, err)
	}
	if err := f.sim.SetStato(ref, legalmailsim.Chiusa); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.client.Status(ctx, mb); st.Outcome != app.ProviderDeactivated {
		t.Errorf("chiusa: %+v", st)
	}
}

func TestDeactivate_WhileTheDocumentsAreCheckedWaitsUntilActive(t *testing.T) {
	f := setup(t, legalmailsim.Options{Delay: time.Hour})
	ctx := t.Context()
	ref, err := f.client.Submit(ctx, submit("mario.rossi@pec.tsrm.org", mario))
	if err != nil {
		t.Fatal(err)
	}
	mb := app.ProviderMailbox{Address: "mario.rossi@pec.tsrm.org", ProviderRef: ref}
	if err := f.client.Deactivate(ctx, mb, "revoked"); err != nil {
		t.Errorf("revoking a mailbox never activated: %v", err)
	}
	if err := f.client.SendActivationDocuments(ctx, mb, pdfOf("form"), pdfOf("identity"), "application/pdf"); err != nil {
		t.Fatal(err)
	}
	err = f.client.Deactivate(ctx, mb, "revoked")
	var u *legalmail.ProviderUnavailable
	if !errors.As(err, &u) || errors.Is(err, app.ErrProviderRefused) {
		t.Errorf("revoking in_evasione: %v, want to be tried again later", err)
	}
	if err := f.sim.SetStato(ref, legalmailsim.Evasa); err != nil {
		t.Fatal(err)
	}
	if err := f.client.Deactivate(ctx, mb, "revoked"); err != nil {
		t.Fatal(err)
	}
	if _, stato, _ := f.sim.Find(mb.Address); stato != legalmailsim.Revocata {
		t.Errorf("stato %s, want revocata", stato)
	}
}

func TestRenew_OnceUpToTheNewExpiryAndNeverARevokedMailbox(t *testing.T) {
	f := setup(t, legalmailsim.Options{Delay: time.Millisecond})
	ctx := t.Context()
	ref, err := f.client.Submit(ctx, submit("mario.rossi@pec.tsrm.org", mario))
	if err != nil {
		t.Fatal(err)
	}
	mb := app.ProviderMailbox{Address: "mario.rossi@pec.tsrm.org", ProviderRef: ref}
	if err := f.client.SendActivationDocuments(ctx, mb, pdfOf("form"), pdfOf("identity"), "application/pdf"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "evasa", func() bool { _, s, _ := f.sim.Find(mb.Address); return s == legalmailsim.Evasa })
	// evasa today, for a year (the stand-in's clock is the real one): renewed to three years.
	until := time.Now().AddDate(3, 0, 0).Format(time.DateOnly)
	for range 2 { // the second is a retry after a lost answer
		if err := f.client.Renew(ctx, app.RenewRequest{Address: mb.Address, ProviderRef: ref, RenewalID: "r1", ValidUntil: until}); err != nil {
			t.Fatal(err)
		}
	}
	var renewals []string
	for _, r := range f.sim.Requests() {
		if r.Kind == "renew" {
			renewals = append(renewals, r.ValidUntil)
		}
	}
	if len(renewals) != 1 || renewals[0] != until {
		t.Errorf("renewals %v, want one to %s", renewals, until)
	}
	if err := f.client.Deactivate(ctx, mb, "revoked"); err != nil {
		t.Fatal(err)
	}
	later := time.Now().AddDate(5, 0, 0).Format(time.DateOnly)
	if err := f.client.Renew(ctx, app.RenewRequest{Address: mb.Address, ProviderRef: ref, ValidUntil: later}); !errors.Is(err, app.ErrProviderRefused) {
		t.Errorf("renewing a revoked mailbox: %v, want refused (rinnovo would re-activate it)", err)
	}
	if _, s, _ := f.sim.Find(mb.Address); s != legalmailsim.Revocata {
		t.Errorf("stato %s, want still revocata", s)
	}
}

func TestOutage_IsRetriedThenUnavailable(t *testing.T) {
	f := setup(t, legalmailsim.Options{})
	f.sim.SetDown(true)
	_, err := f.client.Submit(t.Context(), submit("mario.rossi@pec.tsrm.org", mario))
	var u *legalmail.ProviderUnavailable
	if !errors.As(err, &u) || errors.Is(err, app.ErrProviderRefused) || u.Status != 503 {
		t.Errorf("down: %v, want unavailable", err)
	}
	if n := f.sim.Refused(); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	f.sim.SetDown(false)
	wrong := *f.client
	wrong.Token = func(context.Context) (string, error) { return "stolen", nil }
	_, err = wrong.Status(t.Context(), app.ProviderMailbox{ProviderRef: "6045fdee3a716847a978a471"})
	var r *legalmail.Refused
	if !errors.As(err, &r) || r.Status != 401 {
		t.Errorf("wrong token: %v", err)
	}
}
