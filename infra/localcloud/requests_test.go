package localcloud_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/domain"
)

// conventionOrder creates an Order with an offer code (and no Order-paid convention: flow 2
// works on its own) and returns its id, offer code and PEC address.
func conventionOrder(t *testing.T) (orderID, offerCode, orderPEC string) {
	t.Helper()
	orderID = uniqueID("RC")
	offerCode = "OMCEO-" + orderID
	orderPEC = strings.ToLower(orderID) + "@pec.example.it"
	body := map[string]any{"name": "Ordine dei Medici Chirurghi e degli Odontoiatri di Reggio Calabria", "pec": orderPEC,
		"convention": map[string]any{"webpec": false, "offerCode": offerCode, "priceCents": 400, "vatPercent": 22}}
	as(t, "federation", "").expect(201, "PUT", "/v1/orders/"+orderID, body)
	return orderID, offerCode, orderPEC
}

// public is a caller without the portal's token: a member's browser.
func public(t *testing.T) *client { return as(t, "", "") }

// omocodic returns cf with its last omocodic digit replaced by its letter and the check
// character recomputed: the same person, another code.
func omocodic(t *testing.T, cf string) string {
	t.Helper()
	b := []byte(cf)
	b[14] = "LMNPQRSTUV"[b[14]-'0']
	return withCheck(t, string(b[:15]))
}

// withCheck completes 15 characters of a codice fiscale with their check character.
func withCheck(t *testing.T, first15 string) string {
	t.Helper()
	for c := 'A'; c <= 'Z'; c++ {
		if _, err := domain.ParseCodiceFiscale(first15 + string(c)); err == nil {
			return first15 + string(c)
		}
	}
	t.Fatalf("no check character for %s", first15)
	return ""
}

// multipartBody builds a multipart/form-data body of the given parts.
func multipartBody(t *testing.T, parts map[string][]byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for name, content := range parts {
		p, err := w.CreateFormFile(name, name+".bin")
		if err != nil {
			t.Fatal(err)
		}
		p.Write(content)
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

var (
	aPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	aPNG = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	aJPG = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{1}, 64)...)
)

// payAtService makes the payment at the payment service's stand-in, as the member would.
func payAtService(t *testing.T, reference string, amountCents int, requestID string) {
	t.Helper()
	public(t).expect(201, "POST", "/_local/payments", map[string]any{"reference": reference, "amountCents": amountCents, "remittance": requestID})
}

func upload(t *testing.T, c *client, id, token string, parts map[string][]byte) reply {
	t.Helper()
	body, ct := multipartBody(t, parts)
	return c.do("POST", "/v1/requests/"+id+"/documents", body, "Content-Type", ct, "X-Access-Token", token)
}

// pdfText extracts the text of a PDF.
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a readable PDF: %v", err)
	}
	var sb strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		s, err := r.Page(i).GetPlainText(nil)
		if err != nil {
			t.Fatal(err)
		}
		sb.WriteString(s)
	}
	return sb.String()
}

func TestSelfService_FromRequestToActivePECWithoutWritingToAnyone(t *testing.T) {
	t.Parallel()
	orderID, offer, orderPEC := conventionOrder(t)
	order := as(t, "order", orderID)
	surname := "D'Amico " + strings.ToUpper(freshSurname("x"))
	email := strings.ToLower(uniqueID("m")) + "@example.it"
	m := member("ZRZCRL72R10H501D", "Niccolò", surname)
	m["email"] = email
	if r := order.expect(201, "POST", "/v1/orders/"+orderID+"/members", m).json(t); r["mailbox"] != nil {
		t.Fatalf("a mailbox without the Order's convention: %v", r)
	}

	// The member types the name as they like: case, accents, apostrophes and spaces do not matter.
	www := public(t)
	in := map[string]any{"codiceFiscale": "zrzcrl72r10h501d", "cognome": strings.ToLower(strings.ReplaceAll(surname, "'", " ")),
		"nome": "NICCOLO", "email": "niccolo@example.org"}
	r := www.expect(201, "POST", "/v1/conventions/"+strings.ToLower(offer)+"/requests", in).json(t)
	id, token := r["requestId"].(string), r["accessToken"].(string)
	wantAddress := "niccolo." + domain.FoldNamePart(surname) + "@pec.tsrm.org"
	if r["address"] != wantAddress || r["state"] != "AWAITING_PAYMENT" || r["amountCents"] != float64(488) || len(token) < 40 {
		t.Fatalf("request = %v, want address %s", r, wantAddress)
	}

	// The token is the credential: without it 401, with a wrong one the request does not exist.
	www.expect(401, "GET", "/v1/requests/"+id, nil)
	www.expect(404, "GET", "/v1/requests/"+id, nil, "X-Access-Token", token+"x")
	got := www.expect(200, "GET", "/v1/requests/"+id, nil, "X-Access-Token", token).json(t)
	if fmt.Sprint(got["missing"]) != "[payment form identity]" || got["mailboxState"] != "RICHIESTA" {
		t.Fatalf("request = %v", got)
	}

	// The form to sign is a real PDF with the member's data, the address and the price.
	f := www.expect(200, "GET", "/v1/requests/"+id+"/form.pdf", nil, "X-Access-Token", token)
	if ct := f.header.Get("Content-Type"); ct != "application/pdf" || !bytes.HasPrefix(f.body, []byte("%PDF-")) {
		t.Fatalf("form: %s, %q", ct, f.body[:min(len(f.body), 16)])
	}
	text := pdfText(t, f.body)
	for _, want := range []string{"Niccolò", "ZRZCRL72R10H501D", wantAddress, offer, "4,88", "Firma"} {
		if !strings.Contains(text, want) {
			t.Errorf("the form does not say %q", want)
		}
	}

	// The mailbox waits for the member, not for an Order's batch; the Order sees whose it is.
	order.expect(409, "POST", "/v1/orders/"+orderID+"/batches", nil)
	list := order.expect(200, "GET", "/v1/orders/"+orderID+"/mailboxes?state=RICHIESTA", nil).json(t)["items"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["requestId"] != id {
		t.Errorf("the Order's RICHIESTA mailboxes: %v", list)
	}

	// Payment: the amount must be the request's.
	code, field := www.expect(422, "POST", "/v1/requests/"+id+"/payment", map[string]any{"reference": "PAY-1", "amountCents": 400}, "X-Access-Token", token).errorOf(t)
	if code != "amount_mismatch" || field != "amountCents" {
		t.Errorf("wrong amount: %s %s", code, field)
	}
	// A payment the payment service does not confirm is not recorded.
	code, field = www.expect(422, "POST", "/v1/requests/"+id+"/payment", map[string]any{"reference": "PAY-" + id, "amountCents": 488}, "X-Access-Token", token).errorOf(t)
	if code != "payment_not_confirmed" || field != "reference" {
		t.Errorf("an unconfirmed payment: %s %s", code, field)
	}
	payAtService(t, "PAY-"+id, 488, id)
	p := www.expect(200, "POST", "/v1/requests/"+id+"/payment", map[string]any{"reference": "PAY-" + id, "amountCents": 488}, "X-Access-Token", token).json(t)
	if p["state"] != "AWAITING_DOCUMENTS" || fmt.Sprint(p["missing"]) != "[form identity]" {
		t.Fatalf("after payment: %v", p)
	}
	www.expect(200, "POST", "/v1/requests/"+id+"/payment", map[string]any{"reference": "PAY-" + id, "amountCents": 488}, "X-Access-Token", token)

	// Documents, one at a time; the second completes the request and sends it to the provider.
	if d := upload(t, www, id, token, map[string][]byte{"form": aPDF}); d.status != 200 || d.json(t)["state"] != "AWAITING_DOCUMENTS" {
		t.Fatalf("form upload: %d %s", d.status, d.body)
	}
	d := upload(t, www, id, token, map[string][]byte{"identity": aJPG})
	if d.status != 200 || d.json(t)["state"] != "SUBMITTED" {
		t.Fatalf("identity upload: %d %s", d.status, d.body)
	}
	if d := upload(t, www, id, token, map[string][]byte{"identity": aPNG}); d.status != 409 {
		t.Errorf("a document after submission: %d %s", d.status, d.body)
	}

	// The provider got the request with both documents (downloaded and checked by the stand-in).
	// (Aruba's partner API takes no documents: the Order keeps them.)
	eventually(t, "the provider's request", 30*time.Second, func() bool {
		for _, pr := range localcloud.ForTests(t).Provider.Requests() {
			if pr.Address == wantAddress && pr.Kind == "submit" {
				return providerKind() != localcloud.KindWebhook || // Aruba and Legalmail take no links to documents
					len(pr.Documents) == 2 && pr.Documents[0].Kind == "form" && pr.Documents[1].ContentType == "image/jpeg"
			}
		}
		return false
	})
	mailboxID := mailboxWithAddress(t, order, orderID, wantAddress)

	// From here the lifecycle is flow 1's: the provider creates it, the member activates it.
	if providerKind() == localcloud.KindLegalmail {
		sign(t, email) // at the member's address on record, as the activation e-mail
	}
	waitState(t, order, mailboxID, "ABILITATA", 30*time.Second)
	var link string
	eventually(t, "the activation e-mail", 30*time.Second, func() bool {
		for _, e := range memberEmails(t, email) {
			if l := linkPattern.FindString(e.Body.Text); l != "" {
				link = l
				return true
			}
		}
		return false
	})
	if code, _ := click(t, link, url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("confirm: %d", code)
	}
	waitState(t, order, mailboxID, "ATTIVATA", 30*time.Second)

	// The Order's records show the new domicilio digitale, and the Order is told by PEC.
	file := order.expect(200, "GET", "/v1/orders/"+orderID+"/members/ZRZCRL72R10H501D", nil).json(t)
	dd, _ := file["domicilioDigitale"].(map[string]any)
	if dd["address"] != wantAddress || dd["source"] != "convention" || dd["state"] != "ATTIVATA" {
		t.Errorf("domicilioDigitale = %v", file["domicilioDigitale"])
	}
	eventually(t, "the Order's PEC notice", 30*time.Second, func() bool {
		return pecWith(t, orderPEC, "Nuovo domicilio digitale in convenzione") == 1
	})
	if st := www.expect(200, "GET", "/v1/requests/"+id, nil, "X-Access-Token", token).json(t); st["mailboxState"] != "ATTIVATA" || st["state"] != "SUBMITTED" {
		t.Errorf("request after activation = %v", st)
	}
	// Now a live mailbox: another request is refused.
	code, _ = www.expect(409, "POST", "/v1/conventions/"+offer+"/requests", in).errorOf(t)
	if code != "mailbox_exists" {
		t.Errorf("request with an active mailbox: %s", code)
	}
}

func TestSelfService_MismatchRevealsNobodyAndDuplicatesCreateNothing(t *testing.T) {
	t.Parallel()
	orderID, offer, _ := conventionOrder(t)
	order := as(t, "order", orderID)
	surname := freshSurname("Zurzi")
	order.expect(201, "POST", "/v1/orders/"+orderID+"/members", member("ZRZCRL72R10H501D", "Carlo", surname))
	own := member("RSSMRA80A01H501U", "Mario", freshSurname("Rossi"))
	own["pec"] = "mario.rossi@pec.example.it"
	order.expect(201, "POST", "/v1/orders/"+orderID+"/members", own)
	www := public(t)
	path := "/v1/conventions/" + offer + "/requests"
	req := func(cf, cognome, nome string) map[string]any {
		return map[string]any{"codiceFiscale": cf, "cognome": cognome, "nome": nome, "email": "carlo@example.org"}
	}

	www.expect(404, "POST", "/v1/conventions/NO-SUCH-OFFER/requests", req("ZRZCRL72R10H501D", surname, "Carlo"))
	unknown := www.expect(422, "POST", path, req(withCheck(t, "BNCGNN80A01F205"), surname, "Carlo"))
	wrongName := www.expect(422, "POST", path, req("ZRZCRL72R10H501D", surname, "Carla"))
	if string(unknown.body) != string(wrongName.body) {
		t.Errorf("an unknown codice fiscale and a wrong name answer differently:\n%s\n%s", unknown.body, wrongName.body)
	}
	if code, _ := unknown.errorOf(t); code != "identity_mismatch" {
		t.Errorf("code %s", code)
	}
	if _, field := www.expect(422, "POST", path, req("ZRZCRL72R10H501X", surname, "Carlo")).errorOf(t); field != "codiceFiscale" {
		t.Errorf("an invalid codice fiscale names %q", field)
	}
	if code, _ := www.expect(409, "POST", path, map[string]any{"codiceFiscale": "RSSMRA80A01H501U", "cognome": own["cognome"], "nome": "Mario", "email": "m@example.org"}).errorOf(t); code != "domicilio_exists" {
		t.Errorf("a member with an own PEC: %s", code)
	}

	// An omocodic form of the codice fiscale is the same person.
	first := www.expect(201, "POST", path, req(omocodic(t, "ZRZCRL72R10H501D"), surname, "Carlo")).json(t)
	// Asking again before paying is the same request with a new token; the old one dies.
	again := www.expect(200, "POST", path, req("ZRZCRL72R10H501D", surname, "Carlo")).json(t)
	id := first["requestId"].(string)
	if again["requestId"] != id || again["address"] != first["address"] || again["accessToken"] == first["accessToken"] {
		t.Fatalf("first %v, again %v", first, again)
	}
	www.expect(404, "GET", "/v1/requests/"+id, nil, "X-Access-Token", first["accessToken"].(string))
	token := again["accessToken"].(string)
	if sum := order.expect(200, "GET", "/v1/orders/"+orderID+"/mailboxes/summary", nil).json(t); sum["RICHIESTA"] != float64(1) {
		t.Errorf("mailboxes after two requests: %v", sum)
	}

	// Documents: checked by content, 10 MB at most, only the two kinds.
	for _, tc := range []struct {
		name   string
		parts  map[string][]byte
		status int
		code   string
	}{
		{"text named pdf", map[string][]byte{"form": []byte("I am not a PDF")}, 422, "unsupported_document_type"},
		{"unknown part", map[string][]byte{"selfie": aPNG}, 422, "unknown_document"},
		{"empty", map[string][]byte{"identity": {}}, 422, "empty_document"},
	} {
		r := upload(t, www, id, token, tc.parts)
		if r.status != tc.status {
			t.Errorf("%s: status %d %s", tc.name, r.status, r.body)
			continue
		}
		if code, _ := r.errorOf(t); code != tc.code {
			t.Errorf("%s: code %s", tc.name, code)
		}
	}
	big := append(append([]byte{}, aPDF...), bytes.Repeat([]byte{' '}, domain.MaxDocument)...)
	if r := upload(t, www, id, token, map[string][]byte{"form": big}); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a document over 10 MB: %d %s", r.status, r.body)
	}
	if r := www.do("POST", "/v1/requests/"+id+"/documents", `{"form":"x"}`, "X-Access-Token", token); r.status != 400 {
		t.Errorf("JSON instead of multipart: %d", r.status)
	}
	// The same document twice is kept once.
	upload(t, www, id, token, map[string][]byte{"form": aPDF})
	docs := upload(t, www, id, token, map[string][]byte{"form": aPDF}).json(t)["documents"].([]any)
	if len(docs) != 1 {
		t.Errorf("documents = %v", docs)
	}

	// Once paid, a new request does not take the request over.
	payAtService(t, "PAY-"+id, 488, id)
	www.expect(200, "POST", "/v1/requests/"+id+"/payment", map[string]any{"reference": "PAY-" + id, "amountCents": 488}, "X-Access-Token", token)
	if code, _ := www.expect(409, "POST", "/v1/requests/"+id+"/payment", map[string]any{"reference": "OTHER", "amountCents": 488}, "X-Access-Token", token).errorOf(t); code != "already_paid" {
		t.Errorf("a second payment: %s", code)
	}
	if code, _ := www.expect(409, "POST", path, req("ZRZCRL72R10H501D", surname, "Carlo")).errorOf(t); code != "request_in_progress" {
		t.Errorf("a request after payment: %s", code)
	}
}

func TestSelfService_MemberWithAnOrderMailboxIsRefused(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Carlo", freshSurname("Zurzi"))
	offer := "OFFER-" + s.orderID
	body := orderBody(true)
	body["pec"] = s.orderPEC
	body["convention"].(map[string]any)["offerCode"] = offer
	s.fed.expect(200, "PUT", "/v1/orders/"+s.orderID, body)
	mb := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)
	f := s.order.expect(200, "GET", "/v1/orders/"+s.orderID+"/members/ZRZCRL72R10H501D", nil).json(t)
	in := map[string]any{"codiceFiscale": "ZRZCRL72R10H501D", "cognome": f["cognome"], "nome": "carlo", "email": "c@example.org"}
	if code, _ := public(t).expect(409, "POST", "/v1/conventions/"+offer+"/requests", in).errorOf(t); code != "mailbox_exists" {
		t.Errorf("code %s (mailbox %v)", code, mb["state"])
	}
}
