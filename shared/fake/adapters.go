package fake

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/notice"
)

var (
	_ app.Workflow      = (*Workflow)(nil)
	_ app.Mailer        = (*Mailer)(nil)
	_ app.Provider      = (*Provider)(nil)
	_ app.DocumentLinks = (*DocumentLinks)(nil)
)

// Workflow is an in-memory app.Workflow that records what the use cases asked of Step
// Functions. Like Step Functions, it starts a named execution once however often it is asked,
// and a parked step's token works once: a token resumed or failed before, or marked Gone, is
// a step that no longer waits (not an error; ResumeOrGone reports it). A call that fails
// through Faults is not recorded. The zero value is ready to use.
type Workflow struct {
	// Faults: "StartBatch", "StartMailbox", "Resume", "ResumeOrGone", "Fail". Workflow's own
	// Fail hides the promoted one: inject with w.Faults.Fail.
	Faults

	mu        sync.Mutex
	started   map[string]bool // execution names
	batches   []string
	mailboxes []MailboxStart
	signals   []Signal
	gone      map[string]bool
}

// MailboxStart is a mailbox execution started.
type MailboxStart struct{ MailboxID, BatchID string }

// Signal is a call to Resume, ResumeOrGone or Fail.
type Signal struct {
	Token string
	Error string // the error name Fail gave; "" for a resumption
	Cause string
	Gone  bool // the step no longer waited
}

// StartBatch implements app.Workflow.
func (w *Workflow) StartBatch(_ context.Context, batchID string) error {
	if err := w.check("StartBatch"); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.start("batch-" + batchID) {
		w.batches = append(w.batches, batchID)
	}
	return nil
}

// StartMailbox implements app.Workflow.
func (w *Workflow) StartMailbox(_ context.Context, mailboxID, batchID string) error {
	if err := w.check("StartMailbox"); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.start("mailbox-" + mailboxID) {
		w.mailboxes = append(w.mailboxes, MailboxStart{mailboxID, batchID})
	}
	return nil
}

// start reports whether the execution is new; the caller holds the lock.
func (w *Workflow) start(name string) bool {
	if w.started[name] {
		return false
	}
	if w.started == nil {
		w.started = map[string]bool{}
	}
	w.started[name] = true
	return true
}

// Resume implements app.Workflow.
func (w *Workflow) Resume(_ context.Context, token string) error {
	if err := w.check("Resume"); err != nil {
		return err
	}
	w.signal(Signal{Token: token})
	return nil
}

// ResumeOrGone implements app.Workflow.
func (w *Workflow) ResumeOrGone(_ context.Context, token string) (bool, error) {
	if err := w.check("ResumeOrGone"); err != nil {
		return false, err
	}
	return w.signal(Signal{Token: token}), nil
}

// Fail implements app.Workflow.
func (w *Workflow) Fail(_ context.Context, token, errorName, cause string) error {
	if err := w.check("Fail"); err != nil {
		return err
	}
	w.signal(Signal{Token: token, Error: errorName, Cause: cause})
	return nil
}

// FailOrGone implements app.Workflow.
func (w *Workflow) FailOrGone(_ context.Context, token, errorName, cause string) (bool, error) {
	if err := w.check("FailOrGone"); err != nil {
		return false, err
	}
	return w.signal(Signal{Token: token, Error: errorName, Cause: cause}), nil
}

// signal records the call and reports whether its step was already gone; the step is gone
// after it.
func (w *Workflow) signal(s Signal) (gone bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gone == nil {
		w.gone = map[string]bool{}
	}
	s.Gone = w.gone[s.Token]
	w.gone[s.Token] = true
	w.signals = append(w.signals, s)
	return s.Gone
}

// Gone makes the step parked with token no longer wait, as when it timed out or its execution
// ended.
func (w *Workflow) Gone(token string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gone == nil {
		w.gone = map[string]bool{}
	}
	w.gone[token] = true
}

// StartedBatches returns the batch executions started, in order, once each.
func (w *Workflow) StartedBatches() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.batches)
}

// StartedMailboxes returns the mailbox executions started, in order, once each.
func (w *Workflow) StartedMailboxes() []MailboxStart {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.mailboxes)
}

// Signals returns every Resume, ResumeOrGone and Fail call, in order.
func (w *Workflow) Signals() []Signal {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.signals)
}

// Resumed returns the tokens of every Resume and ResumeOrGone call, in order.
func (w *Workflow) Resumed() []string {
	var out []string
	for _, s := range w.Signals() {
		if s.Error == "" {
			out = append(out, s.Token)
		}
	}
	return out
}

// Failed returns every Fail call, in order.
func (w *Workflow) Failed() []Signal {
	var out []Signal
	for _, s := range w.Signals() {
		if s.Error != "" {
			out = append(out, s)
		}
	}
	return out
}

// Mailer is an in-memory app.Mailer that records every message it delivers. A send that fails
// through Faults delivers nothing. The zero value is ready to use.
type Mailer struct {
	Faults // "Send"

	mu   sync.Mutex
	sent []Mail
}

// Mail is a message delivered.
type Mail struct {
	To, Subject, Text, HTML string
	Attachments             []notice.Attachment
	IDKey                   string // the message's deterministic Message-ID key, if it has one
}

// Send implements app.Mailer.
func (m *Mailer) Send(_ context.Context, to string, msg notice.Message) (string, error) {
	if err := m.check("Send"); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, Mail{To: to, Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML,
		Attachments: slices.Clone(msg.Attachments), IDKey: msg.IDKey})
	if msg.IDKey != "" {
		return "<" + msg.IDKey + "@fake>", nil
	}
	return fmt.Sprintf("fake-message-%d", len(m.sent)), nil
}

// Sent returns the messages delivered, in order.
func (m *Mailer) Sent() []Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sent)
}

// Errors a fake Provider returns: ErrRefused for a request refused for good (it wraps
// app.ErrProviderRefused, as the real adapter's refusals do), ErrUnavailable for a provider
// that cannot be reached (inject it through Faults).
var (
	ErrRefused     = fmt.Errorf("fake provider: refused: %w", app.ErrProviderRefused)
	ErrUnavailable = errors.New("fake provider: unavailable")
)

// Provider is an in-memory app.Provider that records what it was asked. Like the real
// provider, it deduplicates: a submission on its RequestID (the same reference again), a
// deactivation on the request, a renewal on (RenewalID, RequestID). Refuse makes it refuse a
// request for good; Faults make any call fail (ErrUnavailable, say). The zero value is ready
// to use.
type Provider struct {
	Faults // "Submit", "Deactivate", "Renew"

	mu          sync.Mutex
	refused     map[string]bool
	calls       map[string]int
	submitted   []app.SubmitRequest
	refs        map[string]string
	deactivated []Deactivation
	renewed     []app.RenewRequest
	statuses    map[string]app.ProviderStatus // by address
	outside     map[string]bool               // addresses taken at the provider outside the platform
}

// Deactivation is a mailbox the provider was asked to close.
type Deactivation struct {
	RequestID, Address, Reason string
}

// Refuse makes every later call about the request (our mailbox id) fail with ErrRefused.
func (p *Provider) Refuse(requestID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refused == nil {
		p.refused = map[string]bool{}
	}
	p.refused[requestID] = true
}

// call counts a call that passed Faults and reports whether the request is refused; the caller
// holds the lock.
func (p *Provider) call(method, requestID string) error {
	if p.calls == nil {
		p.calls, p.refs = map[string]int{}, map[string]string{}
	}
	p.calls[method]++
	if p.refused[requestID] {
		return ErrRefused
	}
	return nil
}

// Submit implements app.Provider; the reference is "ref-" and the request id.
func (p *Provider) Submit(_ context.Context, r app.SubmitRequest) (string, error) {
	if err := p.check("Submit"); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.call("Submit", r.RequestID); err != nil {
		return "", err
	}
	if ref, ok := p.refs[r.RequestID]; ok {
		return ref, nil
	}
	r.Documents = slices.Clone(r.Documents)
	p.submitted = append(p.submitted, r)
	p.refs[r.RequestID] = "ref-" + r.RequestID
	return p.refs[r.RequestID], nil
}

// Deactivate implements app.Provider.
func (p *Provider) Deactivate(_ context.Context, mb app.ProviderMailbox, reason string) error {
	requestID, address := mb.RequestID, mb.Address
	if err := p.check("Deactivate"); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.call("Deactivate", requestID); err != nil {
		return err
	}
	if !slices.ContainsFunc(p.deactivated, func(d Deactivation) bool { return d.RequestID == requestID }) {
		p.deactivated = append(p.deactivated, Deactivation{requestID, address, reason})
	}
	return nil
}

// Renew implements app.Provider.
func (p *Provider) Renew(_ context.Context, r app.RenewRequest) error {
	if err := p.check("Renew"); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.call("Renew", r.RequestID); err != nil {
		return err
	}
	if !slices.ContainsFunc(p.renewed, func(o app.RenewRequest) bool { return o.RenewalID == r.RenewalID && o.RequestID == r.RequestID }) {
		p.renewed = append(p.renewed, r)
	}
	return nil
}

// Calls returns how often method was called, repeats and refusals included (not the calls that
// failed through Faults).
func (p *Provider) Calls(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[method]
}

// Submitted returns the mailboxes submitted, once each, as first submitted.
func (p *Provider) Submitted() []app.SubmitRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.submitted)
}

// Deactivated returns the mailboxes the provider was asked to close, once each.
func (p *Provider) Deactivated() []Deactivation {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.deactivated)
}

// Renewed returns the renewals asked for, once each.
func (p *Provider) Renewed() []app.RenewRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.renewed)
}

// DocumentLinks is an app.DocumentLinks whose links are deterministic:
// https://documents.example.test/<key>?expires=<ttl in seconds>.
type DocumentLinks struct {
	Faults // "PresignGet"
}

// PresignGet implements app.DocumentLinks.
func (d *DocumentLinks) PresignGet(_ context.Context, key string, ttl time.Duration) (string, error) {
	if err := d.check("PresignGet"); err != nil {
		return "", err
	}
	return "https://documents.example.test/" + (&url.URL{Path: key}).EscapedPath() + "?expires=" + strconv.Itoa(int(ttl/time.Second)), nil
}

// Signing is an app.ProviderActivationDocuments: a form per mailbox, and what was sent.
type Signing struct {
	Faults
	mu   sync.Mutex
	sent map[string]int // provider ref -> documents sent
}

var _ app.ProviderActivationDocuments = (*Signing)(nil)

// ActivationForm implements app.ProviderActivationDocuments.
func (g *Signing) ActivationForm(_ context.Context, mb app.ProviderMailbox) ([]byte, error) {
	if err := g.check("ActivationForm"); err != nil {
		return nil, err
	}
	return []byte("%PDF-1.4\n% modulo " + mb.Address + "\n%%EOF\n"), nil
}

// SendActivationDocuments implements app.ProviderActivationDocuments.
func (g *Signing) SendActivationDocuments(_ context.Context, mb app.ProviderMailbox, _, _ []byte, _ string) error {
	if err := g.check("SendActivationDocuments"); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sent == nil {
		g.sent = map[string]int{}
	}
	g.sent[mb.ProviderRef]++
	return nil
}

// Sent counts the documents sent for the provider reference.
func (g *Signing) Sent(ref string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sent[ref]
}
