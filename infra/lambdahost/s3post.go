package lambdahost

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Browser uploads straight to a bucket (S3's POST Object). Locally the bucket's path-style
// URL is on the host's port; the host answers as S3 does: it checks the policy's Signature
// Version 4 with the local credentials, enforces the policy's conditions (expiration, bucket,
// eq and starts-with on the fields, content-length-range on the file), stores the object in
// moto, raises the bucket's ObjectCreated:Post event (and S3's Object Created event on
// EventBridge, reason PostObject, for a bucket that sends its events there) and sends the
// browser to success_action_redirect. What S3 would refuse it refuses, with S3's XML error.

const (
	s3EventPost     = "ObjectCreated:Post"
	localSecret     = "local" // the local credentials' secret (AWS_SECRET_ACCESS_KEY)
	maxPostFormBody = 64 << 20
)

// postObjectBucket reports whether r is a browser's POST Object to one of the buckets.
func (h *Host) postObjectBucket(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return "", false
	}
	name := strings.Trim(r.URL.Path, "/")
	for _, b := range h.buckets {
		if b.Name == name {
			return name, true
		}
	}
	return "", false
}

type s3Error struct {
	XMLName xml.Name `xml:"Error"`
	Code    string
	Message string
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	xml.NewEncoder(w).Encode(s3Error{Code: code, Message: msg})
}

// servePostObject answers a POST Object to bucket.
func (h *Host) servePostObject(w http.ResponseWriter, r *http.Request, bucket string) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		writeS3Error(w, http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
		return
	}
	mr := multipart.NewReader(io.LimitReader(r.Body, maxPostFormBody), params["boundary"])
	fields := map[string]string{}
	var file []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeS3Error(w, http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
			return
		}
		if p.FormName() == "file" {
			file, err = io.ReadAll(p)
			if err != nil {
				writeS3Error(w, http.StatusBadRequest, "IncompleteBody", "The request body terminated unexpectedly.")
				return
			}
			break // S3 ignores the fields after the file
		}
		v, _ := io.ReadAll(io.LimitReader(p, 64<<10))
		fields[strings.ToLower(p.FormName())] = string(v)
	}
	if file == nil {
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "POST requires exactly one file upload per request.")
		return
	}
	if code, msg := checkPostPolicy(bucket, fields, int64(len(file)), time.Now()); code != "" {
		status := http.StatusForbidden
		if code == "EntityTooLarge" || code == "EntityTooSmall" {
			status = http.StatusBadRequest
		}
		writeS3Error(w, status, code, msg)
		return
	}
	key := fields["key"]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(file)}
	if ct := fields["content-type"]; ct != "" {
		in.ContentType = aws.String(ct)
	}
	out, err := h.s3.PutObject(ctx, in)
	if err != nil {
		writeS3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	}
	etag := strings.Trim(aws.ToString(out.ETag), `"`)
	requestID := newS3RequestID()
	w.Header().Set("X-Amz-Request-Id", requestID)
	h.raisePostEvent(r, bucket, key, int64(len(file)), etag, aws.ToString(out.VersionId), requestID)
	if u, err := url.Parse(fields["success_action_redirect"]); err == nil && u.Scheme != "" {
		q := u.Query()
		q.Set("bucket", bucket)
		q.Set("key", key)
		q.Set("etag", `"`+etag+`"`)
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkPostPolicy checks the policy as S3 does: "" when the upload is allowed, else S3's error
// code and message. fields are the form's fields before the file, their names in lower case
// (S3 compares them case-insensitively).
func checkPostPolicy(bucket string, fields map[string]string, size int64, now time.Time) (string, string) {
	raw, err := base64.StdEncoding.DecodeString(fields["policy"])
	if err != nil {
		return "InvalidPolicyDocument", "Invalid Policy: Invalid Base64."
	}
	// The signature: HMAC of the base64 policy with the day's signing key.
	cred := strings.Split(fields["x-amz-credential"], "/")
	if len(cred) != 5 || fields["x-amz-algorithm"] != "AWS4-HMAC-SHA256" {
		return "AccessDenied", "Invalid according to Policy: Policy Condition failed: x-amz-credential"
	}
	k := func(key, data []byte) []byte { m := hmac.New(sha256.New, key); m.Write(data); return m.Sum(nil) }
	sk := k(k(k(k([]byte("AWS4"+localSecret), []byte(cred[1])), []byte(cred[2])), []byte(cred[3])), []byte("aws4_request"))
	if want := hex.EncodeToString(k(sk, []byte(fields["policy"]))); !hmac.Equal([]byte(want), []byte(fields["x-amz-signature"])) {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
	}
	var doc struct {
		Expiration string `json:"expiration"`
		Conditions []json.RawMessage
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return "InvalidPolicyDocument", "Invalid Policy: Invalid JSON."
	}
	exp, err := time.Parse(time.RFC3339, doc.Expiration)
	if err != nil || !now.Before(exp) {
		return "AccessDenied", "Invalid according to Policy: Policy expired."
	}
	covered := map[string]bool{} // the fields the conditions name, in lower case
	values := func(name string) (string, bool) {
		covered[strings.ToLower(name)] = true
		if name == "bucket" {
			return bucket, true
		}
		v, ok := fields[strings.ToLower(name)]
		return v, ok
	}
	for _, c := range doc.Conditions {
		var obj map[string]string
		if json.Unmarshal(c, &obj) == nil {
			for name, want := range obj {
				if got, _ := values(name); got != want {
					return "AccessDenied", fmt.Sprintf("Invalid according to Policy: Policy Condition failed: [\"eq\", \"$%s\", \"%s\"]", name, want)
				}
			}
			continue
		}
		var arr []any
		if json.Unmarshal(c, &arr) != nil || len(arr) != 3 {
			return "InvalidPolicyDocument", "Invalid Policy: Invalid Condition."
		}
		op, _ := arr[0].(string)
		switch op {
		case "eq", "starts-with":
			name, _ := arr[1].(string)
			want, _ := arr[2].(string)
			got, _ := values(strings.TrimPrefix(name, "$"))
			if (op == "eq" && got != want) || (op == "starts-with" && !strings.HasPrefix(got, want)) {
				return "AccessDenied", fmt.Sprintf("Invalid according to Policy: Policy Condition failed: [%q, %q, %q]", op, name, want)
			}
		case "content-length-range":
			lo, _ := arr[1].(float64)
			hi, _ := arr[2].(float64)
			switch {
			case size > int64(hi):
				return "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
			case size < int64(lo):
				return "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
			}
		default:
			return "InvalidPolicyDocument", "Invalid Policy: Invalid Condition."
		}
	}
	// Every field of the form must be named by a condition, but the signature, the policy, the
	// file and the fields prefixed x-ignore-.
	var extra []string
	for name := range fields {
		switch {
		case name == "x-amz-signature", name == "policy", name == "file", strings.HasPrefix(name, "x-ignore-"), covered[name]:
		default:
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return "AccessDenied", "Invalid according to Policy: Extra input fields: " + extra[0]
	}
	return "", ""
}

// raisePostEvent raises a POST Object's events: the bucket's ObjectCreated:Post notifications
// to the functions they trigger, and S3's Object Created event on EventBridge when the bucket
// sends it there.
func (h *Host) raisePostEvent(r *http.Request, bucket, key string, size int64, etag, version, requestID string) {
	var triggers []*s3Trigger
	for _, tr := range h.s3Triggers[bucket] {
		if tr.matches(s3EventPost, key) {
			triggers = append(triggers, tr)
		}
	}
	bus := h.busBucket(bucket)
	if len(triggers) == 0 && !bus {
		return
	}
	c := h.newS3Change(bucket, key)
	c.event, c.size, c.etag, c.versionID, c.requestID, c.sourceIP = s3EventPost, size, etag, version, requestID, clientIP(r)
	h.raiseS3(c, triggers, "AWS:local", bus)
}
