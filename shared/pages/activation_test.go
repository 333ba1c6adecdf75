package pages

import (
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func sampleForm() FormData {
	return FormData{
		OrderName: "Ordine TSRM e PSTRP di Roma",
		Nome:      "Carlo", Cognome: "Zurzi",
		MaskedCF:  "ZRZCRL**R10H501*",
		Address:   "carlo.zurzi@pec.tsrm.org",
		ExpiresAt: time.Date(2026, 3, 12, 13, 30, 0, 0, time.UTC),
	}
}

func sampleResult() ResultData {
	return ResultData{OrderName: "Ordine TSRM e PSTRP di Roma", Nome: "Carlo", Address: "carlo.zurzi@pec.tsrm.org"}
}

// allPages renders every page with sample data.
func allPages() map[string]Rendered {
	own := sampleResult()
	own.OwnPEC = "carlo.zurzi@legalmail.it"
	return map[string]Rendered{
		"form":         Form(sampleForm()),
		"invalid":      Invalid(sampleForm(), MsgInvalidPEC),
		"confirmed":    Confirmed(sampleResult()),
		"declined":     Declined(sampleResult()),
		"declined-own": Declined(own),
		"notfound":     NotFound(),
		"gone":         Gone(),
		"error":        Error(),
	}
}

var styleNonce = regexp.MustCompile(`<style nonce="([^"]*)">`)

// checkDocument asserts what every page must be: a complete, self-contained, well-formed Italian
// HTML5 document served with the security headers, whose CSP nonce is its style sheet's.
func checkDocument(t *testing.T, name string, r Rendered) {
	t.Helper()
	body := string(r.Body)
	for _, want := range []string{
		"<!doctype html>\n<html lang=\"it\">",
		`<meta charset="utf-8">`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"<title>", "<main", "</html>\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("%s: body lacks %q", name, want)
		}
	}
	if !strings.HasPrefix(body, "<!doctype html>") {
		t.Errorf("%s: body does not start with the doctype", name)
	}
	// Self-contained: no scripts, no external or embedded resources of any kind.
	lower := strings.ToLower(body)
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "src=", "url(", "@import", "http://", "https://", " on"} {
		if bad == " on" {
			if regexp.MustCompile(`<[^>]*\son[a-z]+=`).MatchString(lower) {
				t.Errorf("%s: an event handler attribute in the body", name)
			}
			continue
		}
		if strings.Contains(lower, bad) {
			t.Errorf("%s: body contains %q", name, bad)
		}
	}

	m := styleNonce.FindAllStringSubmatch(body, -1)
	if len(m) != 1 || len(m[0][1]) < 22 {
		t.Fatalf("%s: want exactly one <style nonce=...> with a 128-bit nonce, got %v", name, m)
	}
	nonce := m[0][1]
	if strings.Count(lower, "<style") != 1 || strings.Contains(lower, "style=") {
		t.Errorf("%s: inline style outside the single nonce'd style sheet", name)
	}
	want := map[string]string{
		"Content-Type":               "text/html; charset=utf-8",
		"Content-Security-Policy":    "default-src 'none'; style-src 'nonce-" + nonce + "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"Referrer-Policy":            "no-referrer",
		"Cache-Control":              "no-store",
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	for k, v := range want {
		if got := r.Headers[k]; got != v {
			t.Errorf("%s: header %s = %q, want %q", name, k, got, v)
		}
	}
	pp := r.Headers["Permissions-Policy"]
	for _, f := range []string{"camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()", "fullscreen=()"} {
		if !strings.Contains(pp, f) {
			t.Errorf("%s: Permissions-Policy lacks %s: %q", name, f, pp)
		}
	}
	if regexp.MustCompile(`=\((?:[^)]|\)[^,])`).MatchString(pp + ",") {
		t.Errorf("%s: Permissions-Policy allows something: %q", name, pp)
	}

	checkWellFormed(t, name, body)
	checkHeadings(t, name, body)
	checkLabels(t, name, body)
}

var (
	tagRE    = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(/?)>`)
	styleRE  = regexp.MustCompile(`(?s)(<style[^>]*>).*?(</style>)`)
	voidTags = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true,
		"hr": true, "img": true, "input": true, "link": true, "meta": true, "source": true,
		"track": true, "wbr": true}
)

// checkWellFormed is a small structural check: every non-void element is closed, in order
// (the pages never rely on implied end tags), and the document has one html, head, body, h1.
func checkWellFormed(t *testing.T, name, body string) {
	t.Helper()
	body = styleRE.ReplaceAllString(body, "$1$2")
	var stack []string
	count := map[string]int{}
	for _, m := range tagRE.FindAllStringSubmatch(body, -1) {
		closing, tag, selfClosing := m[1] == "/", strings.ToLower(m[2]), m[4] == "/"
		if !closing {
			count[tag]++
		}
		switch {
		case voidTags[tag]:
			if closing {
				t.Errorf("%s: end tag for void element %s", name, tag)
			}
		case selfClosing:
			// only inside inline SVG
			if !contains(stack, "svg") {
				t.Errorf("%s: self-closing <%s/> outside svg", name, tag)
			}
		case closing:
			if len(stack) == 0 || stack[len(stack)-1] != tag {
				t.Fatalf("%s: </%s> does not close the open element (open: %v)", name, tag, stack)
			}
			stack = stack[:len(stack)-1]
		default:
			stack = append(stack, tag)
		}
	}
	if len(stack) != 0 {
		t.Errorf("%s: unclosed elements %v", name, stack)
	}
	for _, tag := range []string{"html", "head", "body", "title", "main", "h1", "header", "footer"} {
		if count[tag] != 1 {
			t.Errorf("%s: %d <%s> elements, want 1", name, count[tag], tag)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// checkHeadings: the first heading is the h1 and no level is skipped.
func checkHeadings(t *testing.T, name, body string) {
	t.Helper()
	prev := 0
	for _, m := range regexp.MustCompile(`<h([1-6])[\s>]`).FindAllStringSubmatch(body, -1) {
		lvl := int(m[1][0] - '0')
		if (prev == 0 && lvl != 1) || lvl > prev+1 {
			t.Errorf("%s: heading h%d after h%d", name, lvl, prev)
		}
		prev = lvl
	}
	if prev == 0 {
		t.Errorf("%s: no heading", name)
	}
}

// checkLabels: ids are unique; every label's for= names an element; every form control
// (except the submit button) has a label.
func checkLabels(t *testing.T, name, body string) {
	t.Helper()
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if ids[m[1]] {
			t.Errorf("%s: duplicate id %q", name, m[1])
		}
		ids[m[1]] = true
	}
	labelled := map[string]bool{}
	for _, m := range regexp.MustCompile(`<label[^>]*\sfor="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if !ids[m[1]] {
			t.Errorf("%s: label for missing id %q", name, m[1])
		}
		labelled[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`<(?:input|select|textarea)[^>]*\sid="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if !labelled[m[1]] {
			t.Errorf("%s: control %q has no label", name, m[1])
		}
	}
	if n := strings.Count(body, "<input"); n != len(regexp.MustCompile(`<input[^>]*\sid=`).FindAllString(body, -1)) {
		t.Errorf("%s: an input without id (so without label for)", name)
	}
}

func TestEveryPageIsACompleteSafeDocument(t *testing.T) {
	for name, r := range allPages() {
		checkDocument(t, name, r)
	}
}

func TestStatusCodes(t *testing.T) {
	want := map[string]int{
		"form": http.StatusOK, "invalid": http.StatusUnprocessableEntity,
		"confirmed": http.StatusOK, "declined": http.StatusOK, "declined-own": http.StatusOK,
		"notfound": http.StatusNotFound, "gone": http.StatusGone, "error": http.StatusInternalServerError,
	}
	for name, r := range allPages() {
		if r.Status != want[name] {
			t.Errorf("%s: status %d, want %d", name, r.Status, want[name])
		}
	}
}

func TestNonceIsFreshPerRender(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		for name, r := range allPages() {
			n := styleNonce.FindStringSubmatch(string(r.Body))[1]
			if seen[n] {
				t.Fatalf("%s: nonce %q reused", name, n)
			}
			seen[n] = true
			if !strings.Contains(r.Headers["Content-Security-Policy"], "'nonce-"+n+"'") {
				t.Fatalf("%s: CSP does not carry the page's nonce", name)
			}
		}
	}
}

func TestHeadersAreIndependentCopies(t *testing.T) {
	a, b := Form(sampleForm()), Form(sampleForm())
	a.Headers["X-Frame-Options"] = "changed"
	if b.Headers["X-Frame-Options"] != "DENY" {
		t.Fatal("renders share their headers map")
	}
}

func mustContain(t *testing.T, name, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: body lacks %q", name, w)
		}
	}
}

func TestFormIsTheSeedPage(t *testing.T) {
	r := Form(sampleForm())
	body := string(r.Body)
	mustContain(t, "form", body,
		"<h1>Attivazione della casella di posta elettronica certificata</h1>",
		"Ordine TSRM e PSTRP di Roma",
		"<dt>Il Suo nome</dt><dd>Carlo Zurzi</dd>",
		"ZRZCRL**R10H501*",
		"carlo.zurzi@pec.tsrm.org",
		"12 marzo 2026, ore 14:30",
		// the legal reminder, as in the seed
		"La informiamo che, in ottemperanza alla norma, per tutti i professionisti iscritti agli Albi professionali è obbligatorio l'uso di una casella di Posta elettronica certificata.",
		"Pertanto questo Ordine professionale ha emesso una casella PEC anche a Suo favore.",
		"La invitiamo a selezionare una delle opzioni qui sotto e a premere il pulsante",
		"domicilio digitale", "D.L. 29 novembre 2008, n. 185", "D.L. 16 luglio 2020, n. 76",
		// the form
		`<form method="post">`, "<fieldset>", "<legend>La Sua scelta</legend>", "</fieldset>",
		`<label class="opzione" for="choice-confirm"><input type="radio" id="choice-confirm" name="choice" value="confirm" required>`,
		"<span>Confermo l'attivazione della casella PEC fornita dal mio Ordine professionale</span></label>",
		`<label class="opzione" for="choice-decline"><input type="radio" id="choice-decline" name="choice" value="decline" required>`,
		"<span>Non confermo l'attivazione della casella PEC fornita dal mio Ordine professionale</span></label>",
		`<label for="pec">Se ha già un indirizzo PEC, lo indichi qui</label>`,
		"Solo se non conferma l'attivazione.",
		`<input type="email" id="pec" name="pec" value=""`,
		`<button type="submit">Invia</button>`,
		"<title>Attivazione casella PEC – Ordine TSRM e PSTRP di Roma</title>",
	)
	if strings.Contains(body, "action=") {
		t.Error("the form must post to its own URL (no action attribute)")
	}
	if strings.Contains(body, `role="alert"`) || strings.Contains(body, " checked>") {
		t.Error("a fresh form shows no error and preselects nothing")
	}
	// The form's field names and values are the package's constants (what the handler parses).
	for _, s := range []string{`name="` + FieldChoice + `" value="` + ChoiceConfirm + `"`,
		`name="` + FieldChoice + `" value="` + ChoiceDecline + `"`, `name="` + FieldPEC + `"`} {
		mustContain(t, "form", body, s)
	}
	// Apostrophes must reach the browser as apostrophes, not as visible entities.
	if strings.Contains(body, "&amp;#39;") {
		t.Error("double-escaped apostrophe")
	}
}

func TestFormOptionalParts(t *testing.T) {
	d := sampleForm()
	d.ExpiresAt, d.MaskedCF = time.Time{}, ""
	body := string(Form(d).Body)
	if strings.Contains(body, "entro il") || strings.Contains(body, "Codice fiscale") {
		t.Error("absent deadline or codice fiscale still shown")
	}
	d.Error = MsgNoChoice
	r := Form(d)
	checkDocument(t, "form+error", r)
	mustContain(t, "form+error", string(r.Body), `role="alert"`, "Scelga una delle due opzioni.",
		`<form method="post" aria-describedby="errore">`, "<title>Errore: Attivazione casella PEC")
	if r.Status != http.StatusOK {
		t.Errorf("Form with Error: status %d", r.Status)
	}
}

func TestInvalidShowsTheFormAgain(t *testing.T) {
	d := sampleForm()
	d.Choice, d.PEC = ChoiceDecline, "carlo.zurzi@"
	r := Invalid(d, MsgInvalidPEC)
	body := string(r.Body)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", r.Status)
	}
	mustContain(t, "invalid", body,
		`<div class="errore" role="alert" id="errore">`,
		"L&#39;indirizzo PEC indicato non è valido.",
		`value="decline" required checked>`,
		`value="carlo.zurzi@"`,
		"Attivazione della casella di posta elettronica certificata", `<button type="submit">Invia</button>`)
	if strings.Contains(body, `value="confirm" required checked`) {
		t.Error("confirm preselected")
	}
	body = string(Invalid(sampleForm(), "").Body)
	mustContain(t, "invalid-default", body, "Controlli i dati inseriti e riprovi.")
}

func TestResultPages(t *testing.T) {
	c := string(Confirmed(sampleResult()).Body)
	mustContain(t, "confirmed", c, "<h1>Casella PEC attivata</h1>", "Gentile Carlo",
		"carlo.zurzi@pec.tsrm.org</strong> è attiva.", "INI-PEC", "comunicazioni istituzionali", "domicilio digitale")

	d := string(Declined(sampleResult()).Body)
	mustContain(t, "declined", d, "<h1>Casella PEC non attivata</h1>", "Gentile Carlo",
		"carlo.zurzi@pec.tsrm.org</strong> non sarà attivata.", "Il Suo Ordine professionale è stato informato.",
		"tenuti per legge ad avere un domicilio digitale")

	own := sampleResult()
	own.OwnPEC = "carlo.zurzi@legalmail.it"
	d = string(Declined(own).Body)
	mustContain(t, "declined-own", d, "carlo.zurzi@legalmail.it</strong> è stato registrato come Suo domicilio digitale.")
	if strings.Contains(d, "tenuti per legge") {
		t.Error("declined with own PEC still warns about the missing domicilio digitale")
	}

	// Without a name or an address the sentences still read well.
	c = string(Confirmed(ResultData{}).Body)
	mustContain(t, "confirmed-empty", c, "La Sua casella di posta elettronica certificata è attiva.")
	d = string(Declined(ResultData{}).Body)
	mustContain(t, "declined-empty", d, "Abbiamo registrato la Sua scelta: la casella non sarà attivata.")
}

func TestErrorPagesSayNoMore(t *testing.T) {
	for name, tc := range map[string]struct {
		r     Rendered
		title string
	}{
		"notfound": {NotFound(), "Collegamento non valido"},
		"gone":     {Gone(), "Collegamento scaduto o già utilizzato"},
		"error":    {Error(), "Si è verificato un errore"},
	} {
		body := string(tc.r.Body)
		mustContain(t, name, body, "<h1>"+tc.title+"</h1>", "<title>"+tc.title+"</title>", "segreteria del Suo Ordine professionale")
		for _, leak := range []string{"<form", "token", "Token", "ZRZ"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s: contains %q", name, leak)
			}
		}
		if regexp.MustCompile(`\w@\w`).MatchString(body) {
			t.Errorf("%s: contains an address", name)
		}
	}
}

func TestUserDataIsEscaped(t *testing.T) {
	evils := []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `' autofocus onfocus='alert(1)`}
	for _, evil := range evils {
		d := FormData{OrderName: evil, Nome: evil, Cognome: evil, MaskedCF: evil, Address: evil,
			Error: evil, PEC: evil, Choice: evil, ExpiresAt: time.Now()}
		r := ResultData{OrderName: evil, Nome: evil, Address: evil, OwnPEC: evil}
		for name, p := range map[string]Rendered{
			"form": Form(d), "invalid": Invalid(d, evil), "confirmed": Confirmed(r), "declined": Declined(r),
		} {
			body := string(p.Body)
			lower := strings.ToLower(body)
			if strings.Contains(lower, "<script") || strings.Contains(lower, "<img") {
				t.Errorf("%s: raw markup from data in the body", name)
			}
			for _, tag := range tagRE.FindAllString(lower, -1) {
				// attribute names only: drop the (quoted) values
				names := regexp.MustCompile(`"[^"]*"|'[^']*'`).ReplaceAllString(tag, "")
				if regexp.MustCompile(`\s(onerror|onfocus|autofocus|src)\b`).MatchString(names) {
					t.Errorf("%s: attribute injected from data: %s", name, tag)
				}
			}
			if strings.Contains(evil, "<script") && !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s: the escaped name is not shown", name)
			}
			checkWellFormed(t, name, body)
			checkLabels(t, name, body)
		}
	}
}

// The page never receives a full codice fiscale: FormData has only the masked one.
func TestNoFieldForAFullCodiceFiscale(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[FormData](), reflect.TypeFor[ResultData]()} {
		for f := range typ.Fields() {
			n := strings.ToLower(f.Name)
			if (strings.Contains(n, "cf") || strings.Contains(n, "fiscal")) && f.Name != "MaskedCF" {
				t.Errorf("%s.%s looks like a codice fiscale field", typ.Name(), f.Name)
			}
		}
	}
}

func TestDeadlineInItalianTime(t *testing.T) {
	for in, want := range map[time.Time]string{
		time.Date(2026, 3, 12, 13, 30, 0, 0, time.UTC): "12 marzo 2026, ore 14:30", // CET
		time.Date(2026, 7, 1, 22, 5, 0, 0, time.UTC):   "2 luglio 2026, ore 00:05", // CEST, next day
		time.Date(2025, 12, 31, 8, 0, 0, 0, time.UTC):  "31 dicembre 2025, ore 09:00",
		{}: "",
	} {
		if got := formatDeadline(in); got != want {
			t.Errorf("formatDeadline(%v) = %q, want %q", in, got, want)
		}
	}
}
