package inipecsim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/inipecsim"
	"github.com/pecplatform/pec/shared/inipec"
)

const (
	token = "local-inipec-token"
	cf    = "ZRZCRL72R10H501D"
)

func file(t *testing.T, f inipec.Format, lines ...inipec.Line) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := inipec.NewWriter(&buf, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if err := w.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func line(pec, nome string, s inipec.Stato) inipec.Line {
	return inipec.Line{PEC: pec, Nome: nome, Cognome: "Zurzi", NumeroIscrizione: "12", CodiceFiscale: cf, Stato: s,
		DataIscrizione: time.Date(2019, 3, 5, 0, 0, 0, 0, time.UTC)}
}

func put(t *testing.T, h http.Handler, name string, body []byte, tok string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPut, "/upload/"+name, bytes.NewReader(body))
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("PUT %s: %d, body %q is not a JSON object: %v", name, w.Code, w.Body, err)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return w, m
}

type listed struct {
	Name       string `json:"name"`
	ReceivedAt string `json:"receivedAt"`
	Content    string `json:"content"`
}

func list(t *testing.T, h http.Handler) []listed {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/files", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /files: %d %s", w.Code, w.Body)
	}
	var out []listed
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out == nil {
		t.Fatalf("GET /files: %q: %v", w.Body, err)
	}
	return out
}

func TestAcceptAndList(t *testing.T) {
	f := inipec.DefaultFormat()
	s := inipecsim.New(f, token)
	if got := list(t, s); len(got) != 0 {
		t.Fatalf("new stand-in lists %v", got)
	}

	body := file(t, f, line("a@pec.it", "Carlo", inipec.Insert), line("b@pec.it", "Niccolò", inipec.Update), line("c@pec.it", "Anna", inipec.Insert))
	before := time.Now().UTC().Truncate(time.Second)
	w, m := put(t, s, "INIPEC_OMCEO-RC_20240305_000001.csv", body, token)
	if w.Code != http.StatusCreated {
		t.Fatalf("PUT: %d %v", w.Code, m)
	}
	want := map[string]any{"name": "INIPEC_OMCEO-RC_20240305_000001.csv", "lines": 3.0, "inserts": 2.0, "updates": 1.0, "deletes": 0.0}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("PUT answer %s = %v, want %v", k, m[k], v)
		}
	}

	body2 := file(t, f, line("d@pec.it", "Dora", inipec.Delete))
	if w, m := put(t, s, "INIPEC_OMCEO-RC_20240306_000001.csv", body2, token); w.Code != http.StatusCreated || m["deletes"] != 1.0 {
		t.Fatalf("second PUT: %d %v", w.Code, m)
	}

	got := list(t, s)
	if len(got) != 2 || got[0].Name != "INIPEC_OMCEO-RC_20240305_000001.csv" || got[1].Name != "INIPEC_OMCEO-RC_20240306_000001.csv" {
		t.Fatalf("GET /files: %+v", got)
	}
	if got[0].Content != string(body) || !strings.Contains(got[0].Content, "Niccolò") {
		t.Errorf("content %q, want %q", got[0].Content, body)
	}
	at, err := time.Parse(time.RFC3339, got[0].ReceivedAt)
	if err != nil || at.Before(before) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("receivedAt %q: %v", got[0].ReceivedAt, err)
	}

	files := s.Files()
	if len(files) != 2 || !bytes.Equal(files[0].Raw, body) || files[0].Inserts != 2 || files[1].Deletes != 1 {
		t.Errorf("Files() = %+v", files)
	}
}

func TestListConvertsToUTF8(t *testing.T) {
	f := inipec.DefaultFormat()
	f.Encoding = inipec.ISO88591
	s := inipecsim.New(f, token)
	body := file(t, f, line("a@pec.it", "Niccolò", inipec.Insert))
	if !bytes.Contains(body, []byte("Niccol\xf2")) {
		t.Fatalf("not Latin-1: %q", body)
	}
	if w, m := put(t, s, "f.csv", body, token); w.Code != http.StatusCreated {
		t.Fatalf("PUT: %d %v", w.Code, m)
	}
	got := list(t, s)
	if len(got) != 1 || !strings.Contains(got[0].Content, "Niccolò;Zurzi") {
		t.Errorf("GET /files: %+v", got)
	}
	if raw := s.Files()[0].Raw; !bytes.Equal(raw, body) {
		t.Errorf("Raw %q, want the bytes delivered", raw)
	}
}

func TestIdempotentRedelivery(t *testing.T) {
	f := inipec.DefaultFormat()
	s := inipecsim.New(f, token)
	body := file(t, f, line("a@pec.it", "Carlo", inipec.Insert))
	w1, m1 := put(t, s, "d.csv", body, token)
	w2, m2 := put(t, s, "d.csv", bytes.Clone(body), token)
	if w1.Code != http.StatusCreated || w2.Code != http.StatusOK {
		t.Fatalf("codes %d, %d; want 201, 200", w1.Code, w2.Code)
	}
	for k := range m1 {
		if m1[k] != m2[k] {
			t.Errorf("re-delivery answer %s = %v, first %v", k, m2[k], m1[k])
		}
	}
	if n := len(s.Files()); n != 1 {
		t.Errorf("%d files kept, want 1", n)
	}
}

func TestConflict(t *testing.T) {
	f := inipec.DefaultFormat()
	s := inipecsim.New(f, token)
	body := file(t, f, line("a@pec.it", "Carlo", inipec.Insert))
	put(t, s, "d.csv", body, token)
	other := file(t, f, line("a@pec.it", "Carla", inipec.Insert))
	if w, m := put(t, s, "d.csv", other, token); w.Code != http.StatusConflict || m["error"] == nil {
		t.Fatalf("PUT of other content: %d %v", w.Code, m)
	}
	// Even malformed content under a taken name is a conflict, not a rejection.
	if w, _ := put(t, s, "d.csv", []byte("garbage"), token); w.Code != http.StatusConflict {
		t.Errorf("garbage under a taken name: %d", w.Code)
	}
	if files := s.Files(); len(files) != 1 || !bytes.Equal(files[0].Raw, body) {
		t.Errorf("Files() = %+v", files)
	}
}

func TestRejectMalformed(t *testing.T) {
	f := inipec.DefaultFormat()
	s := inipecsim.New(f, token)
	good := file(t, f, line("a@pec.it", "Carlo", inipec.Insert))
	bad := append(bytes.Clone(good), "nope;Carlo;Zurzi;12;"+cf+";7;05/03/2019;\r\n"+"a@pec.it;Carlo\r\n"...)
	w, m := put(t, s, "d.csv", bad, token)
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("PUT: %d %v", w.Code, m)
	}
	var body struct {
		Errors     []inipec.LineError `json:"errors"`
		ErrorCount int                `json:"errorCount"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	want := []inipec.LineError{{Line: 2, Field: "PEC"}, {Line: 2, Field: "Stato"}, {Line: 3, Field: ""}}
	if len(body.Errors) != len(want) || body.ErrorCount != len(want) {
		t.Fatalf("errors %+v (count %d), want %+v", body.Errors, body.ErrorCount, want)
	}
	for i, e := range body.Errors {
		if e.Line != want[i].Line || e.Field != want[i].Field || e.Message == "" {
			t.Errorf("error %d: %+v, want line %d field %q", i, e, want[i].Line, want[i].Field)
		}
	}
	if strings.Contains(w.Body.String(), cf) {
		t.Errorf("the answer repeats the codice fiscale: %s", w.Body)
	}
	if n := len(s.Files()); n != 0 {
		t.Fatalf("a rejected file was kept (%d files)", n)
	}
	if got := list(t, s); len(got) != 0 {
		t.Fatalf("GET /files lists a rejected file: %+v", got)
	}
	// The name is still free: the corrected file is accepted.
	if w, m := put(t, s, "d.csv", good, token); w.Code != http.StatusCreated {
		t.Fatalf("corrected file: %d %v", w.Code, m)
	}
}

func TestRejectCapsErrors(t *testing.T) {
	s := inipecsim.New(inipec.DefaultFormat(), token)
	w, _ := put(t, s, "d.csv", []byte(strings.Repeat("x\r\n", 2500)), token)
	var body struct {
		Errors     []inipec.LineError `json:"errors"`
		ErrorCount int                `json:"errorCount"`
	}
	json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != http.StatusUnprocessableEntity || len(body.Errors) != inipecsim.MaxReportedErrors || body.ErrorCount != 2500 {
		t.Errorf("%d: %d errors listed, count %d", w.Code, len(body.Errors), body.ErrorCount)
	}
}

func TestAuth(t *testing.T) {
	f := inipec.DefaultFormat()
	body := file(t, f, line("a@pec.it", "Carlo", inipec.Insert))
	s := inipecsim.New(f, token)
	for _, tok := range []string{"", "wrong", token + "x"} {
		if w, _ := put(t, s, "d.csv", body, tok); w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("token %q: %d", tok, w.Code)
		}
	}
	r := httptest.NewRequest(http.MethodPut, "/upload/d.csv", bytes.NewReader(body))
	r.Header.Set("Authorization", "Basic "+token)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("Basic scheme: %d", w.Code)
	}
	if n := len(s.Files()); n != 0 {
		t.Errorf("%d files kept without the token", n)
	}
	// No token configured: every upload is refused.
	open := inipecsim.New(f, "")
	if w, _ := put(t, open, "d.csv", body, ""); w.Code != http.StatusUnauthorized {
		t.Errorf("empty configured token: %d", w.Code)
	}
}

func TestBadNamesAndMethods(t *testing.T) {
	s := inipecsim.New(inipec.DefaultFormat(), token)
	for _, name := range []string{"d.txt", ".hidden.csv", "a%20b.csv", strings.Repeat("a", 300) + ".csv"} {
		if w, _ := put(t, s, name, nil, token); w.Code != http.StatusBadRequest {
			t.Errorf("name %q: %d, want 400", name, w.Code)
		}
	}
	for _, tc := range []struct{ method, path string }{{"POST", "/upload/d.csv"}, {"DELETE", "/upload/d.csv"}, {"PUT", "/files"}} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(tc.method, tc.path, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		s.ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d", tc.method, tc.path, w.Code)
		}
	}
}

type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

func TestTooLarge(t *testing.T) {
	s := inipecsim.New(inipec.DefaultFormat(), token)
	for _, declared := range []bool{true, false} {
		r := httptest.NewRequest(http.MethodPut, "/upload/big.csv", &zeros{n: inipecsim.MaxFileSize + 1})
		r.ContentLength = -1 // streamed
		if declared {
			r.ContentLength = inipecsim.MaxFileSize + 1
		}
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("declared length %v: %d %s", declared, w.Code, w.Body)
		}
	}
	if n := len(s.Files()); n != 0 {
		t.Errorf("%d files kept", n)
	}
}

func TestConcurrentSameName(t *testing.T) {
	f := inipec.DefaultFormat()
	s := inipecsim.New(f, token)
	srv := httptest.NewServer(s)
	defer srv.Close()
	bodies := [][]byte{file(t, f, line("a@pec.it", "Carlo", inipec.Insert)), file(t, f, line("a@pec.it", "Carla", inipec.Insert))}
	codes := make([]int, 16)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPut, srv.URL+"/upload/same.csv", bytes.NewReader(bodies[i%2]))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	files := s.Files()
	if len(files) != 1 {
		t.Fatalf("%d files kept", len(files))
	}
	winner := 0
	if !bytes.Equal(files[0].Raw, bodies[0]) {
		winner = 1
	}
	created := 0
	for i, c := range codes {
		switch {
		case c == http.StatusCreated:
			created++
		case i%2 == winner && c == http.StatusOK, i%2 != winner && c == http.StatusConflict:
		default:
			t.Errorf("request %d: %d", i, c)
		}
	}
	if created != 1 {
		t.Errorf("%d answers 201, want 1", created)
	}
}

func TestNewPanicsOnBadFormat(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	inipecsim.New(inipec.Format{}, token)
}
