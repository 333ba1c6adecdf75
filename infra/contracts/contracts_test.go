package contracts

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func post(path, body string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "http://sim"+path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer t")
	return r
}

func TestAruba_TheDocumentAcceptsWhatArubaDocumentsAndRefusesTheRest(t *testing.T) {
	c := MustLoad(Aruba)
	for _, ok := range []*http.Request{
		post("/public/auth/v2/token", `{"username":"u","password":"p"}`),
		post("/public/partner/pec/v3/accounts", `{"name":"a.b@pec.tsrm.org","type":"EMAIL","ownerId":{"id":1},"renewalData":{"type":"S","duration":1}}`),
		post("/public/partner/pec/v3/accounts/info", `{"name":"a.b@pec.tsrm.org","loadExtraData":true}`),
		post("/public/partner/pec/v3/accounts/accountAvailable", `{"name":"a.b","domain":"pec.tsrm.org"}`),
	} {
		if err := c.Check(ok); err != nil {
			t.Errorf("%s refused: %v", ok.URL.Path, err)
		}
	}
	for _, tc := range []struct {
		req   *http.Request
		field string
	}{
		{post("/public/partner/pec/v3/accounts", `{"name":"a.b@pec.tsrm.org","type":"EMAIL","ownerId":{"id":1}}`), ""},
		{post("/public/partner/pec/v3/accounts", `{"name":"a.b@pec.tsrm.org","type":"EMAIL","ownerId":{"id":1},"renewalData":{"type":"X","duration":1}}`), "renewalData.type"},
		{post("/public/partner/pec/v3/accounts", `{"name":"a.b@pec.tsrm.org","type":"EMAIL","ownerId":{"id":1},"renewalData":{"type":"S","duration":9}}`), "renewalData.duration"},
		{post("/public/partner/pec/v2/owners", `{"userType":"PRIVATO","name":"","surname":"B","taxCode":"X"}`), "name"},
		{post("/public/partner/pec/v3/accounts/unknown", `{}`), ""},
	} {
		err := c.Check(tc.req)
		var v *Violation
		if !errors.As(err, &v) {
			t.Errorf("%s accepted: %v", tc.req.URL.Path, err)
			continue
		}
		if tc.field != "" && v.Field != tc.field {
			t.Errorf("%s: field %q (%v), want %q", tc.req.URL.Path, v.Field, v, tc.field)
		}
	}
}
