package localcloud_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pecplatform/pec/shared/pages"
)

// Every page the platform serves to people, in each of its variants, checked with the Nu HTML
// Checker (0 errors) and, loaded in a phone-sized Chromium, with axe-core (WCAG 2.1 AA, 0
// violations). The flows' tests check the pages as they come; this one the variants no flow
// meets (the error pages, a declined mailbox, a CTU's pages, an abandoned request...).
func TestPages_EveryPageIsValidHTMLAndAccessible(t *testing.T) {
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
	order := "Ordine TSRM PSTRP di Firenze"
	expires := time.Now().Add(72 * time.Hour)
	result := pages.ResultData{OrderName: order, Nome: "Carlo", Address: "carlo.zurzi@pec.tsrm.org", ProviderName: "Gestore",
		WebmailURL: "https://webmail.example.it", SupportURL: "https://aiuto.example.it"}
	form := pages.FormData{OrderName: order, Nome: "Carlo", Cognome: "Zurzi", MaskedCF: "ZRZCRL**R10H501*", Address: "carlo.zurzi@pec.tsrm.org", ExpiresAt: expires}
	reg := pages.RegindeData{OrderName: order, Nome: "Giovanna", Cognome: "Bianchi", MaskedCF: "BNCGNN**A41D612*", Address: "g.bianchi@legalmail.it"}
	offer := pages.OfferData{OrderName: order, Price: "€ 4,00", VAT: "22%", Amount: "€ 4,88", ValidityYears: 3}
	offerErr := offer
	offerErr.CodiceFiscale, offerErr.Error, offerErr.ErrorField = "ZRZ", "Il codice fiscale non è valido: controlli i 16 caratteri.", "codiceFiscale"
	req := pages.RequestData{OrderName: order, Address: "carlo.zurzi@pec.tsrm.org", Amount: "€ 4,88", State: "In attesa del pagamento",
		FormURL: "/richiesta/x/y/modulo.pdf", CheckoutURL: "https://pagamenti.example.it/checkout", MaxDocumentMB: 10}
	for _, kind := range []string{"form", "identity"} {
		u := pages.DocumentUpload{ID: kind, Label: "Documento " + kind, Button: "Carichi il documento", Action: "/richiesta/x/y/documenti?documento=" + kind,
			Bucket: "https://pec-documents.s3.eu-south-1.amazonaws.com", MaxBytes: 10 << 20, Expires: expires.UnixMilli(),
			Common: []pages.FormField{{Name: "key", Value: "uploads/x/" + kind + "/1"}, {Name: "x-amz-date", Value: "20261205T101500Z"}}}
		for _, ct := range []string{"application/pdf", "image/jpeg", "image/png"} {
			u.Typed = append(u.Typed, pages.FormField{Name: "Content-Type", Value: ct, Type: ct}, pages.FormField{Name: "policy", Value: "eyJ9", Type: ct})
		}
		req.Uploads = append(req.Uploads, u)
	}
	refused := req
	refused.Uploads = append([]pages.DocumentUpload(nil), req.Uploads...)
	refused.Uploads[0].Refused = "Il file caricato come il modulo firmato non è un PDF, un'immagine JPEG o PNG."
	refused.Error = "Il documento caricato non è stato accettato: trova il motivo qui sotto, accanto al documento."
	abandoned := req
	abandoned.Abandoned, abandoned.State = true, "Scaduta"
	active := req
	active.Attivata, active.State, active.FirstAccess = true, "Casella attiva", result
	declined := result
	declined.OwnPEC = "carlo@pec.altro.it"
	regAlready := reg
	regAlready.Already = true
	signing := pages.SigningData{OrderName: order, ProviderName: "Legalmail", Nome: "Carlo", Address: "carlo.zurzi@legalmail.it",
		FormURL: "/firma/x/modulo.pdf", Until: "4 gennaio 2027", Open: true}
	signingErr := signing
	signingErr.Again, signingErr.Error, signingErr.ErrorField = true, "Il modulo firmato deve essere un file PDF.", "modulo"
	signingSent := signing
	signingSent.Open, signingSent.Sent = false, true
	all := map[string]pages.Rendered{
		"activation-form": pages.Form(form), "activation-invalid": pages.Invalid(form, pages.MsgNoChoice),
		"activation-confirmed": pages.Confirmed(result), "activation-declined": pages.Declined(declined),
		"activation-notfound": pages.NotFound(), "activation-gone": pages.Gone(), "activation-error": pages.Error(),
		"reginde-form": pages.RegindeForm(reg), "reginde-form-already": pages.RegindeForm(regAlready), "reginde-confirmed": pages.RegindeConfirmed(reg),
		"reginde-notfound": pages.RegindeNotFound(), "reginde-gone": pages.RegindeGone(), "reginde-error": pages.RegindeError(),
		"offer": pages.Offer(offer), "offer-error": pages.Offer(offerErr), "offer-notfound": pages.OfferNotFound(),
		"request": pages.Request(req), "request-refused": pages.Request(refused), "request-abandoned": pages.Request(abandoned), "request-active": pages.Request(active),
		"signing": pages.Signing(signing), "signing-error": pages.Signing(signingErr), "signing-sent": pages.Signing(signingSent),
		"request-notfound": pages.RequestNotFound(), "selfservice-error": pages.SelfServiceError(),
	}
	dir := t.TempDir()
	var files []string
	for name, p := range all {
		f := filepath.Join(dir, name+".html")
		if err := os.WriteFile(f, p.Body, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	out, err := exec.Command("java", append([]string{"-jar", filepath.Join(pagecheck, "vnu-jar", "build", "dist", "vnu.jar"),
		"--errors-only", "--format", "json"}, files...)...).CombinedOutput()
	var report struct {
		Messages []struct {
			URL, Message string
			LastLine     int
		}
	}
	if jerr := json.Unmarshal(bytes.TrimSpace(out), &report); jerr != nil {
		t.Fatalf("vnu: %v %v\n%s", err, jerr, out)
	}
	for _, m := range report.Messages {
		t.Errorf("vnu: %s line %d: %s", filepath.Base(m.URL), m.LastLine, m.Message)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(390, 844))
	defer cancelAlloc()
	bctx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	for name, p := range all {
		if err := chromedp.Do(bctx, chromedp.Navigate("data:text/html;charset=utf-8;base64,"+base64.StdEncoding.EncodeToString(p.Body))); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](string(axeJS)+";true")); err != nil {
			t.Fatalf("%s: inject axe-core: %v", name, err)
		}
		res, err := chromedp.Run(bctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(r => JSON.stringify(r.violations.map(v => v.id + ': ' + v.help)))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: axe-core: %v", name, err)
		}
		var violations []string
		json.Unmarshal([]byte(res), &violations)
		if len(violations) > 0 {
			t.Errorf("%s: axe-core, %d violations: %v", name, len(violations), violations)
		}
	}
}
