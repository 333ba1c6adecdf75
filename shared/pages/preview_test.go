package pages

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// previewPages renders every page with sample data.
func previewPages() map[string]Rendered {
	form := FormData{
		OrderName: "Ordine TSRM e PSTRP di Roma e provincia",
		Nome:      "Carlo", Cognome: "Zurzi",
		MaskedCF:  "ZRZCRL**R10H501*",
		Address:   "carlo.zurzi@pec.tsrm.org",
		ExpiresAt: time.Date(2026, 3, 12, 22, 59, 0, 0, time.UTC),
	}
	res := ResultData{OrderName: form.OrderName, Nome: "Carlo", Address: form.Address}
	own := res
	own.OwnPEC = "carlo.zurzi@legalmail.it"
	invalid := form
	invalid.Choice, invalid.PEC = ChoiceDecline, "carlo.zurzi@"
	return map[string]Rendered{
		"form":         Form(form),
		"invalid":      Invalid(invalid, MsgInvalidPEC),
		"confirmed":    Confirmed(res),
		"declined":     Declined(res),
		"declined-own": Declined(own),
		"notfound":     NotFound(),
		"gone":         Gone(),
		"error":        Error(),
	}
}

// TestPreview is for looking at the pages in a browser. With PAGES_PREVIEW_DIR it
// writes every page there as <name>.html; with PAGES_PREVIEW_ADDR (e.g.
// 127.0.0.1:8099) it also serves them at /<name>, with their real headers (so under their
// Content-Security-Policy), until the test times out or is interrupted:
//
//	PAGES_PREVIEW_DIR=/tmp/act go test -run TestPreview ./shared/pages
func TestPreview(t *testing.T) {
	dir, addr := os.Getenv("PAGES_PREVIEW_DIR"), os.Getenv("PAGES_PREVIEW_ADDR")
	if dir == "" && addr == "" {
		t.Skip("neither PAGES_PREVIEW_DIR nor PAGES_PREVIEW_ADDR is set")
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, r := range previewPages() {
			if err := os.WriteFile(filepath.Join(dir, name+".html"), r.Body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if addr != "" {
		err := http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r, ok := previewPages()[strings.TrimPrefix(req.URL.Path, "/")]
			if !ok {
				r = NotFound()
			}
			for k, v := range r.Headers {
				w.Header().Set(k, v)
			}
			w.WriteHeader(r.Status)
			_, _ = w.Write(r.Body)
		}))
		t.Fatal(err)
	}
}
