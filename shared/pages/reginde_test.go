package pages

import (
	"net/http"
	"strings"
	"testing"
)

func sampleReginde() RegindeData {
	return RegindeData{OrderName: "Ordine TSRM e PSTRP di Roma", Nome: "Carlo", Cognome: "Zurzi",
		MaskedCF: "ZRZCRL**R10H501*", Address: "carlo.zurzi@pec.tsrm.org"}
}

func regindePages() map[string]Rendered {
	already := sampleReginde()
	already.Already = true
	return map[string]Rendered{
		"reginde form":              RegindeForm(sampleReginde()),
		"reginde form, confirmed":   RegindeForm(already),
		"reginde confirmed":         RegindeConfirmed(sampleReginde()),
		"reginde already confirmed": RegindeConfirmed(already),
		"reginde notfound":          RegindeNotFound(),
		"reginde gone":              RegindeGone(),
		"reginde error":             RegindeError(),
	}
}

func TestReginde_EveryPageIsACompleteSafeDocument(t *testing.T) {
	for name, r := range regindePages() {
		checkDocument(t, name, r)
		if !strings.Contains(string(r.Body), "Registrazione della PEC al ReGIndE") {
			t.Errorf("%s: the header does not name the ReGIndE service", name)
		}
	}
}

func TestReginde_StatusCodes(t *testing.T) {
	for name, want := range map[string]int{
		"reginde form": http.StatusOK, "reginde already confirmed": http.StatusOK,
		"reginde notfound": http.StatusNotFound, "reginde gone": http.StatusGone, "reginde error": http.StatusInternalServerError,
	} {
		if got := regindePages()[name].Status; got != want {
			t.Errorf("%s: status %d, want %d", name, got, want)
		}
	}
}

func TestReginde_FormExplainsAndHasTheButton(t *testing.T) {
	body := string(RegindeForm(sampleReginde()).Body)
	mustContain(t, "form", body, "Carlo Zurzi", "ZRZCRL**R10H501*", "carlo.zurzi@pec.tsrm.org",
		"consulente tecnico d'ufficio (CTU)", "<strong>la stessa</strong>", "pst.giustizia.it", "CNS/CRS",
		`<form method="post">`, `<button type="submit">Ho completato la registrazione al ReGIndE</button>`)
	already := sampleReginde()
	already.Already = true
	body = string(RegindeForm(already).Body)
	mustContain(t, "form, confirmed", body, "già confermata")
	if strings.Contains(body, "<form") {
		t.Error("a confirmed link still shows the button")
	}
}

func TestReginde_ResultSaysConfirmedOrAlreadyConfirmed(t *testing.T) {
	mustContain(t, "confirmed", string(RegindeConfirmed(sampleReginde()).Body), "Registrazione al ReGIndE confermata", "carlo.zurzi@pec.tsrm.org")
	already := sampleReginde()
	already.Already = true
	mustContain(t, "already", string(RegindeConfirmed(already).Body), "Registrazione al ReGIndE già confermata")
}

func TestReginde_ErrorPagesSayNoMoreAndDataIsEscaped(t *testing.T) {
	for _, name := range []string{"reginde notfound", "reginde gone", "reginde error"} {
		if body := string(regindePages()[name].Body); strings.Contains(body, "pec.tsrm.org") || strings.Contains(body, "Zurzi") || strings.Contains(body, "<form") {
			t.Errorf("%s gives detail:\n%s", name, body)
		}
	}
	d := sampleReginde()
	d.Nome = `<script>alert(1)</script>`
	if body := string(RegindeForm(d).Body); strings.Contains(body, "<script>") {
		t.Error("the name is not escaped")
	}
}
