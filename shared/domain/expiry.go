package domain

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Rome even where the system has no zoneinfo (Lambda's base image)
)

// DefaultValidityYears is a mailbox's validity when the convention does not say.
const DefaultValidityYears = 3

// ExpiryLookaheadDays is how long before its expiry the expiry run first looks at a mailbox;
// from then on the run schedules the mailbox's reminders exactly. No reminder threshold may
// exceed it, so the reminder settings live only with the expiry run.
const ExpiryLookaheadDays = 365

// DateLayout is how dates are written (api.md: YYYY-MM-DD).
const DateLayout = time.DateOnly

var rome, _ = time.LoadLocation("Europe/Rome")

// Today is the calendar day of t in Italy, as midnight UTC of that date.
func Today(t time.Time) time.Time {
	y, m, d := t.In(rome).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ParseDate reads a YYYY-MM-DD date as midnight UTC.
func ParseDate(s string) (time.Time, error) { return time.Parse(DateLayout, s) }

// FormatDate writes a date as YYYY-MM-DD.
func FormatDate(d time.Time) string { return d.Format(DateLayout) }

// AddYears is the same day and month years later; 29 February becomes 28 February in a common
// year (a validity never runs into the next month).
func AddYears(d time.Time, years int) time.Time {
	y, m, day := d.Date()
	t := time.Date(y+years, m, day, 0, 0, 0, 0, time.UTC)
	if t.Month() != m {
		t = time.Date(y+years, m+1, 0, 0, 0, 0, 0, time.UTC) // the last day of m
	}
	return t
}

// ParseReminderDays reads the reminder thresholds, e.g. "90,30,7": whole days before expiry,
// each between 1 and ExpiryLookaheadDays. The result is sorted from the earliest reminder on,
// without repeats. An empty string means no reminders.
func ParseReminderDays(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > ExpiryLookaheadDays {
			return nil, Invalid("reminderDays", "invalid_reminder_days", "reminder days must be whole numbers between 1 and 365, comma-separated")
		}
		out = append(out, n)
	}
	slices.Sort(out)
	slices.Reverse(out)
	return slices.Compact(out), nil
}

// StartValidity gives a mailbox that has just become ATTIVATA its validity: years from the day
// of activation.
func (m *Mailbox) StartValidity(activatedOn time.Time, years int) {
	m.setExpiry(AddYears(activatedOn, years))
}

// setExpiry starts a validity period ending on exp: no reminder sent yet, and the expiry run
// looks at the mailbox ExpiryLookaheadDays before exp.
func (m *Mailbox) setExpiry(exp time.Time) {
	m.ExpiresOn = FormatDate(exp)
	m.LastReminder = 0
	m.ExpiryDueOn = FormatDate(exp.AddDate(0, 0, -ExpiryLookaheadDays))
}

// ExpiryAction is what the expiry run does with a mailbox on a given day.
type ExpiryAction int

const (
	ExpiryNothing ExpiryAction = iota // not due: only the next look is scheduled
	ExpiryRemind                      // send the member the reminder for the chosen threshold
	ExpiryRevoke                      // past its expiry and not renewed: revoke it (reason "expired")
)

// ExpiryStep decides what the expiry run does with the mailbox today and records it on the
// mailbox: the reminder threshold it sends (so that no threshold is sent twice in a validity
// period, however often or late the run comes) and the next day to look at the mailbox.
//
// A mailbox is valid through ExpiresOn and revoked from the day after. A run that comes late
// sends only the nearest due reminder (the smallest threshold already reached); the earlier
// ones it missed are skipped, not sent together.
func (m *Mailbox) ExpiryStep(today time.Time, thresholds []int) (action ExpiryAction, days int) {
	if m.State != StateAttivata || m.ExpiresOn == "" {
		return ExpiryNothing, 0
	}
	exp, err := ParseDate(m.ExpiresOn)
	if err != nil {
		return ExpiryNothing, 0
	}
	if today.After(exp) {
		return ExpiryRevoke, 0
	}
	unsent := func(t int) bool { return m.LastReminder == 0 || t < m.LastReminder }
	for _, t := range thresholds {
		if unsent(t) && !exp.AddDate(0, 0, -t).After(today) && (days == 0 || t < days) {
			days = t
		}
	}
	if days > 0 {
		m.LastReminder, action = days, ExpiryRemind
	}
	next := exp.AddDate(0, 0, 1)
	for _, t := range thresholds {
		if d := exp.AddDate(0, 0, -t); unsent(t) && d.Before(next) {
			next = d
		}
	}
	m.ExpiryDueOn = FormatDate(next)
	return action, days
}

// JoinRenewal puts an ATTIVATA mailbox with a validity in the renewal batch, unless it is
// already in another renewal batch that is still open (inOpenBatch, as the caller found it).
func (m *Mailbox) JoinRenewal(batchID string, inOpenBatch bool) bool {
	if m.State != StateAttivata || m.ExpiresOn == "" || m.RenewalBatchID == batchID {
		return false
	}
	if m.RenewalBatchID != "" && inOpenBatch {
		return false
	}
	m.RenewalBatchID = batchID
	return true
}

// RenewedUntil is the expiry a renewal gives: years from the current expiry, not from today.
func (m *Mailbox) RenewedUntil(years int) (time.Time, error) {
	exp, err := ParseDate(m.ExpiresOn)
	if err != nil {
		return time.Time{}, err
	}
	return AddYears(exp, years), nil
}

// ApplyRenewal extends the validity of a mailbox in renewal batch batchID by years from its
// current expiry, once: it leaves the batch as it is extended, so a repeated step changes
// nothing. A mailbox revoked meanwhile is not renewed. The extension is recorded in the
// history (the state stays ATTIVATA).
func (m *Mailbox) ApplyRenewal(batchID string, years int, at time.Time, actor string) bool {
	if m.State != StateAttivata || m.RenewalBatchID != batchID {
		return false
	}
	until, err := m.RenewedUntil(years)
	if err != nil {
		return false
	}
	at = at.UTC()
	m.RenewalBatchID = ""
	m.setExpiry(until)
	m.UpdatedAt = at
	m.History = append(m.History, Transition{State: StateAttivata, At: at, Actor: actor,
		Reason: "renewed until " + m.ExpiresOn + " (batch " + batchID + ")"})
	return true
}

// RenewalSelection is what a renewal batch takes: the given mailboxes, or every ATTIVATA
// mailbox of the Order expiring before a date.
type RenewalSelection struct {
	MailboxIDs     []string `json:"mailboxIds"`
	ExpiringBefore string   `json:"expiringBefore"`
}

// MaxRenewalIDs bounds mailboxIds in one request.
const MaxRenewalIDs = 1000

var mailboxIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// Validate checks that exactly one criterion is given and well formed, removing repeated ids.
func (s *RenewalSelection) Validate() error {
	switch {
	case len(s.MailboxIDs) > 0 && s.ExpiringBefore != "":
		return Invalid("mailboxIds", "invalid_selection", "give either mailboxIds or expiringBefore, not both")
	case s.ExpiringBefore != "":
		if _, err := ParseDate(s.ExpiringBefore); err != nil {
			return Invalid("expiringBefore", "invalid_date", "expiringBefore must be a date YYYY-MM-DD")
		}
		return nil
	case s.MailboxIDs == nil:
		return Invalid("mailboxIds", "invalid_selection", "give mailboxIds or expiringBefore")
	case len(s.MailboxIDs) == 0 || len(s.MailboxIDs) > MaxRenewalIDs:
		return Invalid("mailboxIds", "invalid_mailbox_ids", "mailboxIds must hold 1 to 1000 mailbox ids")
	}
	for _, id := range s.MailboxIDs {
		if !mailboxIDPattern.MatchString(id) {
			return Invalid("mailboxIds", "invalid_mailbox_ids", "mailboxIds must hold mailbox ids")
		}
	}
	slices.Sort(s.MailboxIDs)
	s.MailboxIDs = slices.Compact(s.MailboxIDs)
	return nil
}

// Errors of renewals.
var (
	ErrNothingToRenew = &Error{Kind: KindConflict, Code: "nothing_to_renew", Message: "no ATTIVATA mailbox of the selection is free to renew (not already in an open renewal batch)"}
	ErrUnknownMailbox = &Error{Kind: KindInvalid, Code: "unknown_mailbox", Message: "mailboxIds names a mailbox that is not the Order's", Field: "mailboxIds"}
)
