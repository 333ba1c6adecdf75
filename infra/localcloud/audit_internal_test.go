package localcloud

import (
	"bytes"
	"strings"
	"testing"
)

func TestAuditScanner_FindsAndMasksWhatMustNotBeLogged(t *testing.T) {
	body := "Gentile Carlo Zurzi, la casella PEC carlo.zurzi@pec.tsrm.org è pronta: \"conferma\" entro 14 giorni."
	needles := map[string]string{
		"tok_3kq9ZpX2aa": "activation link token",
		ProviderAPIKey:   "provider API key",
		body:             "e-mail body",
		`Gentile Carlo Zurzi, la casella PEC carlo.zurzi@pec.tsrm.org è pronta: \"conferma\" entro 14 giorni.`: "e-mail body",
		"short": "ignored: too short to look for",
	}
	leaky := map[string]string{
		`{"msg":"member","cf":"ZRZCRL72R10H501D"}`:                            "codice fiscale",
		`{"msg":"member","path":"/v1/orders/FI/members/zrzcrl72r10h501d"}`:    "codice fiscale",
		`{"msg":"omocodic","cf":"ZRZCRL72R10H50MD"}`:                          "codice fiscale",
		`two: RSSMRA80A01H501U,ZRZCRL72R10H501D`:                              "codice fiscale",
		`{"msg":"click","path":"/activate/tok_3kq9ZpX2aa"}`:                   "activation link token",
		`provider call with Bearer local-provider-api-key`:                    "provider API key",
		`{"msg":"sent","text":"` + strings.ReplaceAll(body, `"`, `\"`) + `"}`: "e-mail body",
	}
	clean := []string{
		`{"msg":"member","cf":"ZRZCRL**R10H501*"}`, // the masked form
		`{"route":"GET /v1/orders/{orderId}/members/{codiceFiscale}","status":200}`,
		`{"requestId":"c5d6815f63caa124f8a1c95f841da6d1","token":"AAAABNCGNN80A01H501XAAAA"}`, // inside a longer word
		`short`,
		`{"msg":"submit","address":"giulia.abcdefllallalllz@pec.tsrm.org"}`, // letters only: a surname
	}
	var text bytes.Buffer
	for l := range leaky {
		text.WriteString(l + "\n")
	}
	for _, l := range clean {
		text.WriteString(l + "\n")
	}
	s := newScanner(needles)
	var out bytes.Buffer
	s.scan("test", text.Bytes(), &out)
	if len(s.leaks) != len(leaky) {
		t.Errorf("%d leaks, want %d: %+v", len(s.leaks), len(leaky), s.leaks)
	}
	for _, l := range s.leaks {
		if len(l.what) != 1 {
			t.Errorf("%q: found %v, want one kind", l.line, l.what)
		}
	}
	for l, kind := range leaky {
		if !strings.Contains(out.String(), "[REDACTED "+kind+"]") {
			t.Errorf("%q: not masked as %s", l, kind)
		}
	}
	for _, secret := range []string{"ZRZCRL72R10H501D", "zrzcrl72r10h501d", "RSSMRA80A01H501U", "tok_3kq9ZpX2aa", ProviderAPIKey, "è pronta"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("the masked log still holds %q:\n%s", secret, out.String())
		}
	}
	for _, l := range clean {
		if !strings.Contains(out.String(), l+"\n") {
			t.Errorf("a clean line was changed: %q", l)
		}
	}
}
