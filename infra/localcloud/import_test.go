package localcloud_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// validCF returns a distinct valid codice fiscale for every n (the check character is found
// by the domain's own validation, not recomputed here).
func validCF(n int) string {
	letters := ""
	for i, v := 0, n; i < 6; i, v = i+1, v/26 {
		letters = string(rune('A'+v%26)) + letters
	}
	base := letters + "80A01H501"
	for c := 'A'; c <= 'Z'; c++ {
		if _, err := domain.ParseCodiceFiscale(base + string(c)); err == nil {
			return base + string(c)
		}
	}
	panic("no check character")
}

func uploadAlbo(t *testing.T, o *client, orderID, content string) string {
	t.Helper()
	r := o.expect(201, "POST", "/v1/orders/"+orderID+"/imports", nil).json(t)
	if r["state"] != "WAITING_UPLOAD" {
		t.Fatalf("import = %v", r)
	}
	req, _ := http.NewRequest("PUT", r["uploadUrl"].(string), strings.NewReader(content))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	return r["importId"].(string)
}

func waitImport(t *testing.T, o *client, id string) map[string]any {
	t.Helper()
	var r map[string]any
	eventually(t, "the import job", 90*time.Second, func() bool {
		r = o.expect(200, "GET", "/v1/imports/"+id, nil).json(t)
		return r["state"] == "DONE" || r["state"] == "FAILED"
	})
	return r
}

func TestImportJob_LargeAlboResumesExactlyAfterACrash(t *testing.T) {
	t.Parallel()
	id := createOrder(t, true)
	o := as(t, "order", id)
	surname := freshSurname("Rossi")
	var b strings.Builder
	b.WriteString("codiceFiscale;cognome;nome;albo;numeroIscrizione;dataIscrizione;email\n")
	const lines, bad, homonyms = 1000, 20, 5
	for i := range lines {
		email := fmt.Sprintf("m%d@example.it", i)
		if i%(lines/bad) == 7 {
			email = "not-an-address"
		}
		cognome, nome := fmt.Sprintf("%s%c", surname, 'a'+i%26), fmt.Sprintf("Nome%c%c", 'a'+i/26%26, 'a'+i/676)
		if i < homonyms {
			cognome, nome = surname, "Mario"
		}
		fmt.Fprintf(&b, "%s;%s;%s;TSRM;%d;2024-03-01;%s\n", validCF(i+7000), cognome, nome, i, email)
	}
	imp := uploadAlbo(t, o, id, b.String())
	r := waitImport(t, o, imp)
	if r["state"] != "DONE" || r["processed"] != float64(lines) || r["created"] != float64(lines-bad) ||
		r["existing"] != float64(0) || r["failedCount"] != float64(bad) || len(r["failed"].([]any)) != bad {
		t.Fatalf("import = %v", r)
	}
	first := r["failed"].([]any)[0].(map[string]any)
	if first["line"] != float64(9) || first["code"] != "invalid_email" || first["field"] != "email" {
		t.Errorf("first failure %v (line 9 is the 8th member)", first)
	}
	sum := o.expect(200, "GET", "/v1/orders/"+id+"/mailboxes/summary", nil).json(t)
	if sum["RICHIESTA"] != float64(lines-bad) {
		t.Errorf("mailboxes = %v: a member was enrolled twice or lost", sum)
	}
	page := o.expect(200, "GET", "/v1/orders/"+id+"/mailboxes?limit=1000", nil).json(t)
	addrs := map[string]bool{}
	for _, it := range page["items"].([]any) {
		addrs[it.(map[string]any)["address"].(string)] = true
	}
	for n := range homonyms {
		a := "mario." + strings.ToLower(surname)
		if n > 0 {
			a += fmt.Sprint(n)
		}
		if !addrs[a+"@pec.tsrm.org"] {
			t.Errorf("homonym %s missing", a)
		}
	}
	csv := o.expect(200, "GET", "/v1/imports/"+imp+"/failures.csv", nil)
	if n := len(strings.Split(strings.TrimSpace(string(csv.body)), "\r\n")); n != bad+1 {
		t.Errorf("failures.csv has %d lines", n)
	}

	again := waitImport(t, o, uploadAlbo(t, o, id, b.String()))
	if again["created"] != float64(0) || again["existing"] != float64(lines-bad) || again["failedCount"] != float64(bad) {
		t.Errorf("the same file again = %v, want nothing created", again)
	}
	as(t, "order", "SOMEONE-ELSE").expect(404, "GET", "/v1/imports/"+imp, nil)
	as(t, "order", "SOMEONE-ELSE").expect(403, "POST", "/v1/orders/"+id+"/imports", nil)
}

// A portal (or curl --data-binary) may upload with a form content type: the bytes must still
// arrive whole.
func TestImportJob_UploadWithAFormContentType(t *testing.T) {
	t.Parallel()
	id := createOrder(t, true)
	o := as(t, "order", id)
	r := o.expect(201, "POST", "/v1/orders/"+id+"/imports", nil).json(t)
	body := "codiceFiscale;cognome;nome;albo;numeroIscrizione;dataIscrizione;email\n" +
		validCF(90001) + ";" + freshSurname("Moro") + ";Ada;TSRM;1;2024-03-01;ada@example.it\n"
	req, _ := http.NewRequest("PUT", r["uploadUrl"].(string), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	done := waitImport(t, o, r["importId"].(string))
	if done["state"] != "DONE" || done["created"] != float64(1) {
		t.Fatalf("import = %v", done)
	}
}
