package inipecsim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pecplatform/pec/infra/inipecsim"
	"github.com/pecplatform/pec/shared/inipec"
)

// mailpitMessage is what the stand-in reads of a message in mailpit's API.
type mailpitMessage struct {
	ID, MessageID, Subject, To string
	File, Content              string // the one attachment; none when File is empty
}

// fakeMailpit answers the three calls of mailpit's API the stand-in makes: the search by
// recipient (newest first, as mailpit lists), a message, an attachment.
func fakeMailpit(t *testing.T, msgs []mailpitMessage) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/search", func(w http.ResponseWriter, r *http.Request) {
		var list struct {
			Messages []map[string]string `json:"messages"`
		}
		for i := len(msgs) - 1; i >= 0; i-- {
			if "to:"+msgs[i].To == r.URL.Query().Get("query") {
				list.Messages = append(list.Messages, map[string]string{"ID": msgs[i].ID})
			}
		}
		json.NewEncoder(w).Encode(list)
	})
	mux.HandleFunc("GET /api/v1/message/{id}", func(w http.ResponseWriter, r *http.Request) {
		for _, m := range msgs {
			if m.ID == r.PathValue("id") {
				out := map[string]any{"ID": m.ID, "MessageID": m.MessageID, "Subject": m.Subject, "Attachments": []any{}}
				if m.File != "" {
					out["Attachments"] = []map[string]string{{"PartID": "2", "FileName": m.File}}
				}
				json.NewEncoder(w).Encode(out)
				return
			}
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("GET /api/v1/message/{id}/part/{part}", func(w http.ResponseWriter, r *http.Request) {
		for _, m := range msgs {
			if m.ID == r.PathValue("id") {
				w.Write([]byte(m.Content))
				return
			}
		}
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// The PEC channel as INI-PEC reads its PEC: a file attached arrives once even when its PEC came
// twice (the same Message-ID), a PEC without attachment is a confirmation, a PEC to another
// address is not read, and an attachment that breaks the layout is refused with its errors.
func TestReadPEC_TakesEachMessageIDOnceAndRefusesABrokenFile(t *testing.T) {
	f := inipec.DefaultFormat()
	good := string(file(t, f, line("carlo.zurzi@pec.tsrm.org", "Carlo", inipec.Insert)))
	const to = "aggiornamento@cert.inipec.gov.it"
	url := fakeMailpit(t, []mailpitMessage{
		{ID: "a", MessageID: "inipec.INIPEC_TO_20261205_000001.csv@pec.example.it", To: to, Subject: "Aggiornamento INI-PEC - TO - INIPEC_TO_20261205_000001.csv", File: "INIPEC_TO_20261205_000001.csv", Content: good},
		{ID: "b", MessageID: "inipec.INIPEC_TO_20261205_000001.csv@pec.example.it", To: to, Subject: "Aggiornamento INI-PEC - TO - INIPEC_TO_20261205_000001.csv", File: "INIPEC_TO_20261205_000001.csv", Content: good},
		{ID: "c", MessageID: "inipec.INIPEC_TO_20261206_000002.csv@pec.example.it", To: to, Subject: "Conferma assenza di variazioni INI-PEC - TO - INIPEC_TO_20261206_000002.csv"},
		{ID: "d", MessageID: "inipec.INIPEC_TO_20261207_000003.csv@pec.example.it", To: to, Subject: "Aggiornamento INI-PEC - TO - INIPEC_TO_20261207_000003.csv", File: "INIPEC_TO_20261207_000003.csv", Content: "carlo.zurzi@pec.tsrm.org;Carlo;Zurzi;12;" + cf + ";9;;\r\n"},
		{ID: "e", MessageID: "other@pec.example.it", To: "someone@pec.example.it", Subject: "x", File: "other.csv", Content: good},
	})
	sim := inipecsim.New(f, token)
	sim.ReadPEC(url, to)

	list := httptest.NewRecorder() // a listing reads the new PECs
	sim.ServeHTTP(list, httptest.NewRequest(http.MethodGet, "/files", nil))
	files := sim.Files()
	if len(files) != 1 || files[0].Name != "INIPEC_TO_20261205_000001.csv" || files[0].Content != good {
		t.Fatalf("files %+v", files)
	}
	if n := sim.PECCopies()["inipec.INIPEC_TO_20261205_000001.csv@pec.example.it"]; n != 2 {
		t.Errorf("%d copies, want 2", n)
	}
	if c := sim.Confirmations(); len(c) != 1 || c[0].Name != "INIPEC_TO_20261206_000002.csv" || c[0].Via != "pec" {
		t.Errorf("confirmations %+v", c)
	}
	h := httptest.NewRecorder()
	sim.ServeHTTP(h, httptest.NewRequest(http.MethodGet, "/rejections", nil))
	var rs []inipecsim.Rejection
	json.NewDecoder(h.Body).Decode(&rs)
	if len(rs) != 1 || rs[0].File != "INIPEC_TO_20261207_000003.csv" || len(rs[0].Errors) != 1 || rs[0].Errors[0].Field != "Stato" {
		t.Errorf("rejections %+v", rs)
	}
}
