package domain

import (
	"slices"
	"time"
)

// State is a mailbox's place in the lifecycle, named as circolare FNO TSRM PSTRP 21/2019 names it.
type State string

const (
	StateRichiesta        State = "RICHIESTA"
	StateRichiestaInviata State = "RICHIESTA_INVIATA"
	StateAbilitata        State = "ABILITATA"
	StateAttivata         State = "ATTIVATA"
	StateRevocata         State = "REVOCATA"
)

// States lists every state in lifecycle order.
var States = []State{StateRichiesta, StateRichiestaInviata, StateAbilitata, StateAttivata, StateRevocata}

// forward is the only path a live mailbox may take; REVOCATA is reachable from anywhere.
var forward = []State{StateRichiesta, StateRichiestaInviata, StateAbilitata, StateAttivata}

// ParseState accepts the exact state name.
func ParseState(s string) (State, error) {
	if slices.Contains(States, State(s)) {
		return State(s), nil
	}
	return "", Invalid("state", "invalid_state", "state must be one of RICHIESTA, RICHIESTA_INVIATA, ABILITATA, ATTIVATA, REVOCATA")
}

// Transition is one entry of a mailbox's audit trail.
type Transition struct {
	State  State     `json:"state"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason"`
}

// Mailbox is a PEC mailbox issued under an Order's convention.
type Mailbox struct {
	ID        string
	Address   string
	State     State
	OrderID   string
	Albo      string
	BatchID   string
	MemberKey string // the member's canonical codice fiscale; never shown outside the Order
	CreatedAt time.Time
	UpdatedAt time.Time
	History   []Transition
	// BatchSeq is the Order's batch sequence number the mailbox was enrolled under: the batch
	// created while that number was open gathers it.
	BatchSeq int
	// RequestID is the member's self-service request the mailbox was issued for (flow 2). Such
	// a mailbox is paid by the member and never joins the Order's batches.
	RequestID   string
	ProviderRef string
	// Park is the workflow step waiting on this mailbox, if any.
	Park Park
	// Activation is the member's current activation link, stored only as a hash.
	Activation Activation
	// Version increments on every change; stores use it for optimistic locking.
	Version int
	// Validity (set when the mailbox becomes ATTIVATA; see expiry.go).
	ExpiresOn      string // YYYY-MM-DD, the last day the mailbox is valid
	ExpiryDueOn    string // YYYY-MM-DD, when the expiry run next looks at the mailbox
	LastReminder   int    // the smallest reminder threshold (days) sent in this validity period; 0: none
	RenewalBatchID string // the renewal batch the mailbox is in, until the renewal is applied
	// Poll paces the questions to a provider that calls nobody back, while the mailbox waits
	// on it.
	Poll Poll
	// QuotaAlert is the highest storage threshold (90 or 100 per cent) already told about
	// since the mailbox was last under 90%; 0: none.
	QuotaAlert int
	// MemberEmail is the problem SES reported of the member's ordinary e-mail address (the
	// member's record has it too), so that the mailbox shows why its notices do not arrive.
	MemberEmail EmailProblemKind
	// Quota is the mailbox's storage in use, as the provider last reported it.
	Quota MailboxQuota
	// Signing is the holder's signature on the provider's own form, for a provider that
	// activates only with it (Legalmail); nil until the member is asked.
	Signing *Signing
}

// Signing is one provider's request for the holder's signed form and identity document.
type Signing struct {
	Round    int       // 1, then one more each time the provider refuses the documents
	AskedAt  time.Time // when this round began
	MailedAt time.Time // when this round's link was e-mailed (zero: not yet)
	SentAt   time.Time // when the documents went to the provider (zero: not yet)
	Refused  bool      // this round asks again because the provider refused the last documents
}

// Poll is when the provider is next asked about a mailbox, and how often it was asked.
type Poll struct {
	Attempts int
	NextAt   time.Time
}

// MailboxQuota is the mailbox's storage as the provider last reported it.
type MailboxQuota struct {
	UsedBytes  int64
	LimitBytes int64
	At         time.Time
}

// Waiting names what a parked workflow step waits for.
type Waiting string

const (
	WaitingProvider Waiting = "provider" // the provider's callback
	WaitingMember   Waiting = "member"   // the member's click
)

// Park is a workflow step's task token, kept with the mailbox until the outcome it waits for
// is known. The token is a credential: it is never logged or shown.
type Park struct {
	Token   string
	Waiting Waiting
}

// Activation is the member's current activation link. Only its hash is kept; issuing a new
// link replaces it, which kills the old one.
type Activation struct {
	Hash      string
	ExpiresAt time.Time
	Sent      int // links sent so far, reminders included
	// SentTo is the e-mail address the last link went to: a corrected address gets a new one.
	SentTo string
}

// KnownToProvider reports whether the provider was ever asked for this mailbox, so that a
// revocation must tell it.
func (m *Mailbox) KnownToProvider() bool {
	return slices.ContainsFunc(m.History, func(t Transition) bool { return t.State == StateRichiestaInviata })
}

// Unpark removes and returns the parked step if it waits for w.
func (m *Mailbox) Unpark(w Waiting) (token string, ok bool) {
	if m.Park.Token == "" || m.Park.Waiting != w {
		return "", false
	}
	token = m.Park.Token
	m.Park = Park{}
	return token, true
}

// Parked returns the parked step's token if it waits for w, leaving it parked.
func (m *Mailbox) Parked(w Waiting) (token string, ok bool) {
	if m.Park.Token == "" || m.Park.Waiting != w {
		return "", false
	}
	return m.Park.Token, true
}

// ActivationUsed reports whether the member already acted on the link with this hash, and the
// workflow step waiting for that choice has not yet heard of it (the choice was written, the
// step not resumed: a click that died in between, or whose answer was lost).
func (m *Mailbox) ActivationUsed(hash string) bool {
	return (m.State == StateAttivata || m.State == StateRevocata) && m.Activation.Hash != "" && m.Activation.Hash == hash &&
		m.Park.Waiting == WaitingMember && m.Park.Token != ""
}

// ActivationUsable reports whether a link with this hash may still act on the mailbox.
func (m *Mailbox) ActivationUsable(hash string, now time.Time) bool {
	return m.State == StateAbilitata && m.Activation.Hash != "" && m.Activation.Hash == hash && now.Before(m.Activation.ExpiresAt)
}

// NewMailbox returns a mailbox in RICHIESTA with its first audit entry.
func NewMailbox(id, address, orderID, albo string, member CodiceFiscale, at time.Time, actor string) *Mailbox {
	at = at.UTC()
	return &Mailbox{
		ID: id, Address: address, State: StateRichiesta, OrderID: orderID, Albo: albo,
		MemberKey: string(member.Canonical()), CreatedAt: at, UpdatedAt: at,
		History: []Transition{{State: StateRichiesta, At: at, Actor: actor, Reason: "enrolled"}},
	}
}

// Transition moves the mailbox to the state `to`, recording who did it and why.
//
// Transitions only move forward, one step at a time; REVOCATA is reachable from any state.
// A late or repeated event (a target at or behind the current state, anything after
// REVOCATA) changes nothing and is not an error: changed is false. Skipping a step is an
// error, because it means an event arrived for a step that never happened.
func (m *Mailbox) Transition(to State, at time.Time, actor, reason string) (changed bool, err error) {
	if m.State == StateRevocata {
		return false, nil
	}
	if to != StateRevocata {
		cur, next := slices.Index(forward, m.State), slices.Index(forward, to)
		if next < 0 {
			return false, ErrInvalidTransition
		}
		if next <= cur {
			return false, nil
		}
		if next != cur+1 {
			return false, ErrInvalidTransition
		}
	}
	at = at.UTC()
	m.State = to
	m.UpdatedAt = at
	m.History = append(m.History, Transition{State: to, At: at, Actor: actor, Reason: reason})
	return true, nil
}

// Live reports whether the mailbox is, or is on its way to becoming, a usable address.
func (m *Mailbox) Live() bool { return m.State != StateRevocata }
