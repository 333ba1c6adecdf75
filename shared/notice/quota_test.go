package notice

import (
	"errors"
	"strings"
	"testing"
)

func TestQuotaWarning_SaysWhatAFullMailboxMeansAndWhatToDo(t *testing.T) {
	m, err := QuotaWarning(QuotaData{Nome: "Carlo", Cognome: "Zurzi", Address: "carlo.zurzi@pec.tsrm.org", Percent: 92,
		OrderName: "Ordine TSRM PSTRP di Firenze", OrderPEC: "firenze@pec.tsrm.org"})
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "subject", m.Subject, "carlo.zurzi@pec.tsrm.org", "quasi piena")
	mustContain(t, "text", m.Text, "Gentile Carlo Zurzi", "il 92% dello spazio", "non riceve più messaggi",
		"domicilio digitale non disponibile", "La invitiamo a liberare spazio", "firenze@pec.tsrm.org", "Ordine TSRM PSTRP di Firenze")
	if m.HTML != "" || len(m.Attachments) != 0 {
		t.Error("a plain-text e-mail expected")
	}
}

func TestQuotaFullNotice_ListsTheFullMailboxesInOnePEC(t *testing.T) {
	m, err := QuotaFullNotice("Ordine TSRM PSTRP di Firenze", []QuotaData{
		{Nome: "Carlo", Cognome: "Zurzi", NumeroIscrizione: "1234", Address: "carlo.zurzi@pec.tsrm.org", Percent: 100},
		{Nome: "Anna", Cognome: "Neri", Address: "anna.neri@pec.tsrm.org", Percent: 101},
	})
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "subject", m.Subject, "2 caselle PEC piene", "Firenze")
	mustContain(t, "text", m.Text, "Spett.le Ordine TSRM PSTRP di Firenze", "carlo.zurzi@pec.tsrm.org – Carlo Zurzi (numero di iscrizione 1234) – 100%",
		"anna.neri@pec.tsrm.org – Anna Neri – 101%", "Pronto Ordini n. 63/2025", "domicilio digitale mancante", "Gli iscritti sono stati avvisati")
	one, _ := QuotaFullNotice("Ordine X", []QuotaData{{Nome: "A", Cognome: "B", Address: "a.b@pec.tsrm.org", Percent: 100}})
	mustContain(t, "subject", one.Subject, "1 casella PEC piena")
	mustContain(t, "text", one.Text, "la seguente casella PEC fornita in convenzione ha esaurito", "L'iscritto è stato avvisato")
	for _, bad := range []error{
		func() error { _, err := QuotaFullNotice("", []QuotaData{{Address: "a@b.it"}}); return err }(),
		func() error { _, err := QuotaFullNotice("Ordine", nil); return err }(),
		func() error { _, err := QuotaWarning(QuotaData{OrderName: "O"}); return err }(),
	} {
		if !errors.Is(bad, ErrInvalidData) {
			t.Errorf("err = %v", bad)
		}
	}
	if strings.Contains(m.Text, "RSSMRA") {
		t.Error("a codice fiscale in the notice")
	}
}
