package localcloud_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/lifecycle"
)

// Suspension under each SuspensionPolicy. The local cloud runs MailboxActionsFunction with one
// setting; each test builds the function by its own builder with the local cloud's environment
// for it, the setting changed, and calls it as API Gateway would (the authorizer's claims
// included), while everything else (the lifecycle, INI-PEC) is the local cloud's.

// mailboxActionsWith returns MailboxActionsFunction built with SUSPENSION_POLICY policy.
func mailboxActionsWith(t *testing.T, policy string) httpapi.Handler {
	t.Helper()
	vars, ok := localcloud.ForTests(t).Host.Environment("MailboxActionsFunction")
	if !ok {
		t.Fatal("no MailboxActionsFunction")
	}
	vars["SUSPENSION_POLICY"] = policy
	env, err := wire.Load(t.Context(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	h, err := lifecycle.MailboxActions(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// callAs calls h for the Order's staff on a route of the template.
func callAs(t *testing.T, h httpapi.Handler, orderID, routeKey, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	params := map[string]string{"orderId": orderID}
	if i := strings.Index(path, "/members/"); i >= 0 {
		params["codiceFiscale"] = strings.SplitN(path[i+len("/members/"):], "/", 2)[0]
	}
	req := events.APIGatewayV2HTTPRequest{RouteKey: routeKey, RawPath: path, Body: string(b), PathParameters: params,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RouteKey: routeKey,
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: strings.Fields(routeKey)[0], Path: path, SourceIP: "127.0.0.1"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"role": "order", "order": orderID, "sub": "presidenza@ordine.example"}}}}}
	resp, err := h(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.Unmarshal([]byte(resp.Body), &out)
	return resp.StatusCode, out
}

func TestSuspension_UnderEachPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy, state string
		deleted, back bool // INI-PEC gets the deletion at the suspension, the insertion at the reinstatement
	}{
		{"keep", "ATTIVATA", false, false},
		{"unpublish", "ATTIVATA", true, true},
		{"revoke", "REVOCATA", true, false},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			t.Parallel()
			h := mailboxActionsWith(t, tc.policy)
			s := newScenario(t, "Carlo", freshSurname("Zurzi"))
			s.authorize(t)
			if code, _ := click(t, s.link(t, 1), map[string][]string{"choice": {"confirm"}}); code != 200 {
				t.Fatal("confirm")
			}
			waitState(t, s.order, s.mailboxID, "ATTIVATA", 10*time.Second)
			address := s.order.expect(200, "GET", "/v1/mailboxes/"+s.mailboxID, nil).json(t)["address"].(string)
			path := "/v1/orders/" + s.orderID + "/members/ZRZCRL72R10H501D"
			code, m := callAs(t, h, s.orderID, "POST /v1/orders/{orderId}/members/{codiceFiscale}/suspend", path+"/suspend",
				map[string]any{"from": time.Now().Format(time.DateOnly), "kind": "disciplinary", "reason": "delibera n. 7"})
			if code != 200 || m["suspension"] == nil || m["suspension"].(map[string]any)["inForce"] != true {
				t.Fatalf("suspend: %d %v", code, m)
			}
			if st, _ := mailboxState(t, s.order, s.mailboxID); st != tc.state {
				t.Errorf("the mailbox is %s, want %s", st, tc.state)
			}
			code, m = callAs(t, h, s.orderID, "POST /v1/orders/{orderId}/members/{codiceFiscale}/reinstate", path+"/reinstate", nil)
			if code != 200 || m["suspension"] != nil {
				t.Fatalf("reinstate: %d %v", code, m)
			}
			time.Sleep(1100 * time.Millisecond) // the settle time of the local parameters
			var stati []string
			eventually(t, "INI-PEC's files", 60*time.Second, func() bool {
				runSchedule(t, "INIPECSyncFunction")
				stati = nil
				for _, l := range inipecLines(t, s.orderID, address) {
					stati = append(stati, strings.Split(l, ";")[5])
				}
				want := 1 // the insertion at the activation
				if tc.deleted {
					want++
				}
				if tc.back {
					want++
				}
				return len(stati) >= want
			})
			want := []string{"2"}
			if tc.deleted {
				want = append(want, "3")
			}
			if tc.back {
				want = append(want, "2")
			}
			if strings.Join(stati, ",") != strings.Join(want, ",") {
				t.Errorf("INI-PEC's lines for the address have Stato %v, want %v", stati, want)
			}
		})
	}
}
