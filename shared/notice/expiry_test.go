package notice

import (
	"strings"
	"testing"
	"time"
)

func TestExpiryReminder_SaysAddressDateAndWhomToAsk(t *testing.T) {
	m, err := ExpiryReminder(ExpiryData{Nome: "Carlo", Cognome: "Zurzi ZRZCRL72R10H501D", Address: "carlo.zurzi@pec.tsrm.org",
		OrderName: "Ordine TSRM PSTRP di Firenze", OrderPEC: "firenze@pec.tsrm.org",
		ExpiresOn: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), DaysLeft: 30})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "La casella PEC carlo.zurzi@pec.tsrm.org scade il 1° marzo 2027" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, part := range []string{m.Text, m.HTML} {
		for _, want := range []string{"carlo.zurzi@pec.tsrm.org", "1° marzo 2027", "30 giorni", "rinnovo è disposto dal Suo Ordine", "firenze@pec.tsrm.org"} {
			if !strings.Contains(part, want) {
				t.Errorf("%q missing from %q", want, part)
			}
		}
		if strings.Contains(part, "ZRZCRL72R10H501D") {
			t.Error("the codice fiscale reached the e-mail")
		}
	}
	if m, _ := ExpiryReminder(ExpiryData{Address: "a@pec.tsrm.org", OrderName: "O", ExpiresOn: time.Now(), DaysLeft: 1}); !strings.Contains(m.Text, "1 giorno da oggi") {
		t.Errorf("singular: %q", m.Text)
	}
	if _, err := ExpiryReminder(ExpiryData{Address: "a@pec.tsrm.org", OrderName: "O"}); err == nil {
		t.Error("no expiry date accepted")
	}
}

func TestAuthorizationRequest_RenewalIsWordedForRenewal(t *testing.T) {
	d := authorization()
	d.Renewal = true
	m, err := AuthorizationRequest(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Subject, "rinnovo di 12 caselle") || !strings.Contains(m.Text, "lotto di rinnovo B-2026-0007") ||
		!strings.Contains(m.Text, "a partire dalla sua scadenza attuale") || strings.Contains(m.Text, "RICHIESTA INVIATA") {
		t.Errorf("renewal request:\n%s\n%s", m.Subject, m.Text)
	}
}
