package s3links

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// PostForm is a browser upload straight to the bucket (S3's POST Object): the form's action
// and its hidden fields, the file going last in a field named "file".
type PostForm struct {
	URL    string
	Fields map[string]string
}

// PostPolicy is what a browser upload may store.
type PostPolicy struct {
	Key         string        // the one key the upload is stored under
	ContentType string        // the stored object's Content-Type, fixed by the form
	MaxBytes    int64         // the largest file accepted (S3 refuses a bigger one)
	Redirect    string        // where S3 sends the browser after a successful upload
	TTL         time.Duration // how long the form works
}

// PresignPost signs an S3 POST policy (Signature Version 4) for one upload: S3 accepts the
// form's file only under p.Key, with p.ContentType, at most p.MaxBytes, before the form
// expires, and sends the browser to p.Redirect.
func (s Signer) PresignPost(ctx context.Context, bucket string, p PostPolicy) (PostForm, error) {
	creds, err := s.Credentials.Retrieve(ctx)
	if err != nil {
		return PostForm{}, fmt.Errorf("presign post %s: credentials: %w", p.Key, err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC()
	date, stamp := t.Format("20060102"), t.Format("20060102T150405Z")
	credential := creds.AccessKeyID + "/" + date + "/" + s.Region + "/s3/aws4_request"
	fields := map[string]string{
		"key": p.Key, "Content-Type": p.ContentType, "success_action_redirect": p.Redirect,
		"x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": credential, "x-amz-date": stamp,
	}
	conditions := []any{
		map[string]string{"bucket": bucket},
		[]any{"eq", "$key", p.Key},
		[]any{"eq", "$Content-Type", p.ContentType},
		[]any{"eq", "$success_action_redirect", p.Redirect},
		[]any{"content-length-range", 1, p.MaxBytes},
		map[string]string{"x-amz-algorithm": "AWS4-HMAC-SHA256"},
		map[string]string{"x-amz-credential": credential},
		map[string]string{"x-amz-date": stamp},
	}
	if creds.SessionToken != "" {
		fields["x-amz-security-token"] = creds.SessionToken
		conditions = append(conditions, map[string]string{"x-amz-security-token": creds.SessionToken})
	}
	doc, err := json.Marshal(map[string]any{"expiration": t.Add(p.TTL).Format("2006-01-02T15:04:05.000Z"), "conditions": conditions})
	if err != nil {
		return PostForm{}, err
	}
	policy := base64.StdEncoding.EncodeToString(doc)
	fields["policy"] = policy
	fields["x-amz-signature"] = hex.EncodeToString(hmacSHA256(SigningKey(creds.SecretAccessKey, date, s.Region, "s3"), []byte(policy)))
	return PostForm{URL: s.Base, Fields: fields}, nil
}

// SigningKey is Signature Version 4's key for a day, a region and a service.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
