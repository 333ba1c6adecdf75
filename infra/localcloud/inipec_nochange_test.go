package localcloud_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pecplatform/pec/infra/inipecsim"
	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/dynamo"
	"github.com/pecplatform/pec/shared/inipec"
	"github.com/pecplatform/pec/shared/inipecupload"
	"github.com/pecplatform/pec/shared/pecmail"
	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/inipecsync"
)

// deliveredYesterday records, in the local cloud's table, that the Order sent INI-PEC its
// list yesterday: the days cannot be waited for.
func deliveredYesterday(t *testing.T, orderID string) {
	t.Helper()
	c := localcloud.ForTests(t)
	db := dynamodb.New(dynamodb.Options{Region: localcloud.Region, BaseEndpoint: aws.String(c.DynamoDBURL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	store := dynamo.New(db, c.Host.Tables()[0])
	yesterday := time.Now().UTC().Add(-26 * time.Hour)
	d := &app.Delivery{OrderID: orderID, N: 1, FileName: inipec.FileName(orderID, yesterday, 1), State: app.DeliveryPrepared,
		PreparedAt: yesterday, Kind: "delta"}
	if err := store.PrepareDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	d.State, d.DeliveredAt, d.Outcome = app.DeliveryDelivered, yesterday, "accepted"
	if err := store.CompleteDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
}

// Not parallel: the sync runs for every Order (see TestINIPEC_DailyDeltaExactlyOnce).
func TestINIPEC_ADayWithoutChangesIsConfirmedOnce(t *testing.T) {
	orderID := uniqueID("NC")
	as(t, "federation", "").expect(201, "PUT", "/v1/orders/"+orderID, orderBody(false))
	deliveredYesterday(t, orderID)

	for range 2 { // the second run of the day confirms nothing more
		if code, out := runSchedule(t, "INIPECSyncFunction"); code != 200 {
			t.Fatalf("sync: %d %s", code, out)
		}
	}
	var got []inipecsim.Confirmation
	for _, c := range localcloud.ForTests(t).INIPEC.Confirmations() {
		if strings.HasPrefix(c.Name, "INIPEC_"+orderID+"_") {
			got = append(got, c)
		}
	}
	want := inipec.FileName(orderID, time.Now(), 2)
	if len(got) != 1 || got[0].Name != want || got[0].Via != "empty-file" {
		t.Fatalf("confirmations %+v, want one empty file %s", got, want)
	}
	items := as(t, "order", orderID).expect(200, "GET", "/v1/orders/"+orderID+"/inipec/deliveries", nil).json(t)["items"].([]any)
	if newest := items[0].(map[string]any); newest["number"] != float64(2) || newest["noChanges"] != true || newest["outcome"] != "confirmed: no changes" {
		t.Errorf("newest delivery %v", newest)
	}
}

// The PEC channel's adapter through the local cloud's PEC server (mailpit), read by INI-PEC's
// stand-in as INI-PEC reads its PEC: the file attached arrives once, a re-sent PEC (a run cut
// off before recording it) is the same file, a confirmation by PEC is one, and a file that
// breaks the layout is refused.
func TestINIPEC_ThePECChannelDeliversTheFileAttachedOnce(t *testing.T) {
	c := localcloud.ForTests(t)
	to := "aggiornamento@cert.inipec.gov.it"
	channel := inipecupload.PEC{To: to, Mail: &pecmail.Sender{Addr: c.SMTPAddr, From: "piattaforma@pec.example.it",
		Username: localcloud.SMTPUsername, Password: localcloud.SMTPPassword, TLS: pecmail.TLSNone}}
	orderID := uniqueID("PC")
	name := inipec.FileName(orderID, time.Now(), 1)
	csv := "anna.neri@pec.example.it;Anna;Neri;12;NRENNA80A41H501X;2;15/01/2020;\r\n"
	open := func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(csv)), nil }
	for range 2 {
		if err := channel.Deliver(t.Context(), name, int64(len(csv)), open); err != nil {
			t.Fatal(err)
		}
	}
	var files []inipecsim.File
	eventually(t, "the file from the PEC", 10*time.Second, func() bool {
		files = nil
		for _, f := range listFiles(t) {
			if f.Name == name {
				files = append(files, f)
			}
		}
		return len(files) > 0
	})
	if len(files) != 1 || files[0].Content != csv {
		t.Errorf("files %+v, want the CSV once", files)
	}
	// Both PECs carry the Message-ID made from the file's name: INI-PEC sees one PEC twice.
	if n := c.INIPEC.PECCopies()["inipec."+name+"@pec.example.it"]; n != 2 {
		t.Errorf("%d copies of the PEC with %s's Message-ID, want 2 (one message sent twice)", n, name)
	}

	confirmation := inipec.FileName(orderID, time.Now(), 2)
	if err := channel.Confirm(t.Context(), orderID, confirmation, time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the confirmation by PEC", 10*time.Second, func() bool {
		for _, c := range listConfirmations(t) {
			if c.Name == confirmation && c.Via == "pec" {
				return true
			}
		}
		return false
	})

	bad := inipec.FileName(orderID, time.Now(), 3)
	broken := "anna.neri@pec.example.it;Anna;Neri;12;NRENNA80A41H501X;9;;\r\n"
	if err := channel.Deliver(t.Context(), bad, int64(len(broken)), func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(broken)), nil }); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the refusal of a file that breaks the layout", 10*time.Second, func() bool {
		resp, err := http.Get(c.APIURL + "/_local/inipec/rejections")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var rs []inipecsim.Rejection
		json.NewDecoder(resp.Body).Decode(&rs)
		for _, r := range rs {
			if r.File == bad && len(r.Errors) > 0 && r.Errors[0].Field == "Stato" {
				return true
			}
		}
		return false
	})
}

func listFiles(t *testing.T) []inipecsim.File {
	t.Helper()
	resp, err := http.Get(localcloud.ForTests(t).APIURL + "/_local/inipec/files")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []inipecsim.File
	json.NewDecoder(resp.Body).Decode(&out)
	return out
}

func listConfirmations(t *testing.T) []inipecsim.Confirmation {
	t.Helper()
	resp, err := http.Get(localcloud.ForTests(t).APIURL + "/_local/inipec/confirmations")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []inipecsim.Confirmation
	json.NewDecoder(resp.Body).Decode(&out)
	return out
}

// INIPECSyncFunction as it runs with InipecChannel=pec and InipecNoChange=pec: built by its own
// builder with the local cloud's environment for it, the two settings changed. A run delivers an
// Order's file as the attachment of one PEC and confirms a quiet Order's day by one PEC without
// attachment; a second run sends neither again.
func TestINIPEC_TheSyncOverThePECChannelSendsEachThingOnce(t *testing.T) {
	c := localcloud.ForTests(t)
	vars, ok := c.Host.Environment("INIPECSyncFunction")
	if !ok {
		t.Fatal("no INIPECSyncFunction")
	}
	vars["INIPEC_CHANNEL"], vars["INIPEC_NO_CHANGE"] = "pec", "pec"
	env, err := wire.Load(t.Context(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	run, err := inipecsync.Sync(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}

	fed := as(t, "federation", "")
	busy, quiet := uniqueID("PS"), uniqueID("PQ")
	fed.expect(201, "PUT", "/v1/orders/"+busy, orderBody(false))
	fed.expect(201, "PUT", "/v1/orders/"+quiet, orderBody(false))
	m := member("RSSMRA80A01H501U", "Anna", freshSurname("Neri"))
	m["pec"] = "anna.neri@pec.example.it"
	as(t, "order", busy).expect(201, "POST", "/v1/orders/"+busy+"/members", m)
	deliveredYesterday(t, quiet)
	time.Sleep(1100 * time.Millisecond) // the settle time of the local parameters

	for range 2 {
		if _, err := run(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
	name := inipec.FileName(busy, time.Now(), 1)
	eventually(t, "the busy Order's file by PEC", 10*time.Second, func() bool {
		for _, f := range listFiles(t) {
			if f.Name == name {
				return strings.HasPrefix(f.Content, "anna.neri@pec.example.it;Anna;")
			}
		}
		return false
	})
	confirmation := inipec.FileName(quiet, time.Now(), 2)
	eventually(t, "the quiet Order's confirmation by PEC", 10*time.Second, func() bool {
		for _, c := range listConfirmations(t) {
			if c.Name == confirmation && c.Via == "pec" {
				return true
			}
		}
		return false
	})
	if n := pecWith(t, "aggiornamento@cert.inipec.gov.it", name); n != 1 {
		t.Errorf("%d PECs carried %s, want 1", n, name)
	}
	if n := pecWith(t, "aggiornamento@cert.inipec.gov.it", confirmation); n != 1 {
		t.Errorf("%d PECs confirmed %s, want 1", n, confirmation)
	}
}

// With InipecSender order-relay, each Order transmits itself: the sync sends the Order its file
// by PEC, once, to forward to INI-PEC from its own PEC, and nothing to INI-PEC.
func TestINIPEC_WhenEachOrderTransmitsTheOrderGetsItsFileOnce(t *testing.T) {
	c := localcloud.ForTests(t)
	vars, _ := c.Host.Environment("INIPECSyncFunction")
	vars["INIPEC_SENDER"] = "order-relay"
	env, err := wire.Load(t.Context(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	run, err := inipecsync.Sync(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	orderID := uniqueID("PO")
	body := orderBody(false)
	body["pec"] = strings.ToLower(orderID) + "@pec.example.it"
	as(t, "federation", "").expect(201, "PUT", "/v1/orders/"+orderID, body)
	m := member("RSSMRA80A01H501U", "Anna", freshSurname("Neri"))
	m["pec"] = "anna.neri@pec.example.it"
	as(t, "order", orderID).expect(201, "POST", "/v1/orders/"+orderID+"/members", m)
	time.Sleep(1100 * time.Millisecond)
	for range 2 {
		if _, err := run(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
	name := inipec.FileName(orderID, time.Now(), 1)
	eventually(t, "the Order's file by PEC", 10*time.Second, func() bool { return pecWith(t, body["pec"].(string), name) > 0 })
	if n := pecWith(t, body["pec"].(string), name); n != 1 {
		t.Errorf("%d PECs to the Order with %s, want 1", n, name)
	}
	for _, f := range listFiles(t) {
		if f.Name == name {
			t.Errorf("INI-PEC got %s from the platform: the Order transmits it", name)
		}
	}
}
