package lambdahost

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"
)

// S3's events on EventBridge are shaped as the S3 User Guide's examples ("EventBridge event
// message structure"): the same fields, in the same order, the key URL-encoded as in S3's
// notifications.
func TestBusEvent_IsShapedAsS3Documents(t *testing.T) {
	h := &Host{region: "eu-south-1"}
	at := time.Date(2026, 5, 4, 10, 11, 12, 345e6, time.UTC)
	created := s3Change{bucket: "pec-local-documentsbucket", key: "uploads/2026 05/modulo+firmato.pdf", event: s3EventPost,
		size: 5, etag: "b1946ac92492d2347c6235b4d2611184", versionID: "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
		sequencer: "00000000000000A1", requestID: "N4N7GDK58NMKJ12R", sourceIP: "1.2.3.4", at: at}
	unversioned := created
	unversioned.event, unversioned.versionID = s3EventComplete, "null" // moto's answer for an unversioned bucket
	marker := s3Change{bucket: "pec-local-documentsbucket", key: "uploads/a.pdf", deletionType: deletionMarker, size: -1,
		versionID: "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF", sequencer: "00000000000000A2", requestID: "0BH729840619AG5K", sourceIP: "1.2.3.4", at: at}
	const envelope = `{"version":"0","id":"ID","detail-type":"%s","source":"aws.s3","account":"123456789012","time":"2026-05-04T10:11:12Z",` +
		`"region":"eu-south-1","resources":["arn:aws:s3:::pec-local-documentsbucket"],"detail":%s}`
	for _, c := range []struct {
		name   string
		change s3Change
		want   string
	}{
		{"POST Object", created, `{"version":"0","event":"Object Created","detail":{"version":"0","bucket":{"name":"pec-local-documentsbucket"},` +
			`"object":{"key":"uploads/2026+05/modulo%2Bfirmato.pdf","size":5,"etag":"b1946ac92492d2347c6235b4d2611184",` +
			`"version-id":"IYV3p45BT0ac8hjHg1houSdS1a.Mro8e","sequencer":"00000000000000A1"},` +
			`"request-id":"N4N7GDK58NMKJ12R","requester":"123456789012","source-ip-address":"1.2.3.4","reason":"PostObject"}}`},
		{"unversioned", unversioned, `{"version":"0","event":"Object Created","detail":{"version":"0","bucket":{"name":"pec-local-documentsbucket"},` +
			`"object":{"key":"uploads/2026+05/modulo%2Bfirmato.pdf","size":5,"etag":"b1946ac92492d2347c6235b4d2611184",` +
			`"sequencer":"00000000000000A1"},` +
			`"request-id":"N4N7GDK58NMKJ12R","requester":"123456789012","source-ip-address":"1.2.3.4","reason":"CompleteMultipartUpload"}}`},
		{"delete marker", marker, `{"version":"0","event":"Object Deleted","detail":{"version":"0","bucket":{"name":"pec-local-documentsbucket"},` +
			`"object":{"key":"uploads/a.pdf","version-id":"1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF","sequencer":"00000000000000A2"},` +
			`"request-id":"0BH729840619AG5K","requester":"123456789012","source-ip-address":"1.2.3.4","reason":"DeleteObject",` +
			`"deletion-type":"Delete Marker Created"}}`},
	} {
		ev := h.busEvent(c.change)
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(ev.ID) {
			t.Errorf("%s: id %q", c.name, ev.ID)
		}
		ev.ID = "ID"
		got, _ := json.Marshal(ev)
		var want struct {
			Event  string          `json:"event"`
			Detail json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal([]byte(c.want), &want); err != nil {
			t.Fatal(err)
		}
		if w := []byte(fmt.Sprintf(envelope, want.Event, want.Detail)); string(got) != string(w) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, w)
		}
	}
}

func TestObjectDelete(t *testing.T) {
	for _, c := range []struct {
		method, target       string
		bucket, key, version string
		ok                   bool
	}{
		{"DELETE", "/b/uploads/a%20b.pdf", "b", "uploads/a b.pdf", "", true},
		{"DELETE", "/b/k?x-id=DeleteObject", "b", "k", "", true},
		{"DELETE", "/b/k?versionId=v1&x-id=DeleteObject", "b", "k", "v1", true},
		{"DELETE", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=x", "b", "k", "", true},
		{"DELETE", "/b/k?uploadId=u&x-id=AbortMultipartUpload", "", "", "", false},
		{"DELETE", "/b/k?tagging", "", "", "", false},
		{"DELETE", "/b", "", "", "", false},
		{"DELETE", "/b/", "", "", "", false},
		{"PUT", "/b/k", "", "", "", false},
	} {
		b, k, v, ok := objectDelete(httptest.NewRequest(c.method, c.target, nil))
		if b != c.bucket || k != c.key || v != c.version || ok != c.ok {
			t.Errorf("%s %s: %q %q %q %v", c.method, c.target, b, k, v, ok)
		}
	}
}

func TestBuildBucket_EventBridgeEnabled(t *testing.T) {
	h := &Host{region: "eu-south-1", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h.tpl = loadInline(t, `
Parameters:
  OnBus: {Type: String, Default: "false"}
Resources:
  On: {Type: AWS::S3::Bucket, Properties: {NotificationConfiguration: {EventBridgeConfiguration: {EventBridgeEnabled: true}}}}
  Param: {Type: AWS::S3::Bucket, Properties: {NotificationConfiguration: {EventBridgeConfiguration: {EventBridgeEnabled: !Ref OnBus}}}}
  Off: {Type: AWS::S3::Bucket, Properties: {NotificationConfiguration: {EventBridgeConfiguration: {EventBridgeEnabled: false}}}}
  Plain: {Type: AWS::S3::Bucket}
  Bad: {Type: AWS::S3::Bucket, Properties: {NotificationConfiguration: {EventBridgeConfiguration: {EventBridgeEnabled: maybe}}}}
`, nil)
	for id, want := range map[string]bool{"On": true, "Param": false, "Off": false, "Plain": false} {
		b, err := h.buildBucket(h.tpl.resources[id])
		if err != nil || b.eventBridge != want {
			t.Errorf("%s: eventBridge %v, %v", id, b != nil && b.eventBridge, err)
		}
	}
	if _, err := h.buildBucket(h.tpl.resources["Bad"]); err == nil {
		t.Error("EventBridgeEnabled: maybe accepted")
	}
	h.tpl = loadInline(t, `
Parameters:
  OnBus: {Type: String, Default: "true"}
Resources:
  Param: {Type: AWS::S3::Bucket, Properties: {NotificationConfiguration: {EventBridgeConfiguration: {EventBridgeEnabled: !Ref OnBus}}}}
`, nil)
	if b, err := h.buildBucket(h.tpl.resources["Param"]); err != nil || !b.eventBridge {
		t.Errorf("from a parameter: %+v %v", b, err)
	}
}
