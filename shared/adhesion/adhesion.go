// Package adhesion renders the modulo di adesione: the one-page form a member
// prints, signs and uploads with an identity document to have the PEC mailbox
// of their Order's convention activated by the provider (Flow 2).
//
// The text is set in the Go fonts, embedded in the binary and subset into the
// PDF with a ToUnicode map, so accented names print and can be read back.
package adhesion

import (
	"fmt"
	"time"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// Data is what the form shows.
type Data struct {
	RequestID        string // the request's id, printed as a reference
	OrderName        string // e.g. "Ordine dei Medici Chirurghi e degli Odontoiatri di Reggio Calabria"
	OfferCode        string // e.g. "OMCEO-RC-51"
	Nome, Cognome    string
	CodiceFiscale    string // printed in full: this is the member's own form, downloaded with their access token
	Albo             string
	NumeroIscrizione string
	Email            string    // the member's ordinary e-mail
	Address          string    // the PEC address to be activated, e.g. mario.rossi@pec.tsrm-pstrp.org
	PriceCents       int       // net price
	VATPercent       float64   // e.g. 22
	ValidityYears    int       // e.g. 3
	ProviderName     string    // e.g. "il gestore PEC convenzionato" when empty
	Date             time.Time // the request's date, printed in its own location
}

// defaultProvider names the provider when the convention does not.
const defaultProvider = "il gestore PEC convenzionato"

const (
	pageW    = 595.28 // A4 in points
	pageH    = 841.89
	marginX  = 50.0
	marginY  = 40.0
	contentW = pageW - 2*marginX
	pad      = 5.0 // inside boxes

	sectionGap = 14.0
)

const title = "MODULO DI ADESIONE AL SERVIZIO DI POSTA ELETTRONICA CERTIFICATA"

// Form renders the modulo di adesione as a PDF.
func Form(d Data) ([]byte, error) {
	amt, err := price(d.PriceCents, d.VATPercent)
	if err != nil {
		return nil, err
	}
	if d.ProviderName == "" {
		d.ProviderName = defaultProvider
	}
	w, err := newWriter()
	if err != nil {
		return nil, err
	}
	w.header(d)
	w.subscriber(d)
	w.mailbox(d)
	w.conditions(d, amt)
	w.declarations(d)
	w.signatures(d)
	w.instructions(d)
	if w.err != nil {
		return nil, fmt.Errorf("adhesion: render: %w", w.err)
	}
	b, err := w.pdf.GetBytesPdfReturnErr()
	if err != nil {
		return nil, fmt.Errorf("adhesion: write: %w", err)
	}
	return b, nil
}

// writer draws top to bottom; y is the top of the next block. The first
// drawing error sticks and the rest become no-ops, as in bufio.Writer.
type writer struct {
	pdf *gopdf.GoPdf
	y   float64
	err error
}

func newWriter() (*writer, error) {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	pdf.SetInfo(gopdf.PdfInfo{Title: "Modulo di adesione al servizio PEC", Creator: "pecplatform"})
	if err := pdf.AddTTFFontData("regular", goregular.TTF); err != nil {
		return nil, fmt.Errorf("adhesion: font: %w", err)
	}
	if err := pdf.AddTTFFontData("bold", gobold.TTF); err != nil {
		return nil, fmt.Errorf("adhesion: font: %w", err)
	}
	pdf.AddPage()
	w := &writer{pdf: pdf, y: marginY}
	w.font(false, 10)
	return w, nil
}

func (w *writer) font(bold bool, size float64) {
	family := "regular"
	if bold {
		family = "bold"
	}
	if err := w.pdf.SetFont(family, "", size); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *writer) width(s string) float64 {
	v, err := w.pdf.MeasureTextWidth(s)
	if err != nil && w.err == nil {
		w.err = err
	}
	return v
}

// text draws s with its baseline at y.
func (w *writer) text(x, y float64, s string) {
	if w.err != nil || s == "" {
		return
	}
	w.pdf.SetXY(x, y)
	w.err = w.pdf.Text(s)
}

type align int

const (
	left align = iota
	center
	right
)

// draw puts b with its top at top inside [x, x+width] and returns its height.
func (w *writer) draw(b block, x, top, width float64, a align) float64 {
	w.font(b.bold, b.size)
	for i, line := range b.lines {
		lx := x
		switch a {
		case center:
			lx = x + (width-w.width(line))/2
		case right:
			lx = x + width - w.width(line)
		}
		w.text(lx, top+float64(i)*lineHeight(b.size)+0.95*b.size, line)
	}
	return b.height()
}

func (w *writer) grey(level uint8) { w.pdf.SetTextColor(level, level, level) }

func (w *writer) box(x, y, width, height, line float64, fill uint8) {
	w.pdf.SetLineWidth(line)
	w.pdf.SetStrokeColor(90, 90, 90)
	style := "D"
	if fill < 255 {
		w.pdf.SetFillColor(fill, fill, fill)
		style = "FD"
	}
	w.pdf.RectFromUpperLeftWithStyle(x, y, width, height, style)
}

func (w *writer) rule(y float64, line float64) {
	w.pdf.SetLineWidth(line)
	w.pdf.SetStrokeColor(60, 60, 60)
	w.pdf.Line(marginX, y, pageW-marginX, y)
}

// section draws a numbered heading band.
func (w *writer) section(name string) {
	const h = 15.0
	w.box(marginX, w.y, contentW, h, 0.4, 225)
	w.grey(0)
	w.draw(block{bold: true, size: 8.5, lines: []string{name}}, marginX+pad, w.y+2, contentW, left)
	w.y += h
}

func (w *writer) header(d Data) {
	w.grey(80)
	half := contentW/2 - 5
	ref := w.fit("Richiesta n. "+d.RequestID, half, false, 8, 6, 2)
	h := w.draw(ref, marginX+contentW-half, w.y, half, right)
	h += w.draw(w.fit("Data della richiesta: "+date(d.Date), half, false, 8, 6, 1), marginX+contentW-half, w.y+h, half, right)
	w.draw(block{size: 8, lines: []string{"Servizio PEC in convenzione"}}, marginX, w.y, half, left)
	w.y += h + 10

	w.grey(0)
	w.y += w.draw(w.fit(title, contentW, true, 14, 10, 2), marginX, w.y, contentW, center) + 4
	w.grey(40)
	w.y += w.draw(w.fit("Convenzione "+d.OrderName, contentW, false, 10.5, 8, 2), marginX, w.y, contentW, center)
	w.y += w.draw(w.fit("Codice offerta: "+d.OfferCode, contentW, true, 10.5, 8, 1), marginX, w.y, contentW, center)
	w.y += 6
	w.rule(w.y, 1.2)
	w.y += 10
}

// field is one labelled cell of a grid row.
type field struct{ label, value string }

// row draws cells side by side, as high as the tallest one.
func (w *writer) row(fields ...field) {
	const labelSize = 6.5
	cw := contentW / float64(len(fields))
	values := make([]block, len(fields))
	h := 0.0
	for i, f := range fields {
		values[i] = w.fit(f.value, cw-2*pad, false, 11, 7.5, 2)
		h = max(h, values[i].height())
	}
	h += lineHeight(labelSize) + 2*pad
	for i, f := range fields {
		x := marginX + float64(i)*cw
		w.box(x, w.y, cw, h, 0.4, 255)
		w.grey(100)
		w.draw(block{size: labelSize, lines: []string{f.label}}, x+pad, w.y+pad-1, cw, left)
		w.grey(0)
		w.draw(values[i], x+pad, w.y+pad+lineHeight(labelSize), cw-2*pad, left)
	}
	w.y += h
}

func (w *writer) subscriber(d Data) {
	w.section("1. DATI DEL TITOLARE")
	w.row(field{"COGNOME", d.Cognome}, field{"NOME", d.Nome})
	w.row(field{"CODICE FISCALE", d.CodiceFiscale}, field{"E-MAIL ORDINARIA", d.Email})
	w.row(field{"ALBO", d.Albo}, field{"N. ISCRIZIONE", d.NumeroIscrizione})
	w.y += sectionGap
}

func (w *writer) mailbox(d Data) {
	w.section("2. CASELLA PEC DA ATTIVARE")
	addr := w.fit(d.Address, contentW-4*pad, true, 16, 9, 2)
	h := addr.height() + 4*pad
	w.box(marginX, w.y, contentW, h, 1, 245)
	w.grey(0)
	w.draw(addr, marginX+2*pad, w.y+2*pad, contentW-4*pad, center)
	w.y += h + 3
	w.grey(80)
	note := "Indirizzo composto dal sistema con i dati dell'iscritto: è assegnato al solo titolare e non sarà mai riassegnato ad altri."
	w.y += w.draw(w.fit(note, contentW, false, 7.5, 7.5, 2), marginX, w.y, contentW, left) + sectionGap
}

func (w *writer) conditions(d Data, amt amounts) {
	w.section("3. CONDIZIONI ECONOMICHE")
	w.y += 4
	w.grey(0)
	term := "Canone del servizio a carico del titolare"
	if v := validity(d.ValidityYears); v != "" {
		term += ", " + v
	}
	w.y += w.draw(w.fit(term+".", contentW, false, 9, 9, 2), marginX, w.y, contentW, left) + 4
	cells := []struct {
		text string
		bold bool
		fill uint8
	}{
		{"Prezzo netto: " + euro(amt.Net), false, 255},
		{"IVA " + percent(d.VATPercent) + "%: " + euro(amt.VAT), false, 255},
		{"Totale: " + euro(amt.Total), true, 235},
	}
	const h = 22.0
	cw := contentW / float64(len(cells))
	for i, c := range cells {
		x := marginX + float64(i)*cw
		w.box(x, w.y, cw, h, 0.6, c.fill)
		w.draw(w.fit(c.text, cw-2*pad, c.bold, 11, 7, 1), x+pad, w.y+5, cw-2*pad, center)
	}
	w.y += h + 3
	w.grey(80)
	w.y += w.draw(block{size: 7.5, lines: []string{"Il pagamento si effettua con una delle modalità proposte durante la richiesta."}}, marginX, w.y, contentW, left) + sectionGap
}

func (w *writer) declarations(d Data) {
	w.section("4. DICHIARAZIONI DEL TITOLARE")
	w.y += 4
	w.grey(0)
	w.y += w.draw(block{size: 8.5, lines: []string{"Il/La sottoscritto/a, titolare dei dati indicati nella sezione 1:"}}, marginX, w.y, contentW, left) + 2
	items := []string{
		"chiede l'attivazione della casella indicata nella sezione 2 alle condizioni della convenzione sottoscritta dal proprio Ordine (codice offerta " + d.OfferCode + ");",
		"dichiara che i dati riportati nel presente modulo sono veritieri e si impegna a comunicarne ogni variazione;",
		"dichiara di aver preso visione dell'informativa sul trattamento dei dati personali ai sensi del Reg. UE 2016/679: i dati sono trattati dall'Ordine e dal gestore al solo fine di attivare e gestire la casella;",
		"prende atto che la password della casella è scelta dal titolare presso " + d.ProviderName + " e non è mai comunicata all'Ordine, che non la riceve né la conserva.",
	}
	const indent = 10.0
	for _, it := range items {
		b := w.fit(it, contentW-indent, false, 8.5, 8.5, 3)
		w.draw(block{size: 8.5, lines: []string{"–"}}, marginX+2, w.y, indent, left)
		w.y += w.draw(b, marginX+indent, w.y, contentW-indent, left) + 2
	}
	w.y += 14
	w.draw(block{size: 9, lines: []string{"Luogo e data ______________________________"}}, marginX, w.y, contentW, left)
	w.y += lineHeight(9) + 12
}

func (w *writer) signatures(d Data) {
	const gap, h = 20.0, 88.0
	bw := (contentW - gap) / 2
	boxes := []struct{ label, under string }{
		{"Firma del titolare", d.Nome + " " + d.Cognome},
		{"Per accettazione, " + d.ProviderName, ""},
	}
	for i, b := range boxes {
		x := marginX + float64(i)*(bw+gap)
		w.box(x, w.y, bw, h, 0.6, 255)
		w.grey(0)
		w.draw(w.fit(b.label, bw-2*pad, true, 8.5, 6.5, 2), x+pad, w.y+pad, bw-2*pad, left)
		w.pdf.SetLineWidth(0.4)
		w.pdf.SetStrokeColor(120, 120, 120)
		w.pdf.Line(x+2*pad, w.y+h-22, x+bw-2*pad, w.y+h-22)
		if b.under != "" {
			w.grey(80)
			w.draw(w.fit(b.under, bw-4*pad, false, 7.5, 6, 2), x+2*pad, w.y+h-19, bw-4*pad, center)
		}
	}
	w.y += h + sectionGap
}

func (w *writer) instructions(d Data) {
	items := []string{
		"1. Stampare il modulo, verificare i dati e firmarlo nel riquadro «Firma del titolare».",
		"2. Caricare il modulo firmato, con la copia di un documento d'identità in corso di validità, nella pagina della propria richiesta (scansione o foto leggibile). Il modulo non va inviato via fax.",
		"3. La casella è attivata dal gestore dopo la verifica dei documenti; il nuovo indirizzo PEC è registrato automaticamente presso l'Ordine.",
	}
	blocks := make([]block, len(items))
	h := lineHeight(8.5) + 2*pad
	for i, it := range items {
		blocks[i] = w.fit(it, contentW-2*pad, false, 8, 8, 2)
		h += blocks[i].height()
	}
	ref := w.fit("Riferimento della richiesta: "+d.RequestID, contentW-2*pad, true, 8.5, 6.5, 1)
	h += ref.height() + 4
	w.y = max(w.y, pageH-marginY-h) // at the foot of the page
	w.box(marginX, w.y, contentW, h, 0.6, 245)
	top := w.y + pad
	w.grey(0)
	top += w.draw(block{bold: true, size: 8.5, lines: []string{"ISTRUZIONI PER L'INVIO"}}, marginX+pad, top, contentW, left)
	w.grey(30)
	for _, b := range blocks {
		top += w.draw(b, marginX+pad, top, contentW-2*pad, left)
	}
	w.grey(0)
	w.draw(ref, marginX+pad, top+4, contentW-2*pad, left)
	w.y += h
}

func date(t time.Time) string {
	if t.IsZero() {
		return "__/__/____"
	}
	return t.Format("02/01/2006")
}
