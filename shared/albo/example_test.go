package albo_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pecplatform/pec/shared/albo"
)

func Example() {
	file := "\uFEFFCF;Nome;Cognome;Albo;Matricola;Data iscrizione;E-mail;PEC;CTU\r\n" +
		"RSSMRA80A01H501U;Mario;Rossi;TSRM;123;05/03/2010;mario@example.it;;sì\r\n" +
		"\r\n" +
		"VRDLGU75B02F205X;Luigi;Verdi;TSRM;124;2001-12-31;luigi@example.it\r\n"
	f, r, err := albo.Detect(strings.NewReader(file))
	if err != nil {
		panic(err)
	}
	rows, err := albo.NewReader(r, f)
	if err != nil {
		panic(err) // a *domain.Error: invalid_header
	}
	for {
		row, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		if row.Err != nil {
			fmt.Printf("line %d: %s\n", row.Line, row.Err.Code)
			continue
		}
		fmt.Printf("line %d: %s %s, since %s, CTU %v\n", row.Line, row.Enrolment.Nome, row.Enrolment.Cognome,
			row.Enrolment.DataIscrizione, row.Enrolment.CTU)
	}
	// Output:
	// line 2: Mario Rossi, since 2010-03-05, CTU true
	// line 4: wrong_field_count
}
