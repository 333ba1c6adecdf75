package pages

import (
	"html/template"
	"net/http"
)

// The members' self-service pages under a convention (seed 003): the convention's page with
// the identity form (/adesione/{offerCode}) and the request's status page
// (/richiesta/{requestId}/{token}), from which the member downloads the form to sign, pays at
// the payment service and uploads the documents, and later sees the mailbox become active.
// Same layout, headers and rules as the activation pages.

var selfService = service{
	Name:   "Richiesta della casella PEC in convenzione",
	Footer: "Richiesta delle caselle di posta elettronica certificata in convenzione per gli iscritti all'albo.",
}

// OfferData is what the convention's page shows.
type OfferData struct {
	OrderName     string
	Price, VAT    string // "€ 4,00", "22%"
	Amount        string // with VAT: "€ 4,88"
	ValidityYears int
	// The identity form, again after an error: what the member typed, and the message.
	CodiceFiscale, Cognome, Nome, Email string
	Error                               string
	ErrorField                          string // the field the error is about, if one
}

// Messages of the convention's page.
const (
	MsgIdentity     = "I dati indicati non corrispondono a un iscritto all'albo dell'Ordine di questa convenzione. Controlli il codice fiscale, il cognome e il nome, scritti come risultano all'Ordine."
	MsgHasMailbox   = "Risulta già una casella PEC a Suo nome, attiva o in preparazione. Per informazioni si rivolga alla segreteria del Suo Ordine professionale."
	MsgHasDomicilio = "All'Ordine risulta già un Suo indirizzo PEC come domicilio digitale. Per cambiarlo si rivolga alla segreteria del Suo Ordine professionale."
	MsgInProgress   = "Risulta già una Sua richiesta pagata: la prosegua con il collegamento che Le è stato inviato per posta elettronica."
	MsgTooMany      = "Sono state fatte troppe richieste in poco tempo. Riprovi tra qualche minuto."
	MsgPrivacy      = "Per proseguire confermi di aver letto l'informativa sul trattamento dei dati personali."
)

// Offer is the convention's page (200), or the page again with d.Error (422).
func Offer(d OfferData) Rendered {
	status, title := http.StatusOK, "Richiesta della casella PEC"
	if d.Error != "" {
		status, title = http.StatusUnprocessableEntity, "Errore: Richiesta della casella PEC"
	}
	return renderFor(selfService, status, "offer", d.OrderName, title, d)
}

// OfferNotFound is the page for an unknown offer code (404).
func OfferNotFound() Rendered {
	return renderFor(selfService, http.StatusNotFound, "offerNotFound", "", "Convenzione non trovata", nil)
}

// Step is one step of the request as the status page shows it.
type Step struct {
	Done bool
	Text string // what was done, or what is to do
}

// RequestData is what the status page shows.
type RequestData struct {
	OrderName     string
	Address       string
	Amount        string // with VAT
	State         string // the request's state, in words
	FormURL       string // the form to print and sign
	DocumentsURL  string // where the documents are posted
	CheckoutURL   string // the payment service's page; empty once paid
	PaidRef       string // the payment's reference, once paid
	NeedForm      bool   // the signed form is still to upload
	NeedIdentity  bool   // the identity document is still to upload
	Submitted     bool   // sent to the provider
	Abilitata     bool   // the activation e-mail was sent
	Attivata      bool
	Revoked       bool // the mailbox was revoked (the request abandoned, or refused)
	Abandoned     bool
	Error         string // a message above the page (an upload refused, say)
	Notice        string // a confirmation above the page
	FirstAccess   ResultData
	MaxDocumentMB int
}

// Request is the status page (200), or with d.Error the page again after a refused upload
// (422).
func Request(d RequestData) Rendered {
	status, title := http.StatusOK, "La Sua richiesta di casella PEC"
	if d.Error != "" {
		status, title = http.StatusUnprocessableEntity, "Errore: La Sua richiesta di casella PEC"
	}
	return renderFor(selfService, status, "request", d.OrderName, title, d)
}

// RequestNotFound is the page for an unknown request or a wrong link (404), without detail.
func RequestNotFound() Rendered {
	return renderFor(selfService, http.StatusNotFound, "requestNotFound", "", "Collegamento non valido", nil)
}

// SelfServiceError is the generic error page (500), without detail.
func SelfServiceError() Rendered {
	return renderFor(selfService, http.StatusInternalServerError, "error", "", "Si è verificato un errore", nil)
}

func init() {
	for name, src := range map[string]string{
		"offer":           offerPage,
		"offerNotFound":   offerNotFoundPage,
		"request":         requestPage,
		"requestNotFound": requestNotFoundPage,
	} {
		pages[name] = template.Must(template.Must(pages["error"].Clone()).Parse(src))
	}
}

const offerPage = `{{define "main" -}}
<h1>Richiesta della casella PEC in convenzione</h1>
{{- with .Error}}
<div class="errore" role="alert" id="errore">
<p><strong>Attenzione:</strong> {{.}}</p>
</div>
{{- end}}
<p class="lead">{{.OrderName}} offre ai propri iscritti una casella di posta elettronica certificata (PEC), che diventa il loro domicilio digitale.</p>
<dl class="dati">
<div><dt>Costo</dt><dd>{{.Amount}} IVA inclusa ({{.Price}} più IVA {{.VAT}})</dd></div>
<div><dt>Validità</dt><dd>{{.ValidityYears}} {{if eq .ValidityYears 1}}anno{{else}}anni{{end}} dall'attivazione</dd></div>
</dl>
<h2>Come funziona</h2>
<ol class="passi">
<li>Indichi qui sotto i Suoi dati: l'Ordine verifica che Lei sia iscritto all'albo.</li>
<li>Scarichi il modulo di adesione, lo stampi e lo firmi.</li>
<li>Paghi l'importo con il servizio di pagamento.</li>
<li>Carichi il modulo firmato e un documento di identità.</li>
<li>Riceverà per posta elettronica il collegamento per attivare la casella.</li>
</ol>
<div class="norma" id="informativa">
<p><strong>Informativa sul trattamento dei dati personali.</strong> I dati indicati (codice fiscale, cognome, nome, indirizzo di posta elettronica) sono trattati da {{.OrderName}}, titolare del trattamento, al solo fine di verificare l'iscrizione all'albo e di richiedere la casella PEC al gestore, che li riceve per intestarLe la casella. Il modulo firmato e il documento di identità sono conservati per gli obblighi di legge del gestore. Può esercitare i diritti previsti dal Regolamento (UE) 2016/679 rivolgendosi alla segreteria dell'Ordine.</p>
</div>
<form method="post"{{if .Error}} aria-describedby="errore"{{end}}>
<fieldset>
<legend>I Suoi dati</legend>
<div class="campo">
<label for="codiceFiscale">Codice fiscale</label>
<input type="text" id="codiceFiscale" name="codiceFiscale" value="{{.CodiceFiscale}}" required minlength="16" maxlength="16" autocomplete="off" autocapitalize="characters" spellcheck="false"{{if eq .ErrorField "codiceFiscale"}} aria-invalid="true"{{end}}>
</div>
<div class="campo">
<label for="cognome">Cognome</label>
<input type="text" id="cognome" name="cognome" value="{{.Cognome}}" required maxlength="100" autocomplete="family-name"{{if eq .ErrorField "cognome"}} aria-invalid="true"{{end}}>
</div>
<div class="campo">
<label for="nome">Nome</label>
<input type="text" id="nome" name="nome" value="{{.Nome}}" required maxlength="100" autocomplete="given-name"{{if eq .ErrorField "nome"}} aria-invalid="true"{{end}}>
</div>
<div class="campo">
<label for="email">Indirizzo di posta elettronica</label>
<p class="hint" id="email-hint">Qui riceverà il collegamento per seguire la richiesta e poi quello per attivare la casella.</p>
<input type="email" id="email" name="email" value="{{.Email}}" required maxlength="254" autocomplete="email" autocapitalize="off" spellcheck="false" inputmode="email" aria-describedby="email-hint"{{if eq .ErrorField "email"}} aria-invalid="true"{{end}}>
</div>
<label class="opzione" for="privacy"><input type="checkbox" id="privacy" name="privacy" value="1" required><span>Ho letto l'informativa sul trattamento dei dati personali</span></label>
</fieldset>
<div class="azioni"><button type="submit">Continua</button></div>
</form>
<p class="nota">Per qualsiasi chiarimento si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`

const offerNotFoundPage = `{{define "main" -}}
<h1>Convenzione non trovata</h1>
<p>L'indirizzo aperto non corrisponde a una convenzione attiva. Controlli di averlo copiato per intero, oppure si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`

const requestNotFoundPage = `{{define "main" -}}
<h1>Collegamento non valido</h1>
<p>Il collegamento aperto non corrisponde a una richiesta. Usi il collegamento più recente che Le è stato inviato per posta elettronica, senza modificarlo. Se il problema persiste, si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`

const requestPage = `{{define "main" -}}
<h1>La Sua richiesta di casella PEC</h1>
{{- with .Error}}
<div class="errore" role="alert" id="errore">
<p><strong>Attenzione:</strong> {{.}}</p>
</div>
{{- end}}
{{- with .Notice}}
<div class="norma" role="status">
<p>{{.}}</p>
</div>
{{- end}}
<dl class="dati">
<div><dt>Casella PEC richiesta</dt><dd class="pec">{{.Address}}</dd></div>
<div><dt>Importo</dt><dd>{{.Amount}} IVA inclusa</dd></div>
<div><dt>Stato</dt><dd>{{.State}}</dd></div>
</dl>
{{- if .Abandoned}}
<p>La richiesta è scaduta perché il pagamento non è stato effettuato in tempo, e l'indirizzo non Le è più riservato. Se desidera ancora la casella, presenti una nuova richiesta dalla pagina della convenzione.</p>
{{- else if .Attivata}}
<p class="lead">La casella è attiva ed è il Suo domicilio digitale.</p>
<h2>Come accedere alla casella</h2>
<ul class="passi">
{{with .FirstAccess}}{{if .WebmailURL}}<li>La casella si consulta dal browser all'indirizzo <a href="{{.WebmailURL}}">{{.WebmailURL}}</a>{{with .ProviderName}} (gestore {{.}}){{end}}, oppure con un programma di posta elettronica.</li>
{{else}}<li>La casella si consulta dal browser, con l'indirizzo indicato dal gestore{{with .ProviderName}} {{.}}{{end}}, oppure con un programma di posta elettronica.</li>
{{end}}<li>Le credenziali di primo accesso Le vengono inviate dal gestore {{if .CredentialsBySMS}}con un SMS{{else}}con un messaggio di posta elettronica{{end}}; al primo accesso Le sarà chiesto di sceglierne di nuove.</li>
<li>Se le credenziali non Le arrivano entro due giorni lavorativi, controlli la cartella della posta indesiderata e poi si rivolga {{with .SupportURL}}all'<a href="{{.}}">assistenza del gestore</a> oppure {{end}}alla segreteria del Suo Ordine professionale.</li>{{end}}
</ul>
{{- else if .Revoked}}
<p>La casella non è stata attivata. Per informazioni si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- else if .Abilitata}}
<p class="lead">La casella è pronta: Le abbiamo inviato per posta elettronica il collegamento per attivarla. Lo apra e confermi l'attivazione.</p>
{{- else if .Submitted}}
<p class="lead">La richiesta è completa ed è stata inviata al gestore. Quando la casella sarà pronta riceverà per posta elettronica il collegamento per attivarla.</p>
{{- else}}
<p>Conservi il collegamento di questa pagina, che Le è stato inviato anche per posta elettronica: Le serve per completare la richiesta e per seguirla.</p>
<h2>1. Il modulo di adesione</h2>
<p>Scarichi il modulo, lo stampi, lo firmi e lo tenga pronto da caricare.</p>
<p><a href="{{.FormURL}}" download>Scarica il modulo di adesione (PDF)</a></p>
<h2>2. Il pagamento</h2>
{{- if .PaidRef}}
<p>Pagamento registrato (riferimento {{.PaidRef}}).</p>
{{- else}}
<p>Il pagamento si effettua con il servizio di pagamento; al termine tornerà su questa pagina.</p>
<p><a class="pulsante" href="{{.CheckoutURL}}">Paghi {{.Amount}}</a></p>
{{- end}}
<h2>3. I documenti</h2>
{{- if or .NeedForm .NeedIdentity}}
<form method="post" enctype="multipart/form-data" action="{{.DocumentsURL}}">
<fieldset>
<legend>Carichi i documenti (PDF, JPEG o PNG, al massimo {{.MaxDocumentMB}} MB ciascuno)</legend>
{{- if .NeedForm}}
<div class="campo">
<label for="form">Modulo di adesione firmato</label>
<input type="file" id="form" name="form" accept="application/pdf,image/jpeg,image/png">
</div>
{{- end}}
{{- if .NeedIdentity}}
<div class="campo">
<label for="identity">Documento di identità (fronte e retro)</label>
<input type="file" id="identity" name="identity" accept="application/pdf,image/jpeg,image/png">
</div>
{{- end}}
</fieldset>
<div class="azioni"><button type="submit">Invii i documenti</button></div>
</form>
{{- else}}
<p>Documenti ricevuti.</p>
{{- end}}
{{- end}}
<p class="nota">Per qualsiasi chiarimento si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`
