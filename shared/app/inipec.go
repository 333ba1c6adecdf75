package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/inipec"
)

// Change is one INI-PEC change waiting in an Order's outbox.
type Change struct {
	Key       string // its position in the outbox; deliveries cover ranges of keys
	Kind      domain.PublicationKind
	MemberKey string
	Address   string
	At        time.Time
}

// Delivery is one file sent (or being sent) to INI-PEC for an Order.
type Delivery struct {
	OrderID    string `json:"orderId"`
	N          int    `json:"number"`
	FileName   string `json:"fileName"`
	FromKey    string `json:"-"` // the changes after this key...
	ToKey      string `json:"-"` // ...up to this one, inclusive
	ArchiveKey string `json:"-"` // where the file is archived: unique to the run that wrote it
	Inserts    int    `json:"inserts"`
	Updates    int    `json:"updates"`
	Deletes    int    `json:"deletes"`
	Bytes      int64  `json:"bytes,omitempty"` // the file's size
	State      string `json:"state"`           // PREPARED, DELIVERED
	Kind       string `json:"kind"`            // delta (the daily file) or full (an export on demand)
	// NoChanges marks the confirmation of a day without changes: it covers no change.
	NoChanges   bool      `json:"noChanges,omitempty"`
	Outcome     string    `json:"outcome,omitempty"`
	PreparedAt  time.Time `json:"preparedAt"`
	DeliveredAt time.Time `json:"deliveredAt,omitzero"`
}

// Delivery states.
const (
	DeliveryPrepared  = "PREPARED"
	DeliveryDelivered = "DELIVERED"
)

// INIPECStore is what the INI-PEC sync needs from persistence.
type INIPECStore interface {
	ListOrders(ctx context.Context) ([]*domain.Order, error)
	// Changes pages through the Order's outbox after key `after`, up to `upTo` inclusive.
	Changes(ctx context.Context, orderID, after, upTo string, limit int) ([]Change, error)
	// LastDelivery returns the Order's latest delivery (nil before the first one).
	LastDelivery(ctx context.Context, orderID string) (*Delivery, error)
	// PrepareDelivery records d before it is sent; it fails with domain.ErrConcurrentUpdate if
	// delivery d.N already exists (another run got there first).
	PrepareDelivery(ctx context.Context, d *Delivery) error
	// CompleteDelivery marks d delivered.
	CompleteDelivery(ctx context.Context, d *Delivery) error
	// ListDeliveries lists the daily deliveries (kind "delta") or the full exports ("full").
	ListDeliveries(ctx context.Context, orderID, kind string, limit int, cursor string) ([]*Delivery, string, error)
	MembersByKey(ctx context.Context, orderID string, keys []string) (map[string]*domain.Member, error)
}

// ChangeKeyBefore is the outbox key that sorts after every change stamped at or before t. The
// store's outbox keys are "CHANGE#" + a fixed-width UTC time + "#" + a random suffix.
func ChangeKeyBefore(t time.Time) string {
	return "CHANGE#" + t.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#~"
}

// Archive keeps every delivered file, so that a delivery cut off halfway is re-sent byte for
// byte rather than rebuilt.
type Archive interface {
	Put(ctx context.Context, key string, body io.ReadSeeker) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// Deliverer hands a file to INI-PEC. Delivering the same name and content twice is one file.
// The file is streamed: open gives its content (size bytes, or -1 when unknown) and may be
// called again for each retry, so a file of any size is never held in memory.
type Deliverer interface {
	Deliver(ctx context.Context, name string, size int64, open func() (io.ReadCloser, error)) error
}

// Confirmer confirms to INI-PEC that an Order has no change to send on a day (a call, or a
// PEC, as NoChange says).
type Confirmer interface {
	Confirm(ctx context.Context, orderID, name string, day time.Time) error
}

// How a day without changes is confirmed (INIPEC.NoChange).
const (
	NoChangeEmptyFile = "empty-file" // a file without lines, through the Deliverer
	NoChangeCall      = "call"       // Confirmer: a call to the receiver
	NoChangePEC       = "pec"        // Confirmer: a PEC to the receiver
	NoChangeNone      = "none"       // nothing (before INI-PEC asked for the confirmation)
)

// Who transmits to INI-PEC (INIPEC.Sender).
const (
	SenderOrder      = "order"      // one file per Order
	SenderFederation = "federation" // one file a day for all the Orders, from the federation
)

// INIPEC runs the daily delta of each Order to INI-PEC.
type INIPEC struct {
	Store   INIPECStore
	Archive Archive
	Deliver Deliverer
	// NoChange says how an Order that has sent INI-PEC its list confirms a day without changes
	// (NoChangeEmptyFile when empty); Confirm sends the call or the PEC.
	NoChange string
	Confirm  Confirmer
	// Sender says who transmits: SenderOrder (each Order's file, the default) or
	// SenderFederation (one file a day for all the Orders, named after Federation).
	Sender string
	// Federation is the federation's code in its files' names (DefaultFederation when empty).
	Federation string
	Format     inipec.Format
	Log        *slog.Logger
	Now        func() time.Time
	// Settle leaves out the changes of the last few minutes: a change is stamped before its
	// transaction commits, and a function may take up to its timeout to commit it.
	Settle  time.Duration
	Metrics Metrics
}

// SyncResult says what one run did.
type SyncResult struct {
	Delivered []*Delivery `json:"delivered"`
	Unchanged int         `json:"unchanged"` // Orders with nothing to send
}

// Sync delivers, for every Order, the changes not yet delivered. Each change is in exactly one
// delivered file: a run that died after preparing a delivery is completed by the next run with
// the archived file, and two runs at once cannot prepare the same delivery.
func (s *INIPEC) Sync(ctx context.Context) (*SyncResult, error) {
	orders, err := s.Store.ListOrders(ctx)
	if err != nil {
		return nil, err
	}
	if s.Sender == SenderFederation {
		return s.syncFederation(ctx, orders)
	}
	res := &SyncResult{Delivered: []*Delivery{}}
	var errs []error
	for _, o := range orders {
		ds, err := s.syncOrder(ctx, o.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("order %s: %w", o.ID, err))
		}
		if len(ds) == 0 && err == nil {
			res.Unchanged++
		}
		res.Delivered = append(res.Delivered, ds...)
	}
	s.Log.InfoContext(ctx, "inipec sync", "delivered", len(res.Delivered), "unchanged", res.Unchanged, "failed", len(errs))
	return res, errors.Join(errs...)
}

func (s *INIPEC) syncOrder(ctx context.Context, orderID string) ([]*Delivery, error) {
	var done []*Delivery
	last, err := s.Store.LastDelivery(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if last != nil && last.State == DeliveryPrepared {
		// A run died between preparing and completing this delivery: send it again.
		if err := s.send(ctx, last); err != nil {
			return nil, err
		}
		done = append(done, last)
	}
	d, err := s.prepare(ctx, orderID, last)
	if err == nil && d == nil && len(done) == 0 {
		s.Log.InfoContext(ctx, "no INI-PEC change to deliver", "orderId", orderID)
		d, err = s.prepareConfirmation(ctx, orderID, orderID, last)
	}
	if err != nil || d == nil {
		return done, err
	}
	if err := s.send(ctx, d); err != nil {
		return done, err
	}
	return append(done, d), nil
}

// prepare builds the next file from the changes after the last delivery, archives it and
// records the delivery. It returns nil when there is nothing to send.
func (s *INIPEC) prepare(ctx context.Context, orderID string, last *Delivery) (*Delivery, error) {
	d := &Delivery{OrderID: orderID, N: 1, State: DeliveryPrepared, PreparedAt: s.Now().UTC(), Kind: "delta"}
	if last != nil {
		d.N, d.FromKey = last.N+1, last.ToKey
	}
	d.FileName = inipec.FileName(orderID, d.PreparedAt, d.N)
	upTo := ChangeKeyBefore(d.PreparedAt.Add(-s.Settle))
	tmp, err := os.CreateTemp("", "inipec-*.csv")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	w, err := inipec.NewWriter(tmp, s.Format)
	if err != nil {
		return nil, err
	}
	after := d.FromKey
	for {
		changes, err := s.Store.Changes(ctx, orderID, after, upTo, 500)
		if err != nil {
			return nil, err
		}
		if len(changes) == 0 {
			break
		}
		if err := s.writeLines(ctx, w, orderID, changes); err != nil {
			return nil, err
		}
		after = changes[len(changes)-1].Key
	}
	if after == d.FromKey {
		return nil, nil
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	d.ToKey = after
	d.Inserts, d.Updates, d.Deletes = w.Count()
	if d.Bytes, err = tmp.Seek(0, io.SeekCurrent); err != nil {
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	// The run's own key: a run that loses the race to prepare this delivery must not
	// overwrite the file of the run that won it.
	d.ArchiveKey = "inipec/" + orderID + "/" + NewID() + "/" + d.FileName
	if err := s.Archive.Put(ctx, ArchiveKey(d), tmp); err != nil {
		return nil, err
	}
	err = s.Store.PrepareDelivery(ctx, d)
	if errors.Is(err, domain.ErrConcurrentUpdate) {
		// Another run prepared this delivery first; it sends it (or the next run does).
		s.Log.InfoContext(ctx, "inipec delivery prepared by another run", "orderId", orderID, "number", d.N)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// prepareConfirmation records the confirmation of a day without changes, once a day, for an
// Order that has sent its list before (there is nothing to confirm before the first file). It
// takes the next number of the Order's deliveries: a confirmation is prepared, sent and
// completed exactly as a file is, so that a run cut off halfway is completed by the next and
// two runs cannot both send it.
// The federation's own deliveries (its files, or its confirmations) are recorded under key,
// and named after sender.
func (s *INIPEC) prepareConfirmation(ctx context.Context, key, sender string, last *Delivery) (*Delivery, error) {
	now := s.Now().UTC()
	if s.NoChange == NoChangeNone || last == nil || domain.Today(last.PreparedAt).Equal(domain.Today(now)) {
		return nil, nil
	}
	d := &Delivery{OrderID: key, N: last.N + 1, State: DeliveryPrepared, PreparedAt: now, Kind: "delta",
		FromKey: last.ToKey, ToKey: last.ToKey, NoChanges: true}
	d.FileName = inipec.FileName(sender, now, d.N)
	if s.noChange() == NoChangeEmptyFile {
		d.ArchiveKey = "inipec/" + key + "/" + NewID() + "/" + d.FileName
		if err := s.Archive.Put(ctx, d.ArchiveKey, strings.NewReader("")); err != nil {
			return nil, err
		}
	}
	err := s.Store.PrepareDelivery(ctx, d)
	if errors.Is(err, domain.ErrConcurrentUpdate) {
		return nil, nil // another run prepared it
	}
	return d, err
}

func (s *INIPEC) noChange() string {
	if s.NoChange == "" {
		return NoChangeEmptyFile
	}
	return s.NoChange
}

// ArchiveKey is where a delivery's file is archived.
func ArchiveKey(d *Delivery) string {
	if d.ArchiveKey != "" {
		return d.ArchiveKey
	}
	return "inipec/" + d.OrderID + "/" + d.FileName // prepared before keys were unique to their run
}

func (s *INIPEC) writeLines(ctx context.Context, w *inipec.Writer, orderID string, changes []Change) error {
	keys := make([]string, 0, len(changes))
	for _, c := range changes {
		keys = append(keys, c.MemberKey)
	}
	members, err := s.Store.MembersByKey(ctx, orderID, keys)
	if err != nil {
		return err
	}
	for _, c := range changes {
		m := members[c.MemberKey]
		if m == nil {
			return fmt.Errorf("change %s names a member that does not exist", c.Key)
		}
		l := inipec.Line{PEC: c.Address, Nome: m.Nome, Cognome: m.Cognome, NumeroIscrizione: m.NumeroIscrizione,
			CodiceFiscale: m.CodiceFiscale.Value(), Stato: stato(c.Kind)}
		if c.Kind == domain.PublishInsert { // INI-PEC asks the enrolment date of new positions only
			l.DataIscrizione, _ = time.Parse(time.DateOnly, m.DataIscrizione)
		}
		if c.Kind == domain.PublishDelete && m.Cancelled() {
			l.DataCancellazione, _ = time.Parse(time.DateOnly, m.CancelledOn)
		}
		if err := w.Write(l); err != nil {
			return err
		}
	}
	return nil
}

func stato(k domain.PublicationKind) inipec.Stato {
	switch k {
	case domain.PublishInsert:
		return inipec.Insert
	case domain.PublishUpdate:
		return inipec.Update
	}
	return inipec.Delete
}

// send delivers an archived file and completes its delivery.
func (s *INIPEC) send(ctx context.Context, d *Delivery) error {
	if err := s.transmit(ctx, d); err != nil {
		return err
	}
	return s.complete(ctx, d)
}

// transmit delivers an archived file, or the confirmation of a day without changes.
func (s *INIPEC) transmit(ctx context.Context, d *Delivery) error {
	size := d.Bytes
	if size == 0 {
		size = -1 // recorded before the size was kept
	}
	open := func() (io.ReadCloser, error) { return s.Archive.Get(ctx, ArchiveKey(d)) }
	deliver := func() error { return s.Deliver.Deliver(ctx, d.FileName, size, open) }
	if d.NoChanges && s.noChange() != NoChangeEmptyFile {
		if s.Confirm == nil {
			return fmt.Errorf("inipec: no confirmer for the no-change confirmation by %s", s.noChange())
		}
		deliver = func() error { return s.Confirm.Confirm(ctx, s.senderOf(d), d.FileName, d.PreparedAt) }
	} else if d.NoChanges {
		size = 0
	}
	if err := deliver(); err != nil {
		s.Log.ErrorContext(ctx, "inipec delivery failed; the next run sends it again", "orderId", d.OrderID, "file", d.FileName, "error", err)
		count(ctx, s.Metrics, MetricINIPECFailures, 1, Dimension{})
		return err
	}
	count(ctx, s.Metrics, MetricINIPECDeliveries, 1, Dimension{})
	return nil
}

// complete records a transmitted delivery as delivered.
func (s *INIPEC) complete(ctx context.Context, d *Delivery) error {
	d.State, d.DeliveredAt, d.Outcome = DeliveryDelivered, s.Now().UTC(), "accepted"
	if d.NoChanges {
		d.Outcome = "confirmed: no changes"
	}
	return s.Store.CompleteDelivery(ctx, d)
}

// Deliveries lists an Order's INI-PEC deliveries, newest first.
func (s *INIPEC) Deliveries(ctx context.Context, c Caller, orderID, kind string, limit int, cursor string) ([]*Delivery, string, error) {
	if err := domain.ValidateOrderID(orderID); err != nil {
		return nil, "", err
	}
	if !c.CanAccessOrder(orderID) {
		return nil, "", domain.ErrForbidden
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return nil, "", domain.Invalid("limit", "invalid_limit", "limit must be between 1 and 1000")
	}
	switch kind {
	case "":
		kind = "delta"
	case "delta", "full":
	default:
		return nil, "", domain.Invalid("kind", "invalid_kind", "kind must be delta or full")
	}
	return s.Store.ListDeliveries(ctx, orderID, kind, limit, cursor)
}

// Exporter runs a full export away from the request (it reads every member of the Order).
type Exporter interface {
	StartExport(ctx context.Context, orderID string) error
}

// RequestExport checks the caller and the Order, then starts a full export.
func (s *INIPEC) RequestExport(ctx context.Context, c Caller, orderID string, store ComplianceStore, ex Exporter) error {
	if err := domain.ValidateOrderID(orderID); err != nil {
		return err
	}
	if !c.CanAccessOrder(orderID) {
		return domain.ErrForbidden
	}
	if _, err := store.GetOrder(ctx, orderID); err != nil {
		return err
	}
	return ex.StartExport(ctx, orderID)
}

// FullStore is what a full export needs beyond INIPECStore.
type FullStore interface {
	// MembersPage pages through all the Order's members.
	MembersPage(ctx context.Context, orderID string, limit int, cursor string) ([]*domain.Member, string, error)
	MailboxesByID(ctx context.Context, ids []string) (map[string]*domain.Mailbox, error)
	PutExport(ctx context.Context, d *Delivery) error
}

// FullExport delivers every current domicilio digitale of the Order as insert lines: the
// Order's first load into INI-PEC, or a reconciliation. It does not touch the daily delta.
func (s *INIPEC) FullExport(ctx context.Context, store FullStore, orderID string) (*Delivery, error) {
	now := s.Now().UTC()
	d := &Delivery{OrderID: orderID, N: int(now.Unix()), State: DeliveryPrepared, PreparedAt: now, Kind: "full"}
	d.FileName = inipec.FileName(orderID+"-FULL", now, int(now.Unix()%1_000_000))
	tmp, err := os.CreateTemp("", "inipec-full-*.csv")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	w, err := inipec.NewWriter(tmp, s.Format)
	if err != nil {
		return nil, err
	}
	for cursor := ""; ; {
		members, next, err := store.MembersPage(ctx, orderID, 500, cursor)
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, m := range members {
			if m.MailboxID != "" && m.PEC == "" {
				ids = append(ids, m.MailboxID)
			}
		}
		mailboxes, err := store.MailboxesByID(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			if m.Cancelled() {
				continue
			}
			address := m.PEC
			if mb := mailboxes[m.MailboxID]; address == "" && mb != nil && mb.State == domain.StateAttivata {
				address = mb.Address
			}
			if address == "" {
				continue
			}
			l := inipec.Line{PEC: address, Nome: m.Nome, Cognome: m.Cognome, NumeroIscrizione: m.NumeroIscrizione,
				CodiceFiscale: m.CodiceFiscale.Value(), Stato: inipec.Insert}
			l.DataIscrizione, _ = time.Parse(time.DateOnly, m.DataIscrizione)
			if err := w.Write(l); err != nil {
				return nil, err
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	d.Inserts, d.Updates, d.Deletes = w.Count()
	if d.Bytes, err = tmp.Seek(0, io.SeekCurrent); err != nil {
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if err := s.Archive.Put(ctx, ArchiveKey(d), tmp); err != nil {
		return nil, err
	}
	open := func() (io.ReadCloser, error) { return os.Open(tmp.Name()) }
	if err := s.Deliver.Deliver(ctx, d.FileName, d.Bytes, open); err != nil {
		return nil, err
	}
	d.State, d.DeliveredAt, d.Outcome = DeliveryDelivered, s.Now().UTC(), "accepted"
	return d, store.PutExport(ctx, d)
}
