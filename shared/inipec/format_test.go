package inipec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pecplatform/pec/shared/inipec"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultFormat(t *testing.T) {
	f := inipec.DefaultFormat()
	want := inipec.Format{Separator: ';', InsertCode: "2", UpdateCode: "1", DeleteCode: "3", DateLayout: "02/01/2006", Encoding: "UTF-8", LineEnding: "\r\n"}
	if f != want {
		t.Fatalf("DefaultFormat() = %+v, want %+v", f, want)
	}
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	if got := f.HeaderRow(); got != "PEC;Nome;Cognome;NumeroIscrizione;CodiceFiscale;Stato;DataIscrizione;DataCancellazione" {
		t.Errorf("HeaderRow() = %q", got)
	}
	for s, code := range map[inipec.Stato]string{inipec.Insert: "2", inipec.Update: "1", inipec.Delete: "3", 0: "", 9: ""} {
		if got := f.Code(s); got != code {
			t.Errorf("Code(%v) = %q, want %q", s, got, code)
		}
		if code == "" {
			continue
		}
		if back, ok := f.Stato(code); !ok || back != s {
			t.Errorf("Stato(%q) = %v, %v", code, back, ok)
		}
	}
	if _, ok := f.Stato("4"); ok {
		t.Error(`Stato("4") is known`)
	}
	if _, ok := f.Stato(""); ok {
		t.Error(`Stato("") is known`)
	}
}

func TestFormatFromEnv(t *testing.T) {
	f, err := inipec.FormatFromEnv(env(nil))
	if err != nil || f != inipec.DefaultFormat() {
		t.Fatalf("empty environment: %+v, %v; want the defaults", f, err)
	}

	f, err = inipec.FormatFromEnv(env(map[string]string{
		"INIPEC_SEPARATOR":   "|",
		"INIPEC_STATO_CODES": " I , U ,D",
		"INIPEC_DATE_LAYOUT": "2006-01-02",
		"INIPEC_ENCODING":    "latin1",
		"INIPEC_HEADER":      "true",
		"INIPEC_LINE_ENDING": "lf",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := inipec.Format{Separator: '|', InsertCode: "I", UpdateCode: "U", DeleteCode: "D", DateLayout: "2006-01-02", Encoding: "ISO-8859-1", LineEnding: "\n", Header: true}
	if f != want {
		t.Fatalf("got %+v, want %+v", f, want)
	}

	for _, v := range []string{`\t`, "TAB", "\t"} {
		f, err := inipec.FormatFromEnv(env(map[string]string{"INIPEC_SEPARATOR": v}))
		if err != nil || f.Separator != '\t' {
			t.Errorf("INIPEC_SEPARATOR=%q: %q, %v", v, f.Separator, err)
		}
	}
	for v, want := range map[string]string{"UTF8": "UTF-8", "iso-8859-1": "ISO-8859-1", "CP1252": "windows-1252", "Windows-1252": "windows-1252"} {
		f, err := inipec.FormatFromEnv(env(map[string]string{"INIPEC_ENCODING": v}))
		if err != nil || f.Encoding != want {
			t.Errorf("INIPEC_ENCODING=%q: %q, %v; want %q", v, f.Encoding, err, want)
		}
	}
}

func TestFormatFromEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want []string // in the error, all of them
	}{
		{map[string]string{"INIPEC_SEPARATOR": ";;"}, []string{"INIPEC_SEPARATOR", "one character"}},
		{map[string]string{"INIPEC_SEPARATOR": "a"}, []string{"separator", "inside a field"}},
		{map[string]string{"INIPEC_SEPARATOR": "@"}, []string{"separator", "inside a field"}},
		{map[string]string{"INIPEC_SEPARATOR": " "}, []string{"separator", "inside a field"}},
		{map[string]string{"INIPEC_SEPARATOR": "/"}, []string{"date layout", "separator"}}, // 02/01/2006
		{map[string]string{"INIPEC_SEPARATOR": "¦", "INIPEC_ENCODING": "ISO-8859-1"}, nil}, // U+00A6 is Latin-1: fine
		{map[string]string{"INIPEC_SEPARATOR": "‖", "INIPEC_ENCODING": "ISO-8859-1"}, []string{"cannot be represented", "ISO-8859-1"}},
		{map[string]string{"INIPEC_STATO_CODES": "2,1"}, []string{"INIPEC_STATO_CODES", "three"}},
		{map[string]string{"INIPEC_STATO_CODES": "2,2,3"}, []string{"insert and update codes are both"}},
		{map[string]string{"INIPEC_STATO_CODES": "2,,3"}, []string{"update code is required"}},
		{map[string]string{"INIPEC_STATO_CODES": "2,1;,3"}, []string{"update code contains the separator"}},
		{map[string]string{"INIPEC_DATE_LAYOUT": "01/2006"}, []string{"date layout", "round-trip"}},
		{map[string]string{"INIPEC_DATE_LAYOUT": "dd/mm/yyyy"}, []string{"date layout", "round-trip"}},
		{map[string]string{"INIPEC_DATE_LAYOUT": "02;01;2006"}, []string{"date layout", "separator"}},
		{map[string]string{"INIPEC_ENCODING": "EBCDIC"}, []string{"INIPEC_ENCODING", "unknown encoding"}},
		{map[string]string{"INIPEC_HEADER": "maybe"}, []string{"INIPEC_HEADER", "true or false"}},
		{map[string]string{"INIPEC_LINE_ENDING": "CR"}, []string{"INIPEC_LINE_ENDING", "CRLF or LF"}},
		{map[string]string{"INIPEC_HEADER": "maybe", "INIPEC_ENCODING": "x"}, []string{"INIPEC_HEADER", "INIPEC_ENCODING"}}, // every problem
	} {
		f, err := inipec.FormatFromEnv(env(tc.env))
		if tc.want == nil {
			if err != nil {
				t.Errorf("%v: %v", tc.env, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%v: no error (format %+v)", tc.env, f)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not mention %q", tc.env, err, w)
			}
		}
		if f != (inipec.Format{}) {
			t.Errorf("%v: a format came back with the error: %+v", tc.env, f)
		}
	}
}

func TestCheck(t *testing.T) {
	if err := (inipec.Format{}).Check(); err == nil {
		t.Fatal("the zero Format passes Check")
	} else {
		for _, w := range []string{"encoding is required", "separator is required", "insert code is required", "date layout is required", "line ending"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("zero Format: %q does not mention %q", err, w)
			}
		}
	}
	f := inipec.DefaultFormat()
	f.LineEnding = "\r"
	if err := f.Check(); err == nil {
		t.Error(`line ending "\r" passes`)
	}
	f = inipec.DefaultFormat()
	f.UpdateCode = "1\n"
	if err := f.Check(); err == nil {
		t.Error("a Stato code with a line break passes")
	}
	f = inipec.DefaultFormat()
	f.Separator = '\t'
	if err := f.Check(); err != nil {
		t.Errorf("tab separator: %v", err)
	}
	if _, err := inipec.NewWriter(&strings.Builder{}, inipec.Format{}); err == nil {
		t.Error("NewWriter accepts the zero Format")
	}
	if _, _, _, _, err := inipec.Validate(strings.NewReader(""), inipec.Format{}); err == nil {
		t.Error("Validate accepts the zero Format")
	}
}

func TestEncodeDecode(t *testing.T) {
	f := inipec.DefaultFormat()
	f.Encoding = inipec.ISO88591
	b, err := f.Encode("Niccolò")
	if err != nil || string(b) != "Niccol\xf2" {
		t.Fatalf("Encode = %q, %v", b, err)
	}
	if s, err := f.Decode(b); err != nil || s != "Niccolò" {
		t.Fatalf("Decode = %q, %v", s, err)
	}
	_, err = f.Encode("Łukasz")
	var ue *inipec.UnencodableError
	if !errors.As(err, &ue) || ue.Rune != 'Ł' || ue.Pos != 1 || ue.Encoding != "ISO-8859-1" {
		t.Fatalf("Encode(Łukasz) error = %v", err)
	}
	f.Encoding = inipec.Windows1252
	if _, err := f.Decode([]byte{'a', 0x81}); err == nil || !strings.Contains(err.Error(), "0x81") {
		t.Errorf("windows-1252 Decode of an undefined byte: %v", err)
	}
	if b, err := f.Encode("€"); err != nil || string(b) != "\x80" {
		t.Errorf("windows-1252 Encode(€) = %q, %v", b, err)
	}
	f.Encoding = inipec.UTF8
	if _, err := f.Decode([]byte{0xff}); err == nil {
		t.Error("UTF-8 Decode of 0xff passes")
	}
}
