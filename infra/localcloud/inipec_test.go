package localcloud_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/localcloud"
)

func runSchedule(t *testing.T, logicalID string) (int, string) {
	t.Helper()
	resp, err := http.Post(localcloud.ForTests(t).APIURL+"/_local/run/"+logicalID, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// orderFiles returns the INI-PEC files delivered for the Order, in arrival order.
func orderFiles(t *testing.T, orderID string) []string {
	t.Helper()
	var out []string
	for _, f := range localcloud.ForTests(t).INIPEC.Files() {
		if strings.HasPrefix(f.Name, "INIPEC_"+orderID+"_") { // not -FULL_: the daily files
			out = append(out, f.Content)
		}
	}
	return out
}

func lines(content string) []string {
	return strings.Split(strings.TrimRight(content, "\r\n"), "\r\n")
}

// Not parallel: the sync delivers every Order's changes, and the outage below must not hit
// another test's files.
func TestINIPEC_DailyDeltaExactlyOnce(t *testing.T) {
	s := newScenario(t, "Carlo", freshSurname("Zurzi"))
	own := member("RSSMRA80A01H501U", "Mario", freshSurname("Rossi"))
	own["pec"] = "mario.rossi@pec.example.it"
	s.order.expect(201, "POST", "/v1/orders/"+s.orderID+"/members", own)
	s.authorize(t)
	link := s.link(t, 1)
	if code, _ := click(t, link, url.Values{"choice": {"confirm"}}); code != 200 {
		t.Fatalf("confirm: %d", code)
	}
	waitState(t, s.order, s.mailboxID, "ATTIVATA", 5*time.Second)
	time.Sleep(1100 * time.Millisecond) // the settle time of the local parameters

	if code, out := runSchedule(t, "INIPECSyncFunction"); code != 200 {
		t.Fatalf("sync: %d %s", code, out)
	}
	files := orderFiles(t, s.orderID)
	if len(files) != 1 {
		t.Fatalf("%d files after the first sync, want 1", len(files))
	}
	first := lines(files[0])
	if len(first) != 2 {
		t.Fatalf("first file %q, want 2 insert lines", files[0])
	}
	for _, l := range first {
		f := strings.Split(l, ";")
		if len(f) != 8 || f[5] != "2" || f[7] != "" || !strings.Contains(f[0], "@") || len(f[4]) != 16 || len(f[6]) != 10 || f[6][2] != '/' {
			t.Errorf("insert line %q", l)
		}
	}

	// A full export on demand: every current domicilio, as inserts, in a file of its own.
	s.order.expect(202, "POST", "/v1/orders/"+s.orderID+"/inipec/exports", nil)
	var full []string
	eventually(t, "the full export", 15*time.Second, func() bool {
		full = nil
		for _, f := range localcloud.ForTests(t).INIPEC.Files() {
			if strings.HasPrefix(f.Name, "INIPEC_"+s.orderID+"-FULL_") {
				full = append(full, f.Content)
			}
		}
		return len(full) == 1
	})
	if got := lines(full[0]); len(got) != 2 || strings.Split(got[0], ";")[5] != "2" {
		t.Errorf("full export %q", full[0])
	}
	exports := s.order.expect(200, "GET", "/v1/orders/"+s.orderID+"/inipec/deliveries?kind=full", nil).json(t)["items"].([]any)
	if len(exports) != 1 || exports[0].(map[string]any)["inserts"] != float64(2) || exports[0].(map[string]any)["kind"] != "full" {
		t.Errorf("exports = %v", exports)
	}

	// Nothing changed: a second run sends nothing for this Order.
	if code, out := runSchedule(t, "INIPECSyncFunction"); code != 200 {
		t.Fatalf("second sync: %d %s", code, out)
	}
	if n := len(orderFiles(t, s.orderID)); n != 1 {
		t.Fatalf("a day with no change sent a file (%d files)", n)
	}

	// Deletions: the mailbox is revoked, the member with an own PEC leaves the albo.
	s.order.expect(200, "POST", "/v1/mailboxes/"+s.mailboxID+"/revoke", map[string]any{"reason": "richiesta dell'iscritto"})
	s.order.expect(200, "POST", "/v1/orders/"+s.orderID+"/members/RSSMRA80A01H501U/cancel", map[string]any{"date": "2026-11-20", "reason": "trasferito"})
	time.Sleep(1100 * time.Millisecond)

	// The receiver is down: the delivery is prepared but not completed; the run fails.
	c := localcloud.ForTests(t)
	c.INIPEC.Outage("INIPEC_"+s.orderID+"_", 100)
	if code, _ := runSchedule(t, "INIPECSyncFunction"); code == 200 {
		t.Fatal("a sync whose delivery failed reported success")
	}
	c.INIPEC.Outage("INIPEC_"+s.orderID+"_", 0)
	// Two runs at once after the outage: the prepared delivery goes out once.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { runSchedule(t, "INIPECSyncFunction") })
	}
	wg.Wait()
	files = orderFiles(t, s.orderID)
	if len(files) != 2 {
		t.Fatalf("%d files after the outage and two runs, want 2", len(files))
	}
	second := lines(files[1])
	if len(second) != 2 {
		t.Fatalf("second file %q, want the 2 deletions", files[1])
	}
	cancelled := false
	for _, l := range second {
		f := strings.Split(l, ";")
		if f[5] != "3" {
			t.Errorf("delete line %q", l)
		}
		if f[7] == "20/11/2026" {
			cancelled = true
		}
	}
	if !cancelled {
		t.Errorf("no DataCancellazione for the member who left the albo: %q", files[1])
	}

	r := s.order.expect(200, "GET", "/v1/orders/"+s.orderID+"/inipec/deliveries", nil).json(t)
	items := r["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("deliveries = %v", r)
	}
	newest := items[0].(map[string]any)
	if newest["deletes"] != float64(2) || newest["state"] != "DELIVERED" || newest["number"] != float64(2) {
		t.Errorf("newest delivery = %v", newest)
	}
	received := -1
	for _, f := range localcloud.ForTests(t).INIPEC.Files() {
		if f.Name == newest["fileName"] {
			received = len(f.Raw)
		}
	}
	if newest["bytes"] != float64(received) { // the size recorded is the size received
		t.Errorf("delivery of %v bytes, the receiver holds %d", newest["bytes"], received)
	}
	as(t, "order", "SOMEONE-ELSE").expect(403, "GET", "/v1/orders/"+s.orderID+"/inipec/deliveries", nil)
	var listed []map[string]any
	resp, err := http.Get(c.APIURL + "/_local/inipec/files")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&listed)
	resp.Body.Close()
	if len(listed) < 2 {
		t.Errorf("GET /_local/inipec/files lists %d files", len(listed))
	}
}
