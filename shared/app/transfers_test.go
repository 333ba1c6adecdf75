package app_test

import (
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

func (f *federation) transfers() *app.Transfers {
	return &app.Transfers{Store: f.store, Now: func() time.Time { return f.now }}
}

func TestTransfer_MovesTheMemberAndTheActiveMailboxWithoutRevocation(t *testing.T) {
	f := newFederation(t)
	f.putOrder("MI", true)
	mb := f.mailbox(1, domain.StateAttivata)

	m, moved, err := f.transfers().Transfer(f.ctx, segreteria, "TO", f.cf(1).Value(), "MI", "2026-03-01", "2207")
	if err != nil {
		t.Fatal(err)
	}
	if m.OrderID != "MI" || m.NumeroIscrizione != "2207" || m.TransferredFrom != "TO" || m.Cancelled() || m.MailboxID != mb.ID {
		t.Errorf("the new record %+v", m)
	}
	if moved.OrderID != "MI" || moved.State != domain.StateAttivata || moved.Address != mb.Address || len(moved.History) != len(mb.History)+1 {
		t.Errorf("the mailbox %+v", moved)
	}
	left, err := f.store.GetMember(f.ctx, "TO", f.cf(1))
	if err != nil || left.CancelledOn != "2026-03-01" || left.TransferredTo != "MI" || left.MailboxID != "" {
		t.Errorf("the record left behind %+v %v", left, err)
	}
	if got := f.store.Outbox("TO"); len(got) != 1 || got[0].Kind != domain.PublishDelete || got[0].Address != mb.Address {
		t.Errorf("the old Order's INI-PEC changes %+v", got)
	}
	if got := f.store.Outbox("MI"); len(got) != 1 || got[0].Kind != domain.PublishInsert || got[0].Address != mb.Address {
		t.Errorf("the new Order's INI-PEC changes %+v", got)
	}
	if d := f.provider.Deactivated(); len(d) != 0 {
		t.Errorf("the provider was told to close %v", d)
	}
	// The same transfer again: the same answer, nothing written twice.
	again, _, err := f.transfers().Transfer(f.ctx, segreteria, "TO", f.cf(1).Value(), "MI", "2026-03-01", "2207")
	if err != nil || again.OrderID != "MI" || len(f.store.Outbox("MI")) != 1 {
		t.Errorf("a repeat: %+v %v", again, err)
	}
	if a := actions(f.store, "MI", "member:"); len(a) != 1 || a[0] != "order:TO/segreteria@ordine.example member.transferred_in" {
		t.Errorf("the new Order's audit %v", a)
	}
}

func TestTransfer_RefusesAMailboxOnItsWayAndTheWrongCallers(t *testing.T) {
	f := newFederation(t)
	f.putOrder("MI", true)
	f.mailbox(1, domain.StateAbilitata)
	f.mailbox(2, domain.StateRichiesta)
	tr := f.transfers()
	_, _, err := tr.Transfer(f.ctx, segreteria, "TO", f.cf(1).Value(), "MI", "2026-03-01", "1")
	f.wantCode(err, "mailbox_in_progress")
	_, _, err = tr.Transfer(f.ctx, staffOfMI, "TO", f.cf(2).Value(), "MI", "2026-03-01", "1")
	f.wantCode(err, "forbidden") // the Order of destination cannot pull a member
	_, _, err = tr.Transfer(f.ctx, segreteria, "TO", f.cf(2).Value(), "NOWHERE", "2026-03-01", "1")
	f.wantCode(err, "invalid_to_order_id")
	_, _, err = tr.Transfer(f.ctx, segreteria, "TO", f.cf(2).Value(), "TO", "2026-03-01", "1")
	f.wantCode(err, "invalid_to_order_id")
	_, _, err = tr.Transfer(f.ctx, segreteria, "TO", f.cf(2).Value(), "MI", "2026-03-01", "")
	f.wantCode(err, "invalid_numero_iscrizione")

	// A mailbox waiting for a batch joins the new Order's next one.
	m, mb, err := tr.Transfer(f.ctx, theFederation, "TO", f.cf(2).Value(), "MI", "2026-03-01", "5")
	if err != nil || m.OrderID != "MI" || mb.OrderID != "MI" || mb.State != domain.StateRichiesta {
		t.Fatalf("%+v %+v %v", m, mb, err)
	}
	if len(f.store.Outbox("TO")) != 0 || len(f.store.Outbox("MI")) != 0 {
		t.Error("a mailbox not yet ATTIVATA is no domicilio: INI-PEC learns nothing")
	}
}
