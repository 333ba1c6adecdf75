package arubasim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/arubasim"
	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/aruba"
)

const cf = "RSSMRA80A01H501U"

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T, o arubasim.Options) (*arubasim.Sim, *aruba.Client, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	o.Username, o.Password, o.Now = "partner", "secret", c.now
	sim := arubasim.New(o)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cl := &aruba.Client{BaseURL: srv.URL, Now: c.now, Attempts: 2, Backoff: time.Millisecond,
		Credentials: func(context.Context) (aruba.Credentials, error) {
			return aruba.Credentials{Username: "partner", Password: "secret"}, nil
		}}
	return sim, cl, c
}

func submit(address string) app.SubmitRequest {
	return app.SubmitRequest{RequestID: "mb-1", Address: address, Nome: "Mario", Cognome: "Rossi", CodiceFiscale: cf}
}

func TestAruba_CreatedThenCertifiedAsThePlatformAsks(t *testing.T) {
	sim, cl, clk := setup(t, arubasim.Options{Delay: time.Hour})
	ctx := t.Context()
	ref, err := cl.Submit(ctx, submit("mario.rossi@pec.tsrm.org"))
	if err != nil || ref != "mario.rossi@pec.tsrm.org" {
		t.Fatalf("submit = %q, %v", ref, err)
	}
	mb := app.ProviderMailbox{RequestID: "mb-1", Address: ref, ProviderRef: ref}
	if st, err := cl.Status(ctx, mb); err != nil || st.Outcome != "" || st.State != aruba.StatusToCertify {
		t.Fatalf("status before the delay = %+v, %v; want pending DA_CERTIFICARE", st, err)
	}
	clk.t = clk.t.Add(time.Hour)
	st, err := cl.Status(ctx, mb)
	if err != nil || st.Outcome != app.ProviderCreated || st.State != aruba.StatusCertified {
		t.Fatalf("status after the delay = %+v, %v; want created", st, err)
	}
	if st.Quota == nil || st.Quota.LimitBytes != 2<<30 || st.Quota.UsedBytes != 0 {
		t.Errorf("quota %+v, want 2 GB, none used", st.Quota)
	}
	sim.SetUsage(ref, 1)
	if st, _ := cl.Status(ctx, mb); st.Quota == nil || st.Quota.Percent() != 50 {
		t.Errorf("quota %+v, want half used", st.Quota)
	}
	// A retried submission finds the account instead of failing on its name.
	if again, err := cl.Submit(ctx, submit("mario.rossi@pec.tsrm.org")); err != nil || again != ref {
		t.Errorf("retried submit = %q, %v", again, err)
	}
	// A second mailbox of the same holder reuses the owner.
	if _, err := cl.Submit(ctx, submit("mario.rossi1@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	if got := sim.Requests(); len(got) != 2 || got[0].Kind != "submit" || got[0].RequestID != "" {
		t.Errorf("received %+v, want two creations", got)
	} else if want := []string{"name", "ownerId.id", "renewalData.duration", "renewalData.type", "type"}; !equal(got[0].Fields, want) {
		t.Errorf("fields %v, want %v", got[0].Fields, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAruba_CancellationRenewalAndAvailability(t *testing.T) {
	sim, cl, clk := setup(t, arubasim.Options{})
	ctx := t.Context()
	ref, err := cl.Submit(ctx, submit("mario.rossi@pec.tsrm.org"))
	if err != nil {
		t.Fatal(err)
	}
	mb := app.ProviderMailbox{Address: ref, ProviderRef: ref}
	until := clk.t.AddDate(3, 0, 0).Format("2006-01-02")
	for range 2 { // the second is a retry after a lost answer: not renewed twice
		if err := cl.Renew(ctx, app.RenewRequest{Address: ref, ProviderRef: ref, RenewalID: "r1", ValidUntil: until}); err != nil {
			t.Fatal(err)
		}
	}
	if got := sim.Requests(); len(got) != 2 || got[1].Kind != "renew" || got[1].ValidUntil != clk.t.AddDate(3, 0, 0).Format("2006-01-02") {
		t.Errorf("received %+v, want one renewal to %s", got, until)
	}

	if ok, err := cl.AddressAvailable(ctx, "anna.bianchi@pec.tsrm.org", app.ProviderHolder{CodiceFiscale: cf}); err != nil || !ok {
		t.Errorf("a free address: %v, %v", ok, err)
	}
	sim.Take("anna.bianchi@pec.tsrm.org")
	if ok, err := cl.AddressAvailable(ctx, "anna.bianchi@pec.tsrm.org", app.ProviderHolder{CodiceFiscale: cf}); err != nil || ok {
		t.Errorf("an address taken outside the platform: %v, %v", ok, err)
	}
	if ok, _ := cl.AddressAvailable(ctx, ref, app.ProviderHolder{CodiceFiscale: cf}); !ok {
		t.Error("the holder's own account is not available to them")
	}

	for range 2 { // cancelling twice is done once
		if err := cl.Deactivate(ctx, mb, "revoked"); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := cl.Status(ctx, mb); err != nil || st.Outcome != app.ProviderRejected {
		t.Errorf("status after cancellation = %+v, %v", st, err)
	}
	if err := cl.Renew(ctx, app.RenewRequest{Address: ref, ProviderRef: ref, ValidUntil: until}); !errors.Is(err, app.ErrProviderRefused) {
		t.Errorf("renewing a cancelled account: %v, want refused", err)
	}
}

func TestAruba_RefusalsAreForGoodAndOutagesAreNot(t *testing.T) {
	sim, cl, _ := setup(t, arubasim.Options{Reject: regexp.MustCompile(`^rifiutata\.`)})
	ctx := t.Context()
	_, err := cl.Submit(ctx, submit("rifiutata.rossi@pec.tsrm.org"))
	var r *aruba.Refused
	if !errors.As(err, &r) || !errors.Is(err, app.ErrProviderRefused) || r.Code != arubasim.CodeRefused || r.Status != 400 {
		t.Errorf("refused creation: %v", err)
	}
	bad := submit("mario.rossi@pec.tsrm.org")
	bad.CodiceFiscale = "RSSMRA80A01H501X"
	if _, err := cl.Submit(ctx, bad); !errors.As(err, &r) || r.Code != arubasim.CodeTaxCode || r.Field != "taxCode" {
		t.Errorf("a codice fiscale that is not valid: %v", err)
	}
	sim.Take("carla.verdi@pec.tsrm.org")
	if _, err := cl.Submit(ctx, submit("carla.verdi@pec.tsrm.org")); !errors.As(err, &r) || r.Code != arubasim.CodeExists {
		t.Errorf("an address taken outside: %v", err)
	}

	sim.SetDown(true)
	_, err = cl.Submit(ctx, submit("mario.rossi@pec.tsrm.org"))
	var u *aruba.Unavailable
	if !errors.As(err, &u) || errors.Is(err, app.ErrProviderRefused) || u.Status != 503 {
		t.Errorf("down: %v, want unavailable (retryable)", err)
	}
	sim.SetDown(false)

	cl2 := &aruba.Client{BaseURL: cl.BaseURL, Now: cl.Now, Attempts: 1,
		Credentials: func(context.Context) (aruba.Credentials, error) {
			return aruba.Credentials{Username: "partner", Password: "wrong"}, nil
		}}
	if _, err := cl2.Status(ctx, app.ProviderMailbox{Address: "x@pec.tsrm.org"}); !errors.As(err, &r) || r.Op != "token" || r.Status != 401 {
		t.Errorf("wrong password: %v", err)
	}
}

func TestAruba_AnExpiredTokenIsReplacedOnce(t *testing.T) {
	sim, cl, clk := setup(t, arubasim.Options{TokenTTL: time.Minute})
	ctx := t.Context()
	if _, err := cl.Submit(ctx, submit("mario.rossi@pec.tsrm.org")); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(2 * time.Minute) // refreshed before use
	if _, err := cl.Status(ctx, app.ProviderMailbox{Address: "mario.rossi@pec.tsrm.org"}); err != nil {
		t.Fatal(err)
	}
	sim.ExpireTokens() // revoked early: the 401 makes the client log in again
	if _, err := cl.Status(ctx, app.ProviderMailbox{Address: "mario.rossi@pec.tsrm.org"}); err != nil {
		t.Fatal(err)
	}
}

func TestAruba_TheStandInRefusesWhatTheDocumentRefuses(t *testing.T) {
	sim, _, _ := setup(t, arubasim.Options{})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	tok := login(t, srv.URL)
	for _, tc := range []struct{ path, body, field string }{
		{"/public/partner/pec/v3/accounts", `{"name":"a@pec.tsrm.org","type":"EMAIL","ownerId":{"id":1}}`, ""},
		{"/public/partner/pec/v3/accounts", `{"name":"a@pec.tsrm.org","type":"EMAIL","ownerId":{"id":1},"renewalData":{"type":"S","duration":6}}`, "renewalData.duration"},
		{"/public/partner/pec/v2/owners", `{"userType":"STUDENTE","name":"A","surname":"B","taxCode":"` + cf + `"}`, "userType"},
		{"/public/partner/pec/v3/accounts/accountAvailable", `{"name":"a"}`, ""},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+tc.path, bytes.NewBufferString(tc.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Version string `json:"version"`
			Errors  []struct {
				Code            string                 `json:"code"`
				ValidationError struct{ Field string } `json:"validationError"`
			} `json:"errors"`
		}
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != 400 || body.Version == "" || len(body.Errors) != 1 || body.Errors[0].Code != arubasim.CodeInvalid {
			t.Errorf("%s %s: %d %+v, want 400 with Aruba's error body", tc.path, tc.body, res.StatusCode, body)
			continue
		}
		if tc.field != "" && body.Errors[0].ValidationError.Field != tc.field {
			t.Errorf("%s: field %q, want %q", tc.body, body.Errors[0].ValidationError.Field, tc.field)
		}
	}
	// Without a token, nothing.
	res, _ := http.Post(srv.URL+"/public/partner/pec/v3/accounts/info", "application/json", bytes.NewBufferString(`{"name":"a@b.it"}`))
	if res.StatusCode != 401 {
		t.Errorf("no token: %d", res.StatusCode)
	}
}

func login(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Post(base+"/public/auth/v2/token", "application/json", bytes.NewBufferString(`{"username":"partner","password":"secret"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Data struct {
			AccessToken string `json:"accessToken"`
		} `json:"data"`
	}
	_ = json.NewDecoder(res.Body).Decode(&out)
	return out.Data.AccessToken
}
