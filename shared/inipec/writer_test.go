package inipec_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/inipec"
)

const (
	cf1 = "ZRZCRL72R10H501D" // Carlo Zurzi, the seed's example
	cf2 = "DMCNCL90A01D612X"
	cf3 = "RSSMRA85T10A56NH" // omocodic shape
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func sampleLines() []inipec.Line {
	return []inipec.Line{
		{PEC: "carlo.zurzi@pec.tsrm.org", Nome: "Carlo", Cognome: "Zurzi", NumeroIscrizione: "1234", CodiceFiscale: cf1, Stato: inipec.Insert, DataIscrizione: day(2019, 3, 5)},
		{PEC: "niccolo.damico@pec.tsrm-pstrp.org", Nome: "Niccolò", Cognome: "D'Amico", NumeroIscrizione: "A-77", CodiceFiscale: cf2, Stato: inipec.Update, DataIscrizione: day(2015, 11, 28)},
		{PEC: "mario.rossi1@pec.tsrm.org", Nome: "Mario", Cognome: "Rossi", NumeroIscrizione: "9", CodiceFiscale: cf3, Stato: inipec.Delete, DataIscrizione: day(2001, 1, 2), DataCancellazione: day(2024, 12, 31)},
		{PEC: "old.address@pec.example.it", CodiceFiscale: cf1, Stato: inipec.Delete}, // address changed: only the keys
	}
}

func write(t *testing.T, f inipec.Format, lines []inipec.Line) []byte {
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

func TestWriterDefaultLayout(t *testing.T) {
	got := string(write(t, inipec.DefaultFormat(), sampleLines()))
	want := "carlo.zurzi@pec.tsrm.org;Carlo;Zurzi;1234;ZRZCRL72R10H501D;2;05/03/2019;\r\n" +
		"niccolo.damico@pec.tsrm-pstrp.org;Niccolò;D'Amico;A-77;DMCNCL90A01D612X;1;28/11/2015;\r\n" +
		"mario.rossi1@pec.tsrm.org;Mario;Rossi;9;RSSMRA85T10A56NH;3;02/01/2001;31/12/2024\r\n" +
		"old.address@pec.example.it;;;;ZRZCRL72R10H501D;3;;\r\n"
	if got != want {
		t.Fatalf("file:\n%q\nwant:\n%q", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, f := range []inipec.Format{
		inipec.DefaultFormat(),
		{Separator: '|', InsertCode: "I", UpdateCode: "U", DeleteCode: "D", DateLayout: "2006-01-02", Encoding: inipec.ISO88591, LineEnding: "\n", Header: true},
		{Separator: '\t', InsertCode: "2", UpdateCode: "1", DeleteCode: "3", DateLayout: "20060102", Encoding: inipec.Windows1252, LineEnding: "\r\n"},
	} {
		var buf bytes.Buffer
		w, err := inipec.NewWriter(&buf, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range sampleLines() {
			if err := w.Write(l); err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if i, u, d := w.Count(); i != 1 || u != 1 || d != 2 {
			t.Errorf("%+v: Count() = %d, %d, %d; want 1, 1, 2", f, i, u, d)
		}
		i, u, d, errs, err := inipec.Validate(bytes.NewReader(buf.Bytes()), f)
		if err != nil || len(errs) > 0 {
			t.Fatalf("%+v: Validate: %v %v\n%q", f, errs, err, buf.Bytes())
		}
		if i != 1 || u != 1 || d != 2 {
			t.Errorf("%+v: Validate counts %d, %d, %d; want 1, 1, 2", f, i, u, d)
		}
		text, err := f.Decode(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "Niccolò"+string(f.Separator)+"D'Amico") {
			t.Errorf("%+v: the accents did not survive: %q", f, text)
		}
	}
}

func TestWriterEncodings(t *testing.T) {
	l := sampleLines()[1] // Niccolò D'Amico

	f := inipec.DefaultFormat()
	out := write(t, f, []inipec.Line{l})
	if !bytes.Contains(out, []byte("Niccol\xc3\xb2;D'Amico")) {
		t.Errorf("UTF-8: %q", out)
	}

	f.Encoding = inipec.ISO88591
	out = write(t, f, []inipec.Line{l})
	if !bytes.Contains(out, []byte("Niccol\xf2;D'Amico;")) {
		t.Errorf("ISO-8859-1: %q", out)
	}
	if bytes.Contains(out, []byte{0xc3}) {
		t.Errorf("ISO-8859-1 file holds UTF-8 bytes: %q", out)
	}

	var buf bytes.Buffer
	w, _ := inipec.NewWriter(&buf, f)
	bad := l
	bad.Cognome = "Łukasiewicz"
	err := w.Write(bad)
	var le inipec.LineError
	if !errors.As(err, &le) || le.Line != 1 || le.Field != "Cognome" ||
		!strings.Contains(le.Message, "U+0141") || !strings.Contains(le.Message, "ISO-8859-1") {
		t.Fatalf("Write(Łukasiewicz) in ISO-8859-1 = %v", err)
	}
	if err := w.Write(l); err != nil { // the writer is still usable; the line takes number 1
		t.Fatal(err)
	}
	w.Flush()
	if got := buf.String(); strings.Count(got, "\r\n") != 1 || strings.Contains(got, "ukasiewicz") {
		t.Errorf("refused line written: %q", got)
	}

	f.Encoding = inipec.Windows1252
	bad.Cognome = "Ñandú–Øre" // en dash is in windows-1252 (0x96), not in Latin-1
	if out := write(t, f, []inipec.Line{bad}); !bytes.Contains(out, []byte("\xd1and\xfa\x96\xd8re")) {
		t.Errorf("windows-1252: %q", out)
	}
}

func TestWriterRefusesFields(t *testing.T) {
	base := sampleLines()[0]
	for _, tc := range []struct {
		name  string
		edit  func(*inipec.Line)
		field string
		msg   string
	}{
		{"separator", func(l *inipec.Line) { l.Nome = "Carlo;Alberto" }, "Nome", "separator"},
		{"quote", func(l *inipec.Line) { l.Cognome = `Zurzi "Jr"` }, "Cognome", "quote"},
		{"CR", func(l *inipec.Line) { l.NumeroIscrizione = "12\r34" }, "NumeroIscrizione", "line break"},
		{"LF", func(l *inipec.Line) { l.Nome = "Carlo\n" }, "Nome", "line break"},
		{"tab", func(l *inipec.Line) { l.Nome = "Car\tlo" }, "Nome", "control character"},
		{"invalid UTF-8", func(l *inipec.Line) { l.Nome = "Carl\xff" }, "Nome", "UTF-8"},
		{"no Stato", func(l *inipec.Line) { l.Stato = 0 }, "Stato", "unknown Stato"},
		{"bad PEC", func(l *inipec.Line) { l.PEC = "Carlo <carlo@pec.it>" }, "PEC", "e-mail"},
		{"bad CF", func(l *inipec.Line) { l.CodiceFiscale = "zrzcrl72r10h501d" }, "CodiceFiscale", "codice fiscale"},
		{"no Nome on insert", func(l *inipec.Line) { l.Nome = "" }, "Nome", "required"},
		{"cancellation on insert", func(l *inipec.Line) { l.DataCancellazione = day(2024, 1, 1) }, "DataCancellazione", "delete"},
		{"year 10000", func(l *inipec.Line) { l.DataIscrizione = day(10000, 1, 1) }, "DataIscrizione", "layout"},
	} {
		var buf bytes.Buffer
		w, _ := inipec.NewWriter(&buf, inipec.DefaultFormat())
		if err := w.Write(base); err != nil {
			t.Fatal(err)
		}
		l := base
		tc.edit(&l)
		err := w.Write(l)
		var le inipec.LineError
		if !errors.As(err, &le) || le.Line != 2 || le.Field != tc.field || !strings.Contains(le.Message, tc.msg) {
			t.Errorf("%s: error %#v (%v); want line 2, field %s, message with %q", tc.name, le, err, tc.field, tc.msg)
		}
		if strings.Contains(le.Error(), l.CodiceFiscale) {
			t.Errorf("%s: the error repeats the codice fiscale: %v", tc.name, le)
		}
		if i, u, d := w.Count(); i != 1 || u+d != 0 {
			t.Errorf("%s: Count() = %d, %d, %d", tc.name, i, u, d)
		}
		w.Flush()
		if strings.Count(buf.String(), "\r\n") != 1 {
			t.Errorf("%s: refused line written: %q", tc.name, buf.String())
		}
	}
}

func TestWriterHeader(t *testing.T) {
	f := inipec.DefaultFormat()
	f.Header = true
	out := string(write(t, f, sampleLines()[:1]))
	want := "PEC;Nome;Cognome;NumeroIscrizione;CodiceFiscale;Stato;DataIscrizione;DataCancellazione\r\n" +
		"carlo.zurzi@pec.tsrm.org;Carlo;Zurzi;1234;ZRZCRL72R10H501D;2;05/03/2019;\r\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	if got := string(write(t, f, nil)); got != want[:strings.Index(want, "\n")+1] {
		t.Errorf("empty file with header: %q", got)
	}

	// Line numbers count the header row.
	var buf bytes.Buffer
	w, _ := inipec.NewWriter(&buf, f)
	bad := sampleLines()[0]
	bad.PEC = "nope"
	var le inipec.LineError
	if err := w.Write(bad); !errors.As(err, &le) || le.Line != 2 {
		t.Errorf("first line after the header: %v, want line 2", err)
	}
	if i, u, d := w.Count(); i+u+d != 0 {
		t.Errorf("Count() = %d, %d, %d after a header only", i, u, d)
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	return 0, errors.New("disk full")
}

func TestWriterSinkError(t *testing.T) {
	w, err := inipec.NewWriter(&failingWriter{}, inipec.DefaultFormat())
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Write(sampleLines()[0]) // buffered
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush = %v", err)
	}
	if err := w.Write(sampleLines()[0]); err == nil {
		t.Error("Write after a sink error succeeds")
	}
}

func TestFileName(t *testing.T) {
	rome, _ := time.LoadLocation("Europe/Rome")
	for _, tc := range []struct {
		id   string
		day  time.Time
		n    int
		want string
	}{
		{"OMCEO-RC", day(2024, 3, 5), 1, "INIPEC_OMCEO-RC_20240305_000001.csv"},
		{"TSRM-FI", day(2024, 12, 31), 123456, "INIPEC_TSRM-FI_20241231_123456.csv"},
		{"a/b c", day(2024, 1, 2), 7, "INIPEC_a-b-c_20240102_000007.csv"},
	} {
		if got := inipec.FileName(tc.id, tc.day, tc.n); got != tc.want {
			t.Errorf("FileName(%q, %v, %d) = %q, want %q", tc.id, tc.day, tc.n, got, tc.want)
		}
	}
	if rome != nil { // the day is the one of the time's own location
		late := time.Date(2024, 3, 5, 23, 30, 0, 0, time.UTC)
		if got := inipec.FileName("X1", late.In(rome), 1); got != "INIPEC_X1_20240306_000001.csv" {
			t.Errorf("Rome day: %q", got)
		}
	}
	if inipec.FileName("X1", day(2024, 3, 5), 2) == inipec.FileName("X1", day(2024, 3, 5), 3) {
		t.Error("FileName does not depend on n")
	}
}
