package dynamo

import (
	"fmt"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// The single table's key design. Every item has PK and SK; mailboxes are also indexed by
// Order and state (GSI1) and by Order alone (GSI2), both sorted by creation time.
//
//	Order        ORDER#<id>          #ORDER
//	Member       ORDER#<id>          MEMBER#<canonical codice fiscale>
//	             (a CTU still in the albo, also)  GSI2 ORDER#<id>#CTU, GSI1 ORDER#<id>#CTU#CONFIRMED|PENDING
//	Member       (also)              GSI4 ORDER#<id>#MEMBERS, <cognome>!<nome>!<cf> (folded as addresses are),
//	                                 GSI5 ORDER#<id>#MEMBERS, <nome>!<cognome>!<cf>: the search by name
//	Audit entry  ORDER#<id>          AUDIT#<time>#<random>
//	             (of a member)       GSI4 ORDER#<id>#AUDIT#<canonical cf>, AUDIT#<time>#<random>
//	Offer code   OFFER#<code>        #OFFER
//	Order        (also)              GSI2 ORDERS
//	Mailbox      MAILBOX#<id>        #MAILBOX        GSI1 ORDER#<id>#STATE#<state>, GSI2 ORDER#<id>#MAILBOXES,
//	                                                 GSI3 ORDER#<id>#OPEN#<seq> while in RICHIESTA,
//	                                                 GSI3 ORDER#<id>#EXPIRY, <dueOn>#<id> while ATTIVATA
//	Batch        BATCH#<id>          #BATCH          GSI2 ORDER#<id>#BATCHES, GSI4 BATCHES#<state>
//	Renewal line BATCH#<id>          MAILBOX#<id>    a mailbox of a renewal batch
//	Address      ADDRESS#<address>   #ADDRESS
//	Activation   ACTIVATION#<hash>   #ACTIVATION     (expires through TTL)
//	ReGIndE link REGINDE#<hash>      #REGINDE        (expires through TTL)
//	Provider ev. PROVIDER_EVENT#<id> #EVENT          (expires through TTL)
//	INI-PEC      INIPEC#<orderId>    CHANGE#<time>#<random>   a change to deliver (outbox)
//	                                 DELIVERY#<n>             one delivered file
//	                                 #CURSOR                  the last change delivered
//	Idempotency  IDEMPOTENCY#<key>   #IDEMPOTENCY    (expires through TTL)
//	Request      REQUEST#<id>        #REQUEST        a member's self-service request (flow 2)
//	Rate counter RATE#<client>#<window> #RATE        (expires through TTL)
const (
	attrPK     = "PK"
	attrSK     = "SK"
	attrGSI1PK = "GSI1PK"
	attrGSI1SK = "GSI1SK"
	attrGSI2PK = "GSI2PK"
	attrGSI2SK = "GSI2SK"
	attrGSI3PK = "GSI3PK"
	attrGSI3SK = "GSI3SK"
	attrGSI4PK = "GSI4PK"
	attrGSI4SK = "GSI4SK"
	attrGSI5PK = "GSI5PK"
	attrGSI5SK = "GSI5SK"
	// AttrTTL is the table's time-to-live attribute (epoch seconds).
	AttrTTL = "expiresAt"

	indexByState = "GSI1"
	indexByOrder = "GSI2"
	indexOpen    = "GSI3"
	indexNames   = "GSI4" // members by cognome and nome; a member's audit entries
	indexGiven   = "GSI5" // members by nome

	skOrder       = "#ORDER"
	skMailbox     = "#MAILBOX"
	skAddress     = "#ADDRESS"
	skOffer       = "#OFFER"
	skIdempotency = "#IDEMPOTENCY"
	skBatch       = "#BATCH"
	skActivation  = "#ACTIVATION"
	skEvent       = "#EVENT"
	skReginde     = "#REGINDE"
	allOrdersPK   = "ORDERS"
)

func orderPK(id string) string         { return "ORDER#" + id }
func memberSK(canonical string) string { return "MEMBER#" + canonical }
func mailboxPK(id string) string       { return "MAILBOX#" + id }
func addressPK(a string) string        { return "ADDRESS#" + a }
func offerPK(code string) string       { return "OFFER#" + code }
func statePK(orderID string, s domain.State) string {
	return "ORDER#" + orderID + "#STATE#" + string(s)
}
func orderMailboxesPK(orderID string) string { return "ORDER#" + orderID + "#MAILBOXES" }
func openPK(orderID string, seq int) string  { return fmt.Sprintf("ORDER#%s#OPEN#%d", orderID, seq) }
func batchPK(id string) string               { return "BATCH#" + id }
func expiryPK(orderID string) string         { return "ORDER#" + orderID + "#EXPIRY" }
func orderBatchesPK(orderID string) string   { return "ORDER#" + orderID + "#BATCHES" }
func activationPK(hash string) string        { return "ACTIVATION#" + hash }
func eventPK(id string) string               { return "PROVIDER_EVENT#" + id }
func inipecPK(orderID string) string         { return "INIPEC#" + orderID }
func regindePK(hash string) string           { return "REGINDE#" + hash }
func ctuPK(orderID string) string            { return "ORDER#" + orderID + "#CTU" }
func membersPK(orderID string) string        { return "ORDER#" + orderID + "#MEMBERS" }

// suspensionsEndingPK is GSI3's partition of the suspensions that state an end.
const suspensionsEndingPK = "SUSPENSIONS#ENDING"

func batchesInStatePK(st domain.BatchState) string { return "BATCHES#" + string(st) }
func memberAuditPK(orderID, key string) string {
	return "ORDER#" + orderID + "#AUDIT#" + key
}

// ctuStatePK is the partition of an Order's CTU members by whether they confirmed ReGIndE.
func ctuStatePK(orderID string, confirmed bool) string {
	if confirmed {
		return ctuPK(orderID) + "#CONFIRMED"
	}
	return ctuPK(orderID) + "#PENDING"
}

// ctuSK sorts an Order's CTU members by surname and name; the key makes it unique.
func ctuSK(m *domain.Member) string {
	return strings.ToLower(m.Cognome) + "#" + strings.ToLower(m.Nome) + "#" + m.Key()
}

// timeLayout is fixed-width (RFC3339Nano drops trailing zeros), so that times stored in sort
// keys sort as they compare.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// FormatTime is how the store writes a time, in items and in sort keys.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatTime(t time.Time) string { return FormatTime(t) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

type orderItem struct {
	PK, SK     string
	GSI2PK     string
	GSI2SK     string
	Type       string  `dynamodbav:"type"`
	ID         string  `dynamodbav:"id"`
	Name       string  `dynamodbav:"name"`
	PEC        string  `dynamodbav:"pec"`
	WebPEC     bool    `dynamodbav:"webpec"`
	OfferCode  string  `dynamodbav:"offerCode,omitempty"`
	PriceCents int     `dynamodbav:"priceCents"`
	VATPercent float64 `dynamodbav:"vatPercent"`
	CreatedAt  string  `dynamodbav:"createdAt"`
	UpdatedAt  string  `dynamodbav:"updatedAt"`
	BatchSeq   int     `dynamodbav:"batchSeq"`
	Version    int     `dynamodbav:"version"`
	Validity   int     `dynamodbav:"validityYears,omitempty"`
}

func toOrderItem(o *domain.Order) orderItem {
	it := orderItem{
		PK: orderPK(o.ID), SK: skOrder, GSI2PK: allOrdersPK, GSI2SK: o.ID, Type: "order", BatchSeq: o.BatchSeq, ID: o.ID, Name: o.Name, PEC: o.PEC,
		WebPEC: o.Convention.WebPEC, PriceCents: o.Convention.PriceCents, VATPercent: o.Convention.VATPercent,
		CreatedAt: formatTime(o.CreatedAt), UpdatedAt: formatTime(o.UpdatedAt), Version: o.Version,
		Validity: o.Convention.ValidityYears,
	}
	if o.Convention.OfferCode != nil {
		it.OfferCode = *o.Convention.OfferCode
	}
	return it
}

func (it orderItem) order() *domain.Order {
	o := &domain.Order{
		ID: it.ID, Name: it.Name, PEC: it.PEC,
		Convention: domain.Convention{WebPEC: it.WebPEC, PriceCents: it.PriceCents, VATPercent: it.VATPercent, ValidityYears: it.Validity},
		CreatedAt:  parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt), Version: it.Version,
		BatchSeq: it.BatchSeq,
	}
	if it.OfferCode != "" {
		code := it.OfferCode
		o.Convention.OfferCode = &code
	}
	return o
}

type memberItem struct {
	PK, SK string
	// Only a CTU still in the albo is in the CTU indexes (sparse).
	GSI1PK string `dynamodbav:",omitempty"`
	GSI1SK string `dynamodbav:",omitempty"`
	GSI2PK string `dynamodbav:",omitempty"`
	GSI2SK string `dynamodbav:",omitempty"`
	// A suspension with an end is in GSI3's SUSPENSIONS#ENDING partition by its end (sparse),
	// for the daily run that reinstates the members whose suspension is over.
	GSI3PK           string `dynamodbav:",omitempty"`
	GSI3SK           string `dynamodbav:",omitempty"`
	GSI4PK           string
	GSI4SK           string
	GSI5PK           string
	GSI5SK           string
	Type             string         `dynamodbav:"type"`
	OrderID          string         `dynamodbav:"orderId"`
	CodiceFiscale    string         `dynamodbav:"codiceFiscale"`
	Nome             string         `dynamodbav:"nome"`
	Cognome          string         `dynamodbav:"cognome"`
	Albo             string         `dynamodbav:"albo"`
	NumeroIscrizione string         `dynamodbav:"numeroIscrizione"`
	DataIscrizione   string         `dynamodbav:"dataIscrizione"`
	Email            string         `dynamodbav:"email"`
	PEC              string         `dynamodbav:"pec,omitempty"`
	Phone            string         `dynamodbav:"phone,omitempty"`
	Residence        *residenceItem `dynamodbav:"residence,omitempty"`
	CTU              bool           `dynamodbav:"ctu"`
	MailboxID        string         `dynamodbav:"mailboxId,omitempty"`
	EnrolledAt       string         `dynamodbav:"enrolledAt"`
	UpdatedAt        string         `dynamodbav:"updatedAt"`
	ImportID         string         `dynamodbav:"importId,omitempty"`
	RequestKey       string         `dynamodbav:"requestKey,omitempty"`
	CancelledOn      string         `dynamodbav:"cancelledOn,omitempty"`
	CancelReason     string         `dynamodbav:"cancelReason,omitempty"`
	TransferredTo    string         `dynamodbav:"transferredTo,omitempty"`
	TransferredFrom  string         `dynamodbav:"transferredFrom,omitempty"`
	SuspFrom         string         `dynamodbav:"suspendedFrom,omitempty"`
	SuspTo           string         `dynamodbav:"suspendedTo,omitempty"`
	SuspKind         string         `dynamodbav:"suspensionKind,omitempty"`
	SuspReason       string         `dynamodbav:"suspensionReason,omitempty"`
	SuspUnpublished  bool           `dynamodbav:"suspensionUnpublished,omitempty"`
	EmailProblem     string         `dynamodbav:"emailProblem,omitempty"`
	EmailProblemTo   string         `dynamodbav:"emailProblemAddress,omitempty"`
	EmailProblemAt   string         `dynamodbav:"emailProblemAt,omitempty"`
	Version          int            `dynamodbav:"version"`

	RegindeAddress     string `dynamodbav:"regindeAddress,omitempty"`
	RegindeNotifiedFor string `dynamodbav:"regindeNotifiedFor,omitempty"`
	RegindeNotifiedAt  string `dynamodbav:"regindeNotifiedAt,omitempty"`
	RegindeNotices     int    `dynamodbav:"regindeNotices,omitempty"`
	RegindeLinkHash    string `dynamodbav:"regindeLinkHash,omitempty"`
	RegindeLinkExp     string `dynamodbav:"regindeLinkExpiresAt,omitempty"`
	RegindeConfirmedAt string `dynamodbav:"regindeConfirmedAt,omitempty"`
}

// residenceItem is a member's residence.
type residenceItem struct {
	Address  string `dynamodbav:"address"`
	City     string `dynamodbav:"city"`
	PostCode string `dynamodbav:"postCode"`
	Province string `dynamodbav:"province"`
	Country  string `dynamodbav:"country"`
}

func toMemberItem(m *domain.Member) memberItem {
	it := memberItem{
		PK: orderPK(m.OrderID), SK: memberSK(m.Key()), Type: "member", OrderID: m.OrderID,
		GSI4PK: membersPK(m.OrderID), GSI4SK: m.NameKey(), GSI5PK: membersPK(m.OrderID), GSI5SK: m.GivenKey(),
		CodiceFiscale: m.CodiceFiscale.Value(), Nome: m.Nome, Cognome: m.Cognome, Albo: m.Albo,
		NumeroIscrizione: m.NumeroIscrizione, DataIscrizione: m.DataIscrizione, Email: m.Email,
		PEC: m.PEC, CTU: m.CTU, MailboxID: m.MailboxID,
		EnrolledAt: formatTime(m.EnrolledAt), UpdatedAt: formatTime(m.UpdatedAt),
		CancelledOn: m.CancelledOn, CancelReason: m.CancelReason, ImportID: m.ImportID, RequestKey: m.RequestKey,
		TransferredTo: m.TransferredTo, TransferredFrom: m.TransferredFrom,
		RegindeAddress: m.Reginde.Address, RegindeNotifiedFor: m.Reginde.NotifiedFor,
		RegindeNotifiedAt: optTime(m.Reginde.NotifiedAt), RegindeNotices: m.Reginde.Notices,
		RegindeLinkHash: m.Reginde.LinkHash, RegindeLinkExp: optTime(m.Reginde.LinkExpiresAt),
		RegindeConfirmedAt: optTime(m.Reginde.ConfirmedAt),
	}
	if p := m.EmailProblem; p != nil {
		it.EmailProblem, it.EmailProblemTo, it.EmailProblemAt = string(p.Kind), p.Address, formatTime(p.At)
	}
	it.Phone = m.Phone
	if r := m.Residence; r != nil {
		it.Residence = &residenceItem{Address: r.Address, City: r.City, PostCode: r.PostCode, Province: r.Province, Country: r.Country}
	}
	if s := m.Suspension; s != nil && s.To != "" && !m.Cancelled() {
		it.GSI3PK, it.GSI3SK = suspensionsEndingPK, s.To+"#"+m.OrderID+"#"+m.Key()
	}
	if s := m.Suspension; s != nil {
		it.SuspFrom, it.SuspTo, it.SuspKind, it.SuspReason, it.SuspUnpublished = s.From, s.To, string(s.Kind), s.Reason, s.Unpublished
	}
	if m.CTU && !m.Cancelled() {
		it.GSI2PK, it.GSI2SK = ctuPK(m.OrderID), ctuSK(m)
		it.GSI1PK, it.GSI1SK = ctuStatePK(m.OrderID, m.Reginde.Confirmed()), ctuSK(m)
	}
	return it
}

func (it memberItem) member() *domain.Member {
	m := it.memberFields()
	m.Phone = it.Phone
	if r := it.Residence; r != nil {
		m.Residence = &domain.Residence{Address: r.Address, City: r.City, PostCode: r.PostCode, Province: r.Province, Country: r.Country}
	}
	if it.EmailProblem != "" {
		m.EmailProblem = &domain.EmailProblem{Kind: domain.EmailProblemKind(it.EmailProblem), Address: it.EmailProblemTo, At: parseTime(it.EmailProblemAt)}
	}
	if it.SuspFrom != "" {
		m.Suspension = &domain.Suspension{From: it.SuspFrom, To: it.SuspTo, Kind: domain.SuspensionKind(it.SuspKind),
			Reason: it.SuspReason, Unpublished: it.SuspUnpublished}
	}
	return m
}

func (it memberItem) memberFields() *domain.Member {
	return &domain.Member{
		OrderID: it.OrderID, CodiceFiscale: domain.CodiceFiscale(it.CodiceFiscale), Nome: it.Nome,
		Cognome: it.Cognome, Albo: it.Albo, NumeroIscrizione: it.NumeroIscrizione,
		DataIscrizione: it.DataIscrizione, Email: it.Email, PEC: it.PEC, CTU: it.CTU,
		MailboxID: it.MailboxID, EnrolledAt: parseTime(it.EnrolledAt), UpdatedAt: parseTime(it.UpdatedAt),
		CancelledOn: it.CancelledOn, CancelReason: it.CancelReason, ImportID: it.ImportID, RequestKey: it.RequestKey,
		TransferredTo: it.TransferredTo, TransferredFrom: it.TransferredFrom,
		Reginde: domain.Reginde{Address: it.RegindeAddress, NotifiedFor: it.RegindeNotifiedFor,
			NotifiedAt: parseTime(it.RegindeNotifiedAt), Notices: it.RegindeNotices, LinkHash: it.RegindeLinkHash,
			LinkExpiresAt: parseTime(it.RegindeLinkExp), ConfirmedAt: parseTime(it.RegindeConfirmedAt)},
	}
}

type transitionItem struct {
	State  string `dynamodbav:"state"`
	At     string `dynamodbav:"at"`
	Actor  string `dynamodbav:"actor"`
	Reason string `dynamodbav:"reason,omitempty"`
}

type mailboxItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string
	GSI2PK, GSI2SK string
	GSI3PK         string           `dynamodbav:",omitempty"`
	GSI3SK         string           `dynamodbav:",omitempty"`
	Type           string           `dynamodbav:"type"`
	ID             string           `dynamodbav:"id"`
	Address        string           `dynamodbav:"address"`
	State          string           `dynamodbav:"state"`
	OrderID        string           `dynamodbav:"orderId"`
	Albo           string           `dynamodbav:"albo"`
	BatchID        string           `dynamodbav:"batchId,omitempty"`
	MemberKey      string           `dynamodbav:"memberKey"`
	CreatedAt      string           `dynamodbav:"createdAt"`
	UpdatedAt      string           `dynamodbav:"updatedAt"`
	History        []transitionItem `dynamodbav:"history"`
	BatchSeq       int              `dynamodbav:"batchSeq"`
	RequestID      string           `dynamodbav:"requestId,omitempty"`
	ProviderRef    string           `dynamodbav:"providerRef,omitempty"`
	TaskToken      string           `dynamodbav:"taskToken,omitempty"`
	Waiting        string           `dynamodbav:"waiting,omitempty"`
	ActivationHash string           `dynamodbav:"activationHash,omitempty"`
	ActivationExp  string           `dynamodbav:"activationExpiresAt,omitempty"`
	ActivationSent int              `dynamodbav:"activationsSent"`
	ActivationTo   string           `dynamodbav:"activationSentTo,omitempty"`
	Version        int              `dynamodbav:"version"`
	ExpiresOn      string           `dynamodbav:"expiresOn,omitempty"`
	ExpiryDueOn    string           `dynamodbav:"expiryDueOn,omitempty"`
	LastReminder   int              `dynamodbav:"lastReminderDays,omitempty"`
	RenewalBatchID string           `dynamodbav:"renewalBatchId,omitempty"`
	PollAttempts   int              `dynamodbav:"pollAttempts,omitempty"`
	PollNextAt     string           `dynamodbav:"pollNextAt,omitempty"`
	QuotaAlert     int              `dynamodbav:"quotaAlert,omitempty"`
	QuotaUsed      int64            `dynamodbav:"quotaUsedBytes,omitempty"`
	QuotaLimit     int64            `dynamodbav:"quotaLimitBytes,omitempty"`
	QuotaAt        string           `dynamodbav:"quotaAt,omitempty"`
	MemberEmail    string           `dynamodbav:"memberEmailProblem,omitempty"`
	Signing        *signingItem     `dynamodbav:"signing,omitempty"`
}

// signingItem is the holder's signature asked by the provider (Legalmail).
type signingItem struct {
	Round    int    `dynamodbav:"round"`
	AskedAt  string `dynamodbav:"askedAt"`
	MailedAt string `dynamodbav:"mailedAt,omitempty"`
	SentAt   string `dynamodbav:"sentAt,omitempty"`
	Refused  bool   `dynamodbav:"refused,omitempty"`
}

func toMailboxItem(m *domain.Mailbox) mailboxItem {
	sortKey := formatTime(m.CreatedAt) + "#" + m.ID
	it := mailboxItem{
		PK: mailboxPK(m.ID), SK: skMailbox,
		GSI1PK: statePK(m.OrderID, m.State), GSI1SK: sortKey,
		GSI2PK: orderMailboxesPK(m.OrderID), GSI2SK: sortKey,
		Type: "mailbox", ID: m.ID, Address: m.Address, State: string(m.State), OrderID: m.OrderID,
		Albo: m.Albo, BatchID: m.BatchID, MemberKey: m.MemberKey,
		CreatedAt: formatTime(m.CreatedAt), UpdatedAt: formatTime(m.UpdatedAt), Version: m.Version,
		BatchSeq: m.BatchSeq, RequestID: m.RequestID, ProviderRef: m.ProviderRef, TaskToken: m.Park.Token, Waiting: string(m.Park.Waiting),
		ActivationHash: m.Activation.Hash, ActivationSent: m.Activation.Sent, ActivationTo: m.Activation.SentTo,
	}
	if !m.Activation.ExpiresAt.IsZero() {
		it.ActivationExp = formatTime(m.Activation.ExpiresAt)
	}
	// Only a mailbox still in RICHIESTA waits for a batch: leaving the state leaves the index.
	// A self-service mailbox never waits for one: its member pays for it.
	if m.State == domain.StateRichiesta && m.RequestID == "" {
		it.GSI3PK, it.GSI3SK = openPK(m.OrderID, m.BatchSeq), sortKey
	}
	// Only an ATTIVATA mailbox can expire: the expiry run finds it by the day it is next due.
	if m.State == domain.StateAttivata && m.ExpiryDueOn != "" {
		it.GSI3PK, it.GSI3SK = expiryPK(m.OrderID), m.ExpiryDueOn+"#"+m.ID
	}
	it.ExpiresOn, it.ExpiryDueOn, it.LastReminder, it.RenewalBatchID = m.ExpiresOn, m.ExpiryDueOn, m.LastReminder, m.RenewalBatchID
	it.PollAttempts, it.QuotaAlert, it.QuotaUsed, it.QuotaLimit = m.Poll.Attempts, m.QuotaAlert, m.Quota.UsedBytes, m.Quota.LimitBytes
	it.MemberEmail = string(m.MemberEmail)
	if g := m.Signing; g != nil {
		it.Signing = &signingItem{Round: g.Round, AskedAt: formatTime(g.AskedAt), MailedAt: optTime(g.MailedAt), SentAt: optTime(g.SentAt), Refused: g.Refused}
	}
	if !m.Poll.NextAt.IsZero() {
		it.PollNextAt = formatTime(m.Poll.NextAt)
	}
	if !m.Quota.At.IsZero() {
		it.QuotaAt = formatTime(m.Quota.At)
	}
	for _, h := range m.History {
		it.History = append(it.History, transitionItem{State: string(h.State), At: formatTime(h.At), Actor: h.Actor, Reason: h.Reason})
	}
	return it
}

func (it mailboxItem) mailbox() *domain.Mailbox {
	m := &domain.Mailbox{
		ID: it.ID, Address: it.Address, State: domain.State(it.State), OrderID: it.OrderID,
		Albo: it.Albo, BatchID: it.BatchID, MemberKey: it.MemberKey,
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt), Version: it.Version,
		BatchSeq: it.BatchSeq, RequestID: it.RequestID, ProviderRef: it.ProviderRef,
		Park:       domain.Park{Token: it.TaskToken, Waiting: domain.Waiting(it.Waiting)},
		Activation: domain.Activation{Hash: it.ActivationHash, ExpiresAt: parseTime(it.ActivationExp), Sent: it.ActivationSent, SentTo: it.ActivationTo},
		ExpiresOn:  it.ExpiresOn, ExpiryDueOn: it.ExpiryDueOn, LastReminder: it.LastReminder, RenewalBatchID: it.RenewalBatchID,
		Poll:       domain.Poll{Attempts: it.PollAttempts, NextAt: parseTime(it.PollNextAt)},
		QuotaAlert: it.QuotaAlert, MemberEmail: domain.EmailProblemKind(it.MemberEmail),
		Quota: domain.MailboxQuota{UsedBytes: it.QuotaUsed, LimitBytes: it.QuotaLimit, At: parseTime(it.QuotaAt)},
	}
	for _, h := range it.History {
		m.History = append(m.History, domain.Transition{State: domain.State(h.State), At: parseTime(h.At), Actor: h.Actor, Reason: h.Reason})
	}
	if g := it.Signing; g != nil {
		m.Signing = &domain.Signing{Round: g.Round, AskedAt: parseTime(g.AskedAt), MailedAt: parseTime(g.MailedAt), SentAt: parseTime(g.SentAt), Refused: g.Refused}
	}
	return m
}

type auditItem struct {
	PK, SK    string
	GSI4PK    string            `dynamodbav:",omitempty"`
	GSI4SK    string            `dynamodbav:",omitempty"`
	Type      string            `dynamodbav:"type"`
	Entity    string            `dynamodbav:"entity"`
	Action    string            `dynamodbav:"action"`
	Actor     string            `dynamodbav:"actor"`
	At        string            `dynamodbav:"at"`
	MemberKey string            `dynamodbav:"memberKey,omitempty"`
	Changes   []app.FieldChange `dynamodbav:"changes,omitempty"`
}

func (it auditItem) entry() app.AuditEntry {
	return app.AuditEntry{At: parseTime(it.At), Actor: it.Actor, Action: it.Action, Entity: it.Entity, MemberKey: it.MemberKey, Changes: it.Changes}
}

type batchItem struct {
	PK, SK         string
	GSI2PK, GSI2SK string
	GSI4PK, GSI4SK string // every Order's batches in one state
	Type           string `dynamodbav:"type"`
	ID             string `dynamodbav:"id"`
	OrderID        string `dynamodbav:"orderId"`
	Seq            int    `dynamodbav:"seq"`
	MailboxCount   int    `dynamodbav:"mailboxCount"`
	AmountCents    int    `dynamodbav:"amountCents"`
	Confirmed      bool   `dynamodbav:"confirmed"`
	ConfirmedAt    string `dynamodbav:"confirmedAt,omitempty"`
	ConfirmedBy    string `dynamodbav:"confirmedBy,omitempty"`
	Paid           bool   `dynamodbav:"paid"`
	PaidAt         string `dynamodbav:"paidAt,omitempty"`
	PaymentRef     string `dynamodbav:"paymentRef,omitempty"`
	State          string `dynamodbav:"state"`
	CreatedAt      string `dynamodbav:"createdAt"`
	UpdatedAt      string `dynamodbav:"updatedAt"`
	TaskToken      string `dynamodbav:"taskToken,omitempty"`
	Requests       int    `dynamodbav:"authorizationRequests"`
	Version        int    `dynamodbav:"version"`
	Kind           string `dynamodbav:"kind,omitempty"`
}

func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func toBatchItem(b *domain.Batch, park app.BatchPark) batchItem {
	return batchItem{
		PK: batchPK(b.ID), SK: skBatch, GSI2PK: orderBatchesPK(b.OrderID), GSI2SK: formatTime(b.CreatedAt) + "#" + b.ID,
		GSI4PK: batchesInStatePK(b.State), GSI4SK: formatTime(b.CreatedAt) + "#" + b.ID,
		Type: "batch", ID: b.ID, OrderID: b.OrderID, Seq: b.Seq, MailboxCount: b.MailboxCount, AmountCents: b.AmountCents,
		Confirmed: b.Confirmed, ConfirmedAt: optTime(b.ConfirmedAt), ConfirmedBy: b.ConfirmedBy,
		Paid: b.Paid, PaidAt: optTime(b.PaidAt), PaymentRef: b.PaymentRef, State: string(b.State),
		CreatedAt: formatTime(b.CreatedAt), UpdatedAt: formatTime(b.UpdatedAt), Version: b.Version,
		TaskToken: park.Token, Requests: park.Requests, Kind: string(b.Kind),
	}
}

func (it batchItem) batch() (*domain.Batch, app.BatchPark) {
	return &domain.Batch{
		ID: it.ID, OrderID: it.OrderID, Seq: it.Seq, MailboxCount: it.MailboxCount, AmountCents: it.AmountCents,
		Confirmed: it.Confirmed, ConfirmedAt: parseTime(it.ConfirmedAt), ConfirmedBy: it.ConfirmedBy,
		Paid: it.Paid, PaidAt: parseTime(it.PaidAt), PaymentRef: it.PaymentRef, State: domain.BatchState(it.State),
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt), Version: it.Version,
		Kind: domain.BatchKind(it.Kind),
	}, app.BatchPark{Token: it.TaskToken, Requests: it.Requests}
}
