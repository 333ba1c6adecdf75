package albo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pecplatform/pec/shared/domain"
)

const hdr = "codiceFiscale;nome;cognome;albo;numeroIscrizione;dataIscrizione;email;pec;ctu\n"

// got is a Row reduced to what the tests compare.
type got struct {
	Line  int
	E     domain.Enrolment
	Code  string
	Field string
}

func reduce(r Row) got {
	g := got{Line: r.Line, E: r.Enrolment}
	if r.Err != nil {
		g.Code, g.Field = r.Err.Code, r.Err.Field
	}
	return g
}

// readAll reads every row; err is the error that ended the file, nil for io.EOF.
func readAll(t *testing.T, r *Reader) ([]got, error) {
	t.Helper()
	var rows []got
	for range 1_000_000 {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, reduce(row))
	}
	t.Fatal("the reader does not stop")
	return nil, nil
}

func rossi(line int) got {
	return got{Line: line, E: domain.Enrolment{CodiceFiscale: "RSSMRA80A01H501U", Nome: "Mario", Cognome: "Rossi",
		Albo: "TSRM", NumeroIscrizione: "123", DataIscrizione: "2010-03-05", Email: "mario@example.it"}}
}

func with(g got, f func(*got)) got {
	f(&g)
	return g
}

const rossiLine = "RSSMRA80A01H501U;Mario;Rossi;TSRM;123;2010-03-05;mario@example.it;;\n"

func TestReader_CSV(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{"semicolons", hdr + rossiLine +
			"VRDLGU75B02F205X;Luigi;Verdi;FISIO;9;2001-12-31;luigi@example.it;luigi@pec.it;sì\n",
			[]got{rossi(2), {Line: 3, E: domain.Enrolment{CodiceFiscale: "VRDLGU75B02F205X", Nome: "Luigi", Cognome: "Verdi",
				Albo: "FISIO", NumeroIscrizione: "9", DataIscrizione: "2001-12-31", Email: "luigi@example.it", PEC: "luigi@pec.it", CTU: true}}}},
		{"commas", strings.ReplaceAll(hdr+rossiLine, ";", ","), []got{rossi(2)}},
		{"BOM and CRLF", "\xEF\xBB\xBF" + strings.ReplaceAll(hdr+rossiLine+rossiLine, "\n", "\r\n"),
			[]got{rossi(2), rossi(3)}},
		{"last line without line ending", hdr + strings.TrimSuffix(rossiLine, "\n"), []got{rossi(2)}},
		{"quoted fields", hdr + `"RSSMRA80A01H501U";"Mario; detto ""Super""";"Rossi";TSRM;123;2010-03-05;mario@example.it;"";"x"` + "\n",
			[]got{with(rossi(2), func(g *got) { g.E.Nome = `Mario; detto "Super"`; g.E.CTU = true })}},
		{"blanks around quotes", hdr + `RSSMRA80A01H501U; "Mario" ;Rossi;TSRM;123;2010-03-05;mario@example.it;;` + "\n",
			[]got{rossi(2)}},
		{"line break inside quotes", "note;" + hdr + "\"Via Roma 1\r\n00100 Roma\";" + rossiLine + "x;" + rossiLine,
			[]got{rossi(2), rossi(4)}},
		{"blank lines are skipped and counted", hdr + "\n" + rossiLine + "\r\n   \n;;;;;;;;\n\"\";;;;;;;;\n" + rossiLine + "\n\n",
			[]got{rossi(3), rossi(8)}},
		{"blank lines before the header", "\n;;;\n" + hdr + rossiLine, []got{rossi(4)}},
		{"header aliases, case and unknown columns",
			"Note; CF ;Nome;COGNOME;Albo;Matricola;Data_Iscrizione;E-mail;PEC;Ctu\nciao;" + rossiLine,
			[]got{rossi(2)}},
		{"more header aliases",
			"Codice Fiscale,NOME,Cognome,ALBO,N. Iscrizione,data-iscrizione,Mail\n" +
				"RSSMRA80A01H501U,Mario,Rossi,TSRM,123,2010-03-05,mario@example.it\n",
			[]got{rossi(2)}},
		{"Italian dates", hdr +
			strings.Replace(rossiLine, "2010-03-05", "05/03/2010", 1) +
			strings.Replace(rossiLine, "2010-03-05", "5/3/2010", 1) +
			strings.Replace(rossiLine, "2010-03-05", "31/02/2010", 1) +
			strings.Replace(rossiLine, "2010-03-05", "05-03-2010", 1) +
			strings.Replace(rossiLine, "2010-03-05", "05/03/10", 1),
			[]got{rossi(2), rossi(3),
				with(rossi(4), func(g *got) { g.E.DataIscrizione = "2010-02-31" }),
				with(rossi(5), func(g *got) { g.E.DataIscrizione = "05-03-2010" }),
				with(rossi(6), func(g *got) { g.E.DataIscrizione = "05/03/10" })}},
		{"wrong field count does not stop the next lines", hdr +
			"RSSMRA80A01H501U;Mario;Rossi;TSRM;123;2010-03-05\n" +
			"RSSMRA80A01H501U;Mario;Rossi;TSRM;123;2010-03-05;mario@example.it;;;extra\n" +
			rossiLine,
			[]got{
				{Line: 2, Code: "wrong_field_count", E: domain.Enrolment{CodiceFiscale: "RSSMRA80A01H501U", Nome: "Mario",
					Cognome: "Rossi", Albo: "TSRM", NumeroIscrizione: "123", DataIscrizione: "2010-03-05"}},
				with(rossi(3), func(g *got) { g.Code = "wrong_field_count" }),
				rossi(4)}},
		{"trailing empty fields", hdr + strings.TrimSuffix(rossiLine, "\n") + ";; ;\n", []got{rossi(2)}},
		{"header with unnamed trailing columns", strings.TrimSuffix(hdr, "\n") + ";;;\n" + rossiLine, []got{rossi(2)}},
		{"ctu values", hdr +
			strings.Replace(rossiLine, ";;\n", ";;TRUE\n", 1) +
			strings.Replace(rossiLine, ";;\n", ";;X\n", 1) +
			strings.Replace(rossiLine, ";;\n", ";;No\n", 1) +
			strings.Replace(rossiLine, ";;\n", ";;forse\n", 1),
			[]got{with(rossi(2), func(g *got) { g.E.CTU = true }), with(rossi(3), func(g *got) { g.E.CTU = true }),
				rossi(4), with(rossi(5), func(g *got) { g.Code, g.Field = "invalid_ctu", "ctu" })}},
		{"invalid UTF-8", hdr + strings.Replace(rossiLine, "Mario", "Niccol\xF2", 1) + rossiLine,
			[]got{with(rossi(2), func(g *got) { g.E.Nome = "Niccol\uFFFD"; g.Code, g.Field = "invalid_encoding", "nome" }), rossi(3)}},
		{"bare quote", hdr + strings.Replace(rossiLine, "Mario", `Mario "Super"`, 1) + rossiLine,
			[]got{{Line: 2, Code: "malformed_line", E: domain.Enrolment{CodiceFiscale: "RSSMRA80A01H501U"}}, rossi(3)}},
		{"text after the closing quote", hdr + strings.Replace(rossiLine, "Mario", `"Mario"x`, 1) + rossiLine,
			[]got{{Line: 2, Code: "malformed_line", E: domain.Enrolment{CodiceFiscale: "RSSMRA80A01H501U"}}, rossi(3)}},
		{"quote never closed", hdr + rossiLine + strings.Replace(rossiLine, "Mario", `"Mario`, 1) + rossiLine + rossiLine,
			[]got{rossi(2), {Line: 3, Code: "malformed_line"}, rossi(4), rossi(5)}},
		{"quote closed on a later line", hdr + strings.Replace(rossiLine, "Mario", `"Mario`, 1) + rossiLine +
			strings.Replace(rossiLine, "Mario", `"Mario"`, 1) + rossiLine,
			[]got{{Line: 2, Code: "malformed_line"}, rossi(3), rossi(4), rossi(5)}},
		{"quote open at the end", hdr + rossiLine + `"`, []got{rossi(2), {Line: 3, Code: "malformed_line"}}},
		{"line too long", hdr + strings.Replace(rossiLine, "Mario", strings.Repeat("M", maxRecord), 1) + rossiLine,
			[]got{{Line: 2, Code: "line_too_long"}, rossi(3)}},
		{"header only", hdr, nil},
		{"header only without line ending", strings.TrimSuffix(hdr, "\n"), nil},
		{"header and blank lines", hdr + "\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.in), FormatCSV)
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			rows, err := readAll(t, r)
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if len(rows) != len(tt.want) {
				t.Fatalf("got %d rows, want %d:\n%+v", len(rows), len(tt.want), rows)
			}
			for i := range rows {
				if rows[i] != tt.want[i] {
					t.Errorf("row %d:\n got %+v\nwant %+v", i, rows[i], tt.want[i])
				}
			}
		})
	}
}

func TestReader_CSVSeparator(t *testing.T) {
	tests := []struct {
		header string
		want   rune
	}{
		{hdr, ';'},
		{strings.ReplaceAll(hdr, ";", ","), ','},
		{`"a,b,c";` + hdr, ';'}, // the commas in quotes do not count
		{"codiceFiscale;nome;cognome;albo;numeroIscrizione;dataIscrizione,email,pec,ctu\n", ';'}, // a tie
	}
	for _, tt := range tests {
		r, err := NewReader(strings.NewReader(tt.header), FormatCSV)
		if err != nil {
			if tt.want == ';' && strings.Count(tt.header, ",") == 3 {
				continue // the tie makes a header that lacks columns: the point is which separator
			}
			t.Fatalf("%q: %v", tt.header, err)
		}
		if _, sep := r.Header(); sep != tt.want {
			t.Errorf("%q: separator %q, want %q", tt.header, sep, tt.want)
		}
	}
}

func TestNewReader_BadHeader(t *testing.T) {
	tests := []struct {
		name, in, code, field, msg string
	}{
		{"empty file", "", "invalid_header", "file", "empty"},
		{"only blank lines", "\n\r\n  \n", "invalid_header", "file", "empty"},
		{"missing column", strings.Replace(hdr, "email;", "", 1), "invalid_header", "email", "email"},
		{"missing columns", strings.Replace(hdr, "nome;cognome;", "", 1), "invalid_header", "nome", "nome, cognome"},
		{"duplicate column", strings.Replace(hdr, "pec", "mail", 1), "invalid_header", "email", "twice"},
		{"duplicate alias", "cf;" + hdr, "invalid_header", "codiceFiscale", "twice"},
		{"other separator", strings.ReplaceAll(hdr, ";", "\t"), "invalid_header", "codiceFiscale", "separated"},
		{"malformed header", `co"diceFiscale;` + hdr, "invalid_header", "file", "quote"},
		{"UTF-16", "\xFF\xFEc\x00f\x00", "invalid_encoding", "file", "UTF-16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.in), FormatCSV)
			var de *domain.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *domain.Error", err)
			}
			if de.Kind != domain.KindInvalid || de.Code != tt.code || de.Field != tt.field || !strings.Contains(de.Message, tt.msg) {
				t.Errorf("err = %+v, want %s on %q mentioning %q", de, tt.code, tt.field, tt.msg)
			}
		})
	}
}

func TestReader_JSON(t *testing.T) {
	const mario = `{"codiceFiscale":"RSSMRA80A01H501U","nome":"Mario","cognome":"Rossi","albo":"TSRM",` +
		`"numeroIscrizione":"123","dataIscrizione":"2010-03-05","email":"mario@example.it"}`
	tests := []struct {
		name    string
		in      string
		want    []got
		errCode string // the error that ends the file, "" for io.EOF
	}{
		{"good and bad elements", "\xEF\xBB\xBF [\n" + mario + `,
			{"codiceFiscale":"RSSMRA80A01H501U","nome":"Mario","ctu":"si"},
			42, null, "x", [],
			{"nome": 5},
			` + strings.Replace(mario, `"Mario"`, `"Mario","ctu":true,"extra":{"a":[1]}`, 1) + "]\n",
			[]got{rossi(1),
				{Line: 2, Code: "invalid_json", Field: "ctu", E: domain.Enrolment{CodiceFiscale: "RSSMRA80A01H501U", Nome: "Mario"}},
				{Line: 3, Code: "invalid_json"}, {Line: 4, Code: "invalid_json"}, {Line: 5, Code: "invalid_json"},
				{Line: 6, Code: "invalid_json"}, {Line: 7, Code: "invalid_json", Field: "nome"},
				with(rossi(8), func(g *got) { g.E.CTU = true })}, ""},
		{"empty array", " [ ] ", nil, ""},
		{"not an array", `{"nome":"Mario"}`, nil, "invalid_json"},
		{"a string", `"[]"`, nil, "invalid_json"},
		{"empty file", "", nil, "invalid_json"},
		{"not JSON", "]", nil, "invalid_json"},
		{"syntax error in the array", "[" + mario + "," + mario + " " + mario + "]", []got{rossi(1), rossi(2)}, "invalid_json"},
		{"syntax error in an element", "[" + mario + `,{"nome":}]`, []got{rossi(1)}, "invalid_json"},
		{"array not closed", "[" + mario + ",", []got{rossi(1)}, "invalid_json"},
		{"array not closed after an element", "[" + mario, []got{rossi(1)}, "invalid_json"},
		{"element cut short", "[" + mario[:20], nil, "invalid_json"},
		{"text after the array", "[" + mario + "] x", []got{rossi(1)}, "invalid_json"},
		{"a second array", "[" + mario + "][]", []got{rossi(1)}, "invalid_json"},
		{"element too large", `[{"nome":"` + strings.Repeat("M", 2*maxRecord) + `"}]`, nil, "line_too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.in), FormatJSON)
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			rows, err := readAll(t, r)
			var de *domain.Error
			switch {
			case tt.errCode == "" && err != nil:
				t.Fatalf("Next: %v", err)
			case tt.errCode != "" && (!errors.As(err, &de) || de.Code != tt.errCode || de.Kind != domain.KindInvalid):
				t.Fatalf("Next: err = %v, want %s", err, tt.errCode)
			}
			if _, again := r.Next(); again != err && !(err == nil && errors.Is(again, io.EOF)) {
				t.Errorf("Next after the end: %v, want %v again", again, err)
			}
			if len(rows) != len(tt.want) {
				t.Fatalf("got %d rows, want %d:\n%+v", len(rows), len(tt.want), rows)
			}
			for i := range rows {
				if rows[i] != tt.want[i] {
					t.Errorf("row %d:\n got %+v\nwant %+v", i, rows[i], tt.want[i])
				}
			}
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		in   string
		want Format
	}{
		{"[]", FormatJSON},
		{" \r\n\t[{}]", FormatJSON},
		{"\xEF\xBB\xBF\n[", FormatJSON},
		{hdr, FormatCSV},
		{"\xEF\xBB\xBF" + hdr, FormatCSV},
		{"", FormatCSV},
		{"\n\n", FormatCSV},
		{"{}", FormatCSV},
		{strings.Repeat(" ", bufSize+10) + "[", FormatCSV}, // too far to look
	}
	for _, tt := range tests {
		// One byte at a time: Detect must not rely on a single Read.
		f, r, err := Detect(iotest.OneByteReader(strings.NewReader(tt.in)))
		if err != nil || f != tt.want {
			t.Errorf("Detect(%.20q) = %v, %v; want %v", tt.in, f, err, tt.want)
			continue
		}
		if b, _ := io.ReadAll(r); string(b) != tt.in {
			t.Errorf("Detect(%.20q): the reader yields %.20q", tt.in, b)
		}
	}
	if _, _, err := Detect(iotest.ErrReader(io.ErrClosedPipe)); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Detect on a failing reader: %v", err)
	}
}

func TestDetect_ThenNewReader(t *testing.T) {
	for in, end := range map[string]int{
		"\xEF\xBB\xBF" + hdr + rossiLine:          len(hdr) + len(rossiLine) + 3,
		"\xEF\xBB\xBF [{\"nome\":\"Mario\"}\n]\n": 21, // JSON: up to the element's end
	} {
		f, r, err := Detect(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		ar, err := NewReader(r, f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := readAll(t, ar)
		if err != nil || len(rows) != 1 || rows[0].E.Nome != "Mario" || rows[0].Code != "" {
			t.Errorf("%v: rows %+v, err %v", f, rows, err)
		}
		if ar.Offset() != int64(end) {
			t.Errorf("%v: Offset = %d, want %d", f, ar.Offset(), end)
		}
	}
}

func TestReader_ReadErrorEndsTheFile(t *testing.T) {
	boom := errors.New("connection reset")
	for _, f := range []Format{FormatCSV, FormatJSON} {
		in := hdr + rossiLine
		if f == FormatJSON {
			in = `[{"nome":"Mario"},`
		}
		r, err := NewReader(io.MultiReader(strings.NewReader(in), iotest.ErrReader(boom)), f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := readAll(t, r)
		if len(rows) != 1 || !errors.Is(err, boom) {
			t.Errorf("%v: rows %+v, err %v; want one row then %v", f, rows, err, boom)
		}
	}
	if _, err := NewReader(iotest.ErrReader(boom), FormatCSV); !errors.Is(err, boom) {
		t.Errorf("NewReader: %v, want %v", err, boom)
	}
}

func TestOffset_CSV(t *testing.T) {
	in := "\xEF\xBB\xBF" + hdr + "\n" + rossiLine + "\r\n\"x\";" + strings.TrimSuffix(rossiLine, "\n") + "\r\n\n"
	r, err := NewReader(strings.NewReader(in), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(3 + len(hdr)); r.Offset() != want || r.NextLine() != 2 {
		t.Errorf("after the header: Offset %d, NextLine %d; want %d, 2", r.Offset(), r.NextLine(), want)
	}
	wantEnds := []int{strings.Index(in, rossiLine) + len(rossiLine), strings.LastIndex(in, "\r\n\n") + 2}
	wantNext := []int{4, 6}
	for i, end := range wantEnds {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if r.Offset() != int64(end) || r.NextLine() != wantNext[i] {
			t.Errorf("row %d: Offset %d, NextLine %d; want %d, %d", i, r.Offset(), r.NextLine(), end, wantNext[i])
		}
	}
}

func TestResumeCSV_BadArguments(t *testing.T) {
	h := strings.Split(strings.TrimSpace(hdr), ";")
	if _, err := ResumeCSV(strings.NewReader(""), h, '\t', 2); err == nil {
		t.Error("a tab separator was accepted")
	}
	if _, err := ResumeCSV(strings.NewReader(""), h, ';', 0); err == nil {
		t.Error("line 0 was accepted")
	}
	var de *domain.Error
	if _, err := ResumeCSV(strings.NewReader(""), h[1:], ';', 2); !errors.As(err, &de) || de.Code != "invalid_header" {
		t.Errorf("a header without codiceFiscale: %v", err)
	}
}

// member appends the CSV line of the i-th generated member, without allocating (the benchmark
// counts allocations). Every seventh has a note that spans two lines, so that records and lines
// do not coincide.
func member(buf []byte, i int) []byte {
	n := int64(i)
	buf = append(buf, "RSSMRA80A01H"...)
	buf = append(buf, byte('0'+i/100%10), byte('0'+i/10%10), byte('0'+i%10))
	buf = append(buf, "U;Mario "...)
	buf = strconv.AppendInt(buf, n, 10)
	buf = append(buf, ";Rossi;TSRM;"...)
	buf = strconv.AppendInt(buf, n, 10)
	day := 1 + i%28
	buf = append(buf, ';', byte('0'+day/10), byte('0'+day%10))
	buf = append(buf, "/03/2010;m"...)
	buf = strconv.AppendInt(buf, n, 10)
	buf = append(buf, "@example.it;;"...)
	buf = append(buf, [4]string{"", "sì", "0", "x"}[i%4]...)
	buf = append(buf, ';')
	if i%7 == 0 {
		buf = append(buf, "\"riga uno;\r\nriga \"\"due\"\"\""...)
	}
	return append(buf, '\n')
}

const genHeader = "CF;Nome;Cognome;Albo;Matricola;Data iscrizione;E-mail;PEC;CTU;Note\n"

// generated returns a CSV of n members with blank lines here and there, and the line each
// member starts on.
func generated(n int) ([]byte, []int) {
	b := []byte(genHeader)
	lines := make([]int, n)
	line := 2
	for i := range n {
		if i%50 == 0 {
			b = append(b, "\r\n"...)
			line++
		}
		lines[i] = line
		b = member(b, i)
		line++
		if i%7 == 0 {
			line++
		}
	}
	return b, lines
}

func TestResumeCSV_ContinuesWhereTheReaderStopped(t *testing.T) {
	data, lines := generated(1000)
	r, err := NewReader(bytes.NewReader(data), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	for range 400 {
		row, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	offset, next := r.Offset(), r.NextLine()
	header, sep := r.Header()

	// A job would save offset, next, header and sep, and later fetch bytes offset- of the file.
	r2, err := ResumeCSV(bytes.NewReader(data[offset:]), header, sep, next)
	if err != nil {
		t.Fatal(err)
	}
	for {
		row, err := r2.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	if offset+r2.Offset() != int64(len(data)) {
		t.Errorf("resumed Offset %d + %d, want %d", offset, r2.Offset(), len(data))
	}
	if len(rows) != 1000 {
		t.Fatalf("%d rows, want 1000", len(rows))
	}
	for i, row := range rows {
		want := string(member(nil, i))
		if row.Err != nil || row.Line != lines[i] || !strings.HasPrefix(want, row.Enrolment.CodiceFiscale+";Mario "+fmt.Sprint(i)+";") ||
			row.Enrolment.Email != fmt.Sprintf("m%d@example.it", i) || row.Enrolment.CTU != (i%4 == 1 || i%4 == 3) ||
			row.Enrolment.DataIscrizione != fmt.Sprintf("2010-03-%02d", 1+i%28) {
			t.Fatalf("row %d: %+v (error %v), want line %d of %q", i, row, row.Err, lines[i], want)
		}
	}
}

func TestReader_CSVTelephoneAndResidence(t *testing.T) {
	in := "Codice fiscale;Nome;Cognome;Albo;N. iscrizione;Data iscrizione;E-mail;Telefono;Indirizzo;CAP;Comune;Prov\n" +
		"RSSMRA80A01H501U;Mario;Rossi;TSRM;123;2010-03-05;mario@example.it;0583 123456;Via Roma 1;55100;Lucca;LU\n" +
		"RSSMRA80A01H501U;Mario;Rossi;TSRM;123;2010-03-05;mario@example.it;;;;;\n"
	r, err := NewReader(strings.NewReader(in), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(t, r)
	if err != nil || len(rows) != 2 {
		t.Fatal(rows, err)
	}
	want := with(rossi(2), func(g *got) {
		g.E.Telefono = "0583 123456"
		g.E.Residenza = &domain.Residence{Address: "Via Roma 1", City: "Lucca", PostCode: "55100", Province: "LU"}
	})
	if g := rows[0]; g.E.Telefono != want.E.Telefono || g.E.Residenza == nil || *g.E.Residenza != *want.E.Residenza {
		t.Errorf("row with residence: %+v", g)
	}
	if g := rows[1]; g.E.Telefono != "" || g.E.Residenza != nil {
		t.Errorf("row without: %+v %+v", g, g.E.Residenza)
	}
}
