package pages

import (
	"html/template"
	"net/http"
)

// The signing page (/firma/{token}): a provider that activates a mailbox only with its own
// form signed by the holder (Legalmail) gets it, with the identity document, through this
// page. Same layout, headers and rules as the activation pages.

var signingService = service{
	Name:   "Attivazione della casella PEC",
	Footer: "Attivazione delle caselle di posta elettronica certificata degli iscritti all'albo.",
}

// SigningData is what the signing page shows.
type SigningData struct {
	OrderName    string
	ProviderName string
	Nome         string
	Address      string
	FormURL      string // the provider's form, to download
	Until        string // the link's last day, in words
	// Open: the page takes the documents; Sent: this round's went to the provider; Active:
	// the provider activated the mailbox; Closed: the request ended otherwise.
	Open, Sent, Active, Closed bool
	Again                      bool   // the provider refused the documents sent before
	Error                      string // a refusal, above the form (422)
	ErrorField                 string // modulo or documento
}

// Signing is the signing page (200), or with d.Error the page again after a refusal (422).
func Signing(d SigningData) Rendered {
	status, title := http.StatusOK, "Modulo del gestore da firmare"
	if d.Error != "" {
		status, title = http.StatusUnprocessableEntity, "Errore: Modulo del gestore da firmare"
	}
	return renderFor(signingService, status, "signing", d.OrderName, title, d)
}

func init() {
	pages["signing"] = template.Must(template.Must(pages["error"].Clone()).Parse(signingPage))
}

const signingPage = `{{define "main" -}}
<h1>Modulo del gestore da firmare</h1>
{{- with .Error}}
<div class="errore" role="alert" id="errore">
<p><strong>Attenzione:</strong> {{.}}</p>
</div>
{{- end}}
<dl class="dati">
<div><dt>Casella PEC</dt><dd class="pec">{{.Address}}</dd></div>
{{- with .ProviderName}}
<div><dt>Gestore</dt><dd>{{.}}</dd></div>
{{- end}}
</dl>
{{- if .Active}}
<p class="lead">Il gestore ha attivato la casella. Riceverà per posta elettronica il collegamento per confermarla, se non lo ha già ricevuto.</p>
{{- else if .Closed}}
<p>La richiesta di questa casella non è più in corso. Per informazioni si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- else if .Sent}}
<p class="lead">I documenti sono stati inviati al gestore, che li verifica. Quando la casella sarà attiva riceverà per posta elettronica il collegamento per confermarla.</p>
{{- else}}
{{- if .Again}}
<div class="avviso"><p>Il gestore non ha accettato i documenti inviati in precedenza. Li invii di nuovo, leggibili e completi.</p></div>
{{- end}}
<p>Gentile {{.Nome}}, il gestore attiva la casella soltanto dopo aver ricevuto il proprio modulo firmato da Lei e una copia del Suo documento di identità in corso di validità.</p>
<ol class="passi">
<li>Scarichi il modulo, lo stampi e lo firmi.</li>
<li>Lo scansioni in PDF e lo carichi qui sotto, con una copia del documento di identità (fronte e retro, in PDF, JPEG o PNG).</li>
</ol>
<p><a href="{{.FormURL}}" download>Scarica il modulo del gestore (PDF)</a></p>
<form method="post" enctype="multipart/form-data"{{if .Error}} aria-describedby="errore"{{end}}>
<div class="campo">
<label for="modulo">Modulo firmato (PDF)</label>
<input type="file" id="modulo" name="modulo" accept="application/pdf,.pdf" required{{if eq .ErrorField "modulo"}} aria-invalid="true"{{end}}>
</div>
<div class="campo">
<label for="documento">Documento di identità (PDF, JPEG o PNG)</label>
<input type="file" id="documento" name="documento" accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png" required{{if eq .ErrorField "documento"}} aria-invalid="true"{{end}}>
</div>
<div class="azioni"><button type="submit">Invii i documenti al gestore</button></div>
</form>
<p class="nota">Il collegamento è personale e vale fino al {{.Until}}.</p>
{{- end}}
<p class="nota">Per qualsiasi chiarimento si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`
