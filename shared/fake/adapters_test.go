package fake_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pecplatform/pec/shared/fake"
	"github.com/pecplatform/pec/shared/inipecupload"
	"github.com/pecplatform/pec/shared/notice"
	"github.com/pecplatform/pec/shared/payments"
)

func TestDeliverer_SameNameAndContentIsOneFileAnotherContentConflicts(t *testing.T) {
	d := &fake.Deliverer{}
	send := func(name, content string, size int64) error {
		return d.Deliver(t.Context(), name, size, func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil })
	}
	if err := send("a.csv", "one", 3); err != nil {
		t.Fatal(err)
	}
	if err := send("a.csv", "one", -1); err != nil {
		t.Errorf("the same file again: %v", err)
	}
	if err := send("a.csv", "two", 3); !errors.Is(err, inipecupload.ErrConflict) {
		t.Errorf("another content under the name: %v", err)
	}
	if err := send("b.csv", "two", 5); err == nil {
		t.Error("a size that is not the content's was accepted")
	}
	if files := d.Files(); len(files) != 1 || string(files[0].Content) != "one" || d.Calls() != 4 {
		t.Errorf("files %+v after %d calls", files, d.Calls())
	}
}

func TestUploads_OpenFromAnOffset(t *testing.T) {
	u := &fake.Uploads{}
	u.Put("k", []byte("0123456789"))
	for _, tt := range []struct {
		offset int64
		want   string
	}{{0, "0123456789"}, {4, "456789"}, {10, ""}, {99, ""}} {
		r, err := u.Open(t.Context(), "k", tt.offset)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(r); string(b) != tt.want {
			t.Errorf("from %d: %q, want %q", tt.offset, b, tt.want)
		}
	}
	if _, err := u.Open(t.Context(), "missing", 0); err == nil {
		t.Error("a missing object opened")
	}
}

func TestArchiveAndFiles_KeepCopies(t *testing.T) {
	a := &fake.Archive{}
	content := []byte("file")
	if err := a.Put(t.Context(), "k", bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	content[0] = 'X'
	r, err := a.Get(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "file" {
		t.Errorf("archived %q", b)
	}
	if _, err := a.Get(t.Context(), "nope"); err == nil {
		t.Error("a missing object was read")
	}
	f := &fake.Files{}
	if err := f.PutBytes(t.Context(), "d", "application/pdf", []byte("%PDF-")); err != nil {
		t.Fatal(err)
	}
	if b, ct, ok := f.Get("d"); !ok || string(b) != "%PDF-" || ct != "application/pdf" || f.Len() != 1 {
		t.Errorf("stored %q %q %v", b, ct, ok)
	}
}

func TestPayments_ConfirmsOnlyWhatWasPaidForTheRequest(t *testing.T) {
	p := &fake.Payments{}
	p.Confirm("ref", 488, "r1")
	for _, tt := range []struct {
		ref    string
		amount int
		req    string
		want   error
	}{
		{"ref", 488, "r1", nil},
		{"ref", 487, "r1", payments.ErrNotConfirmed},
		{"ref", 488, "r2", payments.ErrNotConfirmed},
		{"other", 488, "r1", payments.ErrNotConfirmed},
	} {
		if err := p.Verify(t.Context(), tt.ref, tt.amount, tt.req); !errors.Is(err, tt.want) {
			t.Errorf("%s %d %s: %v, want %v", tt.ref, tt.amount, tt.req, err, tt.want)
		}
	}
	if p.Calls() != 4 {
		t.Errorf("calls %d", p.Calls())
	}
}

func TestStarterAndMailLog_RecordWhatHappened(t *testing.T) {
	s := &fake.Starter{}
	s.Fail("StartMailbox", fake.ErrInjected)
	for range 3 {
		_ = s.StartMailbox(t.Context(), "mb1", "")
	}
	if got := s.Started(); len(got) != 1 || got[0] != "mb1" || s.Calls() != 3 {
		t.Errorf("started %v in %d calls", got, s.Calls())
	}
	l := &fake.MailLog{}
	l.Fail("Send", fake.ErrInjected)
	if _, err := l.Send(t.Context(), "a@example.it", message("x")); !errors.Is(err, fake.ErrInjected) {
		t.Errorf("got %v", err)
	}
	if id, err := l.Send(t.Context(), "a@example.it", message("y")); err != nil || id == "" {
		t.Errorf("got %q, %v", id, err)
	}
	if sent := l.Sent(); len(sent) != 1 || sent[0].To != "a@example.it" || sent[0].Message.Subject != "y" {
		t.Errorf("sent %+v", sent)
	}
}

func message(subject string) notice.Message {
	return notice.Message{Subject: subject, Text: subject}
}
