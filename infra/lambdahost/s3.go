package lambdahost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"go.yaml.in/yaml/v3"
)

// S3 event names the host raises (without the "s3:" of the notification configuration).
const (
	s3EventPut      = "ObjectCreated:Put"
	s3EventCopy     = "ObjectCreated:Copy"
	s3EventComplete = "ObjectCreated:CompleteMultipartUpload"
)

// bucketSpec is what Setup creates for an AWS::S3::Bucket.
type bucketSpec struct {
	ID         string
	Name       string
	encryption s3types.ServerSideEncryption   // "" if the template sets none
	versioning s3types.BucketVersioningStatus // "" if the template sets none
	lifecycle  []s3types.LifecycleRule
	// eventBridge: NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled, S3
	// sends the bucket's object events to EventBridge (see s3eventbridge.go).
	eventBridge bool
}

// flexInt is a CloudFormation integer: a number, or a string holding one (e.g. from !Ref).
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not an integer", b)
	}
	*n = flexInt(v)
	return nil
}

func (n *flexInt) int32() *int32 {
	if n == nil {
		return nil
	}
	return aws.Int32(int32(*n))
}

func (n *flexInt) int64() *int64 {
	if n == nil {
		return nil
	}
	return aws.Int64(int64(*n))
}

// CloudFormation shapes of a bucket's LifecycleConfiguration.Rules.
type (
	cfnTransition struct {
		StorageClass            string
		TransitionInDays        *flexInt
		TransitionDate          string
		NewerNoncurrentVersions *flexInt
	}
	cfnLifecycleRule struct {
		Id                             string
		Status                         string
		Prefix                         string
		TagFilters                     []struct{ Key, Value string }
		ObjectSizeGreaterThan          *flexInt
		ObjectSizeLessThan             *flexInt
		ExpirationInDays               *flexInt
		ExpirationDate                 string
		ExpiredObjectDeleteMarker      *bool
		AbortIncompleteMultipartUpload *struct{ DaysAfterInitiation flexInt }
		NoncurrentVersionExpiration    *struct {
			NoncurrentDays          *flexInt
			NewerNoncurrentVersions *flexInt
		}
		NoncurrentVersionExpirationInDays *flexInt
		Transitions                       []cfnTransition
		Transition                        *cfnTransition
		NoncurrentVersionTransitions      []struct {
			StorageClass            string
			TransitionInDays        *flexInt
			NewerNoncurrentVersions *flexInt
		}
	}
)

// buildBucket reads the bucket's name, default encryption, versioning, lifecycle rules and
// whether it sends its events to EventBridge: the rest of its properties (policies, CORS, other
// notifications, replication...) mean nothing to moto or are the host's business (SAM's S3
// events: see s3Trigger).
func (h *Host) buildBucket(r *resource) (*bucketSpec, error) {
	t := h.tpl
	b := &bucketSpec{ID: r.ID, Name: t.bucketName(r)}
	if n := get(r.Props, "BucketName"); n != nil {
		if _, err := t.resolveString(n); err != nil {
			h.log.Warn("bucket name not resolvable locally: using a derived one", "bucket", r.ID, "name", b.Name, "error", err)
		}
	}
	for _, rule := range items(get(get(r.Props, "BucketEncryption"), "ServerSideEncryptionConfiguration")) {
		n := get(get(rule, "ServerSideEncryptionByDefault"), "SSEAlgorithm")
		if n == nil {
			continue
		}
		alg, err := t.resolveString(n) // only the algorithm: a KMS key ID need not resolve locally
		if err != nil {
			return nil, fmt.Errorf("BucketEncryption: SSEAlgorithm: %w", err)
		}
		b.encryption = s3types.ServerSideEncryptionAes256
		if alg != string(s3types.ServerSideEncryptionAes256) {
			h.log.Info("bucket encryption applied as SSE-S3 locally (no KMS)", "bucket", b.Name, "algorithm", alg)
		}
	}
	if n := get(get(r.Props, "VersioningConfiguration"), "Status"); n != nil {
		st, err := t.resolveString(n)
		if err != nil {
			return nil, fmt.Errorf("VersioningConfiguration: %w", err)
		}
		b.versioning = s3types.BucketVersioningStatus(st)
	}
	if n := get(get(get(r.Props, "NotificationConfiguration"), "EventBridgeConfiguration"), "EventBridgeEnabled"); n != nil {
		v, err := t.resolve(n)
		if err != nil {
			return nil, fmt.Errorf("EventBridgeEnabled: %w", err)
		}
		switch v := v.(type) {
		case bool:
			b.eventBridge = v
		case string: // a parameter's value
			if b.eventBridge, err = strconv.ParseBool(v); err != nil {
				return nil, fmt.Errorf("EventBridgeEnabled: %q is not a boolean", v)
			}
		default:
			return nil, fmt.Errorf("EventBridgeEnabled: %v is not a boolean", v)
		}
	}
	if n := get(get(r.Props, "LifecycleConfiguration"), "Rules"); n != nil {
		v, err := t.resolve(n)
		if err != nil {
			return nil, fmt.Errorf("LifecycleConfiguration: %w", err)
		}
		raw, _ := json.Marshal(v)
		var rules []cfnLifecycleRule
		if err := json.Unmarshal(raw, &rules); err != nil {
			return nil, fmt.Errorf("LifecycleConfiguration: %w", err)
		}
		for i, c := range rules {
			lr, err := lifecycleRule(c)
			if err != nil {
				return nil, fmt.Errorf("LifecycleConfiguration rule %d: %w", i, err)
			}
			b.lifecycle = append(b.lifecycle, lr)
		}
	}
	return b, nil
}

func lifecycleRule(c cfnLifecycleRule) (s3types.LifecycleRule, error) {
	r := s3types.LifecycleRule{Status: s3types.ExpirationStatus(c.Status)}
	if c.Id != "" {
		r.ID = aws.String(c.Id)
	}
	var tags []s3types.Tag
	for _, t := range c.TagFilters {
		tags = append(tags, s3types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	conds := len(tags) + btoi(c.Prefix != "") + btoi(c.ObjectSizeGreaterThan != nil) + btoi(c.ObjectSizeLessThan != nil)
	switch {
	case conds > 1:
		and := &s3types.LifecycleRuleAndOperator{Tags: tags, ObjectSizeGreaterThan: c.ObjectSizeGreaterThan.int64(),
			ObjectSizeLessThan: c.ObjectSizeLessThan.int64()}
		if c.Prefix != "" {
			and.Prefix = aws.String(c.Prefix)
		}
		r.Filter = &s3types.LifecycleRuleFilter{And: and}
	case len(tags) == 1:
		r.Filter = &s3types.LifecycleRuleFilter{Tag: &tags[0]}
	default:
		r.Filter = &s3types.LifecycleRuleFilter{Prefix: aws.String(c.Prefix),
			ObjectSizeGreaterThan: c.ObjectSizeGreaterThan.int64(), ObjectSizeLessThan: c.ObjectSizeLessThan.int64()}
		if conds == 1 && c.Prefix == "" {
			r.Filter.Prefix = nil
		}
	}
	if c.ExpirationInDays != nil || c.ExpirationDate != "" || c.ExpiredObjectDeleteMarker != nil {
		r.Expiration = &s3types.LifecycleExpiration{Days: c.ExpirationInDays.int32(), ExpiredObjectDeleteMarker: c.ExpiredObjectDeleteMarker}
		if c.ExpirationDate != "" {
			d, err := cfnDate(c.ExpirationDate)
			if err != nil {
				return r, fmt.Errorf("ExpirationDate: %w", err)
			}
			r.Expiration.Date = &d
		}
	}
	if a := c.AbortIncompleteMultipartUpload; a != nil {
		r.AbortIncompleteMultipartUpload = &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(int32(a.DaysAfterInitiation))}
	}
	if e := c.NoncurrentVersionExpiration; e != nil {
		r.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: e.NoncurrentDays.int32(),
			NewerNoncurrentVersions: e.NewerNoncurrentVersions.int32()}
	} else if c.NoncurrentVersionExpirationInDays != nil {
		r.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: c.NoncurrentVersionExpirationInDays.int32()}
	}
	transitions := c.Transitions
	if c.Transition != nil {
		transitions = append(transitions, *c.Transition)
	}
	for _, tr := range transitions {
		out := s3types.Transition{StorageClass: s3types.TransitionStorageClass(tr.StorageClass), Days: tr.TransitionInDays.int32()}
		if tr.TransitionDate != "" {
			d, err := cfnDate(tr.TransitionDate)
			if err != nil {
				return r, fmt.Errorf("TransitionDate: %w", err)
			}
			out.Date = &d
		}
		r.Transitions = append(r.Transitions, out)
	}
	for _, tr := range c.NoncurrentVersionTransitions {
		r.NoncurrentVersionTransitions = append(r.NoncurrentVersionTransitions, s3types.NoncurrentVersionTransition{
			StorageClass: s3types.TransitionStorageClass(tr.StorageClass), NoncurrentDays: tr.TransitionInDays.int32(),
			NewerNoncurrentVersions: tr.NewerNoncurrentVersions.int32()})
	}
	if r.Status == "" {
		return r, errors.New("no Status")
	}
	return r, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cfnDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if d, err := time.Parse(layout, s); err == nil {
			return d.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date", s)
}

// setupBucket creates the bucket on moto (an existing one is kept) and applies its encryption,
// versioning and lifecycle rules; what moto rejects of these is logged and skipped.
func (h *Host) setupBucket(ctx context.Context, c *s3.Client, b *bucketSpec) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(b.Name)}
	if h.region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(h.region)}
	}
	_, err := c.CreateBucket(ctx, in)
	var owned *s3types.BucketAlreadyOwnedByYou
	switch {
	case errors.As(err, &owned):
		h.log.Info("bucket exists", "bucket", b.Name)
	case err != nil:
		return err
	default:
		h.log.Info("bucket created", "bucket", b.Name)
	}
	if b.encryption != "" {
		if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(b.Name),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: b.encryption}}}},
		}); err != nil {
			h.log.Warn("bucket encryption not applied", "bucket", b.Name, "error", err)
		}
	}
	if b.versioning != "" {
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b.Name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: b.versioning},
		}); err != nil {
			h.log.Warn("bucket versioning not applied", "bucket", b.Name, "error", err)
		}
	}
	if len(b.lifecycle) > 0 {
		if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(b.Name),
			LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: b.lifecycle},
		}); err != nil {
			h.log.Warn("bucket lifecycle rules not applied", "bucket", b.Name, "error", err)
		}
	}
	return nil
}

// Buckets returns the names of the template's S3 buckets, in logical ID order.
func (h *Host) Buckets() []string {
	out := make([]string, len(h.buckets))
	for i, b := range h.buckets {
		out[i] = b.Name
	}
	return out
}

// --- S3 event notifications ---

// s3Trigger is a function's S3 event: SAM turns it into the bucket's notification configuration
// and the permission for S3 to invoke the function. Locally the host raises it itself.
type s3Trigger struct {
	fn             *function
	event          string   // the event's name in the template (the notification's configurationId)
	bucket         string   // physical name
	patterns       []string // s3:ObjectCreated:*, s3:ObjectCreated:Put...
	prefix, suffix string
}

func (h *Host) buildS3Triggers(r *resource, f *function) ([]*s3Trigger, error) {
	var out []*s3Trigger
	evs := get(r.Props, "Events")
	for _, name := range sortedKeys(evs) {
		ev := get(evs, name)
		if scalar(get(ev, "Type")) != "S3" {
			continue
		}
		props := get(ev, "Properties")
		tr := &s3Trigger{fn: f, event: name}
		// SAM requires the bucket to be a !Ref to a bucket of the same template.
		fn, arg, ok := intrinsic(get(props, "Bucket"))
		b, found := h.tpl.resources[scalarOrResolved(h.tpl, arg)]
		if !ok || fn != "Ref" || !found || b.Type != typeBucket {
			return nil, fmt.Errorf("event %s: Bucket must be a !Ref to an %s of the template", name, typeBucket)
		}
		tr.bucket = h.tpl.bucketName(b)
		v, err := h.tpl.resolve(get(props, "Events"))
		if err != nil {
			return nil, fmt.Errorf("event %s: Events: %w", name, err)
		}
		switch v := v.(type) {
		case string:
			tr.patterns = []string{v}
		case []any:
			for _, p := range v {
				s, _ := p.(string)
				tr.patterns = append(tr.patterns, s)
			}
		}
		if len(tr.patterns) == 0 {
			return nil, fmt.Errorf("event %s: no Events", name)
		}
		for _, p := range tr.patterns {
			if !strings.HasPrefix(p, "s3:") {
				return nil, fmt.Errorf("event %s: %q is not an S3 event type", name, p)
			}
			if !strings.HasPrefix(p, "s3:ObjectCreated:") {
				h.log.Warn("S3 event type never raised locally (only ObjectCreated ones are)", "function", f.id, "event", name, "type", p)
			}
		}
		rules, err := h.tpl.resolve(get(get(get(props, "Filter"), "S3Key"), "Rules"))
		if err != nil {
			return nil, fmt.Errorf("event %s: Filter: %w", name, err)
		}
		list, _ := rules.([]any)
		for _, rule := range list {
			m, _ := rule.(map[string]any)
			n, _ := m["Name"].(string)
			val, err := stringify(m["Value"])
			if err != nil {
				return nil, fmt.Errorf("event %s: filter rule Value: %w", name, err)
			}
			switch strings.ToLower(n) {
			case "prefix":
				tr.prefix = val
			case "suffix":
				tr.suffix = val
			default:
				return nil, fmt.Errorf("event %s: filter rule Name %q is neither prefix nor suffix", name, n)
			}
		}
		out = append(out, tr)
	}
	return out, nil
}

// matches reports whether an object event (e.g. "ObjectCreated:Put") on key is one of the trigger's.
func (tr *s3Trigger) matches(event, key string) bool {
	if !strings.HasPrefix(key, tr.prefix) || !strings.HasSuffix(key, tr.suffix) {
		return false
	}
	for _, p := range tr.patterns {
		p = strings.TrimPrefix(p, "s3:")
		if p == event || (strings.HasSuffix(p, ":*") && strings.HasPrefix(event, p[:len(p)-1])) {
			return true
		}
	}
	return false
}

// s3Write is a request that creates an object, as the host forwards it.
type s3Write struct {
	bucket, key string
	event       string // s3EventPut, s3EventCopy or s3EventComplete
	size        int64  // -1 when the request does not tell
}

// objectWrite recognises a path-style request that creates an object: PutObject (PUT
// /bucket/key with no sub-resource in the query), CopyObject (the same with x-amz-copy-source) and
// CompleteMultipartUpload (POST /bucket/key?uploadId=...). It reads the request line and headers
// only.
func objectWrite(r *http.Request) (s3Write, bool) {
	bucket, key, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || bucket == "" || key == "" || !strings.HasPrefix(r.URL.Path, "/") {
		return s3Write{}, false
	}
	w := s3Write{bucket: bucket, key: key, size: -1}
	q := r.URL.Query()
	switch r.Method {
	case http.MethodPut:
		// Anything but the signature's parameters and the SDK's x-id names a sub-resource:
		// ?acl, ?tagging, ?retention, ?legal-hold, ?partNumber&uploadId (UploadPart)...
		for k, v := range q {
			switch {
			case strings.HasPrefix(strings.ToLower(k), "x-amz-"):
			case k == "x-id" && len(v) == 1 && (v[0] == "PutObject" || v[0] == "CopyObject"):
			default:
				return s3Write{}, false
			}
		}
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			w.event = s3EventCopy
			return w, true
		}
		w.event = s3EventPut
		w.size = uploadSize(r)
		return w, true
	case http.MethodPost:
		if !q.Has("uploadId") || q.Has("uploads") {
			return s3Write{}, false
		}
		w.event = s3EventComplete
		return w, true
	}
	return s3Write{}, false
}

// uploadSize is the size of the object a PutObject carries: Content-Length, except for the
// aws-chunked encoding of streaming signatures and trailing checksums, where the object's size is
// X-Amz-Decoded-Content-Length.
func uploadSize(r *http.Request) int64 {
	if d := r.Header.Get("X-Amz-Decoded-Content-Length"); d != "" {
		if n, err := strconv.ParseInt(d, 10, 64); err == nil {
			return n
		}
		return -1
	}
	if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") ||
		strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		return -1
	}
	return r.ContentLength
}

// virtualHosted reports whether host names one of the buckets (bucket.localhost:3000): the path
// then holds the key alone, and such requests are not supported locally.
func virtualHosted(host string, buckets []*bucketSpec) bool {
	for _, b := range buckets {
		if strings.HasPrefix(host, b.Name+".") {
			return true
		}
	}
	return false
}

// eventKey encodes an object key as S3 does in event notifications: form-encoded (a space is '+'),
// with the slashes kept.
func eventKey(key string) string {
	return strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
}

// observeS3 sees moto's answer to every forwarded call. For a successful object creation in a
// bucket with S3 events it raises them, as S3 would: asynchronously, one invocation per matching
// event; for a creation or a deletion in a bucket that sends its events to EventBridge, it puts
// S3's event on the bus. It reads the status and headers only, and counts the invocations in
// flight before the client gets its answer (so WaitIdle after the answer sees them).
func (h *Host) observeS3(backend string, resp *http.Response) {
	if backend != BackendMoto || resp.StatusCode/100 != 2 || (len(h.s3Triggers) == 0 && !h.anyBusBucket()) {
		return
	}
	req := resp.Request
	if classify(req).Service != "s3" || virtualHosted(req.Host, h.buckets) {
		return
	}
	if bucket, key, version, ok := objectDelete(req); ok {
		if h.busBucket(bucket) {
			h.observeDelete(bucket, key, version, req, resp)
		}
		return
	}
	w, ok := objectWrite(req)
	if !ok {
		return
	}
	var triggers []*s3Trigger
	for _, tr := range h.s3Triggers[w.bucket] {
		if tr.matches(w.event, w.key) {
			triggers = append(triggers, tr)
		}
	}
	bus := h.busBucket(w.bucket)
	if len(triggers) == 0 && !bus {
		return
	}
	c := h.newS3Change(w.bucket, w.key)
	c.event, c.size = w.event, w.size
	c.versionID = resp.Header.Get("X-Amz-Version-Id")
	c.requestID, c.hostID = requestIDOf(resp.Header), resp.Header.Get("X-Amz-Id-2") // moto sends no x-amz-id-2
	c.sourceIP = clientIP(req)
	if w.event == s3EventPut { // S3 puts the others' ETag in the XML body (moto also in a header for a copy)
		c.etag = strings.Trim(resp.Header.Get("ETag"), `"`)
	}
	principal := "AWS:" + accessKeyID(req)
	h.async.add()
	go func() {
		defer h.async.done()
		if c.size < 0 || c.etag == "" {
			if err := h.headObject(&c); err != nil {
				h.log.Error("S3 event not raised: object not found after its creation", "bucket", w.bucket, "event", w.event, "error", err)
				return
			}
		}
		h.raiseS3(c, triggers, principal, bus)
	}()
}

// observeDelete puts S3's Object Deleted event on the bus for a DeleteObject moto accepted:
// deleting a version, or in an unversioned bucket, deletes for good; else S3 creates a delete
// marker (x-amz-delete-marker: true), whose version the event names.
func (h *Host) observeDelete(bucket, key, version string, req *http.Request, resp *http.Response) {
	c := h.newS3Change(bucket, key)
	c.requestID, c.sourceIP = requestIDOf(resp.Header), clientIP(req)
	c.deletionType, c.versionID = deletionPermanent, version
	if version == "" && resp.Header.Get("X-Amz-Delete-Marker") == "true" {
		c.deletionType, c.versionID = deletionMarker, resp.Header.Get("X-Amz-Version-Id")
	}
	h.raiseS3(c, nil, "", true)
}

// headObject completes a change with the object's size and ETag, as moto has them.
func (h *Host) headObject(c *s3Change) error {
	if h.s3 == nil {
		return errors.New("no MotoURL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in := &s3.HeadObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(c.key)}
	if v := versionID(c.versionID); v != "" {
		in.VersionId = aws.String(v)
	}
	out, err := h.s3.HeadObject(ctx, in)
	if err != nil {
		return err
	}
	c.size = aws.ToInt64(out.ContentLength)
	c.etag = strings.Trim(aws.ToString(out.ETag), `"`)
	return nil
}

// versionID is an object's version from x-amz-version-id: moto answers "null" for a
// CompleteMultipartUpload in an unversioned bucket, where S3 sends no header (and an event has no
// versionId).
func versionID(h string) string {
	if h == "null" {
		return ""
	}
	return h
}

// accessKeyID is the access key a request is signed (or pre-signed) with.
func accessKeyID(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if _, after, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		cred, _, _ = strings.Cut(after, ",")
	}
	id, _, _ := strings.Cut(cred, "/")
	return id
}

// groupTriggers returns the triggers by bucket name.
func groupTriggers(trs []*s3Trigger) map[string][]*s3Trigger {
	out := map[string][]*s3Trigger{}
	for _, tr := range trs {
		out[tr.bucket] = append(out[tr.bucket], tr)
	}
	for _, l := range out {
		sort.SliceStable(l, func(i, j int) bool { return l[i].fn.id < l[j].fn.id })
	}
	return out
}

// items returns a sequence node's items (nil for anything else).
func items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}
