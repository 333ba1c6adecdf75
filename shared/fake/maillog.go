package fake

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/notice"
)

// MailLog is an app.Mailer that keeps every message it is given instead of sending it.
type MailLog struct {
	Faults
	mu   sync.Mutex
	sent []LoggedMail
}

// LoggedMail is one message a MailLog kept.
type LoggedMail struct {
	To      string
	Message notice.Message
}

var _ app.Mailer = (*MailLog)(nil)

// Send implements app.Mailer; a failed send keeps nothing.
func (l *MailLog) Send(_ context.Context, to string, m notice.Message) (string, error) {
	if err := l.check("Send"); err != nil {
		return "", err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, LoggedMail{To: to, Message: m})
	return fmt.Sprintf("message-%d", len(l.sent)), nil
}

// Sent returns the messages sent, oldest first.
func (l *MailLog) Sent() []LoggedMail {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.sent)
}

// Starter is an app.MailboxStarter that records the lifecycles started. Like Step Functions
// with a named execution, starting a mailbox again starts nothing new.
type Starter struct {
	Faults
	mu      sync.Mutex
	started []string
	calls   int
}

var _ app.MailboxStarter = (*Starter)(nil)

// StartMailbox implements app.MailboxStarter.
func (s *Starter) StartMailbox(_ context.Context, mailboxID, _ string) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	if err := s.check("StartMailbox"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.started, mailboxID) {
		s.started = append(s.started, mailboxID)
	}
	return nil
}

// Started returns the mailboxes whose lifecycle started, in order, each once.
func (s *Starter) Started() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.started)
}

// Calls counts the calls of StartMailbox, failed and repeated ones included.
func (s *Starter) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}
