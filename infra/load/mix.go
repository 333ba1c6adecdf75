package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/pecplatform/pec/shared/domain"
)

// kind is one of the portal requests of the mix.
type kind int

const (
	enrol   kind = iota // POST /v1/orders/{orderId}/members: a new member, a mailbox in RICHIESTA
	member              // GET /v1/orders/{orderId}/members/{codiceFiscale}
	list                // GET /v1/orders/{orderId}/mailboxes?state=RICHIESTA&limit=50
	summary             // GET /v1/orders/{orderId}/mailboxes/summary
	nKinds
)

var kindNames = [nKinds]string{"enrol", "member", "list", "summary"}

func (k kind) String() string {
	if k < 0 || k >= nKinds {
		return "other"
	}
	return kindNames[k]
}

// The mailbox lists ask for the first page of the Order's RICHIESTA mailboxes, the ones it
// gathers into a batch: always a full page here. (A list of another state would be empty and
// cheaper; a kind that mixed both would have a p99 three times its p50 at any rate.)
const (
	listState = "RICHIESTA"
	listLimit = 50
)

// The generated members: member g belongs to Order g mod len(orders), has the codice fiscale
// codiceFiscale(g) and a surname no other member has, so every enrolment is new and its
// address its first candidate.
var nomi = []string{"Mario", "Giulia", "Luca", "Francesca", "Marco", "Chiara", "Andrea", "Sara", "Giuseppe", "Anna",
	"Paolo", "Elena", "Stefano", "Laura", "Roberto", "Valentina", "Alessandro", "Martina", "Davide", "Silvia"}

const (
	alboTSRM  = "TSRM"
	pecDomain = "pec.tsrm.org" // TSRM's domain in the default albi (domain.DefaultAlbi)
)

// person is what an enrolment sends (the JSON of POST /v1/orders/{orderId}/members).
type person struct {
	CodiceFiscale    string `json:"codiceFiscale"`
	Nome             string `json:"nome"`
	Cognome          string `json:"cognome"`
	Albo             string `json:"albo"`
	NumeroIscrizione string `json:"numeroIscrizione"`
	DataIscrizione   string `json:"dataIscrizione"`
	Email            string `json:"email"`
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

// codiceFiscale returns a distinct valid code for every g < 26^6: the check character is the
// one domain.ParseCodiceFiscale accepts.
func codiceFiscale(g int) string {
	base := letters(g, 6) + "80A01H501"
	for c := 'A'; c <= 'Z'; c++ {
		if cf, err := domain.ParseCodiceFiscale(base + string(c)); err == nil {
			return cf.Value()
		}
	}
	panic("no check character for " + base)
}

func newPerson(g int) person {
	return person{
		CodiceFiscale:    codiceFiscale(g),
		Nome:             nomi[g%len(nomi)],
		Cognome:          "Carico " + strings.ToLower(letters(g, 5)),
		Albo:             alboTSRM,
		NumeroIscrizione: strconv.Itoa(g + 1),
		DataIscrizione:   "2015-03-01",
		Email:            "m" + strconv.Itoa(g) + "@example.it",
	}
}

// mix generates the portal's requests. Request s of an attack is of kind s mod 4; the Orders
// take turns. Enrolments draw member numbers from one counter for the whole run, so the path
// and its floor, and every rate, enrol different people.
type mix struct {
	orders []string          // the Orders, each seeded with `seeded` members
	tokens map[string]string // each Order's portal token
	seeded int               // members 0..seeded*len(orders)-1 exist before the load
	next   atomic.Int64      // the next member number to enrol
}

func newMix(orders []string, tokens map[string]string, seeded int) *mix {
	m := &mix{orders: orders, tokens: tokens, seeded: seeded}
	m.next.Store(int64(seeded * len(orders)))
	return m
}

func (m *mix) orderOf(g int) string { return m.orders[g%len(m.orders)] }

// targeter returns the targets of one attack on base (the host, or the floor), generated on
// demand and safe for vegeta's concurrent workers.
func (m *mix) targeter(base string) vegeta.Targeter {
	var seq atomic.Uint64
	return func(t *vegeta.Target) error {
		return m.target(t, base, seq.Add(1)-1)
	}
}

// target fills t with request s of an attack on base.
func (m *mix) target(t *vegeta.Target, base string, s uint64) error {
	k, turn := kind(s%uint64(nKinds)), int(s/uint64(nKinds))
	order := m.orders[turn%len(m.orders)]
	*t = vegeta.Target{Method: http.MethodGet, Header: http.Header{}}
	switch k {
	case enrol:
		g := int(m.next.Add(1) - 1)
		order = m.orderOf(g)
		body, err := json.Marshal(newPerson(g))
		if err != nil {
			return err
		}
		t.Method, t.Body = http.MethodPost, body
		t.URL = base + "/v1/orders/" + order + "/members"
		t.Header.Set("Content-Type", "application/json")
	case member:
		// A seeded member, the Orders' members in a scattered order (7919 is prime).
		g := (turn * 7919) % (m.seeded * len(m.orders))
		order = m.orderOf(g)
		t.URL = base + "/v1/orders/" + order + "/members/" + codiceFiscale(g)
	case list:
		t.URL = base + "/v1/orders/" + order + "/mailboxes?" + url.Values{"state": {listState}, "limit": {strconv.Itoa(listLimit)}}.Encode()
	case summary:
		t.URL = base + "/v1/orders/" + order + "/mailboxes/summary"
	}
	t.Header.Set("Authorization", "Bearer "+m.tokens[order])
	return nil
}

// kindOf tells a result's request kind from its method and URL.
func kindOf(method, rawURL string) kind {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nKinds
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/") // v1 orders {id} members|mailboxes ...
	if len(parts) < 4 || parts[0] != "v1" || parts[1] != "orders" {
		return nKinds
	}
	switch {
	case method == http.MethodPost && len(parts) == 4 && parts[3] == "members":
		return enrol
	case method == http.MethodGet && len(parts) == 5 && parts[3] == "members":
		return member
	case method == http.MethodGet && len(parts) == 4 && parts[3] == "mailboxes":
		return list
	case method == http.MethodGet && len(parts) == 5 && parts[3] == "mailboxes" && parts[4] == "summary":
		return summary
	}
	return nKinds
}

// loopback checks that base is http on 127.0.0.1: the load never leaves this machine.
func loopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		return fmt.Errorf("%s is not http://127.0.0.1:<port>: the load stays on this machine", base)
	}
	return nil
}
