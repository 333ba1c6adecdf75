// Package inipecsim is the local stand-in for INI-PEC's receiving end (never deployed). It
// records every delivered delta file and rejects malformed ones with line-numbered errors, as a
// strict receiver would (inipec.Validate with the configured Format).
//
// Routes, relative to where it is mounted (the local API mounts it under /_local/inipec with
// http.StripPrefix, so the files are listed at GET /_local/inipec/files):
//
//	PUT /upload/{name}  the file as the body, "Authorization: Bearer <token>" required.
//	                    201 {"name","lines","inserts","updates","deletes"} for a new file;
//	                    200 with the same body when the same name comes again with the same
//	                    content (a re-delivery is not a second file); 409 for the same name with
//	                    other content; 422 {"errors":[{"line","field","message"}],"errorCount"}
//	                    for a malformed file, which is not kept; 400 for a bad name; 401 without
//	                    the token; 413 over MaxFileSize.
//	GET /files          [{"name","receivedAt","content"}] in arrival order; content is the file
//	                    as text (converted to UTF-8 when the format's encoding is another).
//	                    With ReadPEC, the files attached to the PECs to its address too.
//	POST /confirm/{name} {"orderId","day"}: a day without changes confirmed by a call (bearer
//	                    token); 201, or 200 for a name confirmed before.
//	GET /confirmations  the days without changes confirmed: by call, by PEC, by an empty file.
//	GET /rejections     the PECs it could not take (a malformed or conflicting attachment).
package inipecsim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pecplatform/pec/shared/inipec"
)

// MaxFileSize is the largest file accepted (413 beyond).
const MaxFileSize = 50 << 20

// MaxReportedErrors caps the errors listed in a 422 answer; errorCount has the total.
const MaxReportedErrors = 1000

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,195}\.csv$`)

// File is one delivered file the stand-in kept.
type File struct {
	Name       string    `json:"name"`
	ReceivedAt time.Time `json:"receivedAt"`
	// Content is the file as text: decoded from the format's encoding to UTF-8.
	Content string `json:"content"`
	// Raw is the file as delivered, byte for byte. Do not modify it.
	Raw                       []byte `json:"-"`
	Inserts, Updates, Deletes int    `json:"-"`
}

// Sim is the stand-in, an http.Handler.
type Sim struct {
	f     inipec.Format
	token string
	mux   *http.ServeMux
	now   func() time.Time

	mu     sync.Mutex
	files  []File
	byName map[string]int // index in files
	outage map[string]int // name prefix -> uploads still to answer 503

	// The PEC channel (ReadPEC) and the no-change confirmations.
	mailpit, pecAddress string
	seenPEC             map[string]bool // mailpit message ids read
	pecCopies           map[string]int  // Message-ID -> copies received
	confirmations       []Confirmation
	rejections          []Rejection
}

// Outage makes the next n uploads whose name starts with prefix fail with 503, as a receiver
// that is down would: tests use it to cut a delivery off after it was prepared.
func (s *Sim) Outage(prefix string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outage == nil {
		s.outage = map[string]int{}
	}
	s.outage[prefix] = n
}

func (s *Sim) down(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for prefix, n := range s.outage {
		if n > 0 && strings.HasPrefix(name, prefix) {
			s.outage[prefix] = n - 1
			return true
		}
	}
	return false
}

// New returns a stand-in that checks files against f and requires token on uploads (every
// upload is refused when token is empty). It panics when f is not valid: check it first with
// f.Check or inipec.FormatFromEnv.
func New(f inipec.Format, token string) *Sim {
	if err := f.Check(); err != nil {
		panic(fmt.Sprintf("inipecsim.New: %v", err))
	}
	s := &Sim{f: f, token: token, mux: http.NewServeMux(), now: time.Now, byName: map[string]int{}}
	s.mux.HandleFunc("PUT /upload/{name}", s.upload)
	s.mux.HandleFunc("GET /files", s.list)
	s.routesPEC()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Files returns the files kept, in arrival order.
func (s *Sim) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(make([]File, 0, len(s.files)), s.files...)
}

type summary struct {
	Name    string `json:"name"`
	Lines   int    `json:"lines"`
	Inserts int    `json:"inserts"`
	Updates int    `json:"updates"`
	Deletes int    `json:"deletes"`
}

func summaryOf(f File) summary {
	return summary{Name: f.Name, Lines: f.Inserts + f.Updates + f.Deletes, Inserts: f.Inserts, Updates: f.Updates, Deletes: f.Deletes}
}

func (s *Sim) upload(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || s.token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1 {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, "a valid bearer token is required")
		return
	}
	name := r.PathValue("name")
	if s.down(name) {
		writeError(w, http.StatusServiceUnavailable, "the receiver is down")
		return
	}
	if !namePattern.MatchString(name) {
		writeError(w, http.StatusBadRequest, "the file name must be 1 to 200 characters among A-Z, a-z, 0-9, '.', '_' and '-', ending in .csv")
		return
	}
	if r.ContentLength > MaxFileSize {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is larger than %d bytes", MaxFileSize))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxFileSize))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is larger than %d bytes", MaxFileSize))
			return
		}
		writeError(w, http.StatusBadRequest, "cannot read the body")
		return
	}

	if kept, found := s.lookup(name); found {
		s.answerExisting(w, kept, body)
		return
	}
	ins, upd, del, lineErrs, err := inipec.Validate(bytes.NewReader(body), s.f)
	if err != nil {
		writeError(w, http.StatusBadRequest, "cannot read the file")
		return
	}
	if len(lineErrs) > 0 {
		total := len(lineErrs)
		if total > MaxReportedErrors {
			lineErrs = lineErrs[:MaxReportedErrors]
		}
		writeJSON(w, http.StatusUnprocessableEntity, struct {
			Errors     []inipec.LineError `json:"errors"`
			ErrorCount int                `json:"errorCount"`
		}{lineErrs, total})
		return
	}
	content, err := s.f.Decode(body)
	if err != nil { // Validate accepted it, so this does not happen
		writeError(w, http.StatusUnprocessableEntity, "cannot decode the file")
		return
	}

	s.mu.Lock()
	if i, found := s.byName[name]; found { // a concurrent upload of the same name won
		kept := s.files[i]
		s.mu.Unlock()
		s.answerExisting(w, kept, body)
		return
	}
	f := File{Name: name, ReceivedAt: s.now().UTC(), Content: content, Raw: body, Inserts: ins, Updates: upd, Deletes: del}
	s.byName[name] = len(s.files)
	s.files = append(s.files, f)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, summaryOf(f))
}

func (s *Sim) lookup(name string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byName[name]
	if !ok {
		return File{}, false
	}
	return s.files[i], true
}

func (s *Sim) answerExisting(w http.ResponseWriter, kept File, body []byte) {
	if !bytes.Equal(kept.Raw, body) {
		writeError(w, http.StatusConflict, "a different file with this name was already delivered")
		return
	}
	writeJSON(w, http.StatusOK, summaryOf(kept))
}

func (s *Sim) list(w http.ResponseWriter, r *http.Request) {
	s.pollPEC(r.Context())
	writeJSON(w, http.StatusOK, s.Files())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
