package pages

import "html/template"

// pages holds one template set per page: the shared layout plus that page's "main" block.
var pages = func() map[string]*template.Template {
	base := template.Must(template.New("layout").Parse(layout))
	m := map[string]*template.Template{}
	for name, src := range map[string]string{
		"form":      formPage,
		"confirmed": confirmedPage,
		"declined":  declinedPage,
		"notfound":  notFoundPage,
		"gone":      gonePage,
		"error":     errorPage,
		// ReGIndE (reginde.go).
		"regindeForm":      regindeFormPage,
		"regindeConfirmed": regindeConfirmedPage,
		"regindeNotFound":  regindeNotFoundPage,
		"regindeGone":      regindeGonePage,
	} {
		m[name] = template.Must(template.Must(base.Clone()).Parse(src))
	}
	return m
}()

const layout = `<!doctype html>
<html lang="it">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}{{with .OrderName}} – {{.}}{{end}}</title>
<style nonce="{{.Nonce}}">` + css + `</style>
</head>
<body>
<a class="skip" href="#contenuto">Vai al contenuto</a>
<header>
<div class="slim"><div class="wrap">Posta elettronica certificata (PEC) degli iscritti</div></div>
<div class="band"><div class="wrap">
{{- if .OrderName}}
<p class="ente">{{.OrderName}}</p>
<p class="servizio">{{.Service.Name}}</p>
{{- else}}
<p class="ente">{{.Service.Name}}</p>
<p class="servizio">Servizio per gli iscritti agli Ordini professionali</p>
{{- end}}
</div></div>
</header>
<main id="contenuto">
<div class="wrap">
<div class="card">
{{template "main" .Data}}
</div>
</div>
</main>
<footer>
<div class="wrap">
<p>{{with .OrderName}}{{.}} – {{end}}{{.Service.Footer}}</p>
</div>
</footer>
{{- block "script" .}}{{end}}
</body>
</html>
`

const formPage = `{{define "main" -}}
<h1>Attivazione della casella di posta elettronica certificata</h1>
{{- with .Error}}
<div class="errore" role="alert" id="errore">
<p><strong>Attenzione:</strong> {{.}}</p>
</div>
{{- end}}
<dl class="dati">
<div><dt>Il Suo nome</dt><dd>{{.Name}}</dd></div>
{{- with .MaskedCF}}
<div><dt>Codice fiscale</dt><dd class="cf">{{.}}</dd></div>
{{- end}}
{{- with .Address}}
<div><dt>Casella PEC</dt><dd class="pec">{{.}}</dd></div>
{{- end}}
{{- with .Expires}}
<div><dt>Scelta da effettuare entro il</dt><dd>{{.}}</dd></div>
{{- end}}
</dl>
<div class="norma">
<p>La informiamo che, in ottemperanza alla norma, per tutti i professionisti iscritti agli Albi professionali è obbligatorio l'uso di una casella di Posta elettronica certificata.</p>
<p>Pertanto questo Ordine professionale ha emesso una casella PEC anche a Suo favore. La invitiamo a selezionare una delle opzioni qui sotto e a premere il pulsante «Invia» per confermare la scelta.</p>
<p class="rif">La casella PEC è il domicilio digitale del professionista, che l'Ordine registra e pubblica nell'Indice nazionale degli indirizzi PEC (<span class="nw">INI-PEC</span>): art. 16, comma 7, del D.L. 29 novembre 2008, n. 185, come modificato dall'art. 37 del D.L. 16 luglio 2020, n. 76.</p>
</div>
<form method="post"{{if .Error}} aria-describedby="errore"{{end}}>
<fieldset>
<legend>La Sua scelta</legend>
<label class="opzione" for="choice-confirm"><input type="radio" id="choice-confirm" name="choice" value="confirm" required{{if eq .Choice "confirm"}} checked{{end}}><span>Confermo l'attivazione della casella PEC fornita dal mio Ordine professionale</span></label>
<label class="opzione" for="choice-decline"><input type="radio" id="choice-decline" name="choice" value="decline" required{{if eq .Choice "decline"}} checked{{end}}><span>Non confermo l'attivazione della casella PEC fornita dal mio Ordine professionale</span></label>
<div class="altra">
<label for="pec">Se ha già un indirizzo PEC, lo indichi qui</label>
<p class="hint" id="pec-hint">Solo se non conferma l'attivazione. Facoltativo: l'indirizzo sarà registrato come Suo domicilio digitale.</p>
<input type="email" id="pec" name="pec" value="{{.PEC}}" maxlength="254" autocomplete="email" autocapitalize="off" spellcheck="false" inputmode="email" aria-describedby="pec-hint">
</div>
</fieldset>
<div class="azioni"><button type="submit">Invia</button></div>
</form>
<p class="nota">Per qualsiasi chiarimento si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`

const confirmedPage = `{{define "main" -}}
<div class="esito ok">
<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="40" height="40"><circle cx="12" cy="12" r="11" fill="#008055"/><path d="M6.5 12.5l3.5 3.5 7.5-8" fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>
<h1>Casella PEC attivata</h1>
</div>
<p class="lead">{{with .Nome}}Gentile {{.}}, la{{else}}La{{end}} Sua casella di posta elettronica certificata{{with .Address}} <strong class="pec">{{.}}</strong>{{end}} è attiva.</p>
<h2>Cosa succede ora</h2>
<ul class="passi">
<li>La casella è il Suo domicilio digitale e viene registrata dal Suo Ordine professionale.</li>
<li>L'indirizzo sarà pubblicato nell'Indice nazionale degli indirizzi PEC (<span class="nw">INI-PEC</span>).</li>
<li>Da ora la casella è utilizzabile per le comunicazioni istituzionali.</li>
</ul>
<h2>Come accedere alla casella</h2>
<ul class="passi">
{{if .WebmailURL}}<li>La casella si consulta dal browser all'indirizzo <a href="{{.WebmailURL}}">{{.WebmailURL}}</a>{{with .ProviderName}} (gestore {{.}}){{end}}, oppure con un programma di posta elettronica.</li>
{{else}}<li>La casella si consulta dal browser, con l'indirizzo indicato dal gestore{{with .ProviderName}} {{.}}{{end}}, oppure con un programma di posta elettronica.</li>
{{end}}<li>Le credenziali di primo accesso Le vengono inviate dal gestore {{if .CredentialsBySMS}}con un SMS{{else}}con un messaggio di posta elettronica all'indirizzo che ha comunicato al Suo Ordine{{end}}; al primo accesso Le sarà chiesto di sceglierne di nuove. Le stesse indicazioni Le sono inviate anche per posta elettronica.</li>
<li>Se le credenziali non Le arrivano entro due giorni lavorativi, controlli la cartella della posta indesiderata e poi si rivolga {{with .SupportURL}}all'<a href="{{.}}">assistenza del gestore</a> oppure {{end}}alla segreteria del Suo Ordine professionale.</li>
</ul>
<p class="nota">Può chiudere questa pagina.</p>
{{- end}}`

const declinedPage = `{{define "main" -}}
<div class="esito info">
<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="40" height="40"><circle cx="12" cy="12" r="11" fill="#0066CC"/><path d="M12 10.5v7" stroke="#fff" stroke-width="2.4" stroke-linecap="round"/><circle cx="12" cy="6.8" r="1.5" fill="#fff"/></svg>
<h1>Casella PEC non attivata</h1>
</div>
<p class="lead">{{with .Nome}}Gentile {{.}}, abbiamo{{else}}Abbiamo{{end}} registrato la Sua scelta: la casella{{with .Address}} <strong class="pec">{{.}}</strong>{{end}} non sarà attivata.</p>
<p>Il Suo Ordine professionale è stato informato.</p>
{{- if .OwnPEC}}
<p>Il Suo indirizzo PEC <strong class="pec">{{.OwnPEC}}</strong> è stato registrato come Suo domicilio digitale.</p>
{{- else}}
<div class="avviso">
<p>Le ricordiamo che i professionisti iscritti all'albo sono tenuti per legge ad avere un domicilio digitale. Se ha già un indirizzo PEC, lo comunichi alla segreteria del Suo Ordine professionale.</p>
</div>
{{- end}}
<p class="nota">Può chiudere questa pagina.</p>
{{- end}}`

const notFoundPage = `{{define "main" -}}
<h1>Collegamento non valido</h1>
<p class="lead">Il collegamento che ha aperto non è valido.</p>
<p>Controlli di averlo aperto dal messaggio di posta elettronica ricevuto, senza modificarlo. Se il problema persiste, si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`

const gonePage = `{{define "main" -}}
<h1>Collegamento scaduto o già utilizzato</h1>
<p class="lead">Il collegamento che ha aperto non può più essere usato: è scaduto oppure è già stato utilizzato.</p>
<p>Per qualsiasi necessità si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`

const errorPage = `{{define "main" -}}
<h1>Si è verificato un errore</h1>
<p class="lead">Non è stato possibile completare l'operazione.</p>
<p>Riprovi più tardi aprendo di nuovo il collegamento contenuto nel messaggio di posta elettronica ricevuto. Se il problema persiste, si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`

// css is the only style sheet (inline, allowed by the page's nonce). Colours follow the Italian
// public-administration palette (Bootstrap Italia): primary #0066CC, dark #004080, text #1A1A1A
// and #17324D, secondary text #5C6F82 – all at least 4.5:1 on their background.
const css = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#EBEFF3;color:#1A1A1A;font-family:"Titillium Web",system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:1.0625rem;line-height:1.55;min-height:100vh;display:flex;flex-direction:column}
p{margin:0 0 1rem}
.wrap{max-width:46rem;margin:0 auto;padding:0 1rem}
.skip{position:absolute;left:-9999px;top:.5rem;background:#fff;color:#004080;padding:.5rem 1rem;font-weight:700;z-index:10}
.skip:focus{left:.5rem}
header .slim{background:#004080;color:#fff;font-size:.875rem;padding:.5rem 0}
header .band{background:#0066CC;color:#fff;padding:1.25rem 0 1.5rem}
.ente{font-size:1.5rem;font-weight:700;line-height:1.25;margin:0}
.servizio{margin:.25rem 0 0;font-size:1rem}
main{flex:1;padding:1.5rem 0 2.5rem}
.card{background:#fff;border-radius:4px;box-shadow:0 1px 3px rgba(23,50,77,.12),0 6px 24px rgba(23,50,77,.08);padding:1.5rem 1.25rem}
h1{font-size:1.375rem;line-height:1.3;margin:0 0 1.25rem;color:#17324D;letter-spacing:.01em}
h2{font-size:1.1875rem;line-height:1.3;margin:1.5rem 0 .75rem;color:#17324D}
.errore{border-left:6px solid #D9364F;background:#FCEDEF;padding:.875rem 1rem;margin:0 0 1.5rem}
.errore p{margin:0}
.dati{margin:0 0 1.5rem;border-top:1px solid #D9DADB}
.dati div{padding:.625rem 0;border-bottom:1px solid #D9DADB}
.dati dt{color:#5C6F82;font-size:.9375rem}
.dati dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.cf{letter-spacing:.06em}
.nw{white-space:nowrap}
.pec{overflow-wrap:anywhere}
.norma{background:#F0F6FC;border-left:4px solid #0066CC;padding:1rem 1.125rem;margin:0 0 1.75rem}
.norma p:last-child{margin-bottom:0}
.norma p{font-size:1rem}
.norma .rif{font-size:.9375rem;color:#17324D}
fieldset{border:0;margin:0;padding:0;min-width:0}
legend{font-size:1.1875rem;font-weight:700;color:#17324D;padding:0;margin:0 0 .75rem}
.opzione{display:flex;gap:.875rem;align-items:flex-start;border:2px solid #C5C7C9;border-radius:4px;padding:.875rem 1rem;margin:0 0 .75rem;cursor:pointer;background:#fff}
.opzione:hover{border-color:#0066CC}
.opzione:has(input:checked){border-color:#0066CC;background:#F0F6FC}
.opzione:has(input:focus-visible){outline:3px solid #FF9900;outline-offset:2px;border-color:#17324D}
.opzione input{flex:none;width:1.375rem;height:1.375rem;margin:.1rem 0 0;accent-color:#0066CC;cursor:pointer}
.altra{margin:.25rem 0 0 1.25rem;padding:.25rem 0 .25rem 1rem;border-left:4px solid #D9DADB}
.altra label{display:block;font-weight:600}
.hint{font-size:.9375rem;color:#5C6F82;margin:.125rem 0 .5rem}
input[type=email],input[type=text],input[type=file],select{display:block;width:100%;box-sizing:border-box;font:inherit;color:#1A1A1A;background:#fff;border:1px solid #5C6F82;border-radius:4px;padding:.5rem .75rem;min-height:2.75rem}
input[aria-invalid=true]{border:2px solid #D9364F}
.campo{margin:0 0 1rem}
.errore-campo{color:#A61D33;font-weight:600;margin:.375rem 0 .5rem}
.documento{border-top:1px solid #D9DADB;padding-top:1rem;margin:0 0 1.25rem}
.documento .azioni{margin:1rem 0 0}
.campo label{display:block;font-weight:600}
h2{font-size:1.1875rem;color:#17324D;margin:1.5rem 0 .5rem}
a{color:#0066CC}
.pulsante{display:block;text-align:center;font-weight:700;color:#fff;background:#0066CC;border-radius:4px;padding:.75rem 2.5rem;text-decoration:none}
.pulsante:hover{background:#004D99}
.azioni{margin:1.75rem 0 1.5rem}
button{font:inherit;font-weight:700;font-size:1.0625rem;color:#fff;background:#0066CC;border:0;border-radius:4px;padding:.75rem 2.5rem;min-height:3rem;width:100%;cursor:pointer}
button:hover{background:#004D99}
button:active{background:#004080}
:focus-visible{outline:3px solid #FF9900;outline-offset:2px;box-shadow:0 0 0 2px #17324D}
.opzione input:focus-visible{outline:0;box-shadow:none}
.nota{font-size:.9375rem;color:#5C6F82;margin:0}
.lead{font-size:1.125rem}
.esito{display:flex;align-items:center;gap:.875rem;margin:0 0 1.25rem}
.esito svg{flex:none}
.esito h1{margin:0}
.passi{padding-left:1.25rem;margin:0 0 1.5rem}
.passi li{margin:0 0 .5rem}
.avviso{background:#FFF6E5;border-left:4px solid #A66300;padding:.875rem 1rem;margin:0 0 1.25rem}
.avviso p{margin:0}
footer{background:#17324D;color:#fff;font-size:.875rem;padding:1.25rem 0}
footer p{margin:0}
@media (min-width:40rem){
.norma p{font-size:1.0625rem}
.wrap{padding:0 1.5rem}
.ente{font-size:1.875rem}
header .band{padding:1.75rem 0 2rem}
main{padding:2.5rem 0 3.5rem}
.card{padding:2.5rem 3rem}
h1{font-size:1.625rem}
.dati div{display:grid;grid-template-columns:14rem 1fr;gap:1rem;align-items:baseline}
button{width:auto;min-width:12rem}
}
`
