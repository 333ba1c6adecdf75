package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/inipec"
)

// FederationKey is where the federation's own deliveries (its daily files and confirmations)
// are recorded, beside the Orders' (an Order's id never starts with "_").
const FederationKey = "_FEDERATION"

// DefaultFederation is the federation's code in its files' names when INIPEC.Federation is empty.
const DefaultFederation = "FEDERAZIONE"

// part is an Order's share of a federation file: which delivery of the Order it is.
type part struct {
	OrderID string `json:"orderId"`
	N       int    `json:"number"`
}

func (s *INIPEC) federation() string {
	if s.Federation == "" {
		return DefaultFederation
	}
	return s.Federation
}

// senderOf is who a delivery is sent for: its Order, or the federation.
func (s *INIPEC) senderOf(d *Delivery) string {
	if d.OrderID == FederationKey {
		return s.federation()
	}
	return d.OrderID
}

// syncFederation delivers one file a day for all the Orders (Sender federation). The file's
// lines are the Orders' changes, Order after Order (by id); INI-PEC's layout has no column for
// the Order, so INI-PEC attributes the lines to the sender, the federation. Each Order keeps its
// own numbered deliveries (its parts), which name the federation's file: an Order's part is
// recorded before the federation's file is prepared and completed before the file is, so a
// change is in exactly one delivered file whatever run dies where:
//
//   - a run cut off after preparing the federation's file (archived with the list of its parts)
//     is completed by the next run, which sends the archived file again and completes its parts;
//   - a part recorded by a run cut off before its file was prepared, or by a run that lost the
//     race to prepare the file, stays prepared and goes in the next file.
func (s *INIPEC) syncFederation(ctx context.Context, orders []*domain.Order) (*SyncResult, error) {
	res := &SyncResult{Delivered: []*Delivery{}}
	last, err := s.Store.LastDelivery(ctx, FederationKey)
	if err != nil {
		return nil, err
	}
	if last != nil && last.State == DeliveryPrepared {
		if err := s.sendFederation(ctx, last, nil); err != nil {
			return res, err
		}
		res.Delivered = append(res.Delivered, last)
	}
	d, parts, unchanged, err := s.prepareFederation(ctx, orders, last)
	res.Unchanged = unchanged
	if err != nil {
		return res, err
	}
	if d == nil && len(res.Delivered) == 0 && unchanged == len(orders) {
		s.Log.InfoContext(ctx, "no INI-PEC change to deliver", "sender", s.federation())
		if d, err = s.prepareConfirmation(ctx, FederationKey, s.federation(), last); err != nil || d == nil {
			return res, err
		}
	}
	if d == nil {
		return res, nil
	}
	if err := s.sendFederation(ctx, d, parts); err != nil {
		return res, err
	}
	res.Delivered = append(res.Delivered, d)
	s.Log.InfoContext(ctx, "inipec federation file delivered", "file", d.FileName, "orders", len(parts))
	return res, nil
}

// prepareFederation records each Order's part and the federation's file made of them. It
// returns a nil delivery when no Order has a change (or when another run prepared the file).
func (s *INIPEC) prepareFederation(ctx context.Context, orders []*domain.Order, last *Delivery) (*Delivery, []*Delivery, int, error) {
	now := s.Now().UTC()
	d := &Delivery{OrderID: FederationKey, N: 1, State: DeliveryPrepared, PreparedAt: now, Kind: "delta"}
	if last != nil {
		d.N = last.N + 1
	}
	d.FileName = inipec.FileName(s.federation(), now, d.N)
	upTo := ChangeKeyBefore(now.Add(-s.Settle))
	tmp, err := os.CreateTemp("", "inipec-federation-*.csv")
	if err != nil {
		return nil, nil, 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	w, err := inipec.NewWriter(tmp, s.Format)
	if err != nil {
		return nil, nil, 0, err
	}
	ids := make([]string, 0, len(orders))
	for _, o := range orders {
		ids = append(ids, o.ID)
	}
	slices.Sort(ids)
	var parts []*Delivery
	var errs []error
	unchanged := 0
	for _, id := range ids {
		p, err := s.preparePart(ctx, id, d.FileName, upTo)
		if err != nil {
			errs = append(errs, fmt.Errorf("order %s: %w", id, err))
			continue
		}
		if p == nil {
			unchanged++
			continue
		}
		// The part is recorded: its lines go in this file, or (if this run loses) in the next.
		if _, err := s.writeRange(ctx, w, id, p.FromKey, p.ToKey); err != nil {
			return nil, nil, unchanged, errors.Join(append(errs, fmt.Errorf("order %s: %w", id, err))...)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return nil, nil, unchanged, errors.Join(errs...)
	}
	if err := w.Flush(); err != nil {
		return nil, nil, unchanged, err
	}
	d.Inserts, d.Updates, d.Deletes = w.Count()
	if d.Bytes, err = tmp.Seek(0, io.SeekCurrent); err != nil {
		return nil, nil, unchanged, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, nil, unchanged, err
	}
	d.ArchiveKey = "inipec/" + FederationKey + "/" + NewID() + "/" + d.FileName
	if err := s.Archive.Put(ctx, d.ArchiveKey, tmp); err != nil {
		return nil, nil, unchanged, err
	}
	manifest := make([]part, 0, len(parts))
	for _, p := range parts {
		manifest = append(manifest, part{OrderID: p.OrderID, N: p.N})
	}
	m, _ := json.Marshal(manifest)
	if err := s.Archive.Put(ctx, partsKey(d), bytes.NewReader(m)); err != nil {
		return nil, nil, unchanged, err
	}
	err = s.Store.PrepareDelivery(ctx, d)
	if errors.Is(err, domain.ErrConcurrentUpdate) {
		s.Log.InfoContext(ctx, "inipec federation file prepared by another run", "number", d.N)
		return nil, nil, unchanged, errors.Join(errs...)
	}
	if err != nil {
		return nil, nil, unchanged, err
	}
	return d, parts, unchanged, errors.Join(errs...)
}

// partsKey is where the list of a federation file's parts is archived, beside the file.
func partsKey(d *Delivery) string { return ArchiveKey(d) + ".parts.json" }

// preparePart records an Order's part of the federation's file named name: its changes after
// its last delivery, up to upTo. A part left prepared by an earlier run (cut off, or beaten to
// the file) is returned as it is: it has not been delivered. Nil when the Order has no change.
func (s *INIPEC) preparePart(ctx context.Context, orderID, name, upTo string) (*Delivery, error) {
	last, err := s.Store.LastDelivery(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if last != nil && last.State == DeliveryPrepared && !last.NoChanges {
		return last, nil
	}
	p := &Delivery{OrderID: orderID, N: 1, State: DeliveryPrepared, PreparedAt: s.Now().UTC(), Kind: "delta", FileName: name}
	if last != nil {
		p.N, p.FromKey = last.N+1, last.ToKey
	}
	p.ToKey = p.FromKey
	for {
		changes, err := s.Store.Changes(ctx, orderID, p.ToKey, upTo, 500)
		if err != nil {
			return nil, err
		}
		if len(changes) == 0 {
			break
		}
		for _, c := range changes {
			switch c.Kind {
			case domain.PublishInsert:
				p.Inserts++
			case domain.PublishUpdate:
				p.Updates++
			default:
				p.Deletes++
			}
		}
		p.ToKey = changes[len(changes)-1].Key
	}
	if p.ToKey == p.FromKey {
		return nil, nil
	}
	err = s.Store.PrepareDelivery(ctx, p)
	if errors.Is(err, domain.ErrConcurrentUpdate) {
		// Another run recorded this part first: take it as it recorded it.
		if last, err = s.Store.LastDelivery(ctx, orderID); err != nil {
			return nil, err
		}
		if last != nil && last.N == p.N && last.State == DeliveryPrepared {
			return last, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// writeRange writes the lines of an Order's changes after `after`, up to `upTo` inclusive,
// and returns the last key written.
func (s *INIPEC) writeRange(ctx context.Context, w *inipec.Writer, orderID, after, upTo string) (string, error) {
	for {
		changes, err := s.Store.Changes(ctx, orderID, after, upTo, 500)
		if err != nil {
			return after, err
		}
		if len(changes) == 0 {
			return after, nil
		}
		if err := s.writeLines(ctx, w, orderID, changes); err != nil {
			return after, err
		}
		after = changes[len(changes)-1].Key
	}
}

// sendFederation transmits the federation's file (or confirmation), completes its parts, then
// completes the file: a part is never left prepared once its file is recorded as delivered.
// parts is nil when the file is re-sent by a later run: the list archived with it is read.
func (s *INIPEC) sendFederation(ctx context.Context, d *Delivery, parts []*Delivery) error {
	if err := s.transmit(ctx, d); err != nil {
		return err
	}
	if !d.NoChanges {
		if parts == nil {
			var err error
			if parts, err = s.archivedParts(ctx, d); err != nil {
				return err
			}
		}
		for _, p := range parts {
			p.FileName = d.FileName
			if err := s.complete(ctx, p); err != nil {
				return fmt.Errorf("order %s: %w", p.OrderID, err)
			}
		}
	}
	return s.complete(ctx, d)
}

// archivedParts reads the parts of a federation file prepared by an earlier run: each is its
// Order's last delivery, still prepared unless another run completed it.
func (s *INIPEC) archivedParts(ctx context.Context, d *Delivery) ([]*Delivery, error) {
	r, err := s.Archive.Get(ctx, partsKey(d))
	if err != nil {
		return nil, fmt.Errorf("the parts of %s: %w", d.FileName, err)
	}
	defer r.Close()
	var manifest []part
	if err := json.NewDecoder(r).Decode(&manifest); err != nil {
		return nil, fmt.Errorf("the parts of %s: %w", d.FileName, err)
	}
	var parts []*Delivery
	for _, m := range manifest {
		last, err := s.Store.LastDelivery(ctx, m.OrderID)
		if err != nil {
			return nil, err
		}
		if last != nil && last.N == m.N && last.State == DeliveryPrepared {
			parts = append(parts, last)
		}
	}
	return parts, nil
}
