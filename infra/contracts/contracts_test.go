package contracts

import (
	"encoding/json"
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

func request(method, path, body string) *http.Request {
	var r *http.Request
	if body == "" {
		r, _ = http.NewRequest(method, "http://sim"+path, nil)
	} else {
		r, _ = http.NewRequest(method, "http://sim"+path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer t")
	return r
}

// pecBody is a POST /pec body with every field the document requires, with one field changed
// (a nil value drops it).
func pecBody(field string, value any) string {
	m := map[string]any{
		"casella_pec": "mario.rossi@pec.tsrm.org", "tipo_casella": "DOMICILIODIGITALE", "tipo_cliente": "PS",
		"sottotipo_cliente": "X", "nome_richiedente": "Mario", "cognome_richiedente": "Rossi",
		"email": "mario@example.it", "telefono": "+393331234567", "codice_fiscale_richiedente": "RSSMRA80A01H501U",
		"data_nascita_richiedente": "01/01/1980", "sesso_richiedente": "M", "nazione_nascita_richiedente": "IT",
		"indirizzo_titolare": "Via Roma 1", "comune_titolare": "Roma", "cap_titolare": "00100",
		"nazione_titolare": "IT", "provincia_titolare": "RM",
		"callback": map[string]any{"url": "https://pec.example.it/v1/provider/legalmail/x", "method": "JSON"},
	}
	if field != "" {
		if value == nil {
			delete(m, field)
		} else {
			m[field] = value
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestLegalmail_TheDocumentAcceptsWhatOpenapiDocumentsAndRefusesTheRest(t *testing.T) {
	c := MustLoad(Legalmail)
	const id = "6045fdee3a716847a978a471"
	for _, ok := range []*http.Request{
		request("POST", "/pec", pecBody("", nil)),
		request("POST", "/pec", pecBody("callback", nil)), // the callback is optional
		request("GET", "/pec", ""),
		request("GET", "/pec/"+id, ""),
		request("DELETE", "/pec/"+id, ""),
		request("GET", "/pec/"+id+"/modulo_attivazione", ""),
		request("PATCH", "/pec/"+id+"/attivazione", `{"documenti":["JVBERi0x","JVBERi0x"]}`),
		request("PATCH", "/pec/"+id+"/attivazione", `{"documenti":"JVBERi0x"}`),
		request("GET", "/pec/"+id+"/rinnovo", ""),
		request("GET", "/pec/"+id+"/rinnovo?anni=2", ""),
		request("GET", "/verifica_pec/mario.rossi@pec.tsrm.org", ""),
	} {
		if err := c.Check(ok); err != nil {
			t.Errorf("%s %s refused: %v", ok.Method, ok.URL, err)
		}
	}
	for _, tc := range []struct {
		req     *http.Request
		field   string
		missing bool // Openapi answers a missing field 428, a wrong value 406
	}{
		{request("POST", "/pec", pecBody("telefono", nil)), "telefono", true},
		{request("POST", "/pec", pecBody("provincia_titolare", nil)), "provincia_titolare", true},
		{request("POST", "/pec", pecBody("tipo_casella", "PLATINUM")), "tipo_casella", false},
		{request("POST", "/pec", pecBody("tipo_cliente", "PROFESSIONISTA")), "tipo_cliente", false},
		{request("POST", "/pec", pecBody("sesso_richiedente", "X")), "sesso_richiedente", false},
		{request("POST", "/pec", pecBody("data_nascita_richiedente", "1980-01-01")), "data_nascita_richiedente", false},
		{request("POST", "/pec", pecBody("callback", map[string]any{"url": "https://x", "method": "PUT"})), "callback.method", false},
		{request("PATCH", "/pec/"+id+"/attivazione", `{"documenti":7}`), "documenti", false},
		{request("GET", "/pec/"+id+"/rinnovo?anni=due", ""), "anni", false},
		{request("PUT", "/pec/"+id, ""), "", false},
		{request("GET", "/comunica_pec", ""), "", false},
	} {
		err := c.Check(tc.req)
		var v *Violation
		if !errors.As(err, &v) {
			t.Errorf("%s %s accepted: %v", tc.req.Method, tc.req.URL, err)
			continue
		}
		if v.Field != tc.field || v.Missing != tc.missing {
			t.Errorf("%s %s: field %q, missing %v (%v); want %q, %v", tc.req.Method, tc.req.URL, v.Field, v.Missing, v, tc.field, tc.missing)
		}
	}
}
