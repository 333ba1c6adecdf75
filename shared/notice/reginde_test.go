package notice

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func reginde() RegindeData {
	return RegindeData{
		Nome:      "Carlo",
		Cognome:   "Zurzi",
		Address:   "carlo.zurzi@pec.tsrm.org",
		OrderName: "Ordine TSRM PSTRP di Firenze",
		Link:      "https://pec.example.it/reginde/Zx9_token-value",
		ExpiresAt: expires,
	}
}

func TestRegindeEmail_ExplainsRegistrationAndLinksTheConfirmation(t *testing.T) {
	m, err := RegindeEmail(reginde())
	if err != nil {
		t.Fatal(err)
	}
	if want := "Registrazione al ReGIndE della PEC carlo.zurzi@pec.tsrm.org"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	for part, s := range map[string]string{"text": m.Text, "HTML": m.HTML} {
		mustContain(t, part, s,
			"Gentile Carlo Zurzi,",
			"consulente tecnico d'ufficio (CTU)",
			"deve essere esattamente",
			"carlo.zurzi@pec.tsrm.org",
			"la stessa già comunicata all'Ordine",
			"Carta Nazionale dei Servizi (CNS)", "Carta Regionale dei Servizi (CRS)", "firma digitale",
			"pst.giustizia.it", "Accedi con smartcard",
			"Solo la PEC registrata al ReGIndE", "non riceve le notifiche",
			"https://pec.example.it/reginde/Zx9_token-value",
			"23 novembre 2026",
			"Ordine TSRM PSTRP di Firenze")
		mustNotContain(t, part, s, "Promemoria")
	}
	mustContain(t, "HTML", m.HTML, "Ho completato la registrazione al ReGIndE")
	if strings.Count(m.Text, "carlo.zurzi@pec.tsrm.org") < 3 {
		t.Errorf("the text should repeat the exact address where it is to be typed:\n%s", m.Text)
	}
}

func TestRegindeEmail_ReminderSaysSo(t *testing.T) {
	d := reginde()
	d.Reminder = true
	m, err := RegindeEmail(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Subject, "Promemoria: ") {
		t.Errorf("subject = %q", m.Subject)
	}
	mustContain(t, "text", m.Text, "non ci risulta ancora confermata", "\n\nIl Suo domicilio digitale")
	mustContain(t, "HTML", m.HTML, "non ci risulta ancora confermata")
}

func TestRegindeEmail_RefusesMissingDataAndUnsafeLinks(t *testing.T) {
	for name, change := range map[string]func(*RegindeData){
		"no address":  func(d *RegindeData) { d.Address = " " },
		"no order":    func(d *RegindeData) { d.OrderName = "" },
		"no expiry":   func(d *RegindeData) { d.ExpiresAt = time.Time{} },
		"no link":     func(d *RegindeData) { d.Link = "" },
		"not http":    func(d *RegindeData) { d.Link = "javascript:alert(1)" },
		"credentials": func(d *RegindeData) { d.Link = "https://u:p@pec.example.it/reginde/x" },
	} {
		d := reginde()
		change(&d)
		if _, err := RegindeEmail(d); !errors.Is(err, ErrInvalidData) {
			t.Errorf("%s: err = %v, want ErrInvalidData", name, err)
		}
	}
}

func TestRegindeEmail_NeverCarriesACodiceFiscaleNorBreaksLines(t *testing.T) {
	for _, input := range []string{"ZRZCRL72R10H501D", "zrzcrl72r10h501d@pec.it", "Mario\r\nBcc: x@y.it\u2028Z"} {
		d := reginde()
		fill(&d, input)
		d.Link = reginde().Link
		m, err := RegindeEmail(d)
		if err != nil {
			t.Fatal(err)
		}
		for part, s := range map[string]string{"subject": m.Subject, "text": m.Text, "HTML": m.HTML} {
			if cf := cfShape.FindString(strings.ToUpper(s)); cf != "" {
				t.Errorf("input %q: %s carries %q", input, part, cf)
			}
			if strings.Contains(s, "\nBcc:") || strings.ContainsAny(s, "\r\u2028") {
				t.Errorf("input %q: %s has a forged line", input, part)
			}
		}
		if strings.Contains(m.Text, "\n\n\n") || !strings.HasSuffix(m.Text, "\n") || strings.HasSuffix(m.Text, "\n\n") {
			t.Errorf("untidy text:\n%q", m.Text)
		}
	}
}
