package inipecupload_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/inipecsim"
	"github.com/pecplatform/pec/shared/inipec"
	"github.com/pecplatform/pec/shared/inipecupload"
)

const (
	simToken = "local-inipec-token"
	cf1      = "ZRZCRL72R10H501D"
	good     = "carlo.zurzi@pec.tsrm.org;Carlo;Zurzi;1234;" + cf1 + ";2;05/03/2019;" // a valid line
	gone     = "old.address@pec.example.it;;;;" + cf1 + ";3;;"                       // another: an address removed
	file     = good + "\r\n" + gone + "\r\n"
)

// flaky answers the first failures requests with status (or drops the connection when status
// is 0), then hands over to the stand-in.
type flaky struct {
	sim      *inipecsim.Sim
	failures atomic.Int32
	status   int
	calls    atomic.Int32
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	if f.failures.Add(-1) >= 0 {
		if f.status == 0 {
			panic(http.ErrAbortHandler) // the connection is dropped
		}
		w.WriteHeader(f.status)
		return
	}
	f.sim.ServeHTTP(w, r)
}

func newSimServer(t *testing.T, failures int32, status int) (*flaky, inipecupload.HTTPUploader) {
	t.Helper()
	h := &flaky{sim: inipecsim.New(inipec.DefaultFormat(), simToken), status: status}
	h.failures.Store(failures)
	mux := http.NewServeMux()
	mux.Handle("/_local/inipec/", http.StripPrefix("/_local/inipec", h)) // as the local API mounts it
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return h, inipecupload.HTTPUploader{BaseURL: srv.URL + "/_local/inipec/", Token: simToken, Client: srv.Client(), Backoff: time.Millisecond}
}

// deliver sends content with its size, as the sync does with a file of its own.
func deliver(ctx context.Context, u inipecupload.HTTPUploader, name string, content []byte) error {
	return u.Deliver(ctx, name, int64(len(content)), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(content)), nil
	})
}

// TestUploaderStreams sends a file of unknown size (chunked) through two failed attempts: the
// file is opened once per attempt, every opened file is closed, and the receiver keeps it whole.
func TestUploaderStreams(t *testing.T) {
	h, u := newSimServer(t, 2, http.StatusServiceUnavailable)
	content := []byte(file)
	var opened, closed atomic.Int32
	open := func() (io.ReadCloser, error) {
		opened.Add(1)
		return closer{Reader: bytes.NewReader(content), closed: &closed}, nil
	}
	if err := u.Deliver(context.Background(), "d.csv", -1, open); err != nil {
		t.Fatal(err)
	}
	if opened.Load() != 3 || closed.Load() != 3 {
		t.Errorf("opened %d, closed %d; want 3 each", opened.Load(), closed.Load())
	}
	if files := h.sim.Files(); len(files) != 1 || !bytes.Equal(files[0].Raw, content) {
		t.Fatalf("Files() = %+v", files)
	}
	// A file that cannot be opened is retried, then reported.
	u.Attempts = 2
	err := u.Deliver(context.Background(), "e.csv", -1, func() (io.ReadCloser, error) { return nil, errors.New("archive down") })
	if err == nil || !strings.Contains(err.Error(), "archive down") || inipecupload.IsPermanent(err) {
		t.Errorf("err = %v, want a transient error naming the cause", err)
	}
}

type closer struct {
	io.Reader
	closed *atomic.Int32
}

func (c closer) Close() error { c.closed.Add(1); return nil }

func TestUploaderDelivers(t *testing.T) {
	h, u := newSimServer(t, 0, 0)
	body := []byte(file)
	name := inipec.FileName("OMCEO-RC", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), 1)
	if err := deliver(context.Background(), u, name, body); err != nil {
		t.Fatal(err)
	}
	if err := deliver(context.Background(), u, name, body); err != nil { // re-delivery: 200
		t.Fatalf("re-delivery: %v", err)
	}
	files := h.sim.Files()
	if len(files) != 1 || files[0].Name != name || string(files[0].Raw) != string(body) {
		t.Fatalf("Files() = %+v", files)
	}
	if h.calls.Load() != 2 {
		t.Errorf("%d requests, want 2", h.calls.Load())
	}
}

func TestUploaderConflict(t *testing.T) {
	_, u := newSimServer(t, 0, 0)
	if err := deliver(context.Background(), u, "d.csv", []byte(file)); err != nil {
		t.Fatal(err)
	}
	err := deliver(context.Background(), u, "d.csv", []byte(good+"\r\n"))
	if !errors.Is(err, inipecupload.ErrConflict) || !inipecupload.IsPermanent(err) {
		t.Fatalf("err = %v, want ErrConflict, permanent", err)
	}
}

func TestUploaderRejected(t *testing.T) {
	h, u := newSimServer(t, 0, 0)
	bad := good + "\r\nnope;Carlo;Zurzi;1;" + cf1 + ";2;05/03/2019;\r\n"
	err := deliver(context.Background(), u, "d.csv", []byte(bad))
	var rej *inipecupload.RejectedError
	if !errors.As(err, &rej) || !inipecupload.IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent *RejectedError", err)
	}
	if len(rej.Errors) != 1 || rej.Errors[0].Line != 2 || rej.Errors[0].Field != "PEC" || rej.Name != "d.csv" {
		t.Errorf("Errors = %+v", rej.Errors)
	}
	if !strings.Contains(err.Error(), "line 2: PEC") || strings.Contains(err.Error(), cf1) {
		t.Errorf("Error() = %q", err)
	}
	if h.calls.Load() != 1 || len(h.sim.Files()) != 0 {
		t.Errorf("%d calls, %d files", h.calls.Load(), len(h.sim.Files()))
	}
}

func TestUploaderRetries(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
	}{{"503", http.StatusServiceUnavailable}, {"500", http.StatusInternalServerError}, {"429", http.StatusTooManyRequests}, {"dropped connection", 0}} {
		h, u := newSimServer(t, 2, tc.status)
		if err := deliver(context.Background(), u, "d.csv", []byte(good+"\r\n")); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if n := h.calls.Load(); n != 3 {
			t.Errorf("%s: %d requests, want 3", tc.name, n)
		}
		if len(h.sim.Files()) != 1 {
			t.Errorf("%s: not delivered", tc.name)
		}
	}
}

func TestUploaderGivesUp(t *testing.T) {
	h, u := newSimServer(t, 100, http.StatusBadGateway)
	u.Attempts = 3
	err := deliver(context.Background(), u, "d.csv", []byte(good+"\r\n"))
	var st *inipecupload.StatusError
	if !errors.As(err, &st) || st.StatusCode != http.StatusBadGateway || inipecupload.IsPermanent(err) {
		t.Fatalf("err = %v, want a transient *StatusError 502", err)
	}
	if n := h.calls.Load(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestUploaderPermanentStatus(t *testing.T) {
	h, u := newSimServer(t, 0, 0)
	u.Token = "wrong"
	err := deliver(context.Background(), u, "d.csv", []byte(good+"\r\n"))
	var st *inipecupload.StatusError
	if !errors.As(err, &st) || st.StatusCode != http.StatusUnauthorized || !inipecupload.IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent 401", err)
	}
	if h.calls.Load() != 1 {
		t.Errorf("%d requests: a 401 was retried", h.calls.Load())
	}
	if err := deliver(context.Background(), (inipecupload.HTTPUploader{BaseURL: "http://127.0.0.1:1"}), "a/b.csv", nil); err == nil {
		t.Error("a name with a slash is delivered")
	}
}

func TestUploaderContext(t *testing.T) {
	h, u := newSimServer(t, 100, http.StatusServiceUnavailable)
	u.Backoff = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := deliver(ctx, u, "d.csv", []byte(good+"\r\n"))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	if h.calls.Load() != 1 {
		t.Errorf("%d requests", h.calls.Load())
	}
}
