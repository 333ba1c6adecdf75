package fake

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// Store is an in-memory store that implements every store port of shared/app. The zero value
// is not usable: call NewStore. It is safe for concurrent use.
//
// Like the DynamoDB store, Update* methods read a copy, let the change decide without holding
// any lock (a change may read the store), and write back only if nobody wrote in between,
// deciding again otherwise; and every record handed out is a copy.
type Store struct {
	Faults // make a method fail: s.Fail("UpdateMailbox", err)

	mu        sync.Mutex
	orders    map[string]*domain.Order
	offers    map[string]string // offer code -> Order id
	members   map[string]*memberRow
	mailboxes map[string]*domain.Mailbox
	addresses map[string]string // address -> mailbox id ("" once taken at the provider); never deleted
	// takenAtProvider are the addresses found taken at the provider, in order.
	takenAtProvider []string
	changes         map[string][]app.Change
	audit           []AuditEntry
	changeSeq       int

	// The state of the other ports, kept by the files that implement them.
	batches      map[string]*batchRow
	renewalLines map[string][]string // renewal batch -> its mailboxes, in joining order
	events       map[string]string   // provider event id -> mailbox id
	activations  map[string]link     // activation link hash -> mailbox
	regindeLinks map[string]link     // ReGIndE link hash -> member
	requests     map[string]*requestRow
	rates        map[string]int
	imports      map[string]*app.Import
	failures     map[string][]app.Failure
	deliveries   map[string][]*app.Delivery // per Order, in number order
	exports      map[string][]*app.Delivery
	idempotency  map[string]*app.IdempotentResponse
	docLinks     map[string]app.DocumentLink // provider's document link hash -> what it opens
	signLinks    map[string]app.SignLink     // signing link hash -> the mailbox and round
	sent         map[string]app.SentMail     // SES message id -> the member it went to
	problems     map[string]*problemRow      // Order|key -> an e-mail problem for the digest
}

type batchRow struct {
	b       *domain.Batch
	park    app.BatchPark
	version int
}

type requestRow struct {
	r       *domain.Request
	version int
}

type memberRow struct {
	m       *domain.Member
	version int
}

// link is a link token's record: what it was issued for, until when.
type link struct {
	mailboxID string
	orderID   string
	cf        domain.CodiceFiscale
	expires   time.Time
}

// AuditEntry is one entry of an Order's audit trail.
type AuditEntry struct {
	OrderID, Entity, Action, Actor string
	At                             time.Time
	MemberKey                      string
	Changes                        []app.FieldChange
	seq                            int
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{
		orders: map[string]*domain.Order{}, offers: map[string]string{}, members: map[string]*memberRow{},
		mailboxes: map[string]*domain.Mailbox{}, addresses: map[string]string{}, changes: map[string][]app.Change{},
		batches: map[string]*batchRow{}, renewalLines: map[string][]string{}, events: map[string]string{},
		activations: map[string]link{}, regindeLinks: map[string]link{}, requests: map[string]*requestRow{},
		rates: map[string]int{}, imports: map[string]*app.Import{}, failures: map[string][]app.Failure{},
		deliveries: map[string][]*app.Delivery{}, exports: map[string][]*app.Delivery{},
		idempotency: map[string]*app.IdempotentResponse{},
	}
}

// optimisticAttempts is how often an Update* decides again after losing a race, as the
// DynamoDB store does.
const optimisticAttempts = 5

func memberKey(orderID string, cf domain.CodiceFiscale) string {
	return orderID + "#" + string(cf.Canonical())
}

// record appends an audit entry; the caller holds the lock.
func (s *Store) record(orderID, entity, action, actor string, at time.Time, changes ...app.FieldChange) {
	if action == "" {
		return
	}
	memberKey, _ := strings.CutPrefix(entity, "member:")
	if memberKey == entity {
		memberKey = ""
	}
	s.recordEntry(AuditEntry{OrderID: orderID, Entity: entity, Action: action, Actor: actor, At: at, MemberKey: memberKey, Changes: changes})
}

// recordEntry appends an audit entry; the caller holds the lock.
func (s *Store) recordEntry(e AuditEntry) {
	e.seq = len(s.audit)
	s.audit = append(s.audit, e)
}

// recordTransition audits a mailbox's move to another state, as the DynamoDB store does; the
// caller holds the lock.
func (s *Store) recordTransition(before, after *domain.Mailbox) {
	if before.State == after.State && before.Address == after.Address {
		return
	}
	e := AuditEntry{OrderID: after.OrderID, Entity: "mailbox:" + after.ID, Action: app.MailboxAction(before, after),
		Actor: "system", At: after.UpdatedAt, MemberKey: after.MemberKey, Changes: app.MailboxChanges(before, after)}
	if n := len(after.History); n > 0 {
		e.Actor, e.At = after.History[n-1].Actor, after.History[n-1].At
	}
	s.recordEntry(e)
}

// publish appends an INI-PEC change to the Order's outbox; the caller holds the lock.
func (s *Store) publish(p *domain.Publication) {
	if p == nil {
		return
	}
	s.changeSeq++
	key := "CHANGE#" + p.At.UTC().Format("2006-01-02T15:04:05.000000000Z") + fmt.Sprintf("#%012x", s.changeSeq)
	s.changes[p.OrderID] = append(s.changes[p.OrderID], app.Change{Key: key, Kind: p.Kind, MemberKey: p.MemberKey, Address: p.Address, At: p.At})
	sort.SliceStable(s.changes[p.OrderID], func(i, j int) bool { return s.changes[p.OrderID][i].Key < s.changes[p.OrderID][j].Key })
}

// Audit returns the audit trail of the Order, oldest first.
func (s *Store) Audit(orderID string) []AuditEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AuditEntry
	for _, e := range s.audit {
		if e.OrderID == orderID {
			out = append(out, e)
		}
	}
	return out
}

// Outbox returns every INI-PEC change recorded for the Order, delivered or not, in order.
func (s *Store) Outbox(orderID string) []app.Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changes[orderID])
}

// PutOrder implements app.Store.
func (s *Store) PutOrder(_ context.Context, o *domain.Order, actor string) (bool, error) {
	if err := s.check("PutOrder"); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, exists := s.orders[o.ID]
	newCode := ""
	if o.Convention.OfferCode != nil {
		newCode = *o.Convention.OfferCode
	}
	if owner, ok := s.offers[newCode]; newCode != "" && ok && owner != o.ID {
		return false, domain.ErrOfferCodeTaken
	}
	action := "order.created"
	if exists {
		action = "order.updated"
		o.CreatedAt, o.BatchSeq, o.Version = old.CreatedAt, old.BatchSeq, old.Version+1
		if old.Convention.OfferCode != nil && *old.Convention.OfferCode != newCode {
			delete(s.offers, *old.Convention.OfferCode)
		}
	}
	if newCode != "" {
		s.offers[newCode] = o.ID
	}
	s.orders[o.ID] = clone(o)
	s.record(o.ID, "order:"+o.ID, action, actor, o.UpdatedAt)
	return !exists, nil
}

// GetOrder implements app.OrderReader.
func (s *Store) GetOrder(_ context.Context, id string) (*domain.Order, error) {
	if err := s.check("GetOrder"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return nil, domain.ErrOrderNotFound
	}
	return clone(o), nil
}

// ListOrders implements app.BatchStore, by id.
func (s *Store) ListOrders(_ context.Context) ([]*domain.Order, error) {
	if err := s.check("ListOrders"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*domain.Order
	for _, o := range s.orders {
		out = append(out, clone(o))
	}
	slices.SortFunc(out, func(a, b *domain.Order) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// OrderIDForOfferCode implements app.RequestStore.
func (s *Store) OrderIDForOfferCode(_ context.Context, code string) (string, error) {
	if err := s.check("OrderIDForOfferCode"); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.offers[code]
	if !ok {
		return "", domain.ErrNotFound
	}
	return id, nil
}

// CreateMember implements app.Store: the member, its mailbox and the address reservation, all
// or nothing.
func (s *Store) CreateMember(_ context.Context, m *domain.Member, mb *domain.Mailbox, actor string) error {
	if err := s.check("CreateMember"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := memberKey(m.OrderID, m.CodiceFiscale)
	if _, ok := s.members[k]; ok {
		return domain.ErrMemberExists
	}
	if mb != nil {
		if _, ok := s.mailboxes[mb.ID]; ok {
			return domain.ErrConcurrentUpdate
		}
		if _, ok := s.addresses[mb.Address]; ok {
			return domain.ErrAddressTaken
		}
		if o, ok := s.orders[m.OrderID]; !ok || o.BatchSeq != mb.BatchSeq {
			return domain.ErrConcurrentUpdate // the batch sequence closed meanwhile
		}
		s.mailboxes[mb.ID] = clone(mb)
		s.addresses[mb.Address] = mb.ID
	}
	s.members[k] = &memberRow{m: clone(m)}
	s.record(m.OrderID, "member:"+m.Key(), "member.enrolled", actor, m.EnrolledAt)
	s.publish(domain.MemberPublication(nil, m))
	return nil
}

// GetMember implements app.MailboxRecords, whichever omocodic form cf is in.
func (s *Store) GetMember(_ context.Context, orderID string, cf domain.CodiceFiscale) (*domain.Member, error) {
	if err := s.check("GetMember"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.members[memberKey(orderID, cf)]
	if !ok {
		return nil, domain.ErrMemberNotFound
	}
	return clone(r.m), nil
}

// UpdateMember implements app.MemberUpdater.
func (s *Store) UpdateMember(_ context.Context, orderID string, cf domain.CodiceFiscale, audit app.Audit, change func(*domain.Member) (bool, error)) (*domain.Member, error) {
	if err := s.check("UpdateMember"); err != nil {
		return nil, err
	}
	k := memberKey(orderID, cf)
	for range optimisticAttempts {
		s.mu.Lock()
		r, ok := s.members[k]
		if !ok {
			s.mu.Unlock()
			return nil, domain.ErrMemberNotFound
		}
		m, before, version := clone(r.m), clone(r.m), r.version
		s.mu.Unlock()
		changed, err := change(m)
		if err != nil || !changed {
			return m, err
		}
		s.mu.Lock()
		if s.members[k].version != version {
			s.mu.Unlock()
			continue
		}
		s.members[k] = &memberRow{m: clone(m), version: version + 1}
		s.record(orderID, "member:"+m.Key(), audit.Action, audit.Actor, m.UpdatedAt, app.MemberChanges(before, m)...)
		p := domain.MemberPublication(before, m)
		if mb, ok := s.mailboxes[m.MailboxID]; ok && domain.DomicilioMayChange(before, m) && !m.Cancelled() {
			p = domain.DomicilioChange(before, m, mb)
		}
		s.publish(p)
		s.mu.Unlock()
		return m, nil
	}
	return nil, domain.ErrConcurrentUpdate
}

// GetMailbox implements app.MailboxRecords.
func (s *Store) GetMailbox(_ context.Context, id string) (*domain.Mailbox, error) {
	if err := s.check("GetMailbox"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mb, ok := s.mailboxes[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	return clone(mb), nil
}

// UpdateMailbox implements app.MailboxUpdater: under the mailbox's version, with the INI-PEC
// change the new state makes.
func (s *Store) UpdateMailbox(ctx context.Context, id string, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, bool, error) {
	if err := s.check("UpdateMailbox"); err != nil {
		return nil, false, err
	}
	return s.updateMailbox(id, change, nil)
}

// updateMailbox is UpdateMailbox with more written under the same lock (also) once the
// mailbox is written.
func (s *Store) updateMailbox(id string, change func(*domain.Mailbox) (bool, error), also func(*domain.Mailbox)) (*domain.Mailbox, bool, error) {
	for range optimisticAttempts {
		s.mu.Lock()
		cur, ok := s.mailboxes[id]
		if !ok {
			s.mu.Unlock()
			return nil, false, domain.ErrNotFound
		}
		mb, before := clone(cur), clone(cur)
		s.mu.Unlock()
		changed, err := change(mb)
		if err != nil || !changed {
			return mb, false, err
		}
		s.mu.Lock()
		if s.mailboxes[id].Version != before.Version {
			s.mu.Unlock()
			continue
		}
		mb.Version++
		s.mailboxes[id] = clone(mb)
		p := domain.MailboxPublication(before, mb)
		if r, ok := s.members[memberKey(mb.OrderID, domain.CodiceFiscale(mb.MemberKey))]; ok {
			p = domain.OwnPECPrevails(p, r.m)
		}
		s.publish(p)
		s.recordTransition(before, mb)
		if also != nil {
			also(mb)
		}
		s.mu.Unlock()
		return mb, true, nil
	}
	return nil, false, domain.ErrConcurrentUpdate
}

// MailboxesByID implements app.ComplianceStore: the mailboxes that exist among ids.
func (s *Store) MailboxesByID(_ context.Context, ids []string) (map[string]*domain.Mailbox, error) {
	if err := s.check("MailboxesByID"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]*domain.Mailbox{}
	for _, id := range ids {
		if mb, ok := s.mailboxes[id]; ok {
			out[id] = clone(mb)
		}
	}
	return out, nil
}

// TakenAddresses implements app.Store.
func (s *Store) TakenAddresses(_ context.Context, addresses []string) (map[string]bool, error) {
	if err := s.check("TakenAddresses"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for _, a := range addresses {
		if _, ok := s.addresses[a]; ok {
			out[a] = true
		}
	}
	return out, nil
}

// MailboxIDForAddress implements app.ProvisioningStore.
func (s *Store) MailboxIDForAddress(_ context.Context, address string) (string, error) {
	if err := s.check("MailboxIDForAddress"); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.addresses[address]
	if !ok || id == "" {
		return "", domain.ErrNotFound
	}
	return id, nil
}

// MoveAddress implements app.ProvisioningStore.
func (s *Store) MoveAddress(ctx context.Context, id, to string, change func(*domain.Mailbox) (bool, error)) (*domain.Mailbox, error) {
	if err := s.check("MoveAddress"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if _, ok := s.addresses[to]; ok {
		s.mu.Unlock()
		return nil, domain.ErrAddressTaken
	}
	s.mu.Unlock()
	mb, changed, err := s.UpdateMailbox(ctx, id, func(m *domain.Mailbox) (bool, error) {
		m.Address = to
		return change(m)
	})
	if err == nil && changed {
		s.mu.Lock()
		s.addresses[to] = id
		s.mu.Unlock()
	}
	return mb, err
}

// MarkTakenAtProvider implements app.ProvisioningStore.
func (s *Store) MarkTakenAtProvider(_ context.Context, address, _ string) error {
	if err := s.check("MarkTakenAtProvider"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addresses[address] = ""
	s.takenAtProvider = append(s.takenAtProvider, address)
	return nil
}

// TakenAtProvider returns the addresses marked as taken at the provider, in order.
func (s *Store) TakenAtProvider() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.takenAtProvider)
}

// PutMailbox stores a mailbox as it is, reserving its address: for tests that start from a
// mailbox in a given state.
func (s *Store) PutMailbox(mb *domain.Mailbox) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mailboxes[mb.ID] = clone(mb)
	s.addresses[mb.Address] = mb.ID
}

// PutMember stores a member as it is: for tests that start from a given member.
func (s *Store) PutMember(m *domain.Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[memberKey(m.OrderID, m.CodiceFiscale)] = &memberRow{m: clone(m)}
}

// GetRequest implements app.RequestStore (and the lifecycle's reads of a self-service request).
func (s *Store) GetRequest(_ context.Context, id string) (*domain.Request, error) {
	if err := s.check("GetRequest"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok {
		return nil, domain.ErrRequestNotFound
	}
	return clone(r.r), nil
}

// PutRequest stores a self-service request as it is: for tests that start from one.
func (s *Store) PutRequest(r *domain.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[r.ID] = &requestRow{r: clone(r)}
}
