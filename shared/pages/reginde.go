package pages

import "net/http"

// The pages of a CTU's ReGIndE confirmation link (GET/POST /reginde/{token}): the explanation
// with the confirmation button, the result, and the error pages. Same layout, headers and
// rules as the activation pages.

// RegindeData is what the ReGIndE pages show.
type RegindeData struct {
	OrderName     string
	Nome, Cognome string
	MaskedCF      string // already masked by the caller
	Address       string // the PEC to register in ReGIndE: the member's domicilio digitale
	// Already is set on the result page when the confirmation had been recorded before, and on
	// the form when the member opens a link already confirmed.
	Already bool
}

var regindeService = service{
	Name:   "Registrazione della PEC al ReGIndE",
	Footer: "Registrazione al ReGIndE della PEC dei consulenti tecnici d'ufficio iscritti all'albo.",
}

type regindeView struct {
	RegindeData
	Name string
}

// RegindeForm is the explanation with the button *Ho completato la registrazione al ReGIndE*
// (200); when d.Already, it says the confirmation is already recorded and shows no button.
func RegindeForm(d RegindeData) Rendered {
	return renderFor(regindeService, http.StatusOK, "regindeForm", d.OrderName, "Registrazione della PEC al ReGIndE",
		regindeView{RegindeData: d, Name: joinName(d.Nome, d.Cognome)})
}

// RegindeConfirmed is the result page (200): "registrazione confermata", or "già confermata"
// when d.Already.
func RegindeConfirmed(d RegindeData) Rendered {
	title := "Registrazione al ReGIndE confermata"
	if d.Already {
		title = "Registrazione al ReGIndE già confermata"
	}
	return renderFor(regindeService, http.StatusOK, "regindeConfirmed", d.OrderName, title,
		regindeView{RegindeData: d, Name: joinName(d.Nome, d.Cognome)})
}

// RegindeNotFound is the page for an unknown link (404), without detail.
func RegindeNotFound() Rendered {
	return renderFor(regindeService, http.StatusNotFound, "regindeNotFound", "", "Collegamento non valido", nil)
}

// RegindeGone is the page for an expired or replaced link (410), without detail.
func RegindeGone() Rendered {
	return renderFor(regindeService, http.StatusGone, "regindeGone", "", "Collegamento scaduto o non più valido", nil)
}

// RegindeError is the generic error page (500) of the ReGIndE pages, without detail.
func RegindeError() Rendered {
	return renderFor(regindeService, http.StatusInternalServerError, "error", "", "Si è verificato un errore", nil)
}

const regindeFormPage = `{{define "main" -}}
<h1>REGISTRAZIONE DELLA PEC AL ReGIndE</h1>
<dl class="dati">
<div><dt>Il Suo nome</dt><dd>{{.Name}}</dd></div>
{{- with .MaskedCF}}
<div><dt>Codice fiscale</dt><dd class="cf">{{.}}</dd></div>
{{- end}}
<div><dt>PEC da registrare al ReGIndE</dt><dd class="pec">{{.Address}}</dd></div>
</dl>
<div class="norma">
<p>I professionisti che svolgono funzioni di consulente tecnico d'ufficio (CTU) devono registrare la propria PEC nel Registro Generale degli Indirizzi Elettronici (ReGIndE) del Ministero della Giustizia. La PEC da registrare deve essere <strong>la stessa</strong> già comunicata al Suo Ordine professionale: <strong class="pec">{{.Address}}</strong>.</p>
<p>La registrazione si fa sul Portale dei Servizi Telematici, pst.giustizia.it, con una Carta Nazionale o Regionale dei Servizi (CNS/CRS) o con un dispositivo di firma digitale: le istruzioni sono nel messaggio di posta elettronica che ha ricevuto.</p>
<p class="rif">Solo la PEC registrata al ReGIndE può essere usata dagli Uffici giudiziari per comunicare il conferimento degli incarichi peritali e di CTU (art. 16 del D.L. 18 ottobre 2012, n. 179).</p>
</div>
{{- if .Already}}
<div class="esito ok">
<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="40" height="40"><circle cx="12" cy="12" r="11" fill="#008055"/><path d="M6.5 12.5l3.5 3.5 7.5-8" fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>
<p class="lead">La registrazione al ReGIndE è già confermata.</p>
</div>
{{- else}}
<p>Quando avrà completato la registrazione, lo confermi qui: il Suo Ordine professionale ne sarà informato.</p>
<form method="post">
<div class="azioni"><button type="submit">Ho completato la registrazione al ReGIndE</button></div>
</form>
{{- end}}
<p class="nota">Per qualsiasi chiarimento si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`

const regindeConfirmedPage = `{{define "main" -}}
<div class="esito ok">
<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="40" height="40"><circle cx="12" cy="12" r="11" fill="#008055"/><path d="M6.5 12.5l3.5 3.5 7.5-8" fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>
<h1>{{if .Already}}Registrazione al ReGIndE già confermata{{else}}Registrazione al ReGIndE confermata{{end}}</h1>
</div>
<p class="lead">{{with .Name}}Gentile {{.}}, la{{else}}La{{end}} Sua conferma della registrazione al ReGIndE della PEC <strong class="pec">{{.Address}}</strong> {{if .Already}}era già stata registrata{{else}}è stata registrata{{end}}.</p>
<p>Il Suo Ordine professionale vede la conferma nell'elenco dei consulenti tecnici d'ufficio.</p>
<p class="nota">Può chiudere questa pagina.</p>
{{- end}}`

const regindeNotFoundPage = `{{define "main" -}}
<h1>Collegamento non valido</h1>
<p class="lead">Il collegamento che ha aperto non è valido.</p>
<p>Controlli di averlo aperto dal messaggio di posta elettronica ricevuto, senza modificarlo. Se il problema persiste, si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`

const regindeGonePage = `{{define "main" -}}
<h1>Collegamento scaduto o non più valido</h1>
<p class="lead">Il collegamento che ha aperto non può più essere usato: è scaduto oppure ne è stato inviato uno più recente.</p>
<p>Usi il collegamento dell'ultimo messaggio ricevuto, oppure si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`
