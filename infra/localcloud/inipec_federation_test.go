package localcloud_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/inipec"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/inipecsync"
)

// INIPECSyncFunction with InipecSender=federation and InipecChannel=pec, built by its own
// builder with the local cloud's environment for it: one file for all the Orders, named after
// the federation, attached to one PEC to INI-PEC's address, read by INI-PEC's stand-in from
// mailpit; each Order's delivery names that file, and a second run sends nothing again.
// Not parallel: the sync runs for every Order.
func TestINIPEC_AFederationSendsOneFileForItsOrdersByPEC(t *testing.T) {
	c := localcloud.ForTests(t)
	vars, ok := c.Host.Environment("INIPECSyncFunction")
	if !ok {
		t.Fatal("no INIPECSyncFunction")
	}
	fedID := uniqueID("FD")
	vars["INIPEC_SENDER"], vars["INIPEC_CHANNEL"], vars["INIPEC_FEDERATION_ID"] = "federation", "pec", fedID
	env, err := wire.Load(t.Context(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	run, err := inipecsync.Sync(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}

	fed := as(t, "federation", "")
	one, two := uniqueID("FA"), uniqueID("FB")
	surnames := map[string]string{}
	for i, orderID := range []string{one, two} {
		fed.expect(201, "PUT", "/v1/orders/"+orderID, orderBody(false))
		surname := freshSurname("Neri")
		surnames[orderID] = surname
		m := member([]string{"RSSMRA80A01H501U", "ZRZCRL72R10H501D"}[i], "Anna", surname)
		m["pec"] = strings.ToLower("anna."+surname) + "@pec.example.it"
		as(t, "order", orderID).expect(201, "POST", "/v1/orders/"+orderID+"/members", m)
	}
	time.Sleep(1100 * time.Millisecond) // the settle time of the local parameters

	for range 2 {
		if _, err := run(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
	name := inipec.FileName(fedID, time.Now(), 1)
	var content string
	eventually(t, "the federation's file by PEC", 10*time.Second, func() bool {
		for _, f := range listFiles(t) {
			if f.Name == name {
				content = f.Content
				return true
			}
		}
		return false
	})
	a, b := strings.Index(content, ";"+surnames[one]+";"), strings.Index(content, ";"+surnames[two]+";")
	if a < 0 || b < a {
		t.Errorf("the federation's file %q: want both Orders' lines, %s's first", content, one)
	}
	for _, orderID := range []string{one, two} {
		if files := orderFiles(t, orderID); len(files) != 0 {
			t.Errorf("%s has files of its own %v", orderID, files)
		}
		items := as(t, "order", orderID).expect(200, "GET", "/v1/orders/"+orderID+"/inipec/deliveries", nil).json(t)["items"].([]any)
		if d := items[0].(map[string]any); len(items) != 1 || d["fileName"] != name || d["state"] != "DELIVERED" || d["inserts"] != float64(1) {
			t.Errorf("%s's deliveries %v", orderID, items)
		}
	}
	copies := 0
	for id, n := range c.INIPEC.PECCopies() {
		if strings.HasPrefix(id, "inipec."+name+"@") {
			copies += n
		}
	}
	if copies != 1 {
		t.Errorf("%d PECs carried %s, want 1", copies, name)
	}
}

// The INI-PEC settings are checked when the function starts: a value the template does not
// allow stops it.
func TestINIPEC_TheSyncRefusesUnknownSettings(t *testing.T) {
	c := localcloud.ForTests(t)
	for k, v := range map[string]string{"INIPEC_SENDER": "orders", "INIPEC_FEDERATION_ID": "fno tsrm", "INIPEC_CHANNEL": "fax", "INIPEC_NO_CHANGE": "nothing"} {
		vars, _ := c.Host.Environment("INIPECSyncFunction")
		vars[k] = v
		env, err := wire.Load(t.Context(), func(k string) string { return vars[k] })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inipecsync.Sync(t.Context(), env); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: err = %v, want one naming %s", k, v, err, k)
		}
	}
}
