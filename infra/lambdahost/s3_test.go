package lambdahost_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/pecplatform/pec/infra/emulators"
	"github.com/pecplatform/pec/infra/lambdahost"
)

// s3Toys are the functions of testdata/s3.yaml: ImportFunction records the S3 events it gets,
// FailingFunction always fails.
type s3Toys struct {
	mu      sync.Mutex
	records []events.S3EventRecord
	failed  int
	env     func(string) string
}

func (s *s3Toys) constructors() map[string]lambdahost.Constructor {
	return map[string]lambdahost.Constructor{
		"ImportFunction": func(_ context.Context, getenv func(string) string) (any, error) {
			s.mu.Lock()
			s.env = getenv
			s.mu.Unlock()
			return func(ctx context.Context, ev events.S3Event) error {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.records = append(s.records, ev.Records...)
				return nil
			}, nil
		},
		"FailingFunction": func(context.Context, func(string) string) (any, error) {
			return func(ctx context.Context, ev events.S3Event) error {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.failed++
				return errors.New("rejected")
			}, nil
		},
	}
}

// take returns the records received so far and forgets them, and the failing function's calls.
func (s *s3Toys) take() ([]events.S3EventRecord, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, f := s.records, s.failed
	s.records, s.failed = nil, 0
	return r, f
}

type s3Cloud struct {
	host    *lambdahost.Host
	url     string
	motoURL string
	toys    *s3Toys
	logs    *syncBuffer
}

// startS3Cloud starts moto and serves a host over testdata/s3.yaml in front of it.
func startS3Cloud(t *testing.T) *s3Cloud {
	t.Helper()
	toys := &s3Toys{}
	m := startMotoHost(t, "testdata/s3.yaml", toys.constructors())
	return &s3Cloud{host: m.host, url: m.url, motoURL: m.motoURL, toys: toys, logs: m.logs}
}

// motoHost is a host served on a real port, with moto (its MOTO_PORT = the host's port) behind it.
type motoHost struct {
	host         *lambdahost.Host
	url, motoURL string
	logs         *syncBuffer
}

// startMotoHost starts moto and serves a host over template in front of it.
func startMotoHost(t *testing.T, template string, fns map[string]lambdahost.Constructor) *motoHost {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	root, err := emulators.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	dirs := emulators.DefaultDirs(root)
	dirs.Logs = t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hostPort := ln.Addr().(*net.TCPAddr).Port
	p, err := emulators.StartMoto(context.Background(), dirs, freePort(t), hostPort)
	moto := started(t, p, err)

	m := &motoHost{url: fmt.Sprintf("http://127.0.0.1:%d", hostPort), motoURL: moto.URL, logs: &syncBuffer{}}
	m.host, err = lambdahost.New(context.Background(), lambdahost.Options{
		TemplatePath: template,
		Functions:    fns,
		MotoURL:      moto.URL,
		KeyDir:       t.TempDir(),
		Logger:       slog.New(slog.NewJSONHandler(m.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: m.host, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("host log:\n%s", m.logs)
			b, _ := os.ReadFile(moto.LogPath())
			t.Logf("moto log (tail):\n%s", tail(string(b), 3000))
		}
	})
	return m
}

func (c *s3Cloud) client(endpoint string) *s3.Client {
	return s3.New(s3.Options{Region: "eu-south-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true, Credentials: testCreds})
}

func (c *s3Cloud) waitIdle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.host.WaitIdle(ctx); err != nil {
		t.Fatalf("WaitIdle: %v", err)
	}
}

// presignedPut uploads body with plain net/http to a URL pre-signed by the SDK against the host.
func (c *s3Cloud) presignedPut(t *testing.T, key string, body io.Reader, size int64) *http.Response {
	t.Helper()
	ps := s3.NewPresignClient(c.client(c.url))
	req, err := ps.PresignPutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(uploadBucket), Key: aws.String(key)},
		s3.WithPresignExpires(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPut || !strings.HasPrefix(req.URL, c.url+"/"+uploadBucket+"/") {
		t.Fatalf("pre-signed %s %s", req.Method, req.URL)
	}
	put, err := http.NewRequest(http.MethodPut, req.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	put.ContentLength = size // a pre-signed PUT needs Content-Length, as on AWS
	for k, v := range req.SignedHeader {
		if !strings.EqualFold(k, "Host") {
			put.Header[k] = v
		}
	}
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT %s: %d %s", key, resp.StatusCode, b)
	}
	return resp
}

const uploadBucket = "pec-local-uploadbucket"

// TestS3 is not parallel: its memory measurement would count what other tests allocate (the
// parallel tests only start once the sequential ones are done).
func TestS3(t *testing.T) {
	c := startS3Cloud(t)
	ctx := context.Background()
	viaHost := c.client(c.url)

	if got, want := c.host.Buckets(), []string{"pec-local-archive-123456789012", uploadBucket}; !reflect.DeepEqual(got, want) {
		t.Errorf("Buckets() = %v, want %v", got, want)
	}
	for k, want := range map[string]string{"BUCKET": uploadBucket, "BUCKET_ARN": "arn:aws:s3:::" + uploadBucket, "ARCHIVE": "pec-local-archive-123456789012"} {
		if got := c.toys.env(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	t.Run("Setup creates the buckets with encryption, versioning and lifecycle rules, twice", func(t *testing.T) {
		for i := range 2 {
			if err := c.host.Setup(ctx); err != nil {
				t.Fatalf("Setup %d: %v", i+1, err)
			}
		}
		l, err := c.client(c.motoURL).ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, b := range l.Buckets {
			names = append(names, aws.ToString(b.Name))
		}
		if !reflect.DeepEqual(names, c.host.Buckets()) {
			t.Errorf("moto has buckets %v", names)
		}
		enc, err := viaHost.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(uploadBucket)})
		if err != nil {
			t.Fatal(err)
		}
		if r := enc.ServerSideEncryptionConfiguration.Rules; len(r) != 1 || r[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
			t.Errorf("encryption %+v", r)
		}
		lc, err := viaHost.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(uploadBucket)})
		if err != nil {
			t.Fatal(err)
		}
		if len(lc.Rules) != 1 {
			t.Fatalf("lifecycle %+v", lc.Rules)
		}
		r := lc.Rules[0]
		prefix := aws.ToString(r.Prefix)
		if r.Filter != nil && r.Filter.Prefix != nil {
			prefix = aws.ToString(r.Filter.Prefix)
		}
		if aws.ToString(r.ID) != "expire-uploads" || r.Status != s3types.ExpirationStatusEnabled || r.Expiration == nil ||
			aws.ToInt32(r.Expiration.Days) != 1 || prefix != "uploads/" {
			t.Errorf("lifecycle rule %+v (expiration %+v, filter %+v)", r, r.Expiration, r.Filter)
		}
		if r.NoncurrentVersionExpiration == nil || aws.ToInt32(r.NoncurrentVersionExpiration.NoncurrentDays) != 1 {
			t.Errorf("noncurrent version expiration %+v", r.NoncurrentVersionExpiration)
		}
		v, err := viaHost.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(uploadBucket)})
		if err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
			t.Errorf("versioning %+v %v", v, err)
		}
		if strings.Contains(c.logs.String(), "not applied") {
			t.Errorf("moto rejected a bucket setting:\n%s", c.logs)
		}
		if n := strings.Count(c.logs.String(), `"msg":"bucket exists"`); n != 2 {
			t.Errorf("second Setup: %d 'bucket exists' log lines, want 2", n)
		}
	})

	t.Run("a pre-signed PUT lands in moto and raises one S3 event", func(t *testing.T) {
		const key = "uploads/2025 05/iscritti roma.csv"
		body := "codiceFiscale;nome\nRSSMRA80A01H501U;Mario\n"
		resp := c.presignedPut(t, key, strings.NewReader(body), int64(len(body)))
		c.waitIdle(t)
		recs, failed := c.toys.take()
		if len(recs) != 1 || failed != 0 {
			t.Fatalf("ImportFunction got %d records (FailingFunction %d calls), want 1", len(recs), failed)
		}
		r := recs[0]
		sum := md5.Sum([]byte(body))
		if r.EventVersion != "2.1" || r.EventSource != "aws:s3" || r.AWSRegion != "eu-south-1" || r.EventName != "ObjectCreated:Put" ||
			time.Since(r.EventTime) > time.Minute || r.S3.SchemaVersion != "1.0" || r.S3.ConfigurationID != "CsvUploaded" {
			t.Errorf("record %+v", r)
		}
		if r.S3.Bucket.Name != uploadBucket || r.S3.Bucket.Arn != "arn:aws:s3:::"+uploadBucket {
			t.Errorf("bucket %+v", r.S3.Bucket)
		}
		o := r.S3.Object
		if o.Key != "uploads/2025+05/iscritti+roma.csv" || o.URLDecodedKey != key || o.Size != int64(len(body)) ||
			o.ETag != hex.EncodeToString(sum[:]) || o.ETag != strings.Trim(resp.Header.Get("ETag"), `"`) || o.Sequencer == "" ||
			o.VersionID == "" || o.VersionID != resp.Header.Get("X-Amz-Version-Id") {
			t.Errorf("object %+v (response ETag %s)", o, resp.Header.Get("ETag"))
		}
		if r.RequestParameters.SourceIPAddress != "127.0.0.1" || r.ResponseElements["x-amz-request-id"] == "" {
			t.Errorf("request parameters %+v, response elements %v", r.RequestParameters, r.ResponseElements)
		}

		g, err := viaHost.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(uploadBucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(g.Body)
		g.Body.Close()
		if string(got) != body || g.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
			t.Errorf("GetObject: %q, encryption %q", got, g.ServerSideEncryption)
		}
	})

	t.Run("objects outside the filter raise nothing", func(t *testing.T) {
		for _, key := range []string{"uploads/readme.txt", "elsewhere/a.csv", "uploads.csv"} {
			c.presignedPut(t, key, strings.NewReader("x"), 1)
		}
		// A PUT to the other bucket, and sub-resource PUTs on a matching key, create nothing.
		if _, err := viaHost.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pec-local-archive-123456789012"),
			Key: aws.String("uploads/a.csv"), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
		if _, err := viaHost.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(uploadBucket),
			Key: aws.String("uploads/2025 05/iscritti roma.csv"), Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}); err != nil {
			t.Fatal(err)
		}
		c.waitIdle(t)
		if recs, failed := c.toys.take(); len(recs) != 0 || failed != 0 {
			t.Errorf("records %+v, failing calls %d", recs, failed)
		}
	})

	t.Run("SDK PutObject, CopyObject and multipart uploads raise their events", func(t *testing.T) {
		if _, err := viaHost.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(uploadBucket), Key: aws.String("uploads/sdk.csv"),
			Body: strings.NewReader("a;b;c")}); err != nil {
			t.Fatal(err)
		}
		if _, err := viaHost.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(uploadBucket), Key: aws.String("uploads/copy.csv"),
			CopySource: aws.String(uploadBucket + "/uploads/sdk.csv")}); err != nil {
			t.Fatal(err)
		}
		mp, err := viaHost.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(uploadBucket), Key: aws.String("uploads/multi.csv")})
		if err != nil {
			t.Fatal(err)
		}
		part, err := viaHost.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(uploadBucket), Key: aws.String("uploads/multi.csv"),
			UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("1;2;3;4"))})
		if err != nil {
			t.Fatal(err)
		}
		c.waitIdle(t)
		if recs, _ := c.toys.take(); len(recs) != 2 || recs[0].EventName != "ObjectCreated:Put" || recs[0].S3.Object.Size != 5 ||
			recs[1].EventName != "ObjectCreated:Copy" || recs[1].S3.Object.Key != "uploads/copy.csv" || recs[1].S3.Object.Size != 5 ||
			recs[1].S3.Object.ETag != recs[0].S3.Object.ETag {
			t.Errorf("put and copy (the part raises nothing): %+v", recs)
		}
		if _, err := viaHost.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(uploadBucket),
			Key: aws.String("uploads/multi.csv"), UploadId: mp.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{
				Parts: []s3types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}}); err != nil {
			t.Fatal(err)
		}
		c.waitIdle(t)
		recs, _ := c.toys.take()
		if len(recs) != 1 || recs[0].EventName != "ObjectCreated:CompleteMultipartUpload" || recs[0].S3.Object.Size != 7 ||
			!strings.HasSuffix(recs[0].S3.Object.ETag, "-1") || recs[0].S3.Object.VersionID == "" {
			t.Errorf("completed multipart upload: %+v", recs)
		}
	})

	t.Run("a failing handler is retried twice, then given up", func(t *testing.T) {
		before := c.logs.String()
		c.presignedPut(t, "failing/x.csv", strings.NewReader("x"), 1)
		start := time.Now()
		c.waitIdle(t)
		recs, failed := c.toys.take()
		if failed != 3 || len(recs) != 0 {
			t.Errorf("FailingFunction ran %d times, want 3 (ImportFunction got %d records)", failed, len(recs))
		}
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Errorf("retries took %v: no delay between them", d)
		}
		logs := strings.TrimPrefix(c.logs.String(), before)
		if n := strings.Count(logs, `"msg":"async invocation failed"`); n != 3 || strings.Count(logs, `"msg":"async invocation given up"`) != 1 {
			t.Errorf("%d failure log lines:\n%s", n, logs)
		}
	})

	t.Run("a 20 MB upload and download stream through the host", func(t *testing.T) {
		const size = 20 << 20
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c.presignedPut(t, "uploads/big.csv", io.LimitReader(&pattern{}, size), size)
		g, err := viaHost.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(uploadBucket), Key: aws.String("uploads/big.csv")})
		if err != nil {
			t.Fatal(err)
		}
		h := md5.New()
		n, err := io.Copy(h, g.Body)
		g.Body.Close()
		runtime.ReadMemStats(&after)
		if err != nil || n != size {
			t.Fatalf("GetObject read %d bytes: %v", n, err)
		}
		want := md5.New()
		_, _ = io.Copy(want, io.LimitReader(&pattern{}, size))
		if !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
			t.Errorf("downloaded object differs from the upload")
		}
		// 40 MB went through the host: had either direction been buffered, at least 20 MB would
		// have been allocated (the test's own client streams too).
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("allocated %.1f MB while 2×20 MB went through the host (heap in use %.1f → %.1f MB)",
			float64(alloc)/(1<<20), float64(before.HeapInuse)/(1<<20), float64(after.HeapInuse)/(1<<20))
		if alloc > 12<<20 {
			t.Errorf("allocated %d bytes: the host holds bodies in memory", alloc)
		}
		c.waitIdle(t)
		if recs, _ := c.toys.take(); len(recs) != 1 || recs[0].S3.Object.Size != size {
			t.Errorf("records %+v", recs)
		}
	})
}

// pattern is an endless reader of a repeating byte pattern.
type pattern struct{ off int }

func (r *pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte('a' + (r.off+i)%26)
	}
	r.off += len(p)
	return len(p), nil
}
