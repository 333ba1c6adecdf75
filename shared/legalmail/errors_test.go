package legalmail

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
)

// canned answers every call with status and body, and counts the calls.
func canned(t *testing.T, status int, body string) (*Client, *int) {
	t.Helper()
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		calls++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, Attempts: 2, Backoff: time.Millisecond,
		Token: func(context.Context) (string, error) { return "t", nil }}, &calls
}

// Every status the document gives, and the others: for good, or worth trying again.
func TestErrors_EachStatusIsForGoodOrForLater(t *testing.T) {
	errBody := func(code int, message string) string {
		return `{"success":false,"message":"` + message + `","error":` + strconv.Itoa(code) + `,"data":null}`
	}
	for _, tc := range []struct {
		status    int
		body      string
		permanent bool
		code      int
		field     string
		calls     int
	}{
		{400, errBody(201, "Wrong id"), true, 201, "id", 1},
		{401, `{"success":false,"message":"Unauthorized","error":null,"data":null}`, true, 0, "", 1},
		{402, errBody(262, "Insufficient Credit in Wallet: 182.03"), false, 0, "", 1}, // topped up, it works: later, not at once
		{403, "", true, 0, "", 1},
		{404, errBody(326, "the domain pec.tsrm.org is non-existent in the system or belongs to someone else"), true, 326, "", 1},
		{406, errBody(242, "data_nascita_richiedente not valid, accepted format: dd/mm/yyyy"), true, 242, "data_nascita_richiedente", 1},
		{406, errBody(242, "Mario Rossi RSSMRA80A01H501U not valid"), true, 242, "", 1}, // free text is never kept
		{428, errBody(224, "tipo_casella required"), true, 224, "tipo_casella", 1},
		{409, "not json", true, 0, "", 1},
		{408, "", false, 0, "", 2},
		{429, "", false, 0, "", 2},
		{500, errBody(500, "internal"), false, 0, "", 2},
		{502, "", false, 0, "", 2},
		{503, errBody(402, "service temporarily unavailable"), false, 0, "", 2},
		{200, `{"success":false,"message":"x","error":1,"data":null}`, true, 0, "", 1},
		{200, `<html>`, true, 0, "", 1},
	} {
		cl, calls := canned(t, tc.status, tc.body)
		_, _, err := cl.api(t.Context(), "renew", http.MethodGet, "/pec/6045fdee3a716847a978a471/rinnovo", nil, nil)
		if got := errors.Is(err, app.ErrProviderRefused); got != tc.permanent || err == nil {
			t.Errorf("%d %s: permanent = %v (%v), want %v", tc.status, tc.body, got, err, tc.permanent)
		}
		var r *Refused
		if tc.permanent && (!errors.As(err, &r) || r.Code != tc.code || r.Field != tc.field || r.Status != tc.status) {
			t.Errorf("%d %s: %#v, want error %d field %q", tc.status, tc.body, err, tc.code, tc.field)
		}
		var u *ProviderUnavailable
		if !tc.permanent && (!errors.As(err, &u) || u.Status != tc.status) {
			t.Errorf("%d: %v, want ProviderUnavailable", tc.status, err)
		}
		if err != nil && (strings.Contains(err.Error(), "RSSMRA") || strings.Contains(err.Error(), "Rossi") || strings.Contains(err.Error(), "182")) {
			t.Errorf("%d: the error quotes the message: %v", tc.status, err)
		}
		if *calls != tc.calls {
			t.Errorf("%d: %d calls, want %d", tc.status, *calls, tc.calls)
		}
	}
}

func TestStatus_MapsLegalmailsStati(t *testing.T) {
	for stato, want := range map[string]string{
		StatoRegistrata: "", StatoInEvasione: "", StatoDocumentiErrati: "",
		StatoEvasa:                  app.ProviderCreated,
		StatoRegistrazioneAnnullata: app.ProviderRejected,
		StatoRevocata:               app.ProviderDeactivated, StatoChiusa: app.ProviderDeactivated,
		"sospesa": "", // not in the document: waited on, never a revocation
	} {
		if got := outcome(stato); got != want {
			t.Errorf("%s -> %q, want %q", stato, got, want)
		}
	}
}

func TestValidate_NamesTheSetting(t *testing.T) {
	tok := func(context.Context) (string, error) { return "t", nil }
	for _, tc := range []struct {
		c    *Client
		want string
	}{
		{&Client{BaseURL: "ftp://x"}, "BaseURL"},
		{&Client{BaseURL: "https://x"}, "token"},
		{&Client{BaseURL: "https://x", Token: tok, MailboxType: "PLATINUM"}, "MailboxType"},
	} {
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want it to name %s", tc.c.BaseURL, err, tc.want)
		}
	}
	if err := (&Client{BaseURL: "https://pec.openapi.it", Token: tok}).Validate(); err != nil {
		t.Error(err)
	}
}
