package lambdahost_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/pecplatform/pec/infra/lambdahost"
	"github.com/pecplatform/pec/shared/s3links"
)

// busEvents are the functions of testdata/s3eventbridge.yaml: each keeps the events it gets,
// as they came.
type busEvents struct {
	mu     sync.Mutex
	events map[string][]json.RawMessage
}

func (b *busEvents) constructors() map[string]lambdahost.Constructor {
	out := map[string]lambdahost.Constructor{}
	for _, id := range []string{"DocumentUploadsFunction", "DeletionsFunction", "ScratchFunction"} {
		out[id] = func(context.Context, func(string) string) (any, error) {
			return func(ctx context.Context, ev json.RawMessage) error {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.events[id] = append(b.events[id], ev)
				return nil
			}, nil
		}
	}
	return out
}

// take returns the events received so far, by function, and forgets them.
func (b *busEvents) take() map[string][]json.RawMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.events
	b.events = map[string][]json.RawMessage{}
	return out
}

// s3BusEvent is S3's event on EventBridge as the S3 User Guide documents it.
type s3BusEvent struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     struct {
		Version string `json:"version"`
		Bucket  struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      *int64 `json:"size"`
			ETag      string `json:"etag"`
			VersionID string `json:"version-id"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
		RequestID       string `json:"request-id"`
		Requester       string `json:"requester"`
		SourceIPAddress string `json:"source-ip-address"`
		Reason          string `json:"reason"`
		DeletionType    string `json:"deletion-type"`
	} `json:"detail"`
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// decode decodes one event and checks the envelope every S3 event on EventBridge has, and that
// it holds no field S3 does not document.
func decodeBusEvent(t *testing.T, raw json.RawMessage, detailType, bucket string) s3BusEvent {
	t.Helper()
	var ev s3BusEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	at, err := time.Parse(time.RFC3339, ev.Time)
	if ev.Version != "0" || !uuidRE.MatchString(ev.ID) || ev.DetailType != detailType || ev.Source != "aws.s3" ||
		ev.Account != lambdahost.AccountID || err != nil || time.Since(at) > time.Minute || !strings.HasSuffix(ev.Time, "Z") ||
		ev.Region != "eu-south-1" || len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:s3:::"+bucket {
		t.Errorf("envelope of %s", raw)
	}
	d := ev.Detail
	if d.Version != "0" || d.Bucket.Name != bucket || d.Requester != lambdahost.AccountID || d.RequestID == "" ||
		d.SourceIPAddress != "127.0.0.1" || len(d.Object.Sequencer) != 16 {
		t.Errorf("detail of %s", raw)
	}
	return ev
}

const (
	documentsBucket = "pec-local-documentsbucket"
	scratchBucket   = "pec-local-scratchbucket"
	quietBucket     = "pec-local-quietbucket"
)

// postObject uploads file with a browser's form (S3's POST Object), signed as the product signs
// it, with extra fields if any, and returns the host's answer.
func postObject(t *testing.T, hostURL, bucket, key string, file []byte, extra ...string) (*http.Response, string) {
	t.Helper()
	signer := s3links.Signer{Base: hostURL + "/" + bucket, Region: "eu-south-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	form, err := signer.PresignPost(context.Background(), bucket, s3links.PostPolicy{Key: key, ContentType: "application/pdf",
		MaxBytes: 1 << 20, Redirect: "http://127.0.0.1/caricato", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range form.Fields {
		_ = w.WriteField(k, v)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		_ = w.WriteField(extra[i], extra[i+1])
	}
	f, _ := w.CreateFormFile("file", "modulo.pdf")
	_, _ = f.Write(file)
	_ = w.Close()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Post(form.URL, w.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp, string(answer)
}

func TestS3EventBridge(t *testing.T) {
	t.Parallel()
	fns := &busEvents{events: map[string][]json.RawMessage{}}
	m := startMotoHost(t, "testdata/s3eventbridge.yaml", fns.constructors())
	ctx := context.Background()
	if err := m.host.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	s3c := s3.New(s3.Options{Region: "eu-south-1", BaseEndpoint: aws.String(m.url), UsePathStyle: true, Credentials: testCreds})
	waitIdle := func(t *testing.T) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := m.host.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	put := func(t *testing.T, bucket, key, body string) *s3.PutObjectOutput {
		t.Helper()
		out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	md5hex := func(b string) string { s := md5.Sum([]byte(b)); return hex.EncodeToString(s[:]) }

	if n := strings.Count(m.logs.String(), `"msg":"EventBridge rule never raised locally (only aws.s3 and aws.ses events are)","function":"ScratchFunction","event":"Ec2"`); n != 1 {
		t.Errorf("the aws.ec2 rule logged %d times:\n%s", n, m.logs)
	}

	t.Run("a browser's POST Object under uploads/ invokes the function once with S3's event", func(t *testing.T) {
		const key = "uploads/2025 05/modulo firmato.pdf"
		body := "%PDF-1.7 firmato"
		resp, answer := postObject(t, m.url, documentsBucket, key, []byte(body))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST Object: %d %s", resp.StatusCode, answer)
		}
		waitIdle(t)
		got := fns.take()
		if len(got["DocumentUploadsFunction"]) != 1 || len(got["DeletionsFunction"]) != 0 || len(got["ScratchFunction"]) != 0 {
			t.Fatalf("deliveries %v", got)
		}
		raw := got["DocumentUploadsFunction"][0]
		t.Logf("event delivered for a POST Object: %s", raw)
		ev := decodeBusEvent(t, raw, "Object Created", documentsBucket)
		head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(documentsBucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		o := ev.Detail.Object
		if ev.Detail.Reason != "PostObject" || o.Key != "uploads/2025+05/modulo+firmato.pdf" || o.Size == nil || *o.Size != int64(len(body)) ||
			o.ETag != md5hex(body) || o.VersionID == "" || o.VersionID != aws.ToString(head.VersionId) ||
			ev.Detail.RequestID != resp.Header.Get("X-Amz-Request-Id") || ev.Detail.DeletionType != "" {
			t.Errorf("event %s (version %s, request id %s)", raw, aws.ToString(head.VersionId), resp.Header.Get("X-Amz-Request-Id"))
		}
	})

	t.Run("a PutObject under uploads/ invokes it once; keys elsewhere and other buckets do not", func(t *testing.T) {
		out := put(t, documentsBucket, "uploads/scan.pdf", "scansione")
		put(t, documentsBucket, "requests/r1/incoming/form", "x")
		put(t, documentsBucket, "uploads", "x")
		if resp, answer := postObject(t, m.url, documentsBucket, "requests/r1/incoming/id", []byte("y")); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST Object: %d %s", resp.StatusCode, answer)
		}
		// A form with a field its policy does not name is refused, as S3 refuses it, and raises nothing.
		resp, answer := postObject(t, m.url, documentsBucket, "uploads/extra.pdf", []byte("z"), "X-Amz-Meta-Origin", "browser")
		if resp.StatusCode != http.StatusForbidden ||
			!strings.Contains(answer, "<Code>AccessDenied</Code><Message>Invalid according to Policy: Extra input fields: x-amz-meta-origin</Message>") {
			t.Errorf("a form with an extra field: %d %s", resp.StatusCode, answer)
		}
		put(t, quietBucket, "uploads/quiet.pdf", "x")
		waitIdle(t)
		got := fns.take()
		if len(got["DocumentUploadsFunction"]) != 1 || len(got["DeletionsFunction"]) != 0 || len(got["ScratchFunction"]) != 0 {
			t.Fatalf("deliveries %v", got)
		}
		ev := decodeBusEvent(t, got["DocumentUploadsFunction"][0], "Object Created", documentsBucket)
		o := ev.Detail.Object
		if ev.Detail.Reason != "PutObject" || o.Key != "uploads/scan.pdf" || o.Size == nil || *o.Size != 9 || o.ETag != md5hex("scansione") ||
			o.VersionID != aws.ToString(out.VersionId) {
			t.Errorf("event %s", got["DocumentUploadsFunction"][0])
		}
	})

	t.Run("CopyObject and CompleteMultipartUpload under uploads/ invoke it with their reasons", func(t *testing.T) {
		if _, err := s3c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(documentsBucket), Key: aws.String("uploads/copy.pdf"),
			CopySource: aws.String(documentsBucket + "/uploads/scan.pdf")}); err != nil {
			t.Fatal(err)
		}
		mp, err := s3c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(documentsBucket), Key: aws.String("uploads/multi.pdf")})
		if err != nil {
			t.Fatal(err)
		}
		part, err := s3c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(documentsBucket), Key: aws.String("uploads/multi.pdf"),
			UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("1234567")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(documentsBucket),
			Key: aws.String("uploads/multi.pdf"), UploadId: mp.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{
				Parts: []s3types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}}); err != nil {
			t.Fatal(err)
		}
		waitIdle(t)
		got := fns.take()["DocumentUploadsFunction"]
		if len(got) != 2 {
			t.Fatalf("%d events", len(got))
		}
		reasons := map[string]s3BusEvent{}
		for _, raw := range got {
			ev := decodeBusEvent(t, raw, "Object Created", documentsBucket)
			reasons[ev.Detail.Reason] = ev
		}
		if c := reasons["CopyObject"].Detail.Object; c.Key != "uploads/copy.pdf" || c.Size == nil || *c.Size != 9 || c.ETag != md5hex("scansione") || c.VersionID == "" {
			t.Errorf("copy %+v", reasons["CopyObject"])
		}
		if c := reasons["CompleteMultipartUpload"].Detail.Object; c.Key != "uploads/multi.pdf" || c.Size == nil || *c.Size != 7 ||
			!strings.HasSuffix(c.ETag, "-1") || c.VersionID == "" {
			t.Errorf("multipart %+v", reasons["CompleteMultipartUpload"])
		}
	})

	t.Run("an unversioned bucket's events have no version-id; a rule on resources takes them", func(t *testing.T) {
		put(t, scratchBucket, "any/thing.txt", "abc")
		waitIdle(t)
		got := fns.take()
		if len(got["ScratchFunction"]) != 1 || len(got["DocumentUploadsFunction"]) != 0 {
			t.Fatalf("deliveries %v", got)
		}
		ev := decodeBusEvent(t, got["ScratchFunction"][0], "Object Created", scratchBucket)
		if strings.Contains(string(got["ScratchFunction"][0]), "version-id") || ev.Detail.Object.Key != "any/thing.txt" {
			t.Errorf("event %s", got["ScratchFunction"][0])
		}
	})

	t.Run("DeleteObject raises Object Deleted: a delete marker, or deleted for good", func(t *testing.T) {
		del, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(documentsBucket), Key: aws.String("uploads/scan.pdf")})
		if err != nil {
			t.Fatal(err)
		}
		waitIdle(t)
		got := fns.take()
		if len(got["DeletionsFunction"]) != 1 || len(got["DocumentUploadsFunction"]) != 0 || len(got["ScratchFunction"]) != 0 {
			t.Fatalf("deliveries %v", got)
		}
		ev := decodeBusEvent(t, got["DeletionsFunction"][0], "Object Deleted", documentsBucket)
		o := ev.Detail.Object
		if ev.Detail.Reason != "DeleteObject" || ev.Detail.DeletionType != "Delete Marker Created" || o.Key != "uploads/scan.pdf" ||
			o.VersionID == "" || o.VersionID != aws.ToString(del.VersionId) || o.Size != nil || o.ETag != "" {
			t.Errorf("delete marker event %s (marker version %s)", got["DeletionsFunction"][0], aws.ToString(del.VersionId))
		}

		if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(documentsBucket), Key: aws.String("uploads/scan.pdf"),
			VersionId: del.VersionId}); err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(scratchBucket), Key: aws.String("any/thing.txt")}); err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(quietBucket), Key: aws.String("uploads/quiet.pdf")}); err != nil {
			t.Fatal(err)
		}
		waitIdle(t)
		got = fns.take()
		if len(got["DeletionsFunction"]) != 2 || len(got["ScratchFunction"]) != 0 {
			t.Fatalf("deliveries %v", got)
		}
		deleted := got["DeletionsFunction"]
		if !strings.Contains(string(deleted[0]), documentsBucket) { // the invocations run concurrently
			deleted[0], deleted[1] = deleted[1], deleted[0]
		}
		version := decodeBusEvent(t, deleted[0], "Object Deleted", documentsBucket)
		if version.Detail.DeletionType != "Permanently Deleted" || version.Detail.Object.VersionID != aws.ToString(del.VersionId) {
			t.Errorf("version deleted: %s", deleted[0])
		}
		unversioned := decodeBusEvent(t, deleted[1], "Object Deleted", scratchBucket)
		if unversioned.Detail.DeletionType != "Permanently Deleted" || unversioned.Detail.Object.VersionID != "" {
			t.Errorf("unversioned: %s", deleted[1])
		}
	})
}
