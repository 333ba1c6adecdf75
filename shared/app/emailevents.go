package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// Bounces and complaints of members' ordinary e-mail. Every e-mail to a member is recorded
// under the message id SES gave it (which member, which address); SES's events name that id,
// so an event finds its member without anything identifying in the message. A permanent
// bounce or a complaint marks the member's address; nothing more is sent to it until the Order
// corrects it; the Order hears of it in one PEC a day.

// SentMail is which member a message went to.
type SentMail struct {
	OrderID, MemberKey, To string
	At                     time.Time
}

// EmailProblemReport is a member's e-mail problem waiting for the Order's digest.
type EmailProblemReport struct {
	OrderID, MemberKey string
	Kind               domain.EmailProblemKind
	Address            string
	At                 time.Time
	Key                string // the store's, for MarkReported
}

// EmailEventStore is what the e-mail events need from persistence.
type EmailEventStore interface {
	OrderReader
	MailboxUpdater
	GetMember(ctx context.Context, orderID string, cf domain.CodiceFiscale) (*domain.Member, error)
	GetMailbox(ctx context.Context, id string) (*domain.Mailbox, error)
	GetRequest(ctx context.Context, id string) (*domain.Request, error)
	UpdateMember(ctx context.Context, orderID string, cf domain.CodiceFiscale, audit Audit, change func(*domain.Member) (bool, error)) (*domain.Member, error)
	PutSentMail(ctx context.Context, messageID string, s SentMail) error
	// SentMail fails with domain.ErrNotFound for a message id it does not know.
	SentMail(ctx context.Context, messageID string) (*SentMail, error)
	// PutEmailProblem records a problem for the digest once: false when it was recorded already.
	PutEmailProblem(ctx context.Context, p EmailProblemReport) (bool, error)
	UnreportedProblems(ctx context.Context, orderID string) ([]EmailProblemReport, error)
	MarkReported(ctx context.Context, orderID string, keys []string, day string) error
	ListOrders(ctx context.Context) ([]*domain.Order, error)
}

// TrackedMail sends members' e-mails through Next: it withholds a message to an address that
// bounced or complained, and records which member each message went to.
type TrackedMail struct {
	Next  Mailer
	Store EmailEventStore
	Log   *slog.Logger
	Now   func() time.Time
}

// Send implements Mailer. A withheld message is not an error: the caller's flow goes on (an
// activation reminder waits its turn, and the Order learns of the address from the digest).
func (t *TrackedMail) Send(ctx context.Context, to string, msg notice.Message) (string, error) {
	if msg.MemberKey != "" {
		m, err := t.Store.GetMember(ctx, msg.OrderID, domain.CodiceFiscale(msg.MemberKey))
		if err == nil && m.EmailProblem != nil && strings.EqualFold(m.EmailProblem.Address, to) {
			t.Log.InfoContext(ctx, "member e-mail withheld: the address bounced or complained", "order", msg.OrderID, "problem", string(m.EmailProblem.Kind))
			return "", nil
		}
	}
	// An e-mail about a mailbox or a request is tagged with its id (SES hands the tags back in
	// its events); only one about neither is recorded under its message id.
	switch {
	case msg.MailboxID != "":
		msg.Tags = map[string]string{TagMailbox: msg.MailboxID}
	case msg.RequestID != "":
		msg.Tags = map[string]string{TagRequest: msg.RequestID}
	}
	id, err := t.Next.Send(ctx, to, msg)
	if err != nil || id == "" || msg.MemberKey == "" || msg.Tags != nil {
		return id, err
	}
	if err := t.Store.PutSentMail(ctx, id, SentMail{OrderID: msg.OrderID, MemberKey: msg.MemberKey, To: strings.ToLower(to), At: utcNow(t.Now)}); err != nil {
		// The message went: failing would send it again. A bounce of it will find no member.
		t.Log.WarnContext(ctx, "sent member e-mail not recorded", "order", msg.OrderID, "error", err)
	}
	return id, nil
}

// The SES tags of members' e-mails: the mailbox or the request the message is about.
const (
	TagMailbox = "mailbox"
	TagRequest = "request"
)

// EmailEvent is a bounce or a complaint as SES reports it.
type EmailEvent struct {
	MessageID  string
	Tags       map[string][]string     // the message's tags, as SES reports them
	Kind       domain.EmailProblemKind // bounced or complained
	Permanent  bool                    // a bounce's type: only a permanent one marks the address
	Recipients []string
	At         time.Time
}

// EmailEvents applies SES's events and sends the Orders' digests.
type EmailEvents struct {
	Store     EmailEventStore
	OrderMail Mailer
	Metrics   Metrics // counts the addresses marked as bounced
	Log       *slog.Logger
	Now       func() time.Time
}

// Apply marks the member's address when the event is a permanent bounce or a complaint of a
// message the platform sent them to the address they still have. A duplicate event, a
// transient bounce, an unknown message or an address corrected since change nothing.
func (e *EmailEvents) Apply(ctx context.Context, ev EmailEvent) error {
	if ev.Kind == domain.EmailBounced && !ev.Permanent {
		return nil // SES goes on trying; a soft bounce says nothing of the address
	}
	sent, err := e.sentMail(ctx, ev)
	if errors.Is(err, domain.ErrNotFound) {
		e.Log.InfoContext(ctx, "e-mail event of a message not sent to a member: ignored", "kind", string(ev.Kind))
		return nil
	}
	if err != nil {
		return err
	}
	hit := false
	for _, r := range ev.Recipients {
		if sent.To == "" || strings.EqualFold(r, sent.To) {
			hit, sent.To = true, strings.ToLower(r)
			break
		}
	}
	if !hit {
		return nil
	}
	at := ev.At
	if at.IsZero() {
		at = utcNow(e.Now)
	}
	marked := false
	m, err := e.Store.UpdateMember(ctx, sent.OrderID, domain.CodiceFiscale(sent.MemberKey), Audit{"ses", "member.email_" + string(ev.Kind)},
		func(m *domain.Member) (bool, error) {
			if !strings.EqualFold(m.Email, sent.To) {
				return false, nil // corrected since
			}
			if m.EmailProblem != nil && (m.EmailProblem.Kind == ev.Kind || m.EmailProblem.Kind == domain.EmailComplained) {
				return false, nil // known already (a complaint weighs more than a bounce)
			}
			m.EmailProblem = &domain.EmailProblem{Kind: ev.Kind, Address: sent.To, At: at}
			marked = true
			return true, nil
		})
	if errors.Is(err, domain.ErrMemberNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if m.EmailProblem == nil || !strings.EqualFold(m.EmailProblem.Address, sent.To) {
		return nil
	}
	if marked && ev.Kind == domain.EmailBounced {
		count(ctx, e.Metrics, MetricBounces, 1, Dimension{})
	}
	if m.MailboxID != "" {
		kind := m.EmailProblem.Kind
		if _, _, err := e.Store.UpdateMailbox(ctx, m.MailboxID, func(mb *domain.Mailbox) (bool, error) {
			if mb.MemberEmail == kind {
				return false, nil
			}
			mb.MemberEmail = kind
			return true, nil
		}); err != nil {
			return err
		}
	}
	_, err = e.Store.PutEmailProblem(ctx, EmailProblemReport{OrderID: sent.OrderID, MemberKey: sent.MemberKey,
		Kind: m.EmailProblem.Kind, Address: sent.To, At: at})
	return err
}

// sentMail finds whom the message went to: by its tag (the mailbox's or the request's member;
// the address is the event's recipient, checked against the member's), else by its record.
func (e *EmailEvents) sentMail(ctx context.Context, ev EmailEvent) (*SentMail, error) {
	if ids := ev.Tags[TagMailbox]; len(ids) == 1 {
		mb, err := e.Store.GetMailbox(ctx, ids[0])
		if err != nil {
			return nil, err
		}
		return &SentMail{OrderID: mb.OrderID, MemberKey: mb.MemberKey}, nil
	}
	if ids := ev.Tags[TagRequest]; len(ids) == 1 {
		r, err := e.Store.GetRequest(ctx, ids[0])
		if err != nil {
			return nil, err
		}
		return &SentMail{OrderID: r.OrderID, MemberKey: r.MemberKey}, nil
	}
	return e.Store.SentMail(ctx, ev.MessageID)
}

// DigestResult counts a digest run.
type DigestResult struct {
	Orders   int `json:"orders"`   // Orders told
	Problems int `json:"problems"` // problems reported
	Failed   int `json:"failed"`   // Orders whose PEC failed (tried again at the next run)
}

// Digest sends each Order with problems not yet reported one PEC listing them, then marks them
// reported: a second run the same day sends nothing; a run after a failed send tries again.
func (e *EmailEvents) Digest(ctx context.Context) (DigestResult, error) {
	var res DigestResult
	orders, err := e.Store.ListOrders(ctx)
	if err != nil {
		return res, err
	}
	day := domain.Today(utcNow(e.Now)).Format(time.DateOnly)
	var errs []error
	for _, o := range orders {
		n, err := e.digestOf(ctx, o, day)
		switch {
		case err != nil:
			res.Failed++
			errs = append(errs, err)
			e.Log.ErrorContext(ctx, "e-mail problems digest not sent", "order", o.ID, "error", err)
		case n > 0:
			res.Orders++
			res.Problems += n
		}
	}
	return res, errors.Join(errs...)
}

func (e *EmailEvents) digestOf(ctx context.Context, o *domain.Order, day string) (int, error) {
	problems, err := e.Store.UnreportedProblems(ctx, o.ID)
	if err != nil || len(problems) == 0 {
		return 0, err
	}
	var lines []notice.EmailProblem
	keys := make([]string, 0, len(problems))
	for _, p := range problems {
		keys = append(keys, p.Key)
		m, err := e.Store.GetMember(ctx, o.ID, domain.CodiceFiscale(p.MemberKey))
		if errors.Is(err, domain.ErrMemberNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		lines = append(lines, notice.EmailProblem{Nome: m.Nome, Cognome: m.Cognome, NumeroIscrizione: m.NumeroIscrizione,
			Email: p.Address, Complaint: p.Kind == domain.EmailComplained})
	}
	if len(lines) > 0 {
		msg, err := notice.EmailProblemsDigest(o.Name, lines)
		if err != nil {
			return 0, err
		}
		msg.IDKey = "emailproblems." + o.ID + "." + day
		if _, err := e.OrderMail.Send(ctx, o.PEC, msg); err != nil {
			return 0, err
		}
	}
	return len(lines), e.Store.MarkReported(ctx, o.ID, keys, day)
}
