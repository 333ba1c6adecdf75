package localcloud_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"

	"github.com/pecplatform/pec/infra/localcloud"
)

// The member does the whole self-service flow on a phone-sized Chromium, with clicks and
// typing only: the convention's page, the identity form, the payment at the payment service's
// page, a refused file then the documents, the activation link, and the request's page showing
// the mailbox active with the first-access instructions. Every page of ours is checked with
// axe-core (WCAG 2.1 AA: 0 violations) and, as served, with the Nu HTML Checker (0 errors);
// PEC_SCREENSHOTS=<dir> keeps a screenshot of each (390x844).

// pagecheck is where make deps installs axe-core and vnu-jar.
var pagecheck = filepath.Join("..", "pagecheck", "node_modules")

func TestSelfServicePages_TheWholeFlowInABrowser(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (run make browser): %v", chromiumPath, err)
		}
		t.Skipf("%s is missing (run make browser): %v", chromiumPath, err)
	}
	axeJS, err := os.ReadFile(filepath.Join(pagecheck, "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is missing (run make deps): %v", err)
	}
	c := as(t, "", "")
	orderID, offer, _ := conventionOrder(t)
	surname := freshSurname("Pagine")
	email := strings.ToLower(uniqueID("web")) + "@example.it"
	m := member("ZRZCRL72R10H501D", "Carlo", surname)
	m["email"] = email
	as(t, "order", orderID).expect(201, "POST", "/v1/orders/"+orderID+"/members", m)

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	var output lockedBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(390, 844), chromedp.CombinedOutput(&output))
	defer cancelAlloc()
	bctx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chromium output:\n%s", output.String())
		}
	})
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	htmlDir := t.TempDir()
	shots := os.Getenv("PEC_SCREENSHOTS")
	n := 0
	// check runs axe-core on the page the browser shows, keeps its HTML as served (a GET of
	// the same URL, or body when the page answered a POST) for the Nu HTML Checker, and takes
	// the screenshot.
	check := func(name string, body []byte) {
		t.Helper()
		n++
		if body == nil {
			resp, err := http.Get(text(`location.href`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		os.WriteFile(filepath.Join(htmlDir, fmt.Sprintf("%02d-%s.html", n, name)), body, 0o644)
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](string(axeJS)+";true")); err != nil {
			t.Fatalf("%s: inject axe-core: %v", name, err)
		}
		res, err := chromedp.Run(bctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(r => JSON.stringify(r.violations.map(v => v.id + ': ' + v.help + ' (' + v.nodes.map(n => n.target.join(' ')).join(', ') + ')')))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: axe-core: %v", name, err)
		}
		var violations []string
		json.Unmarshal([]byte(res), &violations)
		if len(violations) > 0 {
			t.Errorf("%s: axe-core, %d violations: %v", name, len(violations), violations)
		}
		if text(`String(document.documentElement.scrollWidth > window.innerWidth)`) == "true" {
			t.Errorf("%s: the page is wider than the phone", name)
		}
		if shots != "" {
			png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
			if err == nil {
				os.MkdirAll(shots, 0o755)
				os.WriteFile(filepath.Join(shots, fmt.Sprintf("%02d-%s.png", n, name)), png, 0o644)
			}
		}
	}
	run("phone viewport", chromedp.EmulateViewport(390, 844))

	// 1. The convention's page and the identity form, typed.
	page, err := chromedp.Run(bctx, chromedp.NavigateResponse(c.base+"/adesione/"+strings.ToLower(offer)))
	if err != nil || page.Status != 200 {
		t.Fatalf("the convention's page: %v %v", page, err)
	}
	if h := text(`document.querySelector('main').innerText`); !strings.Contains(h, "€ 4,88 IVA inclusa") || !strings.Contains(h, "Informativa") {
		t.Errorf("the convention's page says:\n%s", h)
	}
	check("adesione", nil)
	run("type the data",
		chromedp.SendKeys(chromedp.CSS("#codiceFiscale"), "zrzcrl72r10h501d"),
		chromedp.SendKeys(chromedp.CSS("#cognome"), surname),
		chromedp.SendKeys(chromedp.CSS("#nome"), "Carlo"),
		chromedp.SendKeys(chromedp.CSS("#email"), email))
	// Without the privacy acknowledgement the browser itself stops the form (required).
	run("tick the privacy notice", chromedp.Click(chromedp.CSS(`label[for="privacy"]`)))
	resp, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	if err != nil || resp.Status != 200 {
		t.Fatalf("send the identity: %v %v", resp, err)
	}
	self := text(`location.href`)
	if !regexp.MustCompile(`/richiesta/[0-9a-f]{32}/[A-Za-z0-9_-]{43}\?inviata=1$`).MatchString(self) {
		t.Fatalf("after the identity form the browser is at %s", self)
	}
	self = strings.TrimSuffix(self, "?inviata=1")
	main := text(`document.querySelector('main').innerText`)
	if !strings.Contains(main, "In attesa del pagamento") || !strings.Contains(main, "carlo."+strings.ToLower(surname)) {
		t.Errorf("the request's page says:\n%s", main)
	}
	check("richiesta", nil)
	if n := len(emailsAbout(t, email, "Il collegamento alla Sua richiesta")); n != 1 {
		t.Errorf("%d e-mails with the request's link, want 1", n)
	}

	// 2. The payment: the payment service's page, its button, and back.
	run("go to the payment", chromedp.Click(chromedp.CSS(`a.pulsante`)), chromedp.WaitVisible(chromedp.CSS(`button`)))
	resp, err = chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(`button`)))
	if err != nil || resp.Status != 200 {
		t.Fatalf("pay: %v %v", resp, err)
	}
	if main := text(`document.querySelector('main').innerText`); !strings.Contains(main, "Il pagamento è registrato") || !strings.Contains(main, "In attesa dei documenti") {
		t.Fatalf("after the payment the page says:\n%s", main)
	}
	check("pagata", nil)

	// 3. The documents, each straight to the documents' bucket: an 11 MB scan is stopped by the
	// page itself; a text file named .pdf is stored, then refused by its content, the reason
	// next to the field; a 9 MB scan and the identity document are taken.
	dir := t.TempDir()
	big, fake := filepath.Join(dir, "scansione-grande.pdf"), filepath.Join(dir, "modulo.pdf")
	scan, identity := filepath.Join(dir, "modulo-firmato.pdf"), filepath.Join(dir, "documento.png")
	os.WriteFile(big, append(bytes.Clone(aPDF), make([]byte, 11<<20)...), 0o644)
	os.WriteFile(fake, []byte("questo non è un PDF"), 0o644)
	scanned := append(bytes.Clone(aPDF), bytes.Repeat([]byte{'0'}, 9<<20-len(aPDF))...)
	os.WriteFile(scan, scanned, 0o644)
	os.WriteFile(identity, aPNG, 0o644)
	formButton, idButton := `form.documento:has(#form) button`, `form.documento:has(#identity) button`
	run("choose an 11 MB scan and send it", chromedp.SetUploadFiles(chromedp.CSS("#form"), []string{big}), chromedp.Click(chromedp.CSS(formButton)))
	if msg := text(`document.querySelector('#form-avviso').innerText`); !strings.Contains(msg, "supera i 10 MB") {
		t.Errorf("an 11 MB file: the page says %q", msg)
	}
	if at := text(`location.href`); !strings.HasPrefix(at, self) || strings.Contains(at, "caricato") {
		t.Errorf("an 11 MB file left the page for %s", at)
	}
	check("documento-troppo-grande", []byte(text(`'<!doctype html>\n' + document.documentElement.outerHTML`)))
	run("choose the mislabelled file", chromedp.SetUploadFiles(chromedp.CSS("#form"), []string{fake}))
	resp, err = chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(formButton)))
	if err != nil || resp.Status != 422 {
		t.Fatalf("a mislabelled file: %v %v", resp, err)
	}
	if main := text(`document.querySelector('main').innerText`); !strings.Contains(main, "non è stato accettato") ||
		!strings.Contains(text(`document.querySelector('#form-rifiuto').innerText`), "non è un PDF") {
		t.Errorf("the refusal says:\n%s", main)
	}
	check("documento-rifiutato", []byte(text(`'<!doctype html>\n' + document.documentElement.outerHTML`)))
	run("choose the 9 MB scan", chromedp.SetUploadFiles(chromedp.CSS("#form"), []string{scan}))
	resp, err = chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(formButton)))
	if err != nil || resp.Status != 200 {
		t.Fatalf("a 9 MB scan: %v %v", resp, err)
	}
	if main := text(`document.querySelector('main').innerText`); !strings.Contains(main, "Il documento è stato ricevuto") || strings.Contains(main, "non è stato accettato") {
		t.Errorf("after the 9 MB scan the page says:\n%s", main)
	}
	check("documento-ricevuto", nil)
	run("choose the identity document", chromedp.SetUploadFiles(chromedp.CSS("#identity"), []string{identity}))
	resp, err = chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(idButton)))
	if err != nil || resp.Status != 200 {
		t.Fatalf("send the identity document: %v %v", resp, err)
	}
	if main := text(`document.querySelector('main').innerText`); !strings.Contains(main, "Inviata al gestore") {
		t.Errorf("after the documents the page says:\n%s", main)
	}
	check("inviata", nil)
	// The scan is kept whole, under the request, and nothing is left among the uploads.
	parts := strings.Split(strings.TrimPrefix(self, c.base+"/richiesta/"), "/")
	var got struct {
		Documents []struct {
			Kind   string
			Size   int64
			SHA256 string
		}
	}
	json.Unmarshal(c.expect(200, "GET", "/v1/requests/"+parts[0], nil, "X-Access-Token", parts[1]).body, &got)
	sum := sha256.Sum256(scanned)
	if len(got.Documents) != 2 || got.Documents[0].Kind != "form" || got.Documents[0].Size != int64(len(scanned)) || got.Documents[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("documents recorded: %+v", got.Documents)
	}
	eventually(t, "the uploads checked and deleted", 20*time.Second, func() bool { return len(objectsUnder(t, "uploads/"+parts[0]+"/")) == 0 })

	// 4. The provider creates the mailbox: the activation e-mail, the activation page.
	eventually(t, "the activation e-mail", 30*time.Second, func() bool { return len(emailsAbout(t, email, "Attivazione della casella PEC")) > 0 })
	run("reload the request's page", chromedp.Navigate(self))
	if main := text(`document.querySelector('main').innerText`); !strings.Contains(main, "in attesa della Sua attivazione") {
		t.Errorf("with the mailbox ready the page says:\n%s", main)
	}
	check("pronta", nil)
	link := linkPattern.FindString(emailsAbout(t, email, "Attivazione della casella PEC")[0].Body.Text)
	run("open the activation link", chromedp.Navigate(link))
	run("confirm", chromedp.Click(chromedp.CSS(`label[for="choice-confirm"]`)))
	resp, err = chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	if err != nil || resp.Status != 200 {
		t.Fatalf("activate: %v %v", resp, err)
	}
	if main := text(`document.querySelector('main').innerText`); !strings.Contains(main, "Come accedere alla casella") || !strings.Contains(main, "/webmail") {
		t.Errorf("the confirmation page says:\n%s", main)
	}
	check("attivazione-confermata", []byte(text(`'<!doctype html>\n' + document.documentElement.outerHTML`)))

	// 5. Back on the request's page: active, and how to reach the mailbox.
	eventually(t, "the request's page showing the mailbox active", 20*time.Second, func() bool {
		run("reload the request's page", chromedp.Navigate(self))
		return strings.Contains(text(`document.querySelector('main').innerText`), "Casella attiva")
	})
	if main := text(`document.querySelector('main').innerText`); !strings.Contains(main, "Come accedere alla casella") || !strings.Contains(main, "Gestore PEC di prova") {
		t.Errorf("the active request's page says:\n%s", main)
	}
	check("attiva", nil)

	// The Nu HTML Checker on every page as served.
	files, _ := filepath.Glob(filepath.Join(htmlDir, "*.html"))
	out, err := exec.CommandContext(ctx, "java", append([]string{"-jar", filepath.Join(pagecheck, "vnu-jar", "build", "dist", "vnu.jar"),
		"--errors-only", "--format", "json"}, files...)...).CombinedOutput()
	var report struct {
		Messages []struct {
			Type, URL, Message string
			LastLine           int
		}
	}
	if jerr := json.Unmarshal(bytes.TrimSpace(out), &report); jerr != nil {
		t.Fatalf("vnu: %v %v\n%s", err, jerr, out)
	}
	for _, m := range report.Messages {
		t.Errorf("vnu: %s line %d: %s", filepath.Base(m.URL), m.LastLine, m.Message)
	}
	if len(files) != 10 {
		t.Errorf("%d pages checked, want 10", len(files))
	}
}

// objectsUnder lists the documents' bucket's keys under prefix, in moto.
func objectsUnder(t *testing.T, prefix string) []string {
	t.Helper()
	c := localcloud.ForTests(t)
	api := s3.New(s3.Options{BaseEndpoint: aws.String(c.MotoURL), Region: localcloud.Region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	out, err := api.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(documentsBucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}
