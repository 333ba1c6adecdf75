package lambdahost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// SES's event publishing, locally. The host puts on the default event bus (see eventbridge.go),
// as SES's EventBridge destination would, the event SES publishes for a message sent with a
// configuration set to SES's mailbox simulator: a permanent bounce for
// bounce@simulator.amazonses.com, a complaint for complaint@simulator.amazonses.com (the
// simulator's other addresses raise nothing here). The SES stand-in accepts every message; the
// host, which forwards the SendEmail call, sees the recipients and the message id SES answered.

// Simulator addresses and the detail-types of their events.
const (
	simulatorBounce    = "bounce@simulator.amazonses.com"
	simulatorComplaint = "complaint@simulator.amazonses.com"
	detailBounce       = "Email Bounced"
	detailComplaint    = "Email Complaint Received"
)

// sendEmail is what the host reads of a forwarded SES v2 SendEmail call.
type sendEmail struct {
	FromEmailAddress string `json:"FromEmailAddress"`
	Destination      struct {
		ToAddresses, CcAddresses, BccAddresses []string
	} `json:"Destination"`
	ConfigurationSetName string `json:"ConfigurationSetName"`
	EmailTags            []struct{ Name, Value string }
}

// isSendEmail reports whether r is SES v2's SendEmail.
func isSendEmail(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/v2/email/outbound-emails"
}

// sesRecorder keeps the emulator's answer to a SendEmail as it goes to the caller.
type sesRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *sesRecorder) WriteHeader(s int) { r.status = s; r.ResponseWriter.WriteHeader(s) }
func (r *sesRecorder) Write(b []byte) (int, error) {
	if r.body.Len() < 64<<10 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// forwardSES forwards a SendEmail and, when the message goes to the simulator with a
// configuration set, raises SES's event to the functions whose rules take it.
func (h *Host) forwardSES(w http.ResponseWriter, r *http.Request, forward func(http.ResponseWriter, *http.Request)) {
	if !h.hasRulesFor(sourceSES) || !isSendEmail(r) {
		forward(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &sesRecorder{ResponseWriter: w, status: http.StatusOK}
	forward(rec, r)
	var in sendEmail
	var out struct{ MessageId string }
	if rec.status/100 != 2 || json.Unmarshal(body, &in) != nil || json.Unmarshal(rec.body.Bytes(), &out) != nil ||
		in.ConfigurationSetName == "" || out.MessageId == "" {
		return
	}
	to := append(append(slices.Clone(in.Destination.ToAddresses), in.Destination.CcAddresses...), in.Destination.BccAddresses...)
	for _, addr := range to {
		a := strings.ToLower(strings.TrimSpace(addr))
		if i := strings.LastIndex(a, "<"); i >= 0 {
			a = strings.TrimSuffix(a[i+1:], ">")
		}
		switch a {
		case simulatorBounce:
			h.raiseSES(detailBounce, in, out.MessageId, to, a)
		case simulatorComplaint:
			h.raiseSES(detailComplaint, in, out.MessageId, to, a)
		}
	}
}

// raiseSES delivers the event, a second later (SES reports a bounce after the attempt).
func (h *Host) raiseSES(detailType string, in sendEmail, messageID string, destination []string, recipient string) {
	now := time.Now().UTC()
	tags := map[string][]string{"ses:configuration-set": {in.ConfigurationSetName}}
	for _, t := range in.EmailTags {
		tags[t.Name] = append(tags[t.Name], t.Value)
	}
	mail := map[string]any{"timestamp": now.Format(time.RFC3339Nano), "source": in.FromEmailAddress, "sendingAccountId": AccountID,
		"messageId": messageID, "destination": destination, "tags": tags}
	detail := map[string]any{"mail": mail}
	at := now.Add(time.Second).Format(time.RFC3339Nano)
	if detailType == detailBounce {
		detail["eventType"] = "Bounce"
		detail["bounce"] = map[string]any{"feedbackId": newUUID(), "bounceType": "Permanent", "bounceSubType": "General",
			"bouncedRecipients": []map[string]string{{"emailAddress": recipient, "action": "failed", "status": "5.1.1",
				"diagnosticCode": "smtp; 550 5.1.1 user unknown"}},
			"timestamp": at, "reportingMTA": "dns; amazonses.com"}
	} else {
		detail["eventType"] = "Complaint"
		detail["complaint"] = map[string]any{"feedbackId": newUUID(), "complaintFeedbackType": "abuse",
			"complainedRecipients": []map[string]string{{"emailAddress": recipient}}, "timestamp": at}
	}
	ev := map[string]any{"version": "0", "id": newUUID(), "detail-type": detailType, "source": sourceSES, "account": AccountID,
		"time": at, "region": h.region,
		"resources": []string{fmt.Sprintf("arn:aws:ses:%s:%s:configuration-set/%s", h.region, AccountID, in.ConfigurationSetName)},
		"detail":    detail}
	h.async.add()
	go func() {
		defer h.async.done()
		time.Sleep(time.Second)
		h.putEvent(ev)
	}()
}
