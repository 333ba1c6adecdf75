package localcloud_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, installed by `make browser` (infra/scripts/install-chromium.sh).
const chromiumPath = "/usr/bin/chromium"

// lockedBuffer collects the browser's output, which chromedp writes from its own goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The member follows the activation link on a phone-sized headless Chromium, reads the form
// (with markup in their name shown as text), chooses to confirm by clicking the option's label,
// presses "Invia" and sees the result page; the mailbox then becomes ATTIVATA.
func TestActivationPage_InABrowser(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (run make browser): %v", chromiumPath, err)
		}
		t.Skipf("%s is missing (run make browser): %v", chromiumPath, err)
	}

	const nome = "Carlo <b>Bold</b>"
	cognome := freshSurname("Zurzi")
	s := newScenario(t, nome, cognome)
	s.authorize(t)
	link := s.link(t, 1)
	waitState(t, s.order, s.mailboxID, "ABILITATA", 5*time.Second)
	address := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)["address"].(string)
	fullName := nome + " " + cognome

	// Over plain HTTP first: the headers the page is served with. A GET does not use the link up.
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	raw := checkHTTP(t, resp)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET link: %d\n%s", resp.StatusCode, raw)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q, want frame-ancestors 'none'", csp)
	}
	if rp := resp.Header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("Referrer-Policy = %q, want no-referrer", rp)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !strings.Contains(string(raw), "Carlo &lt;b&gt;Bold&lt;/b&gt;") {
		t.Errorf("the name is not escaped in the HTML:\n%s", raw)
	}

	// The browser: everything it does must end well within a minute, or the test fails.
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	var output lockedBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(390, 900), // a phone
		chromedp.CombinedOutput(&output),
	)
	defer cancelAlloc() // cancels and waits for the browser to exit
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
	text := func(what, js string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	truth := func(what, js string) bool {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	run("start the browser") // starts Chromium and opens the tab
	started := time.Now()

	// Headless Chromium keeps its window at least 500 px wide: emulate the phone's viewport.
	run("phone viewport", chromedp.EmulateViewport(390, 900))
	page, err := chromedp.Run(bctx, chromedp.NavigateResponse(link))
	if err != nil {
		t.Fatalf("open the link: %v", err)
	}
	if page.Status != 200 {
		t.Fatalf("the browser got %d for the link", page.Status)
	}
	if csp := browserHeader(page.Headers, "Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("the browser saw Content-Security-Policy %q", csp)
	}
	if w := text("viewport", `String(window.innerWidth)`); w != "390" {
		t.Errorf("viewport width %s, want 390", w)
	}
	if truth("horizontal overflow", `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Errorf("the form is wider than the phone: scrollWidth %s", text("scrollWidth", `String(document.documentElement.scrollWidth)`))
	}
	if title := text("title", `document.title`); !strings.Contains(title, "Attivazione casella PEC") {
		t.Errorf("title = %q", title)
	}
	if h1 := text("heading", `document.querySelector('main h1').innerText`); h1 != "Attivazione della casella di posta elettronica certificata" {
		t.Errorf("heading = %q", h1)
	}
	formText := text("the form's text", `document.querySelector('main').innerText`)
	if !strings.Contains(formText, fullName) {
		t.Errorf("the page does not show the name %q as text:\n%s", fullName, formText)
	}
	if shown := text("the name field", `document.querySelector('.dati dd').textContent`); shown != fullName {
		t.Errorf("the name shown is %q, want %q", shown, fullName)
	}
	if !truth("no <b> element", `document.querySelector('main b') === null && document.getElementsByTagName('b').length === 0`) {
		t.Errorf("the name's markup became an element: %s", text("main", `document.querySelector('main').innerHTML`))
	}
	if !strings.Contains(formText, "ZRZCRL**R10H501*") {
		t.Errorf("no masked codice fiscale:\n%s", formText)
	}
	if strings.Contains(formText, "ZRZCRL72R10H501D") {
		t.Error("the page shows the whole codice fiscale")
	}
	if b := text("the button", `document.querySelector('form button[type=submit]').innerText`); b != "Invia" {
		t.Errorf("the submit button says %q", b)
	}
	formShot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot of the form: %v", err)
	}

	// Choose by clicking the option's label (as a finger would), then send.
	run("click the confirm option", chromedp.Click(chromedp.CSS(`label[for="choice-confirm"]`)))
	if !truth("the confirm option", `document.getElementById('choice-confirm').checked && !document.getElementById('choice-decline').checked`) {
		t.Fatal("clicking the label did not choose the confirm option")
	}
	result, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	if err != nil {
		t.Fatalf("press Invia: %v", err)
	}
	if result.Status != 200 {
		// Under Referrer-Policy no-referrer a browser posts the form with "Origin: null"
		// (and "Sec-Fetch-Site: same-origin"): the server must not take that for another site.
		t.Fatalf("the result page answered %d to the browser's form post", result.Status)
	}
	if h1 := text("result heading", `document.querySelector('main h1').innerText`); h1 != "Casella PEC attivata" {
		t.Errorf("result heading = %q", h1)
	}
	if title := text("result title", `document.title`); !strings.Contains(title, "Casella PEC attivata") {
		t.Errorf("result title = %q", title)
	}
	want := "Gentile " + nome + ", la Sua casella di posta elettronica certificata " + address + " è attiva."
	if lead := text("result text", `document.querySelector('main .lead').innerText`); lead != want {
		t.Errorf("result text = %q\nwant          %q", lead, want)
	}
	if !truth("no <b> element on the result page", `document.getElementsByTagName('b').length === 0`) {
		t.Errorf("the name's markup became an element on the result page")
	}
	resultShot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot of the result: %v", err)
	}
	browsed := time.Now()
	cancelTab()
	cancelAlloc()
	t.Logf("browser: start %s, form to result %s, closed after %s",
		started.Sub(start).Round(time.Millisecond), browsed.Sub(started).Round(time.Millisecond),
		time.Since(browsed).Round(time.Millisecond))

	dirs := []string{t.TempDir()}
	if d := os.Getenv("BROWSER_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	for name, png := range map[string][]byte{"activation-form.png": formShot, "activation-confirmed.png": resultShot} {
		if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s is not a PNG", name)
		}
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if err := os.WriteFile(p, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot %s (%d bytes)", p, len(png))
		}
	}

	hist := waitState(t, s.order, s.mailboxID, "ATTIVATA", 5*time.Second)
	if got := strings.Join(states(hist), ","); got != "RICHIESTA,RICHIESTA_INVIATA,ABILITATA,ATTIVATA" {
		t.Errorf("history = %s", got)
	}
	if st := execution(t, "mailbox-"+s.mailboxID); st != "SUCCEEDED" {
		t.Errorf("execution %s", st)
	}
	if code, _ := click(t, link, nil); code != 410 {
		t.Errorf("the link the browser used answers %d, want 410", code)
	}
}

// browserHeader returns a response header as the browser reports it (names in any case).
func browserHeader(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}
