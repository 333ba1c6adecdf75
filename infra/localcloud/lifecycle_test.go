package localcloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/provider"
)

// sesEmail is one message in the SES stand-in's store.
type sesEmail struct {
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		Text string `json:"text"`
		HTML string `json:"html"`
	} `json:"body"`
}

func memberEmails(t *testing.T, to string) []sesEmail {
	t.Helper()
	resp, err := http.Get(localcloud.ForTests(t).SESURL + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []sesEmail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	var out []sesEmail
	for _, e := range store.Emails {
		for _, d := range e.Destination.To {
			if strings.EqualFold(d, to) {
				out = append(out, e)
			}
		}
	}
	return out
}

// emailsAbout returns the e-mails to the address whose subject contains part.
func emailsAbout(t *testing.T, to, part string) []sesEmail {
	t.Helper()
	var out []sesEmail
	for _, e := range memberEmails(t, to) {
		if strings.Contains(e.Subject, part) {
			out = append(out, e)
		}
	}
	return out
}

// pecWith counts the PEC notices to the address whose subject contains part.
func pecWith(t *testing.T, to, part string) int {
	t.Helper()
	n := 0
	for _, s := range pecMessages(t, to) {
		if strings.Contains(s, part) {
			n++
		}
	}
	return n
}

// pecMessages returns the subjects of the PEC notices sent to an Order's address.
func pecMessages(t *testing.T, to string) []string {
	t.Helper()
	resp, err := http.Get(localcloud.ForTests(t).MailpitURL + "/api/v1/messages?limit=500")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Messages []struct {
			Subject string
			To      []struct{ Address string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range list.Messages {
		for _, a := range m.To {
			if strings.EqualFold(a.Address, to) {
				out = append(out, m.Subject)
			}
		}
	}
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mailboxState(t *testing.T, c *client, id string) (string, []any) {
	t.Helper()
	mb := c.expect(200, "GET", "/v1/mailboxes/"+id, nil).json(t)
	return mb["state"].(string), mb["history"].([]any)
}

func waitState(t *testing.T, c *client, id, want string, within time.Duration) []any {
	t.Helper()
	var hist []any
	eventually(t, "mailbox "+want, within, func() bool {
		var s string
		s, hist = mailboxState(t, c, id)
		return s == want
	})
	return hist
}

func execution(t *testing.T, name string) string {
	t.Helper()
	c := localcloud.ForTests(t)
	api := sfn.New(sfn.Options{BaseEndpoint: aws.String(c.MotoURL), Region: localcloud.Region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	arn := fmt.Sprintf("arn:aws:states:%s:123456789012:execution:MailboxStateMachine:%s", localcloud.Region, name)
	var status string
	eventually(t, "execution "+name+" to end", 30*time.Second, func() bool {
		out, err := api.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
		if err != nil {
			return false
		}
		status = string(out.Status)
		return status != "RUNNING"
	})
	return status
}

var linkPattern = regexp.MustCompile(`http://127\.0\.0\.1:\d+/activate/[A-Za-z0-9_-]{43}`)

// activationEmails are the member's e-mails with an activation link.
func activationEmails(t *testing.T, email string) []sesEmail {
	t.Helper()
	var out []sesEmail
	for _, m := range memberEmails(t, email) {
		if linkPattern.MatchString(m.Body.Text) {
			out = append(out, m)
		}
	}
	return out
}

var signLinkPattern = regexp.MustCompile(`http://127\.0\.0\.1:\d+/firma/[A-Za-z0-9_-]{43}`)

// sign does what the member does with the e-mail asking for the provider's form signed: opens
// the page, downloads the form, sends it back signed with an identity document. A page that
// took the documents already is left alone.
func sign(t *testing.T, email string) {
	t.Helper()
	var link string
	eventually(t, "the e-mail asking to sign the provider's form", 30*time.Second, func() bool {
		for _, m := range memberEmails(t, email) {
			if l := signLinkPattern.FindString(m.Body.Text); l != "" {
				link = l
			}
		}
		return link != ""
	})
	code, page := click(t, link, nil)
	if code != 200 || !strings.Contains(page, "Modulo del gestore da firmare") {
		t.Fatalf("the signing page: %d", code)
	}
	if strings.Contains(page, "inviati al gestore") || !strings.Contains(page, "<form") {
		return
	}
	resp, err := http.Get(link + "/modulo.pdf")
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(form, []byte("%PDF-")) {
		t.Fatalf("the provider's form: %d %q", resp.StatusCode, form[:min(len(form), 8)])
	}
	// The form as downloaded stands for the signed scan; the identity document is a photo.
	var photo bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 64, 40))
	for x := range 64 {
		img.Set(x, x%40, color.RGBA{0, 0x66, 0xCC, 0xFF})
	}
	jpeg.Encode(&photo, img, nil)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for name, content := range map[string][]byte{"modulo": form, "documento": photo.Bytes()} {
		p, _ := w.CreateFormFile(name, name+".bin")
		p.Write(content)
	}
	w.Close()
	resp, err = http.Post(link, w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(sent), "inviati al gestore") {
		t.Fatalf("sending the signed form: %d", resp.StatusCode)
	}
}

// scenario is one member of a fresh Order, enrolled, batched, confirmed and paid.
type scenario struct {
	orderID, mailboxID, email, orderPEC string
	order, fed                          *client
}

func newScenario(t *testing.T, nome, cognome string) *scenario {
	t.Helper()
	s := &scenario{orderID: uniqueID("FI"), fed: as(t, "federation", "")}
	// Each scenario's Order has its own PEC address, so its notices can be told apart.
	s.orderPEC = strings.ToLower(s.orderID) + "@pec.example.it"
	body := orderBody(true)
	body["pec"] = s.orderPEC
	s.fed.expect(201, "PUT", "/v1/orders/"+s.orderID, body)
	s.order = as(t, "order", s.orderID)
	s.email = strings.ToLower(uniqueID("m")) + "@example.it"
	m := member("ZRZCRL72R10H501D", nome, cognome)
	m["email"] = s.email
	// The holder's telephone and residence, which a provider contracting with the holder asks.
	m["telefono"], m["residenza"] = "0583 123456", map[string]any{"indirizzo": "Via Fillungo 1", "comune": "Lucca", "cap": "55100", "provincia": "LU"}
	r := s.order.expect(201, "POST", "/v1/orders/"+s.orderID+"/members", m).json(t)
	s.mailboxID = r["mailbox"].(map[string]any)["id"].(string)
	return s
}

// authorize creates the batch, confirms and pays it.
func (s *scenario) authorize(t *testing.T) {
	t.Helper()
	b := s.order.expect(201, "POST", "/v1/orders/"+s.orderID+"/batches", nil).json(t)
	if b["mailboxCount"] != float64(1) || b["amountCents"] != float64(488) || b["state"] != "AWAITING_AUTHORIZATION" {
		t.Fatalf("batch = %v", b)
	}
	id := b["id"].(string)
	s.order.expect(200, "POST", "/v1/batches/"+id+"/confirm", nil)
	paid := s.fed.expect(200, "POST", "/v1/batches/"+id+"/payment", map[string]any{"reference": "PAGOPA-" + id, "amountCents": 488}).json(t)
	if paid["state"] != "SUBMITTED" {
		t.Fatalf("after confirm and payment: %v", paid)
	}
}

// link waits for the n-th activation e-mail and returns its link.
func (s *scenario) link(t *testing.T, n int) string {
	t.Helper()
	if providerKind() == localcloud.KindLegalmail {
		sign(t, s.email) // the provider activates only with its form signed by the holder
	}
	var mails []sesEmail
	eventually(t, fmt.Sprintf("activation e-mail #%d", n), 30*time.Second, func() bool {
		mails = nil
		for _, m := range memberEmails(t, s.email) {
			if linkPattern.MatchString(m.Body.Text) {
				mails = append(mails, m)
			}
		}
		return len(mails) >= n
	})
	l := linkPattern.FindString(mails[n-1].Body.Text)
	if l == "" {
		t.Fatalf("no activation link in %q", mails[n-1].Body.Text)
	}
	if strings.Contains(mails[n-1].Body.Text+mails[n-1].Body.HTML+mails[n-1].Subject, "ZRZCRL72R10H501D") {
		t.Fatal("the e-mail contains the codice fiscale")
	}
	return l
}

func click(t *testing.T, link string, form url.Values) (int, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if form == nil {
		resp, err = http.Get(link)
	} else {
		resp, err = http.PostForm(link, form)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := checkHTTP(t, resp)
	return resp.StatusCode, string(b)
}

func states(hist []any) []string {
	var out []string
	for _, h := range hist {
		out = append(out, h.(map[string]any)["state"].(string))
	}
	return out
}

func TestLifecycle_HappyPathFromEnrolmentToAttivata(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Carlo", freshSurname("Zurzi"))
	s.authorize(t)
	link := s.link(t, 1)
	waitState(t, s.order, s.mailboxID, "ABILITATA", 5*time.Second)

	code, body := click(t, link, nil)
	if code != 200 || !strings.Contains(body, "Attivazione della casella di posta elettronica certificata") || !strings.Contains(body, "ZRZCRL**R10H501*") {
		t.Fatalf("GET link: %d\n%s", code, body)
	}
	if strings.Contains(body, "ZRZCRL72R10H501D") {
		t.Fatal("the page shows the whole codice fiscale")
	}
	if code, _ := click(t, link, url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("POST confirm: %d", code)
	}
	hist := waitState(t, s.order, s.mailboxID, "ATTIVATA", 5*time.Second)
	if got := strings.Join(states(hist), ","); got != "RICHIESTA,RICHIESTA_INVIATA,ABILITATA,ATTIVATA" {
		t.Errorf("history = %s", got)
	}
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Errorf("execution %s", st)
	}
	if code, _ := click(t, link, nil); code != 410 {
		t.Errorf("the used link answers %d, want 410", code)
	}
	if code, _ := click(t, link, url.Values{"choice": {"decline"}}); code != 410 {
		t.Errorf("a second choice answers %d, want 410", code)
	}
	if n := len(emailsAbout(t, s.email, "Attivazione della casella PEC")); n != 1 {
		t.Errorf("%d activation e-mails, want 1", n)
	}
	if st, _ := mailboxState(t, s.order, s.mailboxID); st != "ATTIVATA" {
		t.Errorf("after the second click: %s", st)
	}
	f := s.order.expect(200, "GET", "/v1/orders/"+s.orderID+"/members/ZRZCRL72R10H501D", nil).json(t)
	if d := f["domicilioDigitale"].(map[string]any); d["state"] != "ATTIVATA" {
		t.Errorf("domicilio = %v", d)
	}
}

func TestLifecycle_DeclineWithOwnPECRevokesAndTellsTheOrder(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Anna", freshSurname("Neri"))
	s.authorize(t)
	link := s.link(t, 1)
	if code, _ := click(t, link, url.Values{"choice": {"decline"}, "pec": {"not an address"}}); code != 422 {
		t.Fatalf("invalid own PEC: %d", code)
	}
	if code, body := click(t, link, url.Values{"choice": {"decline"}, "pec": {"anna.neri@pec.example.it"}}); code != 200 {
		t.Fatalf("decline: %d %s", code, body)
	}
	hist := waitState(t, s.order, s.mailboxID, "REVOCATA", 5*time.Second)
	if last := hist[len(hist)-1].(map[string]any); last["reason"] != "declined" || last["actor"] != "member" {
		t.Errorf("last history entry %v", last)
	}
	f := s.order.expect(200, "GET", "/v1/orders/"+s.orderID+"/members/ZRZCRL72R10H501D", nil).json(t)
	if d := f["domicilioDigitale"].(map[string]any); d["source"] != "own" || d["address"] != "anna.neri@pec.example.it" {
		t.Errorf("domicilio after decline = %v", d)
	}
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Errorf("execution %s", st)
	}
	eventually(t, "the decline notice to the Order", 10*time.Second, func() bool {
		return pecWith(t, s.orderPEC, "Mancata conferma dell'attivazione") == 1
	})
	eventually(t, "the provider told to close the mailbox", 10*time.Second, func() bool {
		return len(heard(t, s.order, s.mailboxID, "deactivate")) > 0
	})
}

func TestLifecycle_ProviderRejectionRevokes(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Rifiutata", freshSurname("Prova"))
	s.authorize(t)
	hist := waitState(t, s.order, s.mailboxID, "REVOCATA", 10*time.Second)
	if got := strings.Join(states(hist), ","); got != "RICHIESTA,RICHIESTA_INVIATA,REVOCATA" {
		t.Errorf("history = %s", got)
	}
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Errorf("execution %s", st)
	}
	n := 0
	for _, m := range memberEmails(t, s.email) {
		if !signLinkPattern.MatchString(m.Body.Text) { // Legalmail registers first: the member was asked to sign
			n++
		}
	}
	if n != 0 {
		t.Errorf("%d e-mails to a member whose mailbox was rejected", n)
	}
	eventually(t, "the rejection notice", 10*time.Second, func() bool { return pecWith(t, s.orderPEC, "Mancata emissione") == 1 })
}

func TestLifecycle_RevokeWhileWaitingForTheMember(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Paolo", freshSurname("Gialli"))
	s.authorize(t)
	link := s.link(t, 1)
	s.order.expect(200, "POST", "/v1/mailboxes/"+s.mailboxID+"/revoke", map[string]any{"reason": "cancellato dall'albo"})
	s.order.expect(200, "POST", "/v1/mailboxes/"+s.mailboxID+"/revoke", map[string]any{"reason": "again"})
	hist := waitState(t, s.order, s.mailboxID, "REVOCATA", 5*time.Second)
	if n := len(hist); n != 4 {
		t.Errorf("history has %d entries after two revocations, want 4", n)
	}
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Errorf("execution %s", st)
	}
	if code, _ := click(t, link, nil); code != 410 {
		t.Errorf("link of a revoked mailbox: %d", code)
	}
}

func TestLifecycle_RevokeWhileWaitingForTheOrder(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Ugo", freshSurname("Conti"))
	b := s.order.expect(201, "POST", "/v1/orders/"+s.orderID+"/batches", nil).json(t)
	s.order.expect(200, "POST", "/v1/mailboxes/"+s.mailboxID+"/revoke", map[string]any{"reason": "errore di iscrizione"})
	id := b["id"].(string)
	s.order.expect(200, "POST", "/v1/batches/"+id+"/confirm", nil)
	s.fed.expect(200, "POST", "/v1/batches/"+id+"/payment", map[string]any{"reference": "P-" + id, "amountCents": 488})
	time.Sleep(2 * time.Second)
	if st, hist := mailboxState(t, s.order, s.mailboxID); st != "REVOCATA" || len(hist) != 2 {
		t.Fatalf("state %s, history %v", st, hist)
	}
	for _, r := range heard(t, s.order, s.mailboxID, "") {
		t.Errorf("the provider heard of a mailbox revoked before submission: %+v", r)
	}
}

func TestLifecycle_RemindersThenTheOrderIsTold(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Lucia", freshSurname("Bianchi"))
	s.authorize(t)
	first := s.link(t, 1)
	second := s.link(t, 2) // the first reminder kills the first link
	if code, _ := click(t, first, nil); code != 410 {
		t.Errorf("superseded link: %d", code)
	}
	eventually(t, "three reminders", 70*time.Second, func() bool { return len(activationEmails(t, s.email)) >= 4 })
	eventually(t, "the Order told", 20*time.Second, func() bool { return pecWith(t, s.orderPEC, "Casella PEC non attivata") == 1 })
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Errorf("execution %s", st)
	}
	if n := len(activationEmails(t, s.email)); n != 4 {
		t.Errorf("%d e-mails, want 1 + 3 reminders", n)
	}
	if st, _ := mailboxState(t, s.order, s.mailboxID); st != "ABILITATA" {
		t.Errorf("state %s", st)
	}
	_ = second
}

func TestProviderCallback_DuplicateLateForgedAndUnknownChangeNothing(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Marta", freshSurname("Russo"))
	s.authorize(t)
	waitState(t, s.order, s.mailboxID, "ABILITATA", 10*time.Second)
	mb := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)
	addr := mb["address"].(string)
	base := localcloud.ForTests(t).APIURL + "/v1/provider/callback"
	send := func(body, sig string) int {
		req, _ := http.NewRequest("POST", base, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Pec-Signature", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		checkHTTP(t, resp)
		resp.Body.Close()
		return resp.StatusCode
	}
	ev := func(id, typ, address string) string {
		return fmt.Sprintf(`{"eventId":%q,"type":%q,"address":%q,"providerRef":"X","occurredAt":%q,"reason":""}`, id, typ, address, time.Now().UTC().Format(time.RFC3339))
	}
	secret := []byte(localcloud.ProviderWebhookSecret)
	late := ev(uniqueID("ev"), "mailbox.created", addr)
	if code := send(late, provider.Sign(secret, time.Now(), []byte(late))); code != 204 {
		t.Errorf("late created: %d", code)
	}
	if code := send(late, provider.Sign(secret, time.Now(), []byte(late))); code != 204 {
		t.Errorf("duplicate: %d", code)
	}
	forged := ev(uniqueID("ev"), "mailbox.rejected", addr)
	if code := send(forged, provider.Sign([]byte("wrong"), time.Now(), []byte(forged))); code != 401 {
		t.Errorf("bad signature: %d", code)
	}
	if code := send(forged, provider.Sign(secret, time.Now().Add(-10*time.Minute), []byte(forged))); code != 401 {
		t.Errorf("stale signature: %d", code)
	}
	if code := send(forged, ""); code != 401 {
		t.Errorf("no signature: %d", code)
	}
	// Out of order: created for a mailbox never sent to the provider.
	waiting := newScenario(t, "Nino", freshSurname("Ferri"))
	wmb := waiting.order.expect(200, "GET", "/v1/mailboxes/"+waiting.mailboxID, nil).json(t)
	early := ev(uniqueID("ev"), "mailbox.created", wmb["address"].(string))
	if code := send(early, provider.Sign(secret, time.Now(), []byte(early))); code != 409 {
		t.Errorf("created before submission: %d", code)
	}
	if st, _ := mailboxState(t, waiting.order, waiting.mailboxID); st != "RICHIESTA" {
		t.Errorf("an out-of-order callback moved the mailbox to %s", st)
	}
	unknown := ev(uniqueID("ev"), "mailbox.created", "nessuno@pec.tsrm.org")
	if code := send(unknown, provider.Sign(secret, time.Now(), []byte(unknown))); code != 404 {
		t.Errorf("unknown address: %d", code)
	}
	if code := send(`{"eventId":`, provider.Sign(secret, time.Now(), []byte(`{"eventId":`))); code != 400 {
		t.Errorf("malformed: %d", code)
	}
	if st, hist := mailboxState(t, s.order, s.mailboxID); st != "ABILITATA" || len(hist) != 3 {
		t.Errorf("after the bad callbacks: %s %v", st, states(hist))
	}
}

// Not parallel: the scheduled run batches every Order's new enrolments, so it must not race
// the parallel lifecycle tests (which start after every sequential test has ended).
func TestSchedule_BatchesNewEnrolmentsOfEveryOrder(t *testing.T) {
	s := newScenario(t, "Sara", freshSurname("Galli"))
	c := localcloud.ForTests(t)
	resp, err := http.Post(c.APIURL+"/_local/run/BatchScheduleFunction", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "batchesCreated") {
		t.Fatalf("run schedule: %d %s", resp.StatusCode, b)
	}
	list := s.order.expect(200, "GET", "/v1/orders/"+s.orderID+"/batches", nil).json(t)
	items := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["mailboxCount"] != float64(1) {
		t.Fatalf("batches after the scheduled run: %v", list)
	}
	if code, _ := s.order.expect(409, "POST", "/v1/orders/"+s.orderID+"/batches", nil).errorOf(t); code != "nothing_to_authorize" {
		t.Errorf("second batch: %s", code)
	}
	eventually(t, "the authorisation request", 10*time.Second, func() bool {
		return pecWith(t, s.orderPEC, "Richiesta di autorizzazione all'emissione di 1 casella PEC") == 1
	})
}

func TestBatches_OnlyTheOrderConfirms_AmountMustMatch_OthersSeeNothing(t *testing.T) {
	s := newScenario(t, "Ivo", freshSurname("Marini"))
	b := s.order.expect(201, "POST", "/v1/orders/"+s.orderID+"/batches", nil, "Idempotency-Key", "b1").json(t)
	again := s.order.expect(201, "POST", "/v1/orders/"+s.orderID+"/batches", nil, "Idempotency-Key", "b1").json(t)
	if again["id"] != b["id"] {
		t.Fatalf("a retried batch creation made another batch: %v vs %v", b["id"], again["id"])
	}
	id := b["id"].(string)
	if code, _ := s.fed.expect(403, "POST", "/v1/batches/"+id+"/confirm", nil).errorOf(t); code != "order_staff_only" {
		t.Errorf("federation confirming: %s", code)
	}
	other := as(t, "order", "SOMEONE-ELSE")
	other.expect(404, "GET", "/v1/batches/"+id, nil)
	other.expect(404, "POST", "/v1/batches/"+id+"/confirm", nil)
	other.expect(403, "GET", "/v1/orders/"+s.orderID+"/batches", nil)
	if _, field := s.fed.expect(422, "POST", "/v1/batches/"+id+"/payment", map[string]any{"reference": "P1", "amountCents": 487}).errorOf(t); field != "amountCents" {
		t.Errorf("wrong amount field %s", field)
	}
	// Paid first, then confirmed: submitted either way.
	s.fed.expect(200, "POST", "/v1/batches/"+id+"/payment", map[string]any{"reference": "P1", "amountCents": 488})
	s.fed.expect(200, "POST", "/v1/batches/"+id+"/payment", map[string]any{"reference": "P1", "amountCents": 488})
	s.fed.expect(409, "POST", "/v1/batches/"+id+"/payment", map[string]any{"reference": "P2", "amountCents": 488})
	if got := s.order.expect(200, "GET", "/v1/batches/"+id, nil).json(t); got["state"] != "AWAITING_AUTHORIZATION" || got["paid"] != true {
		t.Fatalf("paid, not confirmed: %v", got)
	}
	if got := s.order.expect(200, "POST", "/v1/batches/"+id+"/confirm", nil).json(t); got["state"] != "SUBMITTED" {
		t.Fatalf("after confirm: %v", got)
	}
	waitState(t, s.order, s.mailboxID, "ABILITATA", 15*time.Second)
}

func TestLifecycle_RevokeWhileWaitingForTheProvider(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Elena", freshSurname("Greco"))
	s.authorize(t)
	// The provider stand-in calls back after 1.5 s: revoke while the workflow waits for it.
	waitState(t, s.order, s.mailboxID, "RICHIESTA_INVIATA", 10*time.Second)
	s.order.expect(200, "POST", "/v1/mailboxes/"+s.mailboxID+"/revoke", map[string]any{"reason": "richiesta per errore"})
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Errorf("execution %s", st)
	}
	// Legalmail revokes only an active mailbox: one still waiting for its holder's documents
	// has nothing to revoke there.
	if providerKind() != localcloud.KindLegalmail {
		eventually(t, "the provider told to close the mailbox", 10*time.Second, func() bool {
			return len(heard(t, s.order, s.mailboxID, "deactivate")) > 0
		})
	}
	time.Sleep(2 * time.Second) // the provider's late mailbox.created arrives meanwhile
	st, hist := mailboxState(t, s.order, s.mailboxID)
	if got := strings.Join(states(hist), ","); st != "REVOCATA" || got != "RICHIESTA,RICHIESTA_INVIATA,REVOCATA" {
		t.Errorf("after the late callback: %s, history %s", st, got)
	}
	if n := len(activationEmails(t, s.email)); n != 0 {
		t.Errorf("%d activation e-mails for a revoked mailbox", n)
	}
}

func TestLifecycle_ResendActivationKillsTheOldLink(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Giulia", freshSurname("Costa"))
	if code, _ := s.order.expect(409, "POST", "/v1/mailboxes/"+s.mailboxID+"/resend-activation", nil).errorOf(t); code != "not_awaiting_activation" {
		t.Errorf("resend in RICHIESTA: %s", code)
	}
	s.authorize(t)
	old := s.link(t, 1)
	s.order.expect(200, "POST", "/v1/mailboxes/"+s.mailboxID+"/resend-activation", nil)
	fresh := s.link(t, 2)
	if old == fresh {
		t.Fatal("the resent link is the old one")
	}
	if code, _ := click(t, old, nil); code != 410 {
		t.Errorf("old link after resend: %d", code)
	}
	if code, _ := click(t, fresh, url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("fresh link: %d", code)
	}
	waitState(t, s.order, s.mailboxID, "ATTIVATA", 5*time.Second)
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Errorf("execution %s", st)
	}
	as(t, "order", "SOMEONE-ELSE").expect(404, "POST", "/v1/mailboxes/"+s.mailboxID+"/resend-activation", nil)
	if code, _ := click(t, strings.Replace(fresh, "/activate/", "/activate/x", 1), nil); code != 404 {
		t.Errorf("malformed token: %d", code)
	}
	if code, _ := click(t, fresh[:len(fresh)-1]+"A", nil); code != 404 && code != 410 {
		t.Errorf("guessed token: %d", code)
	}
}

func TestLifecycle_CancelledMemberLosesTheMailbox(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Franco", freshSurname("Villa"))
	s.authorize(t)
	s.link(t, 1)
	path := "/v1/orders/" + s.orderID + "/members/ZRZCRL72R10H501D/cancel"
	if _, f := s.order.expect(422, "POST", path, map[string]any{"date": "2099-01-01", "reason": "x"}).errorOf(t); f != "date" {
		t.Errorf("future date: field %s", f)
	}
	r := s.order.expect(200, "POST", path, map[string]any{"date": "2026-11-20", "reason": "trasferimento ad altro Ordine"}).json(t)
	if r["cancelledOn"] != "2026-11-20" || r["mailbox"].(map[string]any)["state"] != "REVOCATA" {
		t.Fatalf("cancel = %v", r)
	}
	s.order.expect(200, "POST", path, map[string]any{"date": "2026-11-20", "reason": "trasferimento ad altro Ordine"})
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Errorf("execution %s", st)
	}
}

func TestActivation_FormPostedFromAnotherSiteIsRefused(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "Rita", freshSurname("Longo"))
	s.authorize(t)
	link := s.link(t, 1)
	post := func(headers map[string]string) int {
		req, _ := http.NewRequest("POST", link, strings.NewReader("choice=decline"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		checkHTTP(t, resp)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		{"Origin": "https://evil.example"},
	} {
		if code := post(h); code != 403 {
			t.Errorf("%v: %d, want 403", h, code)
		}
	}
	if st, _ := mailboxState(t, s.order, s.mailboxID); st != "ABILITATA" {
		t.Fatalf("a cross-site post changed the mailbox to %s", st)
	}
	if code, _ := click(t, link, url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("the member's own post after the refused ones: %d", code)
	}
}

// Not parallel, like the other scheduled-run test.
func TestSchedule_StartsABatchPaidAfterItsWorkflowEnded(t *testing.T) {
	s := newScenario(t, "Dario", freshSurname("Fontana"))
	b := s.order.expect(201, "POST", "/v1/orders/"+s.orderID+"/batches", nil).json(t)
	id := b["id"].(string)
	c := localcloud.ForTests(t)
	api := sfn.New(sfn.Options{BaseEndpoint: aws.String(c.MotoURL), Region: localcloud.Region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	arn := fmt.Sprintf("arn:aws:states:%s:123456789012:execution:BatchStateMachine:batch-%s", localcloud.Region, id)
	eventually(t, "the authorisation request", 10*time.Second, func() bool { return len(pecMessages(t, s.orderPEC)) == 1 })
	// The batch workflow ends without submitting (as when the Order pays after every reminder).
	if _, err := api.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: &arn}); err != nil {
		t.Fatal(err)
	}
	s.order.expect(200, "POST", "/v1/batches/"+id+"/confirm", nil)
	s.fed.expect(200, "POST", "/v1/batches/"+id+"/payment", map[string]any{"reference": "LATE-" + id, "amountCents": 488})
	time.Sleep(time.Second)
	if st, _ := mailboxState(t, s.order, s.mailboxID); st != "RICHIESTA" {
		t.Fatalf("state %s before the repair", st)
	}
	resp, err := http.Post(c.APIURL+"/_local/run/BatchScheduleFunction", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(out), `"batchesRepaired":1`) {
		t.Errorf("schedule run: %s", out)
	}
	waitState(t, s.order, s.mailboxID, "ABILITATA", 15*time.Second)
}
