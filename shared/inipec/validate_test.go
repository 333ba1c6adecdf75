package inipec_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/inipec"
)

// good is a valid line (default format) without its line ending.
const good = "carlo.zurzi@pec.tsrm.org;Carlo;Zurzi;1234;" + cf1 + ";2;05/03/2019;"

func TestValidateErrors(t *testing.T) {
	type want struct {
		line  int
		field string
		msg   string
	}
	for _, tc := range []struct {
		name string
		file string
		want []want
	}{
		{"too few fields", good + "\r\na@pec.it;Carlo;Zurzi;1;" + cf1 + ";2;05/03/2019\r\n", []want{{2, "", "7 fields: want 8"}}},
		{"too many fields", good + "\r\n" + good + ";\r\n", []want{{2, "", "9 fields"}}},
		{"unknown Stato", good + "\r\n" + strings.Replace(good, ";2;", ";4;", 1) + "\r\n", []want{{2, "Stato", "unknown code"}}},
		{"missing Stato", strings.Replace(good, ";2;", ";;", 1) + "\r\n", []want{{1, "Stato", "required"}}},
		{"PEC not an address", strings.Replace(good, "carlo.zurzi@pec.tsrm.org", "carlo.zurzi", 1) + "\r\n", []want{{1, "PEC", "e-mail"}}},
		{"PEC with a name", strings.Replace(good, "carlo.zurzi@pec.tsrm.org", "Carlo <carlo.zurzi@pec.tsrm.org>", 1) + "\r\n", []want{{1, "PEC", "e-mail"}}},
		{"PEC without a dot in the domain", strings.Replace(good, "pec.tsrm.org", "localhost", 1) + "\r\n", []want{{1, "PEC", "e-mail"}}},
		{"PEC missing", strings.Replace(good, "carlo.zurzi@pec.tsrm.org", "", 1) + "\r\n", []want{{1, "PEC", "required"}}},
		{"CF too short", strings.Replace(good, cf1, cf1[:15], 1) + "\r\n", []want{{1, "CodiceFiscale", "16 characters"}}},
		{"CF lower case", strings.Replace(good, cf1, strings.ToLower(cf1), 1) + "\r\n", []want{{1, "CodiceFiscale", "codice fiscale"}}},
		{"CF digit for a letter", strings.Replace(good, cf1, "Z1ZCRL72R10H501D", 1) + "\r\n", []want{{1, "CodiceFiscale", "codice fiscale"}}},
		{"CF bad month", strings.Replace(good, cf1, "ZRZCRL72Z10H501D", 1) + "\r\n", []want{{1, "CodiceFiscale", "codice fiscale"}}},
		{"CF missing on delete", "x@pec.it;;;;;3;;\r\n", []want{{1, "CodiceFiscale", "required"}}},
		{"Nome missing on insert", strings.Replace(good, ";Carlo;", ";;", 1) + "\r\n", []want{{1, "Nome", "required"}}},
		{"everything missing on update", "a@pec.it;;;;" + cf1 + ";1;;\r\n", []want{{1, "Nome", "required"}, {1, "Cognome", "required"}, {1, "NumeroIscrizione", "required"}}},
		{"no enrolment date on update: optional", "a@pec.it;Anna;Neri;12;" + cf1 + ";1;;\r\n", nil},
		{"ISO date", strings.Replace(good, "05/03/2019", "2019-03-05", 1) + "\r\n", []want{{1, "DataIscrizione", `layout "02/01/2006"`}}},
		{"unpadded date", strings.Replace(good, "05/03/2019", "5/3/2019", 1) + "\r\n", []want{{1, "DataIscrizione", "layout"}}},
		{"impossible date", strings.Replace(good, "05/03/2019", "31/02/2019", 1) + "\r\n", []want{{1, "DataIscrizione", "layout"}}},
		{"cancellation on insert", good + "01/01/2024\r\n", []want{{1, "DataCancellazione", "only on a delete line (code 3)"}}},
		{"cancellation on update", strings.Replace(good, ";2;", ";1;", 1) + "01/01/2024\r\n", []want{{1, "DataCancellazione", "delete"}}},
		{"cancellation before enrolment", strings.Replace(good, ";2;", ";3;", 1) + "01/01/2010\r\n", []want{{1, "DataCancellazione", "before DataIscrizione"}}},
		{"bad cancellation date", strings.Replace(good, ";2;", ";3;", 1) + "2024\r\n", []want{{1, "DataCancellazione", "layout"}}},
		{"quote", strings.Replace(good, "Zurzi", `"Zurzi"`, 1) + "\r\n", []want{{1, "Cognome", "double quote"}}},
		{"control character", strings.Replace(good, "Zurzi", "Zur\tzi", 1) + "\r\n", []want{{1, "Cognome", "control character"}}},
		{"stray CR", strings.Replace(good, "Zurzi", "Zur\rzi", 1) + "\r\n", []want{{1, "Cognome", "line break"}}},
		{"LF alone", good + "\r\n" + good + "\n" + good + "\r\n", []want{{2, "", "LF alone: want CRLF"}}},
		{"empty line", good + "\r\n\r\n" + good + "\r\n", []want{{2, "", "empty line"}}},
		{"trailing empty line", good + "\r\n\r\n", []want{{2, "", "empty line"}}},
		{"byte order mark", "\xEF\xBB\xBF" + good + "\r\n", []want{{1, "", "byte order mark"}}},
		{"invalid UTF-8", good + "\r\n" + strings.Replace(good, "Carlo", "Carl\xf2", 1) + "\r\n", []want{{2, "Nome", "not valid UTF-8"}}},
		{"unexpected header", "PEC;Nome;Cognome;NumeroIscrizione;CodiceFiscale;Stato;DataIscrizione;DataCancellazione\r\n" + good + "\r\n", []want{{1, "", "unexpected header row"}}},
		{"too long", good + "\r\n" + strings.Repeat("x", inipec.MaxLineLength+10) + "\r\n" + good + "\r\n", []want{{2, "", "longer than"}}},
		{"several lines, several problems", good + "\r\n" +
			"bad;Carlo;Zurzi;1;" + cf1 + ";2;05/03/2019;\r\n" +
			good + "\r\n" +
			"a@pec.it;Carlo;Zurzi;1;" + cf1 + ";9;5/3/2019;\r\n",
			[]want{{2, "PEC", "e-mail"}, {4, "Stato", "unknown"}, {4, "DataIscrizione", "layout"}}},
	} {
		_, _, _, errs, err := inipec.Validate(strings.NewReader(tc.file), inipec.DefaultFormat())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []want
		for _, e := range errs {
			got = append(got, want{e.Line, e.Field, e.Message})
			if strings.Contains(e.Message, cf1) || strings.Contains(e.Message, cf1[:15]) || strings.Contains(strings.ToUpper(e.Message), cf1) {
				t.Errorf("%s: the message repeats the codice fiscale: %v", tc.name, e)
			}
		}
		ok := len(got) == len(tc.want)
		for i := 0; ok && i < len(got); i++ {
			ok = got[i].line == tc.want[i].line && got[i].field == tc.want[i].field && strings.Contains(got[i].msg, tc.want[i].msg)
		}
		if !ok {
			t.Errorf("%s: errors\n  %v\nwant\n  %v", tc.name, got, tc.want)
		}
	}
}

func TestValidateAccepts(t *testing.T) {
	f := inipec.DefaultFormat()
	for _, tc := range []struct {
		name    string
		file    string
		i, u, d int
	}{
		{"empty file", "", 0, 0, 0},
		{"last line without a line ending", good + "\r\n" + good, 2, 0, 0},
		{"delete with keys only", "x@pec.it;;;;" + cf1 + ";3;;\r\n", 0, 0, 1},
		{"delete of a member who left", "x@pec.it;Carlo;Zurzi;12;" + cf1 + ";3;05/03/2019;05/03/2019\r\n", 0, 0, 1},
		{"omocodic codice fiscale", strings.Replace(good, cf1, "ZRZCRL72R10H5LMD", 1) + "\r\n", 1, 0, 0},
		{"accents and apostrophes", "n.damico@pec.it;Niccolò;D'Amico;7;" + cf2 + ";1;01/01/2020;\r\n", 0, 1, 0},
	} {
		i, u, d, errs, err := inipec.Validate(strings.NewReader(tc.file), f)
		if err != nil || len(errs) > 0 {
			t.Errorf("%s: %v %v", tc.name, errs, err)
		}
		if i != tc.i || u != tc.u || d != tc.d {
			t.Errorf("%s: counts %d, %d, %d; want %d, %d, %d", tc.name, i, u, d, tc.i, tc.u, tc.d)
		}
	}
}

func TestValidateCountsOnlyValidLines(t *testing.T) {
	file := good + "\r\n" + strings.Replace(good, ";2;", ";1;", 1) + "\r\nbad;;;;;3;;\r\n" + strings.Replace(good, "Carlo", "", 1) + "\r\n"
	i, u, d, errs, _ := inipec.Validate(strings.NewReader(file), inipec.DefaultFormat())
	if i != 1 || u != 1 || d != 0 || len(errs) != 3 {
		t.Errorf("counts %d, %d, %d, errors %v", i, u, d, errs)
	}
}

func TestValidateHeader(t *testing.T) {
	f := inipec.DefaultFormat()
	f.Header = true
	h := f.HeaderRow() + "\r\n"
	for _, tc := range []struct {
		name string
		file string
		want string // "" for valid; else "line:message part"
	}{
		{"header and a line", h + good + "\r\n", ""},
		{"header only", h, ""},
		{"empty file", "", "1:missing header row"},
		{"no header", good + "\r\n", "1:want the header row"},
		{"lower-case header", strings.ToLower(h) + good + "\r\n", "1:want the header row"},
		{"bad line after the header", h + "x;Carlo;Zurzi;1;" + cf1 + ";2;05/03/2019;\r\n", "2:not an e-mail"},
	} {
		_, _, _, errs, err := inipec.Validate(strings.NewReader(tc.file), f)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.want == "" && len(errs) > 0:
			t.Errorf("%s: %v", tc.name, errs)
		case tc.want != "" && (len(errs) != 1 || !strings.HasPrefix(tc.want, fmt.Sprint(errs[0].Line)+":") || !strings.Contains(errs[0].Message, tc.want[2:])):
			t.Errorf("%s: %v, want %s", tc.name, errs, tc.want)
		}
	}
}

func TestValidateOtherFormats(t *testing.T) {
	f := inipec.DefaultFormat()
	f.LineEnding = "\n"
	_, _, _, errs, _ := inipec.Validate(strings.NewReader(good+"\n"+good+"\r\n"), f)
	if len(errs) != 1 || errs[0].Line != 2 || !strings.Contains(errs[0].Message, "CRLF: want LF") {
		t.Errorf("LF format, CRLF line: %v", errs)
	}

	f = inipec.DefaultFormat()
	f.Encoding = inipec.ISO88591
	latin := "n.damico@pec.it;Niccol\xf2;D'Amico;7;" + cf2 + ";1;01/01/2020;\r\n"
	if _, u, _, errs, _ := inipec.Validate(strings.NewReader(latin), f); len(errs) > 0 || u != 1 {
		t.Errorf("ISO-8859-1: %v", errs)
	}
	// The same bytes are not UTF-8.
	if _, _, _, errs, _ := inipec.Validate(strings.NewReader(latin), inipec.DefaultFormat()); len(errs) != 1 || errs[0].Field != "Nome" {
		t.Errorf("ISO-8859-1 bytes read as UTF-8: %v", errs)
	}
	// C1 controls (0x80-0x9F) are characters in Latin-1, but control characters.
	if _, _, _, errs, _ := inipec.Validate(strings.NewReader(strings.Replace(latin, "\xf2", "\x85", 1)), f); len(errs) != 1 || !strings.Contains(errs[0].Message, "control") {
		t.Errorf("ISO-8859-1 with a C1 control: %v", errs)
	}
	f.Encoding = inipec.Windows1252
	if _, _, _, errs, _ := inipec.Validate(strings.NewReader(strings.Replace(latin, "\xf2", "\x81", 1)), f); len(errs) != 1 || errs[0].Field != "Nome" || !strings.Contains(errs[0].Message, "not defined in windows-1252") {
		t.Errorf("windows-1252 with an undefined byte: %v", errs)
	}

	f = inipec.DefaultFormat()
	f.Separator = '|'
	if _, _, _, errs, _ := inipec.Validate(strings.NewReader(good+"\r\n"), f); len(errs) != 1 || !strings.Contains(errs[0].Message, "1 fields: want 8") {
		t.Errorf("';' file read with '|': %v", errs)
	}
}

type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("connection reset")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestValidateReadError(t *testing.T) {
	i, _, _, errs, err := inipec.Validate(&failingReader{data: []byte(good + "\r\n" + good)}, inipec.DefaultFormat())
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("err = %v", err)
	}
	if i != 2 || len(errs) != 0 { // what was read is still checked
		t.Errorf("i = %d, errs = %v", i, errs)
	}
}

func FuzzValidate(f *testing.F) {
	f.Add([]byte(good+"\r\n"), false, uint8(0))
	f.Add([]byte("PEC;Nome;Cognome;NumeroIscrizione;CodiceFiscale;Stato;DataIscrizione;DataCancellazione\r\n"+good+"\r\n"), true, uint8(1))
	f.Add([]byte("x@pec.it;;;;"+cf1+";3;;\n\n\r\r\n;;;;;;;;;\xff\xfe"), false, uint8(2))
	f.Add([]byte("\xEF\xBB\xBFn.damico@pec.it;Niccol\xf2;D'Amico;7;"+cf2+";1;01/01/2020;31/12/2019"), false, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, header bool, enc uint8) {
		format := inipec.DefaultFormat()
		format.Header = header
		format.Encoding = []string{inipec.UTF8, inipec.ISO88591, inipec.Windows1252}[int(enc)%3]
		if enc&4 != 0 {
			format.LineEnding = "\n"
		}
		i, u, d, errs, err := inipec.Validate(bytes.NewReader(data), format)
		if err != nil {
			t.Fatalf("read error from a bytes.Reader: %v", err)
		}
		lines := bytes.Count(data, []byte("\n"))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++
		}
		if i < 0 || u < 0 || d < 0 || i+u+d > lines {
			t.Fatalf("counts %d, %d, %d for %d lines", i, u, d, lines)
		}
		prev := 0
		for _, e := range errs {
			if e.Line < 1 || e.Line > max(lines, 1) || e.Line < prev || e.Message == "" {
				t.Fatalf("bad LineError %#v (%d lines)", e, lines)
			}
			prev = e.Line
		}
		if len(errs) == 0 {
			// A file without problems decodes, and its valid lines are all of them.
			text, err := format.Decode(data)
			if err != nil {
				t.Fatalf("valid file does not decode: %v", err)
			}
			want := strings.Count(text, "\n")
			if len(text) > 0 && text[len(text)-1] != '\n' {
				want++
			}
			if header && want > 0 {
				want--
			}
			if i+u+d != want {
				t.Fatalf("valid file: counts %d+%d+%d, want %d lines", i, u, d, want)
			}
		}
	})
}

// FuzzWriterValidate checks the Writer's promise: a line it accepts, Validate accepts.
func FuzzWriterValidate(f *testing.F) {
	f.Add("carlo.zurzi@pec.tsrm.org", "Carlo", "Zurzi", "1234", cf1, 1, int64(1551744000), int64(0), uint8(0))
	f.Add("n@pec.it", "Niccolò", "D'Amico", "A-7", cf2, 3, int64(0), int64(1735603200), uint8(1))
	f.Add("a@b.c", "Ł", "x;y", "\"", "ZRZCRL72R10H501D", 2, int64(-62135596800), int64(253402300799), uint8(2))
	f.Fuzz(func(t *testing.T, pec, nome, cognome, numero, cf string, stato int, iscr, canc int64, enc uint8) {
		format := inipec.DefaultFormat()
		format.Encoding = []string{inipec.UTF8, inipec.ISO88591, inipec.Windows1252}[int(enc)%3]
		format.Header = enc&4 != 0
		l := inipec.Line{PEC: pec, Nome: nome, Cognome: cognome, NumeroIscrizione: numero, CodiceFiscale: cf, Stato: inipec.Stato(stato)}
		if iscr != 0 {
			l.DataIscrizione = unixDay(iscr)
		}
		if canc != 0 {
			l.DataCancellazione = unixDay(canc)
		}
		var buf bytes.Buffer
		w, err := inipec.NewWriter(&buf, format)
		if err != nil {
			t.Fatal(err)
		}
		werr := w.Write(l)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		i, u, d, errs, err := inipec.Validate(bytes.NewReader(buf.Bytes()), format)
		if err != nil {
			t.Fatal(err)
		}
		if werr != nil {
			var le inipec.LineError
			if !errors.As(werr, &le) || le.Line != 1+btoi(format.Header) {
				t.Fatalf("Write error %v is not a LineError for the first line", werr)
			}
			if len(errs) > 0 || i+u+d != 0 {
				t.Fatalf("a refused line left something in the file: %q", buf.Bytes())
			}
			return
		}
		if len(errs) > 0 || i+u+d != 1 {
			t.Fatalf("Writer accepted %+v, Validate says %v (counts %d %d %d)\n%q", l, errs, i, u, d, buf.Bytes())
		}
	})
}

func unixDay(s int64) time.Time {
	t := time.Unix(s%(1<<40), 0).UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
