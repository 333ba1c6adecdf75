package lambdahost

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// signedForm returns a POST Object form's fields (names in lower case, as servePostObject
// reads them) whose policy holds conditions, signed with the local credentials.
func signedForm(t *testing.T, now time.Time, conditions []any, fields map[string]string) map[string]string {
	t.Helper()
	date := now.UTC().Format("20060102")
	cred := "local/" + date + "/eu-south-1/s3/aws4_request"
	out := map[string]string{"x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": cred, "x-amz-date": now.UTC().Format("20060102T150405Z")}
	for k, v := range fields {
		out[strings.ToLower(k)] = v
	}
	conditions = append(conditions, map[string]string{"x-amz-algorithm": "AWS4-HMAC-SHA256"},
		map[string]string{"x-amz-credential": cred}, map[string]string{"x-amz-date": out["x-amz-date"]})
	doc, err := json.Marshal(map[string]any{"expiration": now.Add(time.Minute).UTC().Format("2006-01-02T15:04:05.000Z"), "conditions": conditions})
	if err != nil {
		t.Fatal(err)
	}
	out["policy"] = base64.StdEncoding.EncodeToString(doc)
	k := func(key []byte, data string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(data))
		return m.Sum(nil)
	}
	sk := k(k(k(k([]byte("AWS4"+localSecret), date), "eu-south-1"), "s3"), "aws4_request")
	out["x-amz-signature"] = hex.EncodeToString(k(sk, out["policy"]))
	return out
}

// S3 refuses a form with a field no condition of its policy names ("Extra input fields"), but
// the signature, the policy, the file and the x-ignore- fields; names are compared in any case.
func TestCheckPostPolicy_ExtraInputFields(t *testing.T) {
	now := time.Now()
	base := []any{
		map[string]string{"bucket": "docs"},
		[]any{"eq", "$key", "uploads/a.pdf"},
		[]any{"eq", "$Content-Type", "application/pdf"},
		[]any{"starts-with", "$x-amz-meta-request", ""},
		[]any{"content-length-range", 1, 100},
	}
	fields := map[string]string{"key": "uploads/a.pdf", "Content-Type": "application/pdf", "X-Amz-Meta-Request": "r1"}
	for _, c := range []struct {
		name       string
		extra      map[string]string
		code, want string
	}{
		{"every field named by a condition", nil, "", ""},
		{"x-ignore- fields", map[string]string{"x-ignore-tracking": "1", "X-Ignore-Other": "2"}, "", ""},
		{"a field no condition names", map[string]string{"success_action_status": "201"},
			"AccessDenied", "Invalid according to Policy: Extra input fields: success_action_status"},
		{"another metadata field", map[string]string{"X-Amz-Meta-Tag": "x"},
			"AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-tag"},
		{"a named submit button", map[string]string{"submit": "Invia"},
			"AccessDenied", "Invalid according to Policy: Extra input fields: submit"},
	} {
		f := map[string]string{}
		for k, v := range fields {
			f[k] = v
		}
		for k, v := range c.extra {
			f[k] = v
		}
		form := signedForm(t, now, base, f)
		if code, msg := checkPostPolicy("docs", form, 10, now); code != c.code || msg != c.want {
			t.Errorf("%s: %q %q, want %q %q", c.name, code, msg, c.code, c.want)
		}
	}

	// The other checks still come first: a condition that fails is reported as such.
	form := signedForm(t, now, base, map[string]string{"key": "other", "Content-Type": "application/pdf", "submit": "x"})
	if code, msg := checkPostPolicy("docs", form, 10, now); code != "AccessDenied" || !strings.Contains(msg, `Policy Condition failed: ["eq", "$key", "uploads/a.pdf"]`) {
		t.Errorf("failed condition: %q %q", code, msg)
	}
	// A field a condition names, even without its value in the form, is no extra field.
	form = signedForm(t, now, append(base, []any{"starts-with", "$x-amz-meta-note", ""}), fields)
	if code, msg := checkPostPolicy("docs", form, 10, now); code != "" {
		t.Errorf("optional field: %q %q", code, msg)
	}
}
