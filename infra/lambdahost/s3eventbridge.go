package lambdahost

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// S3's events on EventBridge, locally. A bucket whose NotificationConfiguration has
// EventBridgeConfiguration.EventBridgeEnabled: true sends its objects' creations and deletions
// to the default event bus, shaped as the Amazon S3 User Guide documents them ("EventBridge
// event message structure"). The host raises them for what it sees: the PutObject,
// CopyObject, CompleteMultipartUpload and DeleteObject calls it forwards to moto, and the
// browsers' POST Object it serves; the functions' rules take them (see eventbridge.go).
// Lifecycle expirations, DeleteObjects (the batch), restores, tagging and ACL changes raise
// nothing locally.

// S3's detail-types and deletion types.
const (
	detailObjectCreated = "Object Created"
	detailObjectDeleted = "Object Deleted"
	deletionPermanent   = "Permanently Deleted"
	deletionMarker      = "Delete Marker Created"
	reasonDelete        = "DeleteObject"
)

// s3Reasons are the EventBridge events' reasons of the notifications' event names.
var s3Reasons = map[string]string{
	s3EventPut:      "PutObject",
	s3EventPost:     "PostObject",
	s3EventCopy:     "CopyObject",
	s3EventComplete: "CompleteMultipartUpload",
}

// s3BusEvent is S3's event on EventBridge.
type s3BusEvent struct {
	Version    string      `json:"version"`
	ID         string      `json:"id"`
	DetailType string      `json:"detail-type"`
	Source     string      `json:"source"`
	Account    string      `json:"account"`
	Time       string      `json:"time"`
	Region     string      `json:"region"`
	Resources  []string    `json:"resources"`
	Detail     s3BusDetail `json:"detail"`
}

type s3BusDetail struct {
	Version string `json:"version"`
	Bucket  struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object          s3BusObject `json:"object"`
	RequestID       string      `json:"request-id"`
	Requester       string      `json:"requester"`
	SourceIPAddress string      `json:"source-ip-address,omitempty"`
	Reason          string      `json:"reason"`
	DeletionType    string      `json:"deletion-type,omitempty"`
}

type s3BusObject struct {
	Key       string `json:"key"`                  // URL-encoded as in notifications
	Size      *int64 `json:"size,omitempty"`       // not for a deletion
	ETag      string `json:"etag,omitempty"`       // not for a deletion
	VersionID string `json:"version-id,omitempty"` // only in a versioned bucket
	Sequencer string `json:"sequencer"`
}

// s3Change is an object's creation or deletion the host saw, with what its events tell.
type s3Change struct {
	bucket, key  string
	event        string // the notification's event name (s3EventPut...), "" for a deletion
	deletionType string // for a deletion
	size         int64  // -1 while unknown
	etag         string
	versionID    string
	sequencer    string
	requestID    string
	hostID       string // x-amz-id-2, when the emulator sends one
	sourceIP     string
	at           time.Time
}

// newS3Change starts a change: its sequencer is drawn now, so that the events of successive
// changes are ordered as S3 orders them.
func (h *Host) newS3Change(bucket, key string) s3Change {
	return s3Change{bucket: bucket, key: key, size: -1, at: time.Now().UTC(), sequencer: fmt.Sprintf("%016X", h.s3Seq.Add(1))}
}

// busEvent is the change as S3 puts it on EventBridge.
func (h *Host) busEvent(c s3Change) s3BusEvent {
	ev := s3BusEvent{Version: "0", ID: newUUID(), DetailType: detailObjectCreated, Source: sourceS3, Account: AccountID,
		Time: c.at.Format(time.RFC3339), Region: h.region, Resources: []string{"arn:aws:s3:::" + c.bucket}}
	d := &ev.Detail
	d.Version = "0"
	d.Bucket.Name = c.bucket
	d.Object = s3BusObject{Key: eventKey(c.key), VersionID: versionID(c.versionID), Sequencer: c.sequencer}
	d.RequestID, d.Requester, d.SourceIPAddress = c.requestID, AccountID, c.sourceIP
	if c.event == "" {
		ev.DetailType, d.Reason, d.DeletionType = detailObjectDeleted, reasonDelete, c.deletionType
		return ev
	}
	size := c.size
	d.Object.Size, d.Object.ETag, d.Reason = &size, c.etag, s3Reasons[c.event]
	return ev
}

// notification is the change as a record of S3's event notifications (SAM's S3 events).
func (h *Host) notification(c s3Change, principal string) events.S3EventRecord {
	rec := events.S3EventRecord{EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: h.region,
		EventTime: c.at.Truncate(time.Millisecond), EventName: c.event,
		PrincipalID: events.S3UserIdentity{PrincipalID: principal}, ResponseElements: map[string]string{},
		S3: events.S3Entity{SchemaVersion: "1.0",
			Bucket: events.S3Bucket{Name: c.bucket, Arn: "arn:aws:s3:::" + c.bucket, OwnerIdentity: events.S3UserIdentity{PrincipalID: AccountID}},
			Object: events.S3Object{Key: eventKey(c.key), Size: c.size, ETag: c.etag, VersionID: versionID(c.versionID), Sequencer: c.sequencer}}}
	rec.RequestParameters.SourceIPAddress = c.sourceIP
	if c.requestID != "" {
		rec.ResponseElements["x-amz-request-id"] = c.requestID
	}
	if c.hostID != "" {
		rec.ResponseElements["x-amz-id-2"] = c.hostID
	}
	return rec
}

// raiseS3 raises a change's events: the triggers' notifications (each its own invocation) and,
// for a bucket that sends its events to EventBridge, the event on the bus. Every invocation is
// asynchronous and counted before raiseS3 returns.
func (h *Host) raiseS3(c s3Change, triggers []*s3Trigger, principal string, bus bool) {
	if len(triggers) > 0 {
		rec := h.notification(c, principal)
		for _, tr := range triggers {
			rec.S3.ConfigurationID = tr.event
			payload, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
			h.invokeAsync(tr.fn, newUUID(), payload, "trigger", "s3", "event", tr.event, "bucket", c.bucket, "s3_event", c.event)
		}
	}
	if bus {
		h.putEvent(h.busEvent(c))
	}
}

// busBucket reports whether S3 would send the bucket's events to EventBridge and a rule may
// take them.
func (h *Host) busBucket(name string) bool {
	for _, b := range h.buckets {
		if b.Name == name {
			return b.eventBridge && h.hasRulesFor(sourceS3)
		}
	}
	return false
}

// anyBusBucket reports whether some bucket's events may reach a rule.
func (h *Host) anyBusBucket() bool {
	for _, b := range h.buckets {
		if b.eventBridge {
			return h.hasRulesFor(sourceS3)
		}
	}
	return false
}

// objectDelete recognises a path-style DeleteObject (DELETE /bucket/key, optionally of one
// version); it returns the version the request names.
func objectDelete(r *http.Request) (bucket, key, version string, ok bool) {
	if r.Method != http.MethodDelete || !strings.HasPrefix(r.URL.Path, "/") {
		return "", "", "", false
	}
	bucket, key, ok = strings.Cut(r.URL.Path[1:], "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", false
	}
	for k, v := range r.URL.Query() {
		switch {
		case strings.HasPrefix(strings.ToLower(k), "x-amz-"):
		case k == "versionId" && len(v) == 1:
			version = v[0]
		case k == "x-id" && len(v) == 1 && v[0] == "DeleteObject":
		default:
			return "", "", "", false // ?uploadId (AbortMultipartUpload), ?tagging...
		}
	}
	return bucket, key, version, true
}

// clientIP is the address of the request's client (kept by ReverseProxy in RemoteAddr).
func clientIP(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return ip
}

// requestIDOf is S3's request ID in an answer: moto sends x-amzn-requestid, S3 x-amz-request-id.
func requestIDOf(hdr http.Header) string {
	for _, name := range []string{"X-Amz-Request-Id", "X-Amzn-Requestid"} {
		if id := hdr.Get(name); id != "" {
			return id
		}
	}
	return ""
}

// newS3RequestID returns an ID shaped like S3's (16 upper-case hexadecimal characters).
func newS3RequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
