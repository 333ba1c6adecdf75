package aruba

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
)

// canned answers every token request with a token and every other call with status and body.
func canned(t *testing.T, status int, body string) (*Client, *int) {
	t.Helper()
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(r.URL.Path, "/public/auth/") {
			io.WriteString(w, `{"version":"v2","data":{"accessToken":"a","expiresIn":300,"refreshToken":"r","refreshExpiresIn":3600,"tokenType":"Bearer"}}`)
			return
		}
		calls++
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, Attempts: 2, Backoff: time.Millisecond,
		Credentials: func(context.Context) (Credentials, error) { return Credentials{"u", "p"}, nil }}, &calls
}

func TestErrors_EachStatusIsForGoodOrForLater(t *testing.T) {
	const errBody = `{"version":"v2","errors":[{"code":"E042","description":"Mario Rossi RSSMRA80A01H501U non valido","validationError":{"field":"taxCode"}}]}`
	for _, tc := range []struct {
		status    int
		body      string
		permanent bool
		code      string
		calls     int
	}{
		{400, errBody, true, "E042", 1},
		{401, errBody, true, "E042", 2}, // a new token once, then refused
		{403, errBody, true, "E042", 1},
		{404, errBody, true, "E042", 1}, // renew of an unknown account (info answers 200 below)
		{409, `not json`, true, "", 1},
		{408, "", false, "", 2},
		{429, "", false, "", 2},
		{500, errBody, false, "", 2},
		{502, "", false, "", 2},
		{503, "", false, "", 2},
	} {
		cl, calls := canned(t, tc.status, tc.body)
		_, err := cl.call(t.Context(), "renew", "/public/partner/pec/v3/accounts/renew", map[string]string{"name": "a@b.it"}, nil, nil)
		if got := errors.Is(err, app.ErrProviderRefused); got != tc.permanent {
			t.Errorf("%d: permanent = %v (%v), want %v", tc.status, got, err, tc.permanent)
		}
		var r *Refused
		if tc.permanent && (!errors.As(err, &r) || r.Code != tc.code || r.Status != tc.status) {
			t.Errorf("%d: %v, want code %q", tc.status, err, tc.code)
		}
		if err != nil && (strings.Contains(err.Error(), "RSSMRA") || strings.Contains(err.Error(), "Rossi")) {
			t.Errorf("%d: the error quotes personal data: %v", tc.status, err)
		}
		if *calls != tc.calls {
			t.Errorf("%d: %d calls, want %d", tc.status, *calls, tc.calls)
		}
	}
}

func TestErrors_AnAnswerThatIsNotTheDocumentedJSONIsRefused(t *testing.T) {
	cl, _ := canned(t, 200, `{"version":"v2","data":"not an account"}`)
	if _, err := cl.Status(t.Context(), app.ProviderMailbox{Address: "a@b.it"}); !errors.Is(err, app.ErrProviderRefused) {
		t.Errorf("err = %v", err)
	}
}

func TestStatus_MapsArubasStatuses(t *testing.T) {
	for status, want := range map[string]string{
		StatusCertified: app.ProviderCreated, StatusToCertify: "", StatusCancellationRequested: app.ProviderDeactivated,
		StatusCancellationSuspended: app.ProviderDeactivated, "SOSPESO": app.ProviderRejected,
	} {
		if got := outcome(status); got != want {
			t.Errorf("%s -> %q, want %q", status, got, want)
		}
	}
}

func TestValidate_NamesTheSetting(t *testing.T) {
	for _, tc := range []struct {
		c    *Client
		want string
	}{
		{&Client{BaseURL: "ftp://x"}, "BaseURL"},
		{&Client{BaseURL: "https://x"}, "credentials"},
		{&Client{BaseURL: "https://x", Credentials: func(context.Context) (Credentials, error) { return Credentials{}, nil }, Years: 9}, "Years"},
	} {
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want it to name %s", tc.c.BaseURL, err, tc.want)
		}
	}
}
