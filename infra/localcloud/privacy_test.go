package localcloud_test

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/app"
)

// tableItem is one item of the table, its attributes flattened to strings.
type tableItem struct {
	pk, sk string
	attrs  map[string][]string
}

func scanTable(t *testing.T) []tableItem {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := localcloud.ForTests(t).ScanTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]tableItem, 0, len(raw))
	for _, r := range raw {
		it := tableItem{attrs: map[string][]string{}}
		for k, v := range r {
			it.attrs[k] = flatten(v)
		}
		it.pk, it.sk = first(it.attrs["PK"]), first(it.attrs["SK"])
		items = append(items, it)
	}
	return items
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// flatten returns every string an attribute value holds, nested ones included.
func flatten(v types.AttributeValue) []string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return []string{v.Value}
	case *types.AttributeValueMemberN:
		return []string{v.Value}
	case *types.AttributeValueMemberB:
		return []string{string(v.Value)}
	case *types.AttributeValueMemberSS:
		return v.Value
	case *types.AttributeValueMemberL:
		var out []string
		for _, e := range v.Value {
			out = append(out, flatten(e)...)
		}
		return out
	case *types.AttributeValueMemberM:
		var out []string
		for k, e := range v.Value {
			out = append(out, k)
			out = append(out, flatten(e)...)
		}
		return out
	}
	return nil
}

// holding returns "PK/SK.attr" for every attribute of the table that contains s.
func holding(items []tableItem, s string) []string {
	var out []string
	for _, it := range items {
		for k, vs := range it.attrs {
			for _, v := range vs {
				if strings.Contains(v, s) {
					out = append(out, it.pk+" "+it.sk+" ."+k)
					break
				}
			}
		}
	}
	return out
}

var cfInText = regexp.MustCompile(`[A-Z]{6}[0-9LMNP-V]{2}[A-EHLMPRST][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]`)

// The credentials a person gets (an activation link, a ReGIndE link, a self-service access
// token) are stored only as their SHA-256; the items they unlock do not carry the person's
// codice fiscale; a Step Functions task token is kept only on the item whose step it resumes,
// and only while that step waits.
func TestPrivacy_TheTableKeepsOnlyHashesOfThePeoplesTokens(t *testing.T) {
	t.Parallel()
	// Flow 1, a CTU: the activation link, then the ReGIndE link.
	s := ctuScenario(t, "Carlo", freshSurname("Zurzi"))
	s.authorize(t)
	activation := s.link(t, 1)
	waitState(t, s.order, s.mailboxID, "ABILITATA", 30*time.Second)

	items := scanTable(t)
	parked := ""
	for _, it := range items {
		if it.pk == "MAILBOX#"+s.mailboxID {
			parked = first(it.attrs["taskToken"])
		}
	}
	if parked == "" {
		t.Fatal("the mailbox waiting for its member has no parked task token: the test reads the table wrongly")
	}
	var taskTokens []string
	for _, it := range items {
		if tok := first(it.attrs["taskToken"]); tok != "" {
			taskTokens = append(taskTokens, tok)
			if !strings.HasPrefix(it.pk, "MAILBOX#") && !strings.HasPrefix(it.pk, "BATCH#") {
				t.Errorf("a task token parked on %s %s: only mailboxes and batches park steps", it.pk, it.sk)
			}
		}
	}
	for _, tok := range taskTokens {
		if at := holding(items, tok); len(at) != 1 || !strings.HasSuffix(at[0], ".taskToken") {
			t.Errorf("a task token is held by %v: only by its own item's taskToken", at)
		}
	}

	if code, _ := click(t, activation, url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("confirm: %d", code)
	}
	waitState(t, s.order, s.mailboxID, "ATTIVATA", 30*time.Second)
	address := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)["address"].(string)
	reginde := regindeLink(t, s.email, address, 1)

	// Flow 2: a self-service request and its access token.
	orderID, offer, _ := conventionOrder(t)
	surname := freshSurname("Bianchi")
	as(t, "order", orderID).expect(201, "POST", "/v1/orders/"+orderID+"/members", member("RSSMRA80A01H501U", "Mario", surname))
	r := public(t).expect(201, "POST", "/v1/conventions/"+offer+"/requests",
		map[string]any{"codiceFiscale": "RSSMRA80A01H501U", "cognome": surname, "nome": "Mario", "email": "mario@example.org"}).json(t)
	requestID, access := r["requestId"].(string), r["accessToken"].(string)

	items = scanTable(t)
	// Each hash is the key of what the token unlocks, and on the record it belongs to (the
	// mailbox, the member, the request) so that a fresh one can replace it.
	tokens := []struct {
		kind, raw string
		stored    []string
	}{
		{"activation link token", activation[strings.LastIndex(activation, "/")+1:], []string{"ACTIVATION#", "MAILBOX#" + s.mailboxID + " "}},
		{"ReGIndE link token", reginde[strings.LastIndex(reginde, "/")+1:], []string{"REGINDE#", "ORDER#" + s.orderID + " MEMBER#"}},
		{"self-service access token", access, []string{"REQUEST#" + requestID + " "}},
	}
	for _, tok := range tokens {
		if at := holding(items, tok.raw); len(at) > 0 {
			t.Errorf("the raw %s is stored: %v", tok.kind, at)
		}
		hash := app.HashLinkToken(tok.raw)
		at := holding(items, hash)
		if len(at) == 0 {
			t.Errorf("the %s's SHA-256 is not stored: the test looks for the wrong thing", tok.kind)
		}
		for _, where := range at {
			if !slices.ContainsFunc(tok.stored, func(p string) bool { return strings.HasPrefix(where, p) }) {
				t.Errorf("the %s's hash is held by %s", tok.kind, where)
			}
		}
	}
	// The items a link unlocks name what it acts on: an activation link a mailbox, a ReGIndE
	// link a member, whose key is the codice fiscale (memberKey) and nothing more of them.
	for _, it := range items {
		if !strings.HasPrefix(it.pk, "ACTIVATION#") && !strings.HasPrefix(it.pk, "REGINDE#") {
			continue
		}
		for k, vs := range it.attrs {
			if k == "memberKey" && strings.HasPrefix(it.pk, "REGINDE#") {
				continue
			}
			for _, v := range vs {
				if cfInText.MatchString(strings.ToUpper(v)) {
					t.Errorf("%s .%s holds a codice fiscale", it.pk, k)
				}
			}
		}
	}
	// The step resumed, its token is gone from the mailbox.
	for _, it := range items {
		if it.pk == "MAILBOX#"+s.mailboxID && len(it.attrs["taskToken"]) > 0 {
			t.Errorf("the mailbox still parks a task token once ATTIVATA")
		}
	}
	if at := holding(items, parked); len(at) > 0 {
		t.Errorf("the resumed step's task token is still held by %v", at)
	}
}

// What the provider receives is the minimum its contract documents (shared/provider): for a
// mailbox the Order paid, the holder's names, codice fiscale and the address; for a member's
// own request, also links to the two documents. Never the member's e-mail, numeroIscrizione,
// albo or anything of the Order's. The stand-in's records never hold the codice fiscale.
func TestPrivacy_TheProviderReceivesTheMinimum(t *testing.T) {
	t.Parallel()
	base := []string{"address", "codiceFiscale", "cognome", "nome", "requestId"}
	withDocs := slices.Sorted(slices.Values(append(slices.Clone(base), "documents",
		"documents[].contentType", "documents[].expiresAt", "documents[].kind", "documents[].sha256", "documents[].size", "documents[].url")))

	// Flow 1: the Order authorises and pays.
	s := newScenario(t, "Carlo", freshSurname("Zurzi"))
	s.authorize(t)
	address := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)["address"].(string)

	// Flow 2: the member's own request, paid and with its documents.
	orderID, offer, _ := conventionOrder(t)
	surname := freshSurname("Bianchi")
	m := member("RSSMRA80A01H501U", "Mario", surname)
	m["numeroIscrizione"] = "NUM-ISCR-4711"
	as(t, "order", orderID).expect(201, "POST", "/v1/orders/"+orderID+"/members", m)
	www := public(t)
	r := www.expect(201, "POST", "/v1/conventions/"+offer+"/requests",
		map[string]any{"codiceFiscale": "RSSMRA80A01H501U", "cognome": surname, "nome": "Mario", "email": "mario.privacy@example.org"}).json(t)
	id, token := r["requestId"].(string), r["accessToken"].(string)
	selfAddress := r["address"].(string)
	payAtService(t, "PAY-"+id, 488, id)
	www.expect(200, "POST", "/v1/requests/"+id+"/payment", map[string]any{"reference": "PAY-" + id, "amountCents": 488}, "X-Access-Token", token)
	if d := upload(t, www, id, token, map[string][]byte{"form": aPDF, "identity": aJPG}); d.status != 200 {
		t.Fatalf("documents: %d %s", d.status, d.body)
	}

	sim := localcloud.ForTests(t).Provider
	want := map[string][]string{address: base, selfAddress: withDocs}
	if providerKind() == localcloud.KindAruba { // the account: the owner went separately, found or created by codice fiscale
		account := []string{"name", "ownerId.id", "renewalData.duration", "renewalData.type", "type"}
		want = map[string][]string{address: account, selfAddress: account}
	}
	if providerKind() == localcloud.KindLegalmail { // what POST /pec requires of the holder, and the callback
		holder := []string{"callback.method", "callback.url", "cap_titolare", "casella_pec", "codice_fiscale_richiedente", "cognome_richiedente",
			"comune_titolare", "data_nascita_richiedente", "email", "indirizzo_titolare", "nazione_nascita_richiedente", "nazione_titolare",
			"nome_richiedente", "provincia_titolare", "sesso_richiedente", "sottotipo_cliente", "telefono", "tipo_casella", "tipo_cliente"}
		want = map[string][]string{address: holder, selfAddress: holder}
	}
	got := map[string][]string{}
	eventually(t, "both submits at the provider", 30*time.Second, func() bool {
		for _, pr := range sim.Requests() {
			if _, ok := want[pr.Address]; ok && pr.Kind == "submit" {
				got[pr.Address] = pr.Fields
				if pr.Address == address && providerKind() == localcloud.KindWebhook && pr.RequestID != s.mailboxID {
					t.Errorf("requestId %s, want the mailbox id %s", pr.RequestID, s.mailboxID)
				}
			}
		}
		return len(got) == len(want)
	})
	for a, fields := range want {
		if !slices.Equal(got[a], fields) {
			t.Errorf("the provider received the fields %v for %s, want exactly %v", got[a], a, fields)
		}
	}

	records, _ := json.Marshal(sim.Requests())
	for _, secret := range []string{"ZRZCRL72R10H501D", "RSSMRA80A01H501U", "mario.privacy@example.org", "NUM-ISCR-4711", token} {
		if strings.Contains(string(records), secret) {
			t.Errorf("the provider stand-in's records hold %q", secret)
		}
	}
	if cfInText.Match(records) {
		t.Errorf("the provider stand-in's records hold a codice fiscale: %s", cfInText.Find(records))
	}
	// The stand-in's log goes through the privacy audit of RunTests, with every other log.
}
