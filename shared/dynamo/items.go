package dynamo

import (
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// The single table's key design. Every item has PK and SK; mailboxes are also indexed by
// Order and state (GSI1) and by Order alone (GSI2), both sorted by creation time.
//
//	Order        ORDER#<id>          #ORDER
//	Member       ORDER#<id>          MEMBER#<canonical codice fiscale>
//	Audit entry  ORDER#<id>          AUDIT#<time>#<random>
//	Offer code   OFFER#<code>        #OFFER
//	Mailbox      MAILBOX#<id>        #MAILBOX        GSI1 ORDER#<id>#STATE#<state>, GSI2 ORDER#<id>#MAILBOXES
//	Address      ADDRESS#<address>   #ADDRESS
//	Idempotency  IDEMPOTENCY#<key>   #IDEMPOTENCY    (expires through TTL)
const (
	attrPK     = "PK"
	attrSK     = "SK"
	attrGSI1PK = "GSI1PK"
	attrGSI1SK = "GSI1SK"
	attrGSI2PK = "GSI2PK"
	attrGSI2SK = "GSI2SK"
	// AttrTTL is the table's time-to-live attribute (epoch seconds).
	AttrTTL = "expiresAt"

	indexByState = "GSI1"
	indexByOrder = "GSI2"

	skOrder       = "#ORDER"
	skMailbox     = "#MAILBOX"
	skAddress     = "#ADDRESS"
	skOffer       = "#OFFER"
	skIdempotency = "#IDEMPOTENCY"
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

const timeLayout = time.RFC3339Nano

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(timeLayout, s)
	return t
}

type orderItem struct {
	PK, SK     string
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
	Version    int     `dynamodbav:"version"`
}

func toOrderItem(o *domain.Order) orderItem {
	it := orderItem{
		PK: orderPK(o.ID), SK: skOrder, Type: "order", ID: o.ID, Name: o.Name, PEC: o.PEC,
		WebPEC: o.Convention.WebPEC, PriceCents: o.Convention.PriceCents, VATPercent: o.Convention.VATPercent,
		CreatedAt: formatTime(o.CreatedAt), UpdatedAt: formatTime(o.UpdatedAt), Version: o.Version,
	}
	if o.Convention.OfferCode != nil {
		it.OfferCode = *o.Convention.OfferCode
	}
	return it
}

func (it orderItem) order() *domain.Order {
	o := &domain.Order{
		ID: it.ID, Name: it.Name, PEC: it.PEC,
		Convention: domain.Convention{WebPEC: it.WebPEC, PriceCents: it.PriceCents, VATPercent: it.VATPercent},
		CreatedAt:  parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt), Version: it.Version,
	}
	if it.OfferCode != "" {
		code := it.OfferCode
		o.Convention.OfferCode = &code
	}
	return o
}

type memberItem struct {
	PK, SK           string
	Type             string `dynamodbav:"type"`
	OrderID          string `dynamodbav:"orderId"`
	CodiceFiscale    string `dynamodbav:"codiceFiscale"`
	Nome             string `dynamodbav:"nome"`
	Cognome          string `dynamodbav:"cognome"`
	Albo             string `dynamodbav:"albo"`
	NumeroIscrizione string `dynamodbav:"numeroIscrizione"`
	DataIscrizione   string `dynamodbav:"dataIscrizione"`
	Email            string `dynamodbav:"email"`
	PEC              string `dynamodbav:"pec,omitempty"`
	CTU              bool   `dynamodbav:"ctu"`
	MailboxID        string `dynamodbav:"mailboxId,omitempty"`
	EnrolledAt       string `dynamodbav:"enrolledAt"`
	UpdatedAt        string `dynamodbav:"updatedAt"`
	Version          int    `dynamodbav:"version"`
}

func toMemberItem(m *domain.Member) memberItem {
	return memberItem{
		PK: orderPK(m.OrderID), SK: memberSK(m.Key()), Type: "member", OrderID: m.OrderID,
		CodiceFiscale: m.CodiceFiscale.Value(), Nome: m.Nome, Cognome: m.Cognome, Albo: m.Albo,
		NumeroIscrizione: m.NumeroIscrizione, DataIscrizione: m.DataIscrizione, Email: m.Email,
		PEC: m.PEC, CTU: m.CTU, MailboxID: m.MailboxID,
		EnrolledAt: formatTime(m.EnrolledAt), UpdatedAt: formatTime(m.UpdatedAt),
	}
}

func (it memberItem) member() *domain.Member {
	return &domain.Member{
		OrderID: it.OrderID, CodiceFiscale: domain.CodiceFiscale(it.CodiceFiscale), Nome: it.Nome,
		Cognome: it.Cognome, Albo: it.Albo, NumeroIscrizione: it.NumeroIscrizione,
		DataIscrizione: it.DataIscrizione, Email: it.Email, PEC: it.PEC, CTU: it.CTU,
		MailboxID: it.MailboxID, EnrolledAt: parseTime(it.EnrolledAt), UpdatedAt: parseTime(it.UpdatedAt),
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
	Version        int              `dynamodbav:"version"`
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
	}
	for _, h := range it.History {
		m.History = append(m.History, domain.Transition{State: domain.State(h.State), At: parseTime(h.At), Actor: h.Actor, Reason: h.Reason})
	}
	return m
}

type auditItem struct {
	PK, SK string
	Type   string `dynamodbav:"type"`
	Entity string `dynamodbav:"entity"`
	Action string `dynamodbav:"action"`
	Actor  string `dynamodbav:"actor"`
	At     string `dynamodbav:"at"`
}
