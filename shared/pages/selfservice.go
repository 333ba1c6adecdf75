package pages

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
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
	OrderName   string
	Address     string
	Amount      string // with VAT
	State       string // the request's state, in words
	FormURL     string // the form to print and sign
	CheckoutURL string // the payment service's page; empty once paid
	PaidRef     string // the payment's reference, once paid
	// Uploads are the forms of the documents still to upload, one each. With a Bucket, the
	// page's script posts the file straight to it; without script, or without a Bucket, the
	// form posts to Action (the platform, for files of a few MB).
	Uploads       []DocumentUpload
	Received      []string // the documents received, in words
	SigningAsked  bool     // the provider waits for its own form signed (the member was e-mailed the link)
	Submitted     bool     // sent to the provider
	Abilitata     bool     // the activation e-mail was sent
	Attivata      bool
	Revoked       bool // the mailbox was revoked (the request abandoned, or refused)
	Abandoned     bool
	Error         string // a message above the page (an upload refused, say)
	Notice        string // a confirmation above the page
	FirstAccess   ResultData
	MaxDocumentMB int
}

// DocumentUpload is one document's upload form.
type DocumentUpload struct {
	ID      string // the file field's id: form, identity
	Label   string // what to upload
	Button  string
	Action  string // the platform's route, for the form without script
	Bucket  string // the bucket's URL, where the script posts the form ("" for none)
	Common  []FormField
	Typed   []FormField // the fields that differ by the file's type (Type): the script enables one set
	Refused string      // why the last upload of this document was refused, if it was
	// MaxBytes is the largest file; Expires (Unix milliseconds) when the signed fields stop
	// working: the script checks both before posting.
	MaxBytes int64
	Expires  int64
}

// FormField is a hidden field of an upload form; Type is the file type it is for, if one.
type FormField struct{ Name, Value, Type string }

// Request is the status page (200), or with d.Error the page again after a refused upload
// (422). A page with upload forms that post to a bucket runs its one script (under the
// page's nonce) and may post forms to the bucket's origin.
func Request(d RequestData) Rendered {
	status, title := http.StatusOK, "La Sua richiesta di casella PEC"
	if d.Error != "" {
		status, title = http.StatusUnprocessableEntity, "Errore: La Sua richiesta di casella PEC"
	}
	var origins []string
	for _, u := range d.Uploads {
		if o := origin(u.Bucket); o != "" && !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	return renderPage(selfService, status, "request", d.OrderName, title, d, len(d.Uploads) > 0, origins)
}

// origin is a URL's scheme and host ("" for a URL that has none).
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
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
		"request":         requestPage + uploadScript,
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
{{- else if .SigningAsked}}
<p class="lead">La richiesta è stata inviata al gestore, che per attivare la casella chiede il proprio modulo firmato da Lei e il Suo documento di identità. Le abbiamo inviato per posta elettronica il collegamento alla pagina da cui scaricarlo e inviarlo.</p>
{{- else if .Submitted}}
<p class="lead">La richiesta è completa ed è stata inviata al gestore. Quando la casella sarà pronta riceverà per posta elettronica il collegamento per attivarla.</p>
{{- else}}
<p>Conservi il collegamento di questa pagina, che Le è stato inviato anche per posta elettronica: Le serve per completare la richiesta e per seguirla.</p>
<h2>1. Il modulo di adesione</h2>
<p>Scarichi il modulo, lo stampi, lo firmi e lo tenga pronto da caricare.</p>
<p><a href="{{.FormURL}}" download>Scarica il modulo di adesione (PDF)</a></p>
<h2>2. Il pagamento</h2>
{{- if .PaidRef}}
<p>Pagamento registrato (riferimento <span class="pec">{{.PaidRef}}</span>).</p>
{{- else}}
<p>Il pagamento si effettua con il servizio di pagamento; al termine tornerà su questa pagina.</p>
<p><a class="pulsante" href="{{.CheckoutURL}}">Paghi {{.Amount}}</a></p>
{{- end}}
<h2>3. I documenti</h2>
{{- if .Uploads}}
{{- range .Received}}
<p>Ricevuto: {{.}}.</p>
{{- end}}
<p>Carichi {{if .Received}}il documento che manca{{else}}ciascun documento{{end}} in formato PDF, JPEG o PNG, al massimo {{.MaxDocumentMB}} MB.</p>
{{- range $u := .Uploads}}
<form class="documento" method="post" enctype="multipart/form-data" action="{{.Action}}"{{with .Bucket}} data-bucket="{{.}}"{{end}} data-max="{{.MaxBytes}}" data-scadenza="{{.Expires}}">
{{- range .Common}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
{{- range .Typed}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}" data-tipo="{{.Type}}" disabled>
{{- end}}
<div class="campo">
<label for="{{.ID}}">{{.Label}}</label>
{{- with .Refused}}
<p class="errore-campo" id="{{$u.ID}}-rifiuto">{{.}}</p>
{{- end}}
<p class="errore-campo" id="{{.ID}}-avviso" role="alert" hidden></p>
<input type="file" id="{{.ID}}" name="file" accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png" required aria-describedby="{{.ID}}-avviso{{if .Refused}} {{.ID}}-rifiuto{{end}}"{{if .Refused}} aria-invalid="true"{{end}}>
</div>
<div class="azioni"><button type="submit">{{.Button}}</button></div>
</form>
{{- end}}
{{- else}}
<p>Documenti ricevuti.</p>
{{- end}}
{{- end}}
<p class="nota">Per qualsiasi chiarimento si rivolga alla segreteria del Suo Ordine professionale.</p>
{{- end}}`

// uploadScript checks a chosen file before it is posted (at most MaxBytes, a PDF, JPEG or PNG
// by its type or name, the form not expired), says what is wrong next to the field, and sends
// the form straight to the bucket with the fields signed for the file's type. Without it the
// forms post to the platform.
const uploadScript = `{{define "script"}}{{if .Data.Uploads}}
<script nonce="{{.Nonce}}">
(function () {
  var perNome = {pdf: "application/pdf", jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png"};
  var ammessi = ["application/pdf", "image/jpeg", "image/png"];
  document.querySelectorAll("form.documento").forEach(function (f) {
    var campo = f.querySelector("input[type=file]");
    var avviso = f.querySelector("[role=alert]");
    var pulsante = f.querySelector("button");
    function avvisa(testo) {
      avviso.textContent = testo;
      avviso.hidden = !testo;
      if (testo) { campo.setAttribute("aria-invalid", "true"); } else { campo.removeAttribute("aria-invalid"); }
    }
    campo.addEventListener("change", function () { avvisa(""); });
    f.addEventListener("submit", function (e) {
      var file = campo.files[0];
      if (!file) { return; }
      var estensione = (file.name.split(".").pop() || "").toLowerCase();
      var tipo = ammessi.indexOf(file.type) >= 0 ? file.type : (perNome[estensione] || "");
      var errore = "";
      if (file.size > Number(f.dataset.max)) {
        errore = "Il file scelto supera i " + Math.round(Number(f.dataset.max) / 1048576) + " MB. Lo riduca (per esempio con una scansione a risoluzione più bassa) e lo scelga di nuovo.";
      } else if (!tipo) {
        errore = "Il file scelto non è un PDF né un'immagine JPEG o PNG. Scelga il documento in uno di questi formati.";
      } else if (f.dataset.bucket && Date.now() > Number(f.dataset.scadenza)) {
        errore = "La pagina è aperta da troppo tempo. La ricarichi e scelga di nuovo il file.";
      }
      if (errore) {
        e.preventDefault();
        avvisa(errore);
        campo.focus();
        return;
      }
      if (f.dataset.bucket) {
        f.querySelectorAll("input[data-tipo]").forEach(function (i) { i.disabled = i.getAttribute("data-tipo") !== tipo; });
        f.action = f.dataset.bucket;
      }
      pulsante.disabled = true;
      pulsante.textContent = "Caricamento in corso…";
    });
  });
})();
</script>
{{- end}}{{end}}`
