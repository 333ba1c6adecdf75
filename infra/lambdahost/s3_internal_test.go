package lambdahost

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestObjectWrite(t *testing.T) {
	cases := []struct {
		method, target string
		header         map[string]string
		body           string
		want           s3Write
		ok             bool
	}{
		{"PUT", "/b/uploads/a%20b.csv", nil, "12345", s3Write{"b", "uploads/a b.csv", s3EventPut, 5}, true},
		{"PUT", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=x&x-id=PutObject", nil, "1", s3Write{"b", "k", s3EventPut, 1}, true},
		{"PUT", "/b/k?x-id=PutObject", map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "3"}, "chunked body", s3Write{"b", "k", s3EventPut, 3}, true},
		{"PUT", "/b/k", map[string]string{"X-Amz-Content-Sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, "chunked body", s3Write{"b", "k", s3EventPut, -1}, true},
		{"PUT", "/b/k?x-id=CopyObject", map[string]string{"X-Amz-Copy-Source": "b/other"}, "", s3Write{"b", "k", s3EventCopy, -1}, true},
		{"POST", "/b/k?uploadId=abc&x-id=CompleteMultipartUpload", nil, "<xml/>", s3Write{"b", "k", s3EventComplete, -1}, true},
		// Not object creations.
		{"PUT", "/b/k?tagging", nil, "<xml/>", s3Write{}, false},
		{"PUT", "/b/k?acl", nil, "", s3Write{}, false},
		{"PUT", "/b/k?partNumber=1&uploadId=abc&x-id=UploadPart", nil, "1", s3Write{}, false},
		{"PUT", "/b/k?partNumber=1&uploadId=abc", map[string]string{"X-Amz-Copy-Source": "b/other"}, "", s3Write{}, false},
		{"PUT", "/b/k?x-id=PutObjectRetention", nil, "", s3Write{}, false},
		{"PUT", "/b", nil, "", s3Write{}, false},
		{"PUT", "/b/", nil, "", s3Write{}, false},
		{"POST", "/b/k?uploads", nil, "", s3Write{}, false},
		{"POST", "/b?delete", nil, "", s3Write{}, false},
		{"GET", "/b/k", nil, "", s3Write{}, false},
		{"DELETE", "/b/k", nil, "", s3Write{}, false},
	}
	for _, c := range cases {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		r := httptest.NewRequest(c.method, c.target, body)
		for k, v := range c.header {
			r.Header.Set(k, v)
		}
		got, ok := objectWrite(r)
		if ok != c.ok || got != c.want {
			t.Errorf("%s %s %v: %+v %v, want %+v %v", c.method, c.target, c.header, got, ok, c.want, c.ok)
		}
	}
}

func TestEventKey(t *testing.T) {
	for key, want := range map[string]string{
		"uploads/a.csv":                  "uploads/a.csv",
		"uploads/2025 05/iscritti.csv":   "uploads/2025+05/iscritti.csv",
		"a+b(1)/città=€.csv":             "a%2Bb%281%29/citt%C3%A0%3D%E2%82%AC.csv",
		"dir/with%percent & ampersand.x": "dir/with%25percent+%26+ampersand.x",
	} {
		if got := eventKey(key); got != want {
			t.Errorf("eventKey(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestS3Trigger_Matches(t *testing.T) {
	all := &s3Trigger{patterns: []string{"s3:ObjectCreated:*"}, prefix: "uploads/", suffix: ".csv"}
	put := &s3Trigger{patterns: []string{"s3:ObjectCreated:Put", "s3:ObjectCreated:Copy"}}
	removed := &s3Trigger{patterns: []string{"s3:ObjectRemoved:*"}}
	cases := []struct {
		tr         *s3Trigger
		event, key string
		want       bool
	}{
		{all, s3EventPut, "uploads/a.csv", true},
		{all, s3EventComplete, "uploads/x/y.csv", true},
		{all, s3EventPut, "uploads/a.CSV", false},
		{all, s3EventPut, "other/a.csv", false},
		{all, s3EventPut, "uploads.csv", false},
		{put, s3EventPut, "anything", true},
		{put, s3EventCopy, "anything", true},
		{put, s3EventComplete, "anything", false},
		{removed, s3EventPut, "k", false},
	}
	for _, c := range cases {
		if got := c.tr.matches(c.event, c.key); got != c.want {
			t.Errorf("%v %s %s = %v, want %v", c.tr.patterns, c.event, c.key, got, c.want)
		}
	}
}

const bucketsTemplate = `
Parameters:
  Days: {Type: Number, Default: 30}
Resources:
  Plain: {Type: AWS::S3::Bucket}
  Named:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-Named-${AWS::Region}"
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms
              KMSMasterKeyID: !GetAtt Key.Arn
      LifecycleConfiguration:
        Rules:
          - Id: tagged
            Status: Enabled
            Prefix: tmp/
            TagFilters: [{Key: kind, Value: scratch}]
            ExpirationInDays: !Ref Days
          - Status: Disabled
            ExpirationDate: "2030-01-01"
            NoncurrentVersionExpirationInDays: 7
            Transitions: [{StorageClass: GLACIER, TransitionInDays: "10"}]
  Unresolvable:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !ImportValue shared-bucket}
  AVeryLongLogicalIdForABucketThatGoesOnAndOnBeyondSixtyThreeCharacters: {Type: AWS::S3::Bucket}
  Key: {Type: AWS::KMS::Key}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Values:
        plain: !Ref Plain
        plainArn: !GetAtt Plain.Arn
        named: !Ref Named
        sub: !Sub "${Named.Arn}/*"
        unresolvable: !Ref Unresolvable
`

func TestBuckets_NamesAndProperties(t *testing.T) {
	h := &Host{region: "eu-south-1", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h.tpl = loadInline(t, bucketsTemplate, nil)
	v, err := h.tpl.resolve(get(h.tpl.resources["Fn"].Props, "Values"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"plain":        "pec-local-plain",
		"plainArn":     "arn:aws:s3:::pec-local-plain",
		"named":        "pec-local-named-eu-south-1",
		"sub":          "arn:aws:s3:::pec-local-named-eu-south-1/*",
		"unresolvable": "pec-local-unresolvable",
	}
	got := v.(map[string]any)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	long, err := h.buildBucket(h.tpl.resources["AVeryLongLogicalIdForABucketThatGoesOnAndOnBeyondSixtyThreeCharacters"])
	if err != nil || len(long.Name) > 63 || !strings.HasPrefix(long.Name, "pec-local-averylong") {
		t.Errorf("long name %q: %v", long.Name, err)
	}

	b, err := h.buildBucket(h.tpl.resources["Named"])
	if err != nil {
		t.Fatal(err)
	}
	if b.encryption != s3types.ServerSideEncryptionAes256 || len(b.lifecycle) != 2 {
		t.Fatalf("bucket %+v", b)
	}
	r := b.lifecycle[0]
	if aws.ToString(r.ID) != "tagged" || r.Status != "Enabled" || r.Filter == nil || r.Filter.And == nil ||
		aws.ToString(r.Filter.And.Prefix) != "tmp/" || len(r.Filter.And.Tags) != 1 || aws.ToInt32(r.Expiration.Days) != 30 {
		t.Errorf("rule 0 %+v filter %+v", r, r.Filter)
	}
	r = b.lifecycle[1]
	if r.ID != nil || r.Status != "Disabled" || r.Filter == nil || aws.ToString(r.Filter.Prefix) != "" || r.Filter.Prefix == nil ||
		r.Expiration == nil || r.Expiration.Date == nil || r.Expiration.Date.Year() != 2030 ||
		aws.ToInt32(r.NoncurrentVersionExpiration.NoncurrentDays) != 7 ||
		len(r.Transitions) != 1 || aws.ToInt32(r.Transitions[0].Days) != 10 || r.Transitions[0].StorageClass != "GLACIER" {
		t.Errorf("rule 1 %+v filter %+v", r, r.Filter)
	}
	p, err := h.buildBucket(h.tpl.resources["Plain"])
	if err != nil || p.encryption != "" || p.lifecycle != nil {
		t.Errorf("plain bucket %+v %v", p, err)
	}
}

func TestS3Triggers_FromSAMEvents(t *testing.T) {
	build := func(events string) ([]*s3Trigger, error) {
		h := &Host{region: "eu-south-1", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		h.tpl = loadInline(t, `
Resources:
  Uploads: {Type: AWS::S3::Bucket}
  Table: {Type: AWS::DynamoDB::Table}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
`+events, nil)
		return h.buildS3Triggers(h.tpl.resources["Fn"], &function{id: "Fn"})
	}
	trs, err := build(`
        Api: {Type: HttpApi, Properties: {Path: /x, Method: GET}}
        Csv:
          Type: S3
          Properties:
            Bucket: {Ref: Uploads}
            Events: [s3:ObjectCreated:Put, s3:ObjectCreated:CompleteMultipartUpload]
            Filter: {S3Key: {Rules: [{Name: Suffix, Value: .csv}]}}
        Any:
          Type: S3
          Properties: {Bucket: !Ref Uploads, Events: s3:ObjectCreated:*}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(trs) != 2 {
		t.Fatalf("%d triggers", len(trs))
	}
	if c := trs[0]; c.event != "Csv" || c.bucket != "pec-local-uploads" || len(c.patterns) != 2 || c.suffix != ".csv" || c.prefix != "" {
		t.Errorf("Csv %+v", c)
	}
	if a := trs[1]; a.event != "Any" || len(a.patterns) != 1 || a.prefix != "" || a.suffix != "" {
		t.Errorf("Any %+v", a)
	}
	for name, ev := range map[string]string{
		"not a Ref":        `{Type: S3, Properties: {Bucket: pec-local-uploads, Events: s3:ObjectCreated:*}}`,
		"not a bucket":     `{Type: S3, Properties: {Bucket: !Ref Table, Events: s3:ObjectCreated:*}}`,
		"no events":        `{Type: S3, Properties: {Bucket: !Ref Uploads}}`,
		"not an S3 event":  `{Type: S3, Properties: {Bucket: !Ref Uploads, Events: ObjectCreated:*}}`,
		"bad filter rule":  `{Type: S3, Properties: {Bucket: !Ref Uploads, Events: s3:ObjectCreated:*, Filter: {S3Key: {Rules: [{Name: contains, Value: x}]}}}}`,
		"missing resource": `{Type: S3, Properties: {Bucket: !Ref Nowhere, Events: s3:ObjectCreated:*}}`,
	} {
		if _, err := build("        E: " + ev + "\n"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
