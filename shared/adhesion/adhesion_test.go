package adhesion

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

func member() Data {
	return Data{
		RequestID:        "01JH7Q2M4X9V8K3TQZ5R6W0A1B",
		OrderName:        "Ordine dei Medici Chirurghi e degli Odontoiatri di Reggio Calabria",
		OfferCode:        "OMCEO-RC-51",
		Nome:             "Niccolò",
		Cognome:          "D'Amico",
		CodiceFiscale:    "DMCNCL80A01H224Z",
		Albo:             "Medici Chirurghi",
		NumeroIscrizione: "4521",
		Email:            "niccolo.damico@example.it",
		Address:          "niccolo.damico@pec.omceo.it",
		PriceCents:       400,
		VATPercent:       22,
		ValidityYears:    3,
		Date:             time.Date(2026, 3, 9, 10, 30, 0, 0, time.UTC),
	}
}

// page renders d and reads it back with an independent PDF reader.
func page(t *testing.T, d Data) (raw []byte, text string, glyphs []pdf.Text) {
	t.Helper()
	raw, err := Form(d)
	if err != nil {
		t.Fatalf("Form: %v", err)
	}
	if !bytes.HasPrefix(raw, []byte("%PDF-")) {
		t.Fatalf("not a PDF: starts with %q", raw[:min(len(raw), 8)])
	}
	r, err := pdf.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if n := r.NumPage(); n != 1 {
		t.Fatalf("pages = %d, want 1", n)
	}
	p := r.Page(1)
	text, err = p.GetPlainText(nil)
	if err != nil {
		t.Fatalf("extract text: %v", err)
	}
	return raw, text, p.Content().Text
}

func TestForm_ReadsBackWithTheMembersData(t *testing.T) {
	_, text, _ := page(t, member())
	for _, want := range []string{
		"MODULO DI ADESIONE AL SERVIZIO DI POSTA ELETTRONICA CERTIFICATA",
		"Ordine dei Medici Chirurghi e degli Odontoiatri di Reggio Calabria",
		"OMCEO-RC-51",
		"Niccolò", "D'Amico", "Niccolò D'Amico",
		"DMCNCL80A01H224Z",
		"Medici Chirurghi", "4521",
		"niccolo.damico@example.it",
		"niccolo.damico@pec.omceo.it",
		"Prezzo netto: € 4,00", "IVA 22%: € 0,88", "Totale: € 4,88",
		"validità triennale",
		"Reg. UE 2016/679",
		"presso il gestore PEC convenzionato",
		"Luogo e data",
		"Firma del titolare", "Per accettazione, il gestore PEC convenzionato",
		"documento d'identità", "non va inviato via fax",
		"01JH7Q2M4X9V8K3TQZ5R6W0A1B",
		"09/03/2026",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

func TestForm_NamesTheProviderWhenGiven(t *testing.T) {
	d := member()
	d.ProviderName = "Aruba PEC S.p.A."
	d.ValidityYears = 1
	_, text, _ := page(t, d)
	for _, want := range []string{"presso Aruba PEC S.p.A.", "Per accettazione, Aruba PEC S.p.A.", "validità annuale"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

func TestForm_AnyUnicodeRenders(t *testing.T) {
	d := member()
	d.Nome = "Nicolo\u0300"      // decomposed: composes to ò
	d.Cognome = "Zho\u200bu 王 ḿ" // an invisible, a letter the font lacks, one it lacks only with its accent
	d.Albo = "Medici \x00Chirurghi\n😀"
	_, text, _ := page(t, d)
	for _, want := range []string{"Nicolò", "Zhou ? m", "Medici Chirurghi ?"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

func TestForm_LongFieldsStayOnThePage(t *testing.T) {
	long := member()
	long.Nome = "Maria Grazia Antonietta Immacolata Concetta Addolorata Giuseppina Filomena"
	long.Cognome = "Della Valle De' Medici Lanza di Trabia Tomasi di Lampedusa Filangieri di Cutò"
	long.Address = strings.Repeat("mariagraziaantonietta", 3) + ".dellavalledemedici@pec.tsrm-pstrp.org"
	long.Email = strings.Repeat("lunghissimo.", 12) + "nome@sottodominio.example.it"
	long.OrderName = "Ordine dei Tecnici Sanitari di Radiologia Medica e delle Professioni Sanitarie Tecniche, della Riabilitazione e della Prevenzione di Firenze, Arezzo, Prato e Pistoia"
	long.Albo = "Albo dei Tecnici della Fisiopatologia Cardiocircolatoria e Perfusione Cardiovascolare"
	long.ProviderName = "Aruba PEC S.p.A., gestore accreditato presso AgID per la posta elettronica certificata"
	long.RequestID = strings.Repeat("0f8c2a9e-7d41-4b6a-9a3e-2c5d8e1f7b90", 2)

	absurd := member()
	words := strings.Repeat("Parolalunga ", 80)
	for _, f := range []*string{&absurd.RequestID, &absurd.OrderName, &absurd.OfferCode, &absurd.Nome, &absurd.Cognome,
		&absurd.CodiceFiscale, &absurd.Albo, &absurd.NumeroIscrizione, &absurd.Email, &absurd.ProviderName} {
		*f = words
	}
	absurd.Address = strings.Repeat("x", 1000)
	absurd.PriceCents = maxNetCents

	for name, d := range map[string]Data{"long": long, "absurd": absurd} {
		t.Run(name, func(t *testing.T) {
			_, text, glyphs := page(t, d)
			if name == "long" && !strings.Contains(strings.ReplaceAll(text, "\n", ""), d.Address) {
				t.Errorf("the address is not all there")
			}
			widths := newMeter(t)
			for _, run := range runs(glyphs) {
				right := run.X + widths.of(run)
				if run.X < marginX-1 || right > pageW-marginX+1 {
					t.Errorf("%q spans x %.1f..%.1f, outside the margins", run.S, run.X, right)
				}
				if run.Y < marginY-5 || run.Y > pageH-marginY {
					t.Errorf("%q sits at y %.1f, outside the margins", run.S, run.Y)
				}
			}
		})
	}
}

func TestForm_RejectsImpossiblePrices(t *testing.T) {
	for _, d := range []Data{{PriceCents: -1, VATPercent: 22}, {PriceCents: 400, VATPercent: -22}, {PriceCents: 400, VATPercent: 220}} {
		if _, err := Form(d); err == nil {
			t.Errorf("Form(%d cents, %v%%) did not fail", d.PriceCents, d.VATPercent)
		}
	}
}

func TestPrice(t *testing.T) {
	tests := []struct {
		net        int
		vat        float64
		wantVAT    int
		wantTotal  int
		formatting string
	}{
		{400, 22, 88, 488, "€ 4,88"},
		{25, 22, 6, 31, "€ 0,31"},      // 5.5 cents: half up
		{125, 22, 28, 153, "€ 1,53"},   // 27.5 cents: half up
		{2, 22, 0, 2, "€ 0,02"},        // 0.44 cents: down
		{1, 50, 1, 2, "€ 0,02"},        // 0.5 cents: half up
		{10, 5, 1, 11, "€ 0,11"},       // 0.5 cents: half up
		{1000, 4, 40, 1040, "€ 10,40"}, // reduced rate
		{999, 10, 100, 1099, "€ 10,99"},
		{400, 21.999999999, 88, 488, "€ 4,88"}, // float noise in the configuration
		{123456, 22, 27160, 150616, "€ 1.506,16"},
		{0, 22, 0, 0, "€ 0,00"},
	}
	for _, tt := range tests {
		got, err := price(tt.net, tt.vat)
		if err != nil {
			t.Fatalf("price(%d, %v): %v", tt.net, tt.vat, err)
		}
		if got.Net != tt.net || got.VAT != tt.wantVAT || got.Total != tt.wantTotal {
			t.Errorf("price(%d, %v) = %+v, want VAT %d total %d", tt.net, tt.vat, got, tt.wantVAT, tt.wantTotal)
		}
		if s := euro(got.Total); s != tt.formatting {
			t.Errorf("euro(%d) = %q, want %q", got.Total, s, tt.formatting)
		}
	}
}

func TestEuroPercentValidity(t *testing.T) {
	for cents, want := range map[int]string{5: "€ 0,05", 400: "€ 4,00", 100000: "€ 1.000,00", 123456789: "€ 1.234.567,89"} {
		if got := euro(cents); got != want {
			t.Errorf("euro(%d) = %q, want %q", cents, got, want)
		}
	}
	for p, want := range map[float64]string{22: "22", 4: "4", 5.5: "5,5", 0: "0"} {
		if got := percent(p); got != want {
			t.Errorf("percent(%v) = %q, want %q", p, got, want)
		}
	}
	for years, want := range map[int]string{3: "validità triennale", 1: "validità annuale", 5: "validità di 5 anni", 0: ""} {
		if got := validity(years); got != want {
			t.Errorf("validity(%d) = %q, want %q", years, got, want)
		}
	}
}

func BenchmarkForm(b *testing.B) {
	d := member()
	for b.Loop() {
		if _, err := Form(d); err != nil {
			b.Fatal(err)
		}
	}
}

// runs joins the reader's glyphs back into the strings drawn: it places every
// glyph of a CID font at the start of its run, so a run is the glyphs that
// share a position. It also closes every TJ with a "\n" that the font's cmap
// decodes to U+FFFD: that is no glyph of ours.
func runs(glyphs []pdf.Text) []pdf.Text {
	var out []pdf.Text
	for _, g := range glyphs {
		if g.S == "\uFFFD" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].X == g.X && out[n-1].Y == g.Y && out[n-1].Font == g.Font {
			out[n-1].S += g.S
			continue
		}
		out = append(out, g)
	}
	return out
}

// meter measures runs with the fonts the form embeds, read by another parser
// than the one that wrote them.
type meter struct {
	t     *testing.T
	fonts map[string]*sfnt.Font
	buf   sfnt.Buffer
}

func newMeter(t *testing.T) *meter {
	m := &meter{t: t, fonts: map[string]*sfnt.Font{}}
	for name, data := range map[string][]byte{"regular": goregular.TTF, "bold": gobold.TTF} {
		f, err := sfnt.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		m.fonts[name] = f
	}
	return m
}

func (m *meter) of(run pdf.Text) float64 {
	name := run.Font[strings.Index(run.Font, "+")+1:]
	f, ok := m.fonts[name]
	if !ok {
		m.t.Fatalf("unknown font %q", run.Font)
	}
	em := fixed.I(int(f.UnitsPerEm()))
	var units fixed.Int26_6
	for _, r := range run.S {
		i, err := f.GlyphIndex(&m.buf, r)
		if err != nil {
			m.t.Fatal(err)
		}
		adv, err := f.GlyphAdvance(&m.buf, i, em, font.HintingNone)
		if err != nil {
			m.t.Fatal(err)
		}
		units += adv
	}
	return float64(units) / float64(em) * run.FontSize
}
