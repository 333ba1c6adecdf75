package notice

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var expires = time.Date(2026, 11, 23, 13, 30, 0, 0, time.UTC) // 14:30 in Rome

func activation() ActivationData {
	return ActivationData{
		Nome:      "Niccolò",
		Cognome:   "D'Amico",
		Address:   "niccolo.damico@pec.tsrm.org",
		OrderName: "Ordine TSRM PSTRP di Forlì-Cesena",
		Link:      "https://pec.example.it/activate/Zx9_token-value?src=mail&v=1",
		ExpiresAt: expires,
	}
}

func authorization() AuthorizationData {
	return AuthorizationData{
		OrderName:    "Ordine TSRM PSTRP di Firenze",
		BatchID:      "B-2026-0007",
		MailboxCount: 12,
		AmountCents:  5856,
		PriceCents:   400,
		VATPercent:   22,
	}
}

func member() MemberNoticeData {
	return MemberNoticeData{
		OrderName:        "Ordine TSRM PSTRP di Firenze",
		Nome:             "Carlo",
		Cognome:          "Zurzi",
		NumeroIscrizione: "1234",
		Address:          "carlo.zurzi@pec.tsrm.org",
	}
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

func mustNotContain(t *testing.T, what, s string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(s, w) {
			t.Errorf("%s contains %q:\n%s", what, w, s)
		}
	}
}

func TestActivationEmail_SaysWhatTheMemberNeeds(t *testing.T) {
	m, err := ActivationEmail(activation())
	if err != nil {
		t.Fatal(err)
	}
	if want := "Attivazione della casella PEC niccolo.damico@pec.tsrm.org"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	facts := []string{
		"Niccolò",
		"Ordine TSRM PSTRP di Forlì-Cesena",
		"niccolo.damico@pec.tsrm.org",
		"domicilio digitale",
		"Confermi o rifiuti l'attivazione",
		"23 novembre 2026",
		"14:30",
		"personale",
		"una sola volta",
		"non certificata",
		"non occorre rispondere",
		"Piattaforma PEC della Federazione",
	}
	mustContain(t, "text", m.Text, facts...)
	mustContain(t, "text", m.Text, "Gentile Niccolò D'Amico,", "\nhttps://pec.example.it/activate/Zx9_token-value?src=mail&v=1\n")
	mustContain(t, "HTML", m.HTML, facts[2:]...)
	mustContain(t, "HTML", m.HTML,
		"<!DOCTYPE html>", `<html lang="it">`, `<meta charset="utf-8">`, `name="viewport"`,
		"Gentile Niccolò D&#39;Amico,",
		`<a href="https://pec.example.it/activate/Zx9_token-value?src=mail&amp;v=1"`,
		">Confermi o rifiuti l'attivazione</a>",
	)
	mustNotContain(t, "text", m.Text, "Promemoria")
	mustNotContain(t, "HTML", m.HTML, "Promemoria")
}

func TestActivationEmail_ReminderSaysSo(t *testing.T) {
	d := activation()
	d.Reminder = 2
	m, err := ActivationEmail(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Promemoria: Attivazione della casella PEC niccolo.damico@pec.tsrm.org"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	mustContain(t, "text", m.Text, "Le ricordiamo che non ha ancora confermato né rifiutato")
	mustContain(t, "HTML", m.HTML, "<strong>Promemoria:</strong>")
}

func TestActivationEmail_GreetsWithoutAName(t *testing.T) {
	d := activation()
	d.Nome, d.Cognome = " ", ""
	m, err := ActivationEmail(d)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "text", m.Text, "Gentile professionista,")
	mustContain(t, "HTML", m.HTML, "Gentile professionista,")
}

func TestActivationEmail_EscapesUserDataInHTML(t *testing.T) {
	d := activation()
	d.Nome = "<script>alert(1)</script>"
	d.Cognome = `"><img src=x onerror=alert(2)>`
	d.OrderName = "Ordine <b>TSRM</b> & PSTRP"
	m, err := ActivationEmail(d)
	if err != nil {
		t.Fatal(err)
	}
	mustNotContain(t, "HTML", m.HTML, "<script", "<img", "<b>TSRM")
	mustContain(t, "HTML", m.HTML,
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"&lt;img src=x onerror=alert(2)&gt;",
		"Ordine &lt;b&gt;TSRM&lt;/b&gt; &amp; PSTRP",
	)
	mustContain(t, "text", m.Text, "<script>alert(1)</script>") // plain text: shown as typed
}

func TestActivationEmail_RefusesUnsafeLinks(t *testing.T) {
	for _, link := range []string{
		"",
		"javascript:alert(1)",
		"/activate/relative-token",
		"https:///no-host",
		"ftp://pec.example.it/activate/secret-token",
		"https://user:secret-token@pec.example.it/activate",
		"https://pec.example.it/activate/secret-token\r\nBcc: x@y.it",
		"https://pec.example.it/activate/secret token",
	} {
		d := activation()
		d.Link = link
		_, err := ActivationEmail(d)
		if !errors.Is(err, ErrInvalidData) {
			t.Errorf("link %q: err = %v, want ErrInvalidData", link, err)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error repeats the link (and its token): %v", err)
		}
	}
}

func TestMessages_RefuseMissingData(t *testing.T) {
	cases := map[string]func() error{
		"activation without address": func() error { d := activation(); d.Address = " "; _, err := ActivationEmail(d); return err },
		"activation without order":   func() error { d := activation(); d.OrderName = ""; _, err := ActivationEmail(d); return err },
		"activation without expiry":  func() error { d := activation(); d.ExpiresAt = time.Time{}; _, err := ActivationEmail(d); return err },
		"activation negative remind": func() error { d := activation(); d.Reminder = -1; _, err := ActivationEmail(d); return err },
		"authorization without batch": func() error {
			d := authorization()
			d.BatchID = ""
			_, err := AuthorizationRequest(d)
			return err
		},
		"authorization of nothing": func() error { d := authorization(); d.MailboxCount = 0; _, err := AuthorizationRequest(d); return err },
		"authorization negative":   func() error { d := authorization(); d.AmountCents = -1; _, err := AuthorizationRequest(d); return err },
		"authorization bad VAT":    func() error { d := authorization(); d.VATPercent = 122; _, err := AuthorizationRequest(d); return err },
		"decline without name":     func() error { d := member(); d.Nome, d.Cognome = "", ""; _, err := DeclineNotice(d); return err },
		"rejection without order":  func() error { d := member(); d.OrderName = ""; _, err := RejectionNotice(d); return err },
		"unactivated without addr": func() error { d := member(); d.Address = ""; _, err := UnactivatedNotice(d); return err },
		"unactivated negative":     func() error { d := member(); d.Reminders = -1; _, err := UnactivatedNotice(d); return err },
	}
	for name, f := range cases {
		if err := f(); !errors.Is(err, ErrInvalidData) {
			t.Errorf("%s: err = %v, want ErrInvalidData", name, err)
		}
	}
}

func TestAuthorizationRequest_AsksToConfirmAndPay(t *testing.T) {
	m, err := AuthorizationRequest(authorization())
	if err != nil {
		t.Fatal(err)
	}
	if want := "Richiesta di autorizzazione all'emissione di 12 caselle PEC – lotto B-2026-0007 – Ordine TSRM PSTRP di Firenze"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	if m.HTML != "" {
		t.Errorf("a PEC notice is plain text, got HTML %q", m.HTML)
	}
	mustContain(t, "text", m.Text,
		"Spett.le Ordine TSRM PSTRP di Firenze,\n",
		"12 caselle PEC create in via provvisoria (stato RICHIESTA)",
		"confermare e autorizzare l'emissione",
		"pagamento",
		"- numero di caselle: 12\n",
		"- prezzo unitario: € 4,00 + IVA 22%\n",
		"- importo totale (IVA inclusa): € 58,56\n",
		"si apra il lotto B-2026-0007 e si scelga «Conferma»",
		"RICHIESTA INVIATA",
		"\nDistinti saluti.\n\nPiattaforma PEC della Federazione\n",
	)
	mustNotContain(t, "text", m.Text, "Sollecito", "con riferimento alla precedente")
	if !strings.HasSuffix(m.Text, Signature+"\n") {
		t.Errorf("text is not signed %q at the end:\n%s", Signature, m.Text)
	}
}

func TestAuthorizationRequest_OneMailboxIsSingular(t *testing.T) {
	d := authorization()
	d.MailboxCount, d.AmountCents = 1, 488
	m, err := AuthorizationRequest(d)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "subject", m.Subject, "emissione di 1 casella PEC –")
	mustContain(t, "text", m.Text, "composto da 1 casella PEC creata in via provvisoria", "€ 4,88")
}

func TestAuthorizationRequest_ReminderAndOwnHint(t *testing.T) {
	d := authorization()
	d.Reminder = 1
	d.VATPercent = 5.5
	d.PortalHint = "Confermi il lotto nel portale, sezione PEC > Lotti."
	m, err := AuthorizationRequest(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Subject, "Sollecito: Richiesta di autorizzazione") {
		t.Errorf("reminder subject = %q", m.Subject)
	}
	mustContain(t, "text", m.Text,
		"con riferimento alla precedente comunicazione",
		"\nNell'ambito della convenzione",
		"Confermi il lotto nel portale, sezione PEC > Lotti.",
		"IVA 5,5%",
	)
	mustNotContain(t, "text", m.Text, "/v1/batches/")
}

func TestDeclineNotice(t *testing.T) {
	m, err := DeclineNotice(member())
	if err != nil {
		t.Fatal(err)
	}
	if want := "Mancata conferma dell'attivazione della casella PEC – Carlo Zurzi (iscrizione n. 1234)"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	mustContain(t, "text", m.Text,
		"Carlo Zurzi (numero di iscrizione 1234) non ha confermato",
		"carlo.zurzi@pec.tsrm.org",
		"revocata (stato REVOCATA)",
		"privo di domicilio digitale",
		"D.L. 76/2020",
		Signature,
	)

	d := member()
	d.OwnPEC = "carlo.zurzi@legalmail.it"
	m, err = DeclineNotice(d)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "text", m.Text, "revocata", "    carlo.zurzi@legalmail.it\n", "è ora il suo domicilio digitale")
	mustNotContain(t, "text", m.Text, "privo di domicilio digitale")
}

func TestRejectionNotice(t *testing.T) {
	d := member()
	d.Reason = "casella già esistente presso il gestore"
	m, err := RejectionNotice(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Mancata emissione della casella PEC – Carlo Zurzi (iscrizione n. 1234)"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	mustContain(t, "text", m.Text,
		"gestore PEC ha respinto la richiesta",
		"Carlo Zurzi (numero di iscrizione 1234)",
		"carlo.zurzi@pec.tsrm.org",
		"Motivazione indicata dal gestore: casella già esistente presso il gestore\n",
		Signature,
	)

	m, err = RejectionNotice(member())
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "text", m.Text, "Motivazione indicata dal gestore: non indicata\n")
}

func TestUnactivatedNotice(t *testing.T) {
	d := member()
	d.Reminders = 3
	d.Email = "carlo.zurzi@example.it"
	m, err := UnactivatedNotice(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Casella PEC non attivata – Carlo Zurzi (iscrizione n. 1234)"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	mustContain(t, "text", m.Text,
		"Carlo Zurzi (numero di iscrizione 1234) non ha confermato né rifiutato",
		"il messaggio di attivazione e 3 promemoria successivi inviati all'indirizzo di posta elettronica ordinaria registrato nel portale (c***@example.it).",
		"Casella PEC non attivata: carlo.zurzi@pec.tsrm.org", // the PEC apart: it is not where the messages went
		"contattare l'iscritto",
		Signature,
	)

	d.Reminders = 1
	m, _ = UnactivatedNotice(d)
	mustContain(t, "text", m.Text, "e 1 promemoria successivo inviati all'indirizzo")
	d.Reminders = 0
	m, _ = UnactivatedNotice(d)
	mustContain(t, "text", m.Text, "nonostante il messaggio di attivazione inviato all'indirizzo")
	mustNotContain(t, "text", m.Text, "carlo.zurzi@example.it")
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{"carlo.zurzi@example.it": "c***@example.it", "è@x.it": "è***@x.it", "": "", "nonsense": ""} {
		if got := MaskEmail(in); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}

func TestMemberNotices_WithoutNumeroIscrizione(t *testing.T) {
	d := member()
	d.NumeroIscrizione = ""
	m, err := DeclineNotice(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Mancata conferma dell'attivazione della casella PEC – Carlo Zurzi"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	mustContain(t, "text", m.Text, "si comunica che Carlo Zurzi non ha confermato")
}

// allMessages renders every message from data in which every string field holds s (the
// activation link stays valid).
func allMessages(t *testing.T, s string) map[string]Message {
	t.Helper()
	a := activation()
	fill(&a, s)
	a.Link = activation().Link
	z := authorization()
	fill(&z, s)
	md := member()
	fill(&md, s)
	out := map[string]Message{}
	add := func(name string, m Message, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = m
	}
	m, err := ActivationEmail(a)
	add("activation", m, err)
	a.Reminder = 1
	m, err = ActivationEmail(a)
	add("activation reminder", m, err)
	m, err = AuthorizationRequest(z)
	add("authorization", m, err)
	z.PortalHint = ""
	m, err = AuthorizationRequest(z)
	add("authorization default hint", m, err)
	m, err = DeclineNotice(md)
	add("decline", m, err)
	m, err = RejectionNotice(md)
	add("rejection", m, err)
	m, err = UnactivatedNotice(md)
	add("unactivated", m, err)
	return out
}

// fill sets every string field of the struct p points to to s.
func fill(p any, s string) {
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.String {
			f.SetString(s)
		}
	}
}

var cfShape = regexp.MustCompile(`[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]`)

func TestMessages_NeverCarryACodiceFiscale(t *testing.T) {
	for _, input := range []string{
		"ZRZCRL72R10H501D",            // as the seed prints it
		"Carlo ZRZCRL72R10H501D",      // pasted after a name
		"zrzcrl72r10h501d@pec.it",     // lower case, in an address
		"ZRZCRLTNR1LHRM1D",            // omocodic
		"ZRZCRL72R10H501DZRZCRL72R10", // run on
	} {
		for name, m := range allMessages(t, input) {
			for part, s := range map[string]string{"subject": m.Subject, "text": m.Text, "HTML": m.HTML} {
				if cf := cfShape.FindString(strings.ToUpper(s)); cf != "" {
					t.Errorf("input %q: %s %s carries %q:\n%s", input, name, part, cf, s)
				}
			}
		}
	}
	m, _ := DeclineNotice(MemberNoticeData{OrderName: "Ordine", Nome: "Carlo", Cognome: "ZRZCRL72R10H501D", Address: "a@pec.it"})
	mustContain(t, "text", m.Text, "Carlo ZRZCRL**R10H501*") // masked as the pages mask it
}

func TestMessages_LineBreaksInDataCannotAddLines(t *testing.T) {
	const evil = "Mario\r\nBcc: x@y.it\nX-Evil: 1\u2028Y\u0000Z"
	for name, m := range allMessages(t, evil) {
		if strings.ContainsAny(m.Subject, "\r\n\u2028\x00") {
			t.Errorf("%s: subject has a line break or control character: %q", name, m.Subject)
		}
		for part, s := range map[string]string{"text": m.Text, "HTML": m.HTML} {
			if strings.Contains(s, "\nBcc:") || strings.Contains(s, "\nX-Evil") || strings.ContainsAny(s, "\r\x00\u2028") {
				t.Errorf("%s %s: a field broke a line:\n%q", name, part, s)
			}
		}
		mustContain(t, name+" subject or text", m.Subject+m.Text, "Mario Bcc: x@y.it X-Evil: 1 Y Z")
	}
}

func TestMessages_TextIsTidy(t *testing.T) {
	for name, m := range allMessages(t, "Valore") {
		if strings.Contains(m.Text, "\n\n\n") || strings.HasPrefix(m.Text, "\n") || !strings.HasSuffix(m.Text, "\n") || strings.HasSuffix(m.Text, "\n\n") {
			t.Errorf("%s: untidy blank lines:\n%q", name, m.Text)
		}
		for _, l := range strings.Split(m.Text, "\n") {
			if strings.TrimRight(l, " \t") != l {
				t.Errorf("%s: trailing blanks in %q", name, l)
			}
		}
	}
}

// A link's token may happen to contain something shaped like a codice fiscale: the link is
// e-mailed whole, never masked (a masked link would lead nowhere).
func TestLinks_AreNeverMaskedLikeACodiceFiscale(t *testing.T) {
	link := "https://pec.example.it/firma/5nsGONBnpxtQUCtIHMUwLMlu8f3Q9Mruq0BTlc3VTRL" // ...UCtIHM UwLMl u8f3Q9M... shapes
	sig, err := SigningEmail(SigningData{Nome: "Mario", Address: "m@pec.example.it", OrderName: "Ordine", Link: link, Until: time.Now()})
	if err != nil || !strings.Contains(sig.Text, link) {
		t.Errorf("signing e-mail: %v\n%s", err, sig.Text)
	}
	req, err := RequestLinkEmail(RequestLinkData{Address: "m@pec.example.it", OrderName: "Ordine", Link: link, AmountCents: 488})
	if err != nil || !strings.Contains(req.Text, link) {
		t.Errorf("request e-mail: %v\n%s", err, req.Text)
	}
	if _, err := SigningEmail(SigningData{OrderName: "Ordine", Link: "javascript:alert(1)"}); err == nil {
		t.Error("a link that is no http(s) URL was accepted")
	}
}
