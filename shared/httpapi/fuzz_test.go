package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/notice"
	"github.com/pecplatform/pec/shared/provider"
)

// The JSON body of every route that takes one, fuzzed through Router.Serve: whatever the body,
// no panic, no 5xx, an error in the contract's shape, and a field on every 422. The store is
// a fake that has what those routes read (one Order, one member, one mailbox, one batch) and
// accepts every write; a method it lacks panics, which the router turns into a 500 the fuzz
// reports.

const fuzzOrder = "ORD-A"

type fuzzStore struct {
	lifecycleStores  // nil: only the methods below are expected
	app.RequestStore // nil: idem
}

type lifecycleStores interface {
	app.Store
	app.BatchStore
	app.RenewalStore
	app.ProvisioningStore
	app.RevocationStore
	app.ActivationStore
}

func (fuzzStore) order() *domain.Order {
	code := "OFF-1"
	return &domain.Order{ID: fuzzOrder, Name: "Ordine", PEC: "ordine@pec.example.it",
		Convention: domain.Convention{WebPEC: true, OfferCode: &code, PriceCents: 400, VATPercent: 22}}
}

func (fuzzStore) member(cf domain.CodiceFiscale) *domain.Member {
	return &domain.Member{OrderID: fuzzOrder, CodiceFiscale: cf, Nome: "Carlo", Cognome: "Zurzi", Albo: "TSRM",
		NumeroIscrizione: "1", DataIscrizione: "2024-03-01", Email: "carlo@example.it"}
}

func (s fuzzStore) GetOrder(_ context.Context, id string) (*domain.Order, error) {
	if id != fuzzOrder {
		return nil, domain.ErrNotFound
	}
	return s.order(), nil
}

func (s fuzzStore) PutOrder(context.Context, *domain.Order, string) (bool, error) { return true, nil }

func (s fuzzStore) GetMember(_ context.Context, orderID string, cf domain.CodiceFiscale) (*domain.Member, error) {
	if orderID != fuzzOrder {
		return nil, domain.ErrNotFound
	}
	return s.member(cf), nil
}

func (s fuzzStore) CreateMember(context.Context, *domain.Member, *domain.Mailbox, string) error {
	return domain.ErrMemberExists
}

func (s fuzzStore) GetMailbox(_ context.Context, id string) (*domain.Mailbox, error) {
	cf, _ := domain.ParseCodiceFiscale("ZRZCRL72R10H501D")
	return domain.NewMailbox(id, "carlo.zurzi@pec.tsrm.org", fuzzOrder, "TSRM", cf, time.Now(), "order:"+fuzzOrder), nil
}

func (s fuzzStore) MoveAddress(ctx context.Context, id, to string, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, error) {
	mb, _, err := s.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) { m.Address = to; return change(m) })
	return mb, err
}

func (s fuzzStore) TransferMember(ctx context.Context, orderID string, cf domain.CodiceFiscale, toOrderID string,
	decide func(*domain.Member, *domain.Mailbox, *domain.Order) (*app.MemberTransfer, error)) (*app.MemberTransfer, error) {
	to, err := s.GetOrder(ctx, toOrderID)
	if err != nil {
		return nil, domain.ErrOrderNotFound
	}
	return decide(s.member(cf), nil, to)
}

func (s fuzzStore) UpdateMailbox(ctx context.Context, id string, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, bool, error) {
	mb, _ := s.GetMailbox(ctx, id)
	changed, err := change(mb)
	return mb, changed, err
}

func (s fuzzStore) UpdateMember(_ context.Context, orderID string, cf domain.CodiceFiscale, _ app.Audit, change func(*domain.Member) (bool, error)) (*domain.Member, error) {
	m := s.member(cf)
	_, err := change(m)
	return m, err
}

func (s fuzzStore) TakenAddresses(context.Context, []string) (map[string]bool, error) {
	return map[string]bool{}, nil
}

func (s fuzzStore) GetBatch(context.Context, string) (*domain.Batch, app.BatchPark, error) {
	return &domain.Batch{ID: "b1", OrderID: fuzzOrder, MailboxCount: 1, AmountCents: 488, State: domain.BatchAwaitingAuthorization}, app.BatchPark{}, nil
}

func (s fuzzStore) UpdateBatch(ctx context.Context, id string, _ app.Audit, change func(*domain.Batch, *app.BatchPark) (bool, error)) (*domain.Batch, app.BatchPark, bool, error) {
	b, park, _ := s.GetBatch(ctx, id)
	changed, err := change(b, &park)
	return b, park, changed, err
}

func (s fuzzStore) RenewalCandidates(context.Context, string, string, func(string, string) error) error {
	return nil
}

func (s fuzzStore) OrderIDForOfferCode(_ context.Context, code string) (string, error) {
	if code != "OFF-1" {
		return "", domain.ErrNotFound
	}
	return fuzzOrder, nil
}

func (s fuzzStore) Hit(context.Context, string, time.Time, time.Duration, int) (bool, error) {
	return true, nil
}

func (s fuzzStore) CreateRequest(context.Context, *domain.Request, *domain.Mailbox, *domain.Member, string) error {
	return nil
}

func (s fuzzStore) SeenEvent(context.Context, string) (bool, error) { return false, nil }

func (s fuzzStore) RecordEvent(context.Context, string, string) error { return nil }

func (s fuzzStore) MailboxIDForAddress(_ context.Context, address string) (string, error) {
	if address != "carlo.zurzi@pec.tsrm.org" {
		return "", domain.ErrNotFound
	}
	return "x1", nil
}

func (s fuzzStore) GetRequest(context.Context, string) (*domain.Request, error) {
	return nil, domain.ErrNotFound
}

type noWorkflow struct{}

func (noWorkflow) StartBatch(context.Context, string) error           { return nil }
func (noWorkflow) StartMailbox(context.Context, string, string) error { return nil }
func (noWorkflow) Resume(context.Context, string) error               { return nil }
func (noWorkflow) ResumeOrGone(context.Context, string) (bool, error) { return false, nil }
func (noWorkflow) FailOrGone(context.Context, string, string, string) (bool, error) {
	return false, nil
}
func (noWorkflow) Fail(context.Context, string, string, string) error           { return nil }
func (noWorkflow) Send(context.Context, string, notice.Message) (string, error) { return "m", nil }

type handler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

var fuzzSecret = []byte("fuzz-secret")

// fuzzRoutes are the routes that take a JSON body, with the handler that serves each.
func fuzzRoutes() map[string]handler {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	store := fuzzStore{}
	svc := app.New(store, domain.MustAlbi(domain.DefaultAlbi()))
	batch := &app.Batches{Store: store, Workflow: noWorkflow{}, OrderMail: noWorkflow{}, Log: log, Now: time.Now, NewID: app.NewID, StartPage: 10}
	renewals := &app.Renewals{Store: store, Workflow: noWorkflow{}, Log: log, Now: time.Now, NewID: app.NewID, StartPage: 10}
	revocations := &app.Revocations{Store: store, Workflow: noWorkflow{}, Now: time.Now}
	activations := &app.Activations{Store: store, Workflow: noWorkflow{}, ActivationMail: noWorkflow{}, Log: log, Now: time.Now,
		PublicURL: "https://pec.example.it", ActivationTTL: time.Hour}
	provisioning := &app.Provisioning{Store: store, Workflow: noWorkflow{}, Now: time.Now}
	req := &app.Requests{Store: store, Workflow: noWorkflow{}, Domains: domain.MustAlbi(domain.DefaultAlbi()), Log: log, Now: time.Now, NewID: app.NewID}
	orders, members := httpapi.Orders(svc, nil, nil, log, nil), httpapi.Members(svc, nil, log, nil)
	batches, actions, requests := httpapi.Batches(batch, renewals, nil, log, nil), httpapi.MailboxActions(revocations, activations,
		&app.Corrections{Store: store, Domains: domain.MustAlbi(domain.DefaultAlbi()), Activations: activations, Revocations: revocations, Now: time.Now},
		&app.Transfers{Store: store, Now: time.Now}, &app.Suspensions{Store: store, Revocations: revocations, Now: time.Now}, log, nil), httpapi.Requests(req, nil, log)
	return map[string]handler{
		"PUT /v1/orders/{orderId}":                                   orders.Serve,
		"POST /v1/orders/{orderId}/members":                          members.Serve,
		"POST /v1/orders/{orderId}/members:import":                   members.Serve,
		"POST /v1/batches/{id}/payment":                              batches.Serve,
		"POST /v1/orders/{orderId}/renewals":                         batches.Serve,
		"POST /v1/mailboxes/{id}/revoke":                             actions.Serve,
		"POST /v1/orders/{orderId}/members/{codiceFiscale}/cancel":   actions.Serve,
		"PATCH /v1/orders/{orderId}/members/{codiceFiscale}":         actions.Serve,
		"POST /v1/orders/{orderId}/members/{codiceFiscale}/transfer": actions.Serve,
		"POST /v1/orders/{orderId}/members/{codiceFiscale}/suspend":  actions.Serve,
		"POST /v1/conventions/{offerCode}/requests":                  requests.Serve,
		"POST /v1/requests/{requestId}/payment":                      requests.Serve,
		// Signed with the right secret (in fuzzEvent), so that the fuzz reaches the event's parsing.
		"POST /v1/provider/callback": httpapi.ProviderCallback(provisioning, log, [][]byte{fuzzSecret}, time.Now),
	}
}

func fuzzEvent(routeKey, body string) events.APIGatewayV2HTTPRequest {
	method, _, _ := strings.Cut(routeKey, " ")
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, Body: body,
		Headers: map[string]string{"content-type": "application/json", "x-access-token": strings.Repeat("t", 43),
			"x-pec-signature": provider.Sign(fuzzSecret, time.Now(), []byte(body))},
		PathParameters: map[string]string{"orderId": fuzzOrder, "id": "x1", "codiceFiscale": "ZRZCRL72R10H501D",
			"offerCode": "OFF-1", "requestId": "r1"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: routeKey, HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, SourceIP: "192.0.2.1"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"role": "order", "order": fuzzOrder}}},
		},
	}
}

func FuzzJSONBodies(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `0`, `{"`, `{"name":1}`, `{"a":` + strings.Repeat("[", 1000),
		`{"name":"Ordine","pec":"o@pec.it","convention":{"webpec":true,"offerCode":null,"priceCents":400,"vatPercent":22}}`,
		`{"convention":{"priceCents":1e400}}`, `{"convention":{"vatPercent":"22"}}`, `{"convention":[]}`,
		`{"codiceFiscale":"ZRZCRL72R10H501D","nome":"Carlo","cognome":"Zurzi","albo":"TSRM","numeroIscrizione":"1","dataIscrizione":"2024-03-01","email":"c@example.it"}`,
		`{"codiceFiscale":"ZRZCRL72R10H501D","nome":"\u0000","cognome":"\r\nBcc: x@y.it","email":"a@b.it\r\nBcc: x@y.it"}`,
		`{"ctu":"yes"}`, `{"pec":5}`, `[{"codiceFiscale":"ZRZCRL72R10H501D"}]`,
		`{"reference":"P1","amountCents":488}`, `{"reference":"P1","amountCents":-1}`, `{"amountCents":9223372036854775808}`,
		`{"mailboxIds":["a","b"]}`, `{"expiringBefore":"2028-02-30"}`, `{"mailboxIds":[1]}`, `{"mailboxIds":"a","expiringBefore":"2028-04-01"}`,
		`{"eventId":"e1","type":"mailbox.created","address":"carlo.zurzi@pec.tsrm.org","providerRef":"R","occurredAt":"2026-01-01T00:00:00Z","reason":""}`,
		`{"eventId":"e1","type":"mailbox.deactivated","address":"CARLO.ZURZI@pec.tsrm.org"}`, `{"eventId":"","type":"mailbox.created"}`,
		`{"reason":"x"}`, `{"reason":null}`, `{"date":"2026-11-20","reason":"trasferimento"}`, `{"date":"9999-99-99"}`,
		`{"codiceFiscale":"zrzcrl72r10h501d","cognome":"ZURZI","nome":"carlo","email":"c@example.it"}`,
		`{"codiceFiscale":"ZRZCRL72R10H501D","cognome":"Zurzi","nome":"Carlo","email":"c@example.it\n"}`,
		"\xff\xfe{}", `{"nome":"` + strings.Repeat("é", 200) + `"}`,
		`{"email":"carlo.zurzi@tiscali.it"}`, `{"pec":null}`, `{"pec":""}`, `{"albo":"Igienista dentale","cognome":"Zurzi"}`,
		`{"toOrderId":"TSRM-PI","date":"2026-11-20","numeroIscrizione":"77"}`, `{"toOrderId":5}`,
		`{"from":"2026-11-20","kind":"art37_dl76_2020","reason":"diffida senza risposta"}`, `{"from":"2026-11-20","to":"2026-01-01","kind":"disciplinary"}`,
		`{"codiceFiscale":"X"}`, `{"ctu":null}`, `{"nome":null}`, `{"dataIscrizione":"2030-01-01"}`,
	} {
		for i := range 10 {
			f.Add(uint8(i), seed)
		}
	}
	routes := fuzzRoutes()
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	// A stable order: the route byte of a corpus entry always means the same route.
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		key := keys[int(route)%len(keys)]
		resp, err := routes[key](context.Background(), fuzzEvent(key, body))
		if err != nil {
			t.Fatalf("%s: Serve returned an error: %v", key, err)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("%s with %q: status %d %s", key, body, resp.StatusCode, resp.Body)
		}
		if resp.StatusCode < 400 {
			return
		}
		var e struct {
			Error struct{ Code, Message, Field string }
		}
		if err := json.Unmarshal([]byte(resp.Body), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("%s with %q: %d without the contract's error: %s", key, body, resp.StatusCode, resp.Body)
		}
		// identity_mismatch names no field on purpose: which one differs would tell a stranger
		// that the codice fiscale is enrolled.
		if resp.StatusCode == 422 && e.Error.Field == "" && e.Error.Code != "identity_mismatch" {
			t.Fatalf("%s with %q: 422 %s without a field", key, body, e.Error.Code)
		}
	})
}

// TestFuzzRoutes_CoverEveryJSONRoute: a route added to the OpenAPI file with a JSON request body
// must be fuzzed too.
func TestFuzzRoutes_CoverEveryJSONRoute(t *testing.T) {
	doc := readOpenAPI(t)
	routes := fuzzRoutes()
	for _, op := range operations(doc) {
		key := op.route.String()
		content := obj(deRef(t, doc, op.op["requestBody"])["content"])
		if _, ok := content["application/json"]; !ok {
			continue
		}
		if _, ok := routes[key]; !ok {
			t.Errorf("%s takes a JSON body but is not in FuzzJSONBodies", key)
		}
	}
}
