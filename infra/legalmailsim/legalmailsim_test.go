package legalmailsim_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"
	"github.com/pecplatform/pec/infra/legalmailsim"
)

const token = "local-openapi-token"

// hook is the platform's callback route, as the stand-in calls it.
type hook struct {
	mu    sync.Mutex
	calls []*http.Request
	forms []url.Values
	jsons []map[string]any
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, r)
	form, _ := url.ParseQuery(string(b))
	var js map[string]any
	_ = json.Unmarshal(b, &js)
	h.forms, h.jsons = append(h.forms, form), append(h.jsons, js)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}

type env struct {
	sim  *legalmailsim.Sim
	api  string
	hook *hook
	hurl string
}

func start(t *testing.T, o legalmailsim.Options) *env {
	t.Helper()
	o.Token, o.CallbackBackoff = token, time.Millisecond
	e := &env{sim: legalmailsim.New(o), hook: &hook{}}
	t.Cleanup(e.sim.Close)
	api := httptest.NewServer(e.sim)
	t.Cleanup(api.Close)
	hs := httptest.NewServer(e.hook)
	t.Cleanup(hs.Close)
	e.api, e.hurl = api.URL, hs.URL
	return e
}

type answer struct {
	Status      int
	ContentType string
	Raw         []byte
	Success     bool            `json:"success"`
	Message     string          `json:"message"`
	Error       *int            `json:"error"`
	Data        json.RawMessage `json:"data"`
}

func (e *env) call(t *testing.T, method, path string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		if s, ok := body.(string); ok {
			b = []byte(s)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.api+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a := answer{Status: res.StatusCode, ContentType: res.Header.Get("Content-Type")}
	a.Raw, _ = io.ReadAll(res.Body)
	_ = json.Unmarshal(a.Raw, &a)
	return a
}

func (a answer) code() int {
	if a.Error == nil {
		return 0
	}
	return *a.Error
}

func (a answer) casella(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.Data, &m); err != nil {
		t.Fatalf("data %s: %v", a.Raw, err)
	}
	return m
}

// registration is a POST /pec body with every required field; change alters it (nil drops).
func registration(change map[string]any) map[string]any {
	m := map[string]any{
		"casella_pec": "mario.rossi@pec.tsrm.org", "tipo_casella": "STANDARD", "tipo_cliente": "PS",
		"sottotipo_cliente": "X", "nome_richiedente": "Mario", "cognome_richiedente": "Rossi",
		"email": "mario@example.it", "telefono": "+390583123456", "codice_fiscale_richiedente": "RSSMRA80A01H501U",
		"data_nascita_richiedente": "01/01/1980", "sesso_richiedente": "M", "nazione_nascita_richiedente": "IT",
		"indirizzo_titolare": "Via Roma 1", "comune_titolare": "Lucca", "cap_titolare": "55100",
		"nazione_titolare": "IT", "provincia_titolare": "LU",
	}
	for k, v := range change {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestStandIn_RefusesWhatTheDocumentRefusesWithItsStatusAndBody(t *testing.T) {
	e := start(t, legalmailsim.Options{})
	for _, tc := range []struct {
		name         string
		method, path string
		body         any
		status, code int
		message      string
	}{
		{"a required field missing", "POST", "/pec", registration(map[string]any{"telefono": nil}), 428, legalmailsim.CodeRequired, "telefono required"},
		{"a value not in the enum", "POST", "/pec", registration(map[string]any{"tipo_casella": "PLATINUM"}), 406, legalmailsim.CodeNotValid, "tipo_casella not valid"},
		{"a date not dd/mm/yyyy", "POST", "/pec", registration(map[string]any{"data_nascita_richiedente": "1980-01-01"}), 406, legalmailsim.CodeNotValid, "data_nascita_richiedente not valid"},
		{"a date the calendar lacks", "POST", "/pec", registration(map[string]any{"data_nascita_richiedente": "31/02/1980"}), 406, legalmailsim.CodeNotValid, "data_nascita_richiedente not valid, accepted format: dd/mm/yyyy"},
		{"a sex the code denies", "POST", "/pec", registration(map[string]any{"sesso_richiedente": "F"}), 406, legalmailsim.CodeNotValid, "codice_fiscale_richiedente not valid"},
		{"not an address", "POST", "/pec", registration(map[string]any{"casella_pec": "mario.rossi"}), 406, legalmailsim.CodeNotValid, "casella_pec not valid"},
		{"a callback method not documented", "POST", "/pec", registration(map[string]any{"callback": map[string]any{"url": "https://x.it/cb", "method": "PUT"}}), 406, legalmailsim.CodeNotValid, "callback.method not valid"},
		{"a malformed id", "GET", "/pec/123", nil, 400, legalmailsim.CodeWrongID, "Wrong id"},
		{"an unknown id", "GET", "/pec/6045fdee3a716847a978a471", nil, 404, legalmailsim.CodeNotFound, "no pec found"},
		{"revoking an unknown id", "DELETE", "/pec/6045fdee3a716847a978a471", nil, 404, legalmailsim.CodeRevokeFound, "no pec found"},
		{"documents of the wrong type", "PATCH", "/pec/6045fdee3a716847a978a471/attivazione", `{"documenti":7}`, 406, legalmailsim.CodeNotValid, "documenti not valid"},
		{"no mailbox yet", "GET", "/pec", nil, 404, legalmailsim.CodeListEmpty, "no pec linked to this account"},
		{"not an address to verify", "GET", "/verifica_pec/nobody", nil, 406, legalmailsim.CodeVerifyInvalid, "invalid casella_pec"},
		{"a path the document lacks", "GET", "/comunica_pec", nil, 404, 0, "not found"},
	} {
		a := e.call(t, tc.method, tc.path, tc.body)
		if a.Status != tc.status || a.Success || a.code() != tc.code || a.Message != tc.message || string(a.Data) != "null" {
			t.Errorf("%s: %d %s, want %d {success:false, message:%q, error:%d, data:null}", tc.name, a.Status, a.Raw, tc.status, tc.message, tc.code)
		}
	}
	req, _ := http.NewRequest("GET", e.api+"/pec", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != 401 {
		t.Errorf("a wrong token: %d", res.StatusCode)
	}
	if res, _ := http.Get(e.api + "/pec"); res.StatusCode != 401 {
		t.Errorf("no token: %d", res.StatusCode)
	}
	if got := e.sim.Requests(); len(got) != 0 {
		t.Errorf("accepted %+v", got)
	}
}

func TestStandIn_RegistersOnceAnAddressAndAnswersItsForm(t *testing.T) {
	e := start(t, legalmailsim.Options{})
	a := e.call(t, "POST", "/pec", registration(nil))
	c := a.casella(t)
	id, _ := c["id"].(string)
	if a.Status != 200 || !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) || c["stato"] != legalmailsim.Registrata ||
		c["casella_pec"] != "mario.rossi@pec.tsrm.org" || c["dominio"] != "pec.tsrm.org" {
		t.Fatalf("registration: %d %s", a.Status, a.Raw)
	}
	if a := e.call(t, "POST", "/pec", registration(nil)); a.Status != 406 || a.code() != legalmailsim.CodeTaken {
		t.Errorf("the same address again: %d %s", a.Status, a.Raw)
	}
	var avail struct{ Available bool }
	_ = json.Unmarshal(e.call(t, "GET", "/verifica_pec/mario.rossi@pec.tsrm.org", nil).Data, &avail)
	if avail.Available {
		t.Error("a registered address is available")
	}
	_ = json.Unmarshal(e.call(t, "GET", "/verifica_pec/anna.verdi@pec.tsrm.org", nil).Data, &avail)
	if !avail.Available {
		t.Error("a free address is not available")
	}
	var list []map[string]any
	if a := e.call(t, "GET", "/pec", nil); a.Status != 200 || json.Unmarshal(a.Data, &list) != nil || len(list) != 1 || list[0]["id"] != id {
		t.Errorf("list: %d %s", a.Status, a.Raw)
	}

	form := e.call(t, "GET", "/pec/"+id+"/modulo_attivazione", nil)
	if form.Status != 200 || form.ContentType != "application/pdf" {
		t.Fatalf("form: %d %s", form.Status, form.ContentType)
	}
	r, err := pdf.NewReader(bytes.NewReader(form.Raw), int64(len(form.Raw)))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := r.Page(1).GetPlainText(nil)
	for _, want := range []string{"Modulo di attivazione", "Mario Rossi", "mario.rossi@pec.tsrm.org", id} {
		if !strings.Contains(text, want) {
			t.Errorf("the form lacks %q: %q", want, text)
		}
	}
	if a := e.call(t, "GET", "/pec/6045fdee3a716847a978a471/modulo_attivazione", nil); a.Status != 404 || !strings.HasPrefix(a.ContentType, "text/plain") {
		t.Errorf("the form of an unknown id: %d %s", a.Status, a.ContentType)
	}
	if got := e.sim.Requests(); len(got) != 1 || got[0].Kind != "submit" || strings.Contains(strings.Join(got[0].Fields, ","), "RSSMRA") {
		t.Errorf("received %+v", got)
	}
}

func TestStandIn_DocumentsThenEvasaOrDocumentiErrati_CallingBackEachChange(t *testing.T) {
	e := start(t, legalmailsim.Options{Delay: 20 * time.Millisecond})
	reg := registration(map[string]any{"callback": map[string]any{"url": e.hurl + "/cb/1", "field": "casella", "data": map[string]any{"ours": "x1"}}})
	id, _ := e.call(t, "POST", "/pec", reg).casella(t)["id"].(string)
	doc, _ := legalmailsim.ActivationForm(id, "Mario Rossi", "mario.rossi@pec.tsrm.org", "STANDARD")

	if a := e.call(t, "DELETE", "/pec/"+id, nil); a.Status != 428 || a.code() != legalmailsim.CodeRevokeState {
		t.Errorf("revoking a registrata mailbox: %d %s", a.Status, a.Raw)
	}
	if a := e.call(t, "PATCH", "/pec/"+id+"/attivazione", map[string]any{"documenti": []string{b64([]byte("\xff\xd8\xff a JPEG")), b64(doc)}}); a.Status != 406 || a.code() != legalmailsim.CodeNotPDF {
		t.Errorf("an image: %d %s", a.Status, a.Raw)
	}
	if a := e.call(t, "PATCH", "/pec/"+id+"/attivazione", map[string]any{"documenti": []string{}}); a.Status != 428 || a.code() != legalmailsim.CodeDocsRequired {
		t.Errorf("no documents: %d %s", a.Status, a.Raw)
	}
	// One document for a STANDARD mailbox: taken, then found wrong by the review.
	if a := e.call(t, "PATCH", "/pec/"+id+"/attivazione", map[string]any{"documenti": b64(doc)}); a.Status != 200 || a.casella(t)["stato"] != legalmailsim.InEvasione {
		t.Fatalf("documents: %d %s", a.Status, a.Raw)
	}
	if a := e.call(t, "PATCH", "/pec/"+id+"/attivazione", map[string]any{"documenti": b64(doc)}); a.Status != 428 || a.code() != legalmailsim.CodeActivateState {
		t.Errorf("documents while in_evasione: %d %s", a.Status, a.Raw)
	}
	eventually(t, "documenti_errati", func() bool {
		_, s, _ := e.sim.Find("mario.rossi@pec.tsrm.org")
		return s == legalmailsim.DocumentiErrati
	})
	// Both, apart: evasa.
	if a := e.call(t, "PATCH", "/pec/"+id+"/attivazione", map[string]any{"documenti": []string{b64(doc), b64(doc)}}); a.Status != 200 {
		t.Fatalf("documents again: %d %s", a.Status, a.Raw)
	}
	eventually(t, "evasa", func() bool { _, s, _ := e.sim.Find("mario.rossi@pec.tsrm.org"); return s == legalmailsim.Evasa })
	c := e.call(t, "GET", "/pec/"+id, nil).casella(t)
	if c["data_scadenza"] == "" || c["data_attivazione"] == "" || len(c["documenti_attivazione"].([]any)) != 2 {
		t.Errorf("evasa: %v", c)
	}
	if a := e.call(t, "GET", "/pec/"+id+"/rinnovo?anni=2", nil); a.Status != 200 {
		t.Errorf("renewal: %d %s", a.Status, a.Raw)
	}
	if a := e.call(t, "DELETE", "/pec/"+id, nil); a.Status != 200 || a.casella(t)["stato"] != legalmailsim.Revocata {
		t.Errorf("revocation: %d %s", a.Status, a.Raw)
	}
	if a := e.call(t, "DELETE", "/pec/"+id, nil); a.Status != 406 || a.code() != legalmailsim.CodeRevoked {
		t.Errorf("revoked twice: %d %s", a.Status, a.Raw)
	}

	want := []string{legalmailsim.InEvasione, legalmailsim.DocumentiErrati, legalmailsim.InEvasione, legalmailsim.Evasa, legalmailsim.Revocata}
	eventually(t, "the callbacks", func() bool { return e.hook.count() == len(want) })
	e.hook.mu.Lock()
	defer e.hook.mu.Unlock()
	for i, f := range e.hook.forms {
		// method POST (the default): form fields, the mailbox under the field asked for, the
		// caller's own data beside it.
		var m map[string]any
		_ = json.Unmarshal([]byte(f.Get("casella")), &m)
		r := e.hook.calls[i]
		if r.URL.Path != "/cb/1" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || f.Get("ours") != "x1" || m["stato"] != want[i] || m["id"] != id {
			t.Errorf("callback %d: %s %s %v, want %s", i, r.URL.Path, r.Header.Get("Content-Type"), f, want[i])
		}
	}
	kinds := []string{}
	for _, r := range e.sim.Requests() {
		kinds = append(kinds, r.Kind)
	}
	if got := strings.Join(kinds, " "); got != "submit activate activate renew deactivate" {
		t.Errorf("received %s", got)
	}
}

func TestStandIn_AnnulsARejectedAddressAndObeysTheControlEndpoint(t *testing.T) {
	e := start(t, legalmailsim.Options{Delay: 10 * time.Millisecond, Reject: regexp.MustCompile(`^rifiutata\.`)})
	cb := map[string]any{"url": e.hurl + "/cb", "method": "JSON"}
	rej, _ := e.call(t, "POST", "/pec", registration(map[string]any{"casella_pec": "rifiutata.rossi@pec.tsrm.org", "callback": cb})).casella(t)["id"].(string)
	eventually(t, "registrazione_annullata", func() bool {
		_, s, ok := e.sim.Find("rifiutata.rossi@pec.tsrm.org")
		return !ok && e.call(t, "GET", "/pec/"+rej, nil).casella(t)["stato"] == legalmailsim.RegistrazioneAnnullata && s == ""
	})
	eventually(t, "its callback", func() bool { return e.hook.count() == 1 })
	e.hook.mu.Lock()
	if r := e.hook.calls[0]; r.Header.Get("Content-Type") != "application/json" || e.hook.jsons[0]["data"].(map[string]any)["stato"] != legalmailsim.RegistrazioneAnnullata {
		t.Errorf("callback: %s %v", r.Header.Get("Content-Type"), e.hook.jsons[0])
	}
	e.hook.mu.Unlock()

	id, _ := e.call(t, "POST", "/pec", registration(map[string]any{"callback": cb})).casella(t)["id"].(string)
	res, err := http.Post(e.api+"/_sim/pec/"+id+"/stato", "application/json", strings.NewReader(`{"stato":"documenti_errati"}`))
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("control: %v %v", res, err)
	}
	if s := e.call(t, "GET", "/pec/"+id, nil).casella(t)["stato"]; s != legalmailsim.DocumentiErrati {
		t.Errorf("stato %v", s)
	}
	if res, _ := http.Post(e.api+"/_sim/pec/"+id+"/stato", "application/json", strings.NewReader(`{"stato":"sospesa"}`)); res.StatusCode != 404 {
		t.Errorf("a stato the document lacks: %d", res.StatusCode)
	}
	eventually(t, "the second callback", func() bool { return e.hook.count() == 2 })

	e.sim.SetDown(true)
	if a := e.call(t, "GET", "/pec", nil); a.Status != 503 || a.code() != legalmailsim.CodeUnavailable {
		t.Errorf("down: %d %s", a.Status, a.Raw)
	}
}
