package inipecsim

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/inipec"
)

// Confirmation is a day without changes confirmed to the stand-in: by a call
// (POST /confirm/{name}), by a PEC without attachment, or by an empty file.
type Confirmation struct {
	Name       string    `json:"name"`
	OrderID    string    `json:"orderId,omitempty"`
	Day        string    `json:"day,omitempty"`
	Via        string    `json:"via"` // call, pec or empty-file
	ReceivedAt time.Time `json:"receivedAt"`
}

// Rejection is a PEC the stand-in could not take: its attachment breaks the layout, or a file
// of that name with another content came before. INI-PEC answers such a PEC with an error.
type Rejection struct {
	Subject string             `json:"subject"`
	File    string             `json:"file,omitempty"`
	Reason  string             `json:"reason"`
	Errors  []inipec.LineError `json:"errors,omitempty"`
}

// ReadPEC makes the stand-in the holder of the PEC address: at each listing it reads, from
// mailpit's API at mailpitURL, the new messages to address (the CSV attached to a PEC is a
// delivered file; a PEC without attachment is a confirmation).
func (s *Sim) ReadPEC(mailpitURL, address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mailpit, s.pecAddress = strings.TrimRight(mailpitURL, "/"), strings.ToLower(address)
	if s.seenPEC == nil {
		s.seenPEC, s.pecCopies = map[string]bool{}, map[string]int{}
	}
}

// PECCopies says how many copies of each PEC (by Message-ID) reached the stand-in's address:
// more than one means a PEC was sent again (after a crash between the send and its record). The
// stand-in takes each Message-ID once, as the same PEC.
func (s *Sim) PECCopies() map[string]int {
	s.pollPEC(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.pecCopies))
	for id, n := range s.pecCopies {
		out[id] = n
	}
	return out
}

func (s *Sim) routesPEC() {
	s.mux.HandleFunc("POST /confirm/{name}", s.confirm)
	s.mux.HandleFunc("GET /confirmations", func(w http.ResponseWriter, r *http.Request) {
		s.pollPEC(r.Context())
		writeJSON(w, http.StatusOK, s.Confirmations())
	})
	s.mux.HandleFunc("GET /rejections", func(w http.ResponseWriter, r *http.Request) {
		s.pollPEC(r.Context())
		s.mu.Lock()
		defer s.mu.Unlock()
		writeJSON(w, http.StatusOK, append([]Rejection{}, s.rejections...))
	})
}

// Confirmations returns the confirmations, in arrival order; an empty file counts as one.
func (s *Sim) Confirmations() []Confirmation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]Confirmation{}, s.confirmations...)
	for _, f := range s.files {
		if len(f.Raw) == 0 {
			out = append(out, Confirmation{Name: f.Name, Via: "empty-file", ReceivedAt: f.ReceivedAt})
		}
	}
	return out
}

func (s *Sim) confirm(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || s.token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1 {
		writeError(w, http.StatusUnauthorized, "a valid bearer token is required")
		return
	}
	name := r.PathValue("name")
	var in struct {
		OrderID string `json:"orderId"`
		Day     string `json:"day"`
	}
	if !namePattern.MatchString(name) || json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in) != nil || in.OrderID == "" {
		writeError(w, http.StatusBadRequest, "a confirmation names its file and carries orderId and day")
		return
	}
	if _, err := time.Parse(time.DateOnly, in.Day); err != nil {
		writeError(w, http.StatusBadRequest, "day must be YYYY-MM-DD")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.confirmations {
		if c.Name == name {
			writeJSON(w, http.StatusOK, c) // the same confirmation again
			return
		}
	}
	c := Confirmation{Name: name, OrderID: in.OrderID, Day: in.Day, Via: "call", ReceivedAt: s.now().UTC()}
	s.confirmations = append(s.confirmations, c)
	writeJSON(w, http.StatusCreated, c)
}

type mailpitMessage struct {
	ID          string `json:"ID"`
	MessageID   string `json:"MessageID"`
	Subject     string `json:"Subject"`
	Attachments []struct {
		PartID   string `json:"PartID"`
		FileName string `json:"FileName"`
	} `json:"Attachments"`
}

// pollPEC takes in the PEC messages to the stand-in's address it has not read yet.
func (s *Sim) pollPEC(ctx context.Context) {
	s.mu.Lock()
	base, address := s.mailpit, s.pecAddress
	s.mu.Unlock()
	if base == "" {
		return
	}
	var list struct {
		Messages []struct {
			ID string `json:"ID"` // (the summaries' Attachments is a count, not the list)
		} `json:"messages"`
	}
	if getJSON(ctx, base+"/api/v1/search?limit=1000&query="+url.QueryEscape("to:"+address), &list) != nil {
		return
	}
	for i := len(list.Messages) - 1; i >= 0; i-- { // oldest first
		id := list.Messages[i].ID
		s.mu.Lock()
		seen := s.seenPEC[id]
		s.mu.Unlock()
		if seen {
			continue
		}
		var m mailpitMessage
		if getJSON(ctx, base+"/api/v1/message/"+id, &m) != nil {
			continue
		}
		s.mu.Lock()
		again := m.MessageID != "" && s.pecCopies[m.MessageID] > 0
		if m.MessageID != "" {
			s.pecCopies[m.MessageID]++
		}
		s.mu.Unlock()
		if !again { // a PEC sent again with its Message-ID is the same PEC: taken once
			s.takePEC(ctx, base, m)
		}
		s.mu.Lock()
		s.seenPEC[id] = true
		s.mu.Unlock()
	}
}

func (s *Sim) takePEC(ctx context.Context, base string, m mailpitMessage) {
	if len(m.Attachments) == 0 {
		s.mu.Lock()
		s.confirmations = append(s.confirmations, Confirmation{Name: referenceIn(m.Subject), Via: "pec", ReceivedAt: s.now().UTC()})
		s.mu.Unlock()
		return
	}
	reject := func(file, reason string, errs []inipec.LineError) {
		s.mu.Lock()
		s.rejections = append(s.rejections, Rejection{Subject: m.Subject, File: file, Reason: reason, Errors: errs})
		s.mu.Unlock()
	}
	if len(m.Attachments) != 1 {
		reject("", "one file per PEC", nil)
		return
	}
	a := m.Attachments[0]
	if !namePattern.MatchString(a.FileName) {
		reject(a.FileName, "the file name must end in .csv, with no path", nil)
		return
	}
	body, err := get(ctx, base+"/api/v1/message/"+m.ID+"/part/"+a.PartID)
	if err != nil {
		reject(a.FileName, "cannot read the attachment", nil)
		return
	}
	if kept, found := s.lookup(a.FileName); found {
		if !bytes.Equal(kept.Raw, body) {
			reject(a.FileName, "a different file with this name was already delivered", nil)
		}
		return // the same file again
	}
	ins, upd, del, lineErrs, err := inipec.Validate(bytes.NewReader(body), s.f)
	if err != nil || len(lineErrs) > 0 {
		reject(a.FileName, "the file breaks the layout", lineErrs)
		return
	}
	content, _ := s.f.Decode(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byName[a.FileName] = len(s.files)
	s.files = append(s.files, File{Name: a.FileName, ReceivedAt: s.now().UTC(), Content: content, Raw: body, Inserts: ins, Updates: upd, Deletes: del})
}

// referenceIn is the file name a confirmation's subject ends with.
func referenceIn(subject string) string {
	if i := strings.LastIndex(subject, " - "); i >= 0 {
		return strings.TrimSpace(subject[i+3:])
	}
	return subject
}

func get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d", u, res.StatusCode)
	}
	return io.ReadAll(io.LimitReader(res.Body, MaxFileSize))
}

func getJSON(ctx context.Context, u string, v any) error {
	b, err := get(ctx, u)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
