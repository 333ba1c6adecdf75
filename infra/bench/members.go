package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pecplatform/pec/shared/domain"
)

// The generated albo: n members of one Order, each with a distinct valid codice fiscale and a
// distinct name, except that 5% of them are homonyms of a member 1 000 lines earlier (so two
// chunks apart: the first of the pair is always committed when the second is enrolled, and the
// second takes homonym number 1 at its first attempt). A salt in every surname keeps the
// addresses of two runs on the same table apart (addresses are global).

var (
	nomi = []string{"Mario", "Giulia", "Luca", "Francesca", "Marco", "Chiara", "Andrea", "Sara", "Giuseppe", "Anna",
		"Paolo", "Elena", "Stefano", "Laura", "Roberto", "Valentina", "Alessandro", "Martina", "Davide", "Silvia"}
	cognomi = []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
		"Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti"}
)

const (
	csvHeader = "codiceFiscale;cognome;nome;albo;numeroIscrizione;dataIscrizione;email\n"
	alboTSRM  = "TSRM"
	pecDomain = "pec.tsrm.org" // domain.MustAlbi(domain.DefaultAlbi())["TSRM"]
	// homonymEvery/homonymSpan: lines [1000, 1100) of every 2 000 repeat the name of the line
	// 1 000 before them: 5% homonyms.
	homonymEvery, homonymSpan, homonymGap = 2000, 100, 1000
)

type member struct {
	CF, Nome, Cognome, Numero, Data, Email string
	Homonym                                int // the homonym number the address takes (0: none)
}

// gen generates the members of one run. salt is one upper-case letter.
type gen struct {
	n    int
	salt string
}

// letters writes v in base 26 (A-Z), width characters, most significant first.
func letters(v, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('A' + v%26)
		v /= 26
	}
	return string(b)
}

// codiceFiscale returns a distinct valid code for every i < 26^6; the check character is the one
// domain.ParseCodiceFiscale accepts.
func codiceFiscale(i int) string {
	base := letters(i, 6) + "80A01H501"
	for c := 'A'; c <= 'Z'; c++ {
		if cf, err := domain.ParseCodiceFiscale(base + string(c)); err == nil {
			return string(cf)
		}
	}
	panic("no check character for " + base)
}

func (g gen) member(i int) member {
	k, h := i, 0
	if r := i % homonymEvery; r >= homonymGap && r < homonymGap+homonymSpan {
		k, h = i-homonymGap, 1
	}
	return member{
		CF:      codiceFiscale(i),
		Nome:    nomi[k%len(nomi)],
		Cognome: cognomi[(k/len(nomi))%len(cognomi)] + " " + g.salt + strings.ToLower(letters(k, 4)),
		Numero:  strconv.Itoa(i + 1),
		Data:    "2015-03-01",
		Email:   "m" + strconv.Itoa(i) + "@example.it",
		Homonym: h,
	}
}

// address is the member's n-th address, composed by hand (the generated names are ASCII letters
// and spaces); the import check compares it with domain.ComposeAddress.
func (m member) address(n int) string {
	local := strings.ToLower(m.Nome) + "." + strings.ToLower(strings.ReplaceAll(m.Cognome, " ", ""))
	if n > 0 {
		local += strconv.Itoa(n)
	}
	return local + "@" + pecDomain
}

// pec is the member's own PEC (the export's members have one).
func (m member) pec() string {
	return "p" + m.Numero + "." + strings.ToLower(m.CF[:6]) + "@pec.example.it"
}

// writeCSV streams the albo as CSV to w.
func (g gen) writeCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(csvHeader)
	for i := range g.n {
		m := g.member(i)
		for j, f := range []string{m.CF, m.Cognome, m.Nome, alboTSRM, m.Numero, m.Data, m.Email} {
			if j > 0 {
				bw.WriteByte(';')
			}
			bw.WriteString(f)
		}
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	return bw.Flush()
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// csvSize is the byte size of the CSV, by generating it once into a counter.
func (g gen) csvSize() int64 {
	var c countWriter
	_ = g.writeCSV(&c)
	return c.n
}

// --- The items the enrolment writes, built by hand as the floor sends them. Their shape (every
// attribute, with its type) is that of shared/dynamo/items.go and store.go's CreateMember; the
// import run checks it against what the real path wrote. ---

// timeLayout is shared/dynamo's fixed-width time layout.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func ft(t time.Time) string { return t.UTC().Format(timeLayout) }

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }

func randomHex(bytes int) string {
	b := make([]byte, bytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func keyOf(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": s(pk), "SK": s(sk)}
}

// enrolment is what enrolling one member in a convention Order writes.
type enrolment struct {
	Member, Audit, Mailbox, Address map[string]types.AttributeValue
	OrderKey                        map[string]types.AttributeValue
}

func enrolmentItems(orderID string, m member, address, mailboxID, importID string, now time.Time, pec string) enrolment {
	at := ft(now)
	actor := "order:" + orderID
	memberItem := map[string]types.AttributeValue{
		"PK": s("ORDER#" + orderID), "SK": s("MEMBER#" + m.CF), "type": s("member"), "orderId": s(orderID),
		"codiceFiscale": s(m.CF), "nome": s(m.Nome), "cognome": s(m.Cognome), "albo": s(alboTSRM),
		"numeroIscrizione": s(m.Numero), "dataIscrizione": s(m.Data), "email": s(m.Email),
		"ctu": &types.AttributeValueMemberBOOL{Value: false}, "enrolledAt": s(at), "updatedAt": s(at), "version": n(0),
	}
	if mailboxID != "" {
		memberItem["mailboxId"] = s(mailboxID)
	}
	if importID != "" {
		memberItem["importId"] = s(importID)
	}
	if pec != "" {
		memberItem["pec"] = s(pec)
	}
	e := enrolment{
		Member: memberItem,
		Audit: map[string]types.AttributeValue{
			"PK": s("ORDER#" + orderID), "SK": s("AUDIT#" + at + "#" + randomHex(6)), "type": s("audit"),
			"entity": s("member:" + m.CF), "action": s("member.enrolled"), "actor": s(actor), "at": s(at),
		},
		OrderKey: keyOf("ORDER#"+orderID, "#ORDER"),
	}
	if mailboxID == "" {
		return e
	}
	sortKey := at + "#" + mailboxID
	e.Mailbox = map[string]types.AttributeValue{
		"PK": s("MAILBOX#" + mailboxID), "SK": s("#MAILBOX"),
		"GSI1PK": s("ORDER#" + orderID + "#STATE#RICHIESTA"), "GSI1SK": s(sortKey),
		"GSI2PK": s("ORDER#" + orderID + "#MAILBOXES"), "GSI2SK": s(sortKey),
		"GSI3PK": s("ORDER#" + orderID + "#OPEN#0"), "GSI3SK": s(sortKey),
		"type": s("mailbox"), "id": s(mailboxID), "address": s(address), "state": s("RICHIESTA"),
		"orderId": s(orderID), "albo": s(alboTSRM), "memberKey": s(m.CF), "createdAt": s(at), "updatedAt": s(at),
		"history": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"state": s("RICHIESTA"), "at": s(at), "actor": s(actor), "reason": s("enrolled"),
		}}}},
		"batchSeq": n(0), "activationsSent": n(0), "version": n(0),
	}
	e.Address = map[string]types.AttributeValue{
		"PK": s("ADDRESS#" + address), "SK": s("#ADDRESS"), "type": s("address"),
		"mailboxId": s(mailboxID), "orderId": s(orderID), "reservedAt": s(at),
	}
	return e
}
