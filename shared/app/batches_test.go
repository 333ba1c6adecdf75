package app_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

// createBatch creates a batch of the federation's Order's open mailboxes.
func (f *federation) createBatch() *domain.Batch {
	f.t.Helper()
	b, err := f.batches.CreateBatch(f.ctx, staffOfTO, f.order.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// submit confirms and pays the batch.
func (f *federation) submit(b *domain.Batch) *domain.Batch {
	f.t.Helper()
	if _, err := f.batches.ConfirmBatch(f.ctx, staffOfTO, b.ID); err != nil {
		f.t.Fatal(err)
	}
	b, err := f.batches.PayBatch(f.ctx, staffOfTO, b.ID, "CRO-1", b.AmountCents)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func TestCreateBatch_GathersTheOpenMailboxesAndClosesTheSequence(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.mailbox(2, domain.StateRichiesta)
	f.mailbox(3, domain.StateRichiesta, func(mb *domain.Mailbox) { mb.RequestID = "req-3" }) // self-service: paid by the member
	f.mailbox(4, domain.StateAttivata)

	b := f.createBatch()

	if b.OrderID != "TO" || b.Seq != 0 || b.MailboxCount != 2 || b.AmountCents != 1220 || b.State != domain.BatchAwaitingAuthorization {
		t.Errorf("batch = %+v, want 2 mailboxes of sequence 0 for 12.20 euro, awaiting authorisation", b)
	}
	if o, _ := f.store.GetOrder(f.ctx, "TO"); o.BatchSeq != 1 {
		t.Errorf("the Order's batch sequence = %d, want 1 (closed by the batch)", o.BatchSeq)
	}
	f.wantStrings("batch workflows started", f.workflow.StartedBatches(), b.ID)
	f.wantStrings("audit", f.audit(), "federation order.created", "system batch.created")

	_, err := f.batches.CreateBatch(f.ctx, staffOfTO, "TO")
	f.wantErr(err, domain.ErrNothingToAuthorize) // the mailboxes are the first batch's
}

func TestCreateBatch_Refuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		caller  app.Caller
		orderID string
		open    bool
		want    error
	}{
		{"another Order's staff", staffOfMI, "TO", true, domain.ErrForbidden},
		{"a malformed Order id", theFederation, "to", true, domain.Invalid("orderId", "invalid_order_id", "")},
		{"an Order that does not exist", theFederation, "XX", true, domain.ErrOrderNotFound},
		{"an Order with nothing to authorise", staffOfTO, "TO", false, domain.ErrNothingToAuthorize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFederation(t)
			if tc.open {
				f.mailbox(1, domain.StateRichiesta)
			}
			_, err := f.batches.CreateBatch(f.ctx, tc.caller, tc.orderID)
			f.wantErr(err, tc.want)
			if got := f.workflow.StartedBatches(); len(got) != 0 {
				t.Errorf("batch workflows started: %q", got)
			}
		})
	}
}

// closeHook runs before the batch closes its sequence: the enrolment or the other batch that
// races the close.
type closeHook struct {
	*fake.Store
	before func()
}

func (s closeHook) CreateBatch(ctx context.Context, b *domain.Batch) error {
	s.before()
	return s.Store.CreateBatch(ctx, b)
}

func TestCreateBatch_CountsAgainTheEnrolmentsThatRacedTheClose(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.mailbox(2, domain.StateRichiesta)
	f.batches.Store = closeHook{f.store, func() { f.mailbox(3, domain.StateRichiesta) }}

	b := f.createBatch()

	if b.MailboxCount != 3 || b.AmountCents != 1830 {
		t.Errorf("batch of %d mailboxes for %d cents, want 3 for 1830", b.MailboxCount, b.AmountCents)
	}
	f.wantStrings("audit", f.audit(), "federation order.created", "system batch.created", "system batch.recounted")
}

func TestCreateBatch_LosingTheRaceToAnotherBatchFindsNothingLeft(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.batches.Store = closeHook{f.store, func() {
		if err := f.store.CreateBatch(f.ctx, &domain.Batch{ID: "other", OrderID: "TO", Seq: 0, MailboxCount: 1, CreatedAt: f.now}); err != nil {
			t.Fatal(err)
		}
	}}

	_, err := f.batches.CreateBatch(f.ctx, staffOfTO, "TO")

	f.wantErr(err, domain.ErrNothingToAuthorize)
}

func TestCreateBatch_AWorkflowThatDidNotStartLeavesTheBatch(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.workflow.Faults.Fail("StartBatch", fake.ErrInjected)

	b, err := f.batches.CreateBatch(f.ctx, staffOfTO, "TO")

	if err != nil {
		t.Fatalf("CreateBatch: %v, want the batch (its workflow is logged as not started)", err)
	}
	if got, _ := f.batch(b.ID); got.MailboxCount != 1 {
		t.Errorf("stored batch = %+v", got)
	}
	// Once the Order confirms and pays it, the scheduled run starts its mailboxes.
	f.submit(b)
	f.now = f.now.Add(2 * time.Hour)
	if _, repaired, err := f.batches.RunBatching(f.ctx); err != nil || repaired != 1 {
		t.Fatalf("RunBatching repaired %d, %v; want 1", repaired, err)
	}
	if got := f.workflow.StartedMailboxes(); len(got) != 1 || got[0] != (fake.MailboxStart{MailboxID: "mb-1", BatchID: b.ID}) {
		t.Errorf("mailbox workflows started: %v", got)
	}
}

func TestGetBatch_ShowsABatchOnlyToItsOrderAndTheFederation(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	b := f.createBatch()
	for _, tc := range []struct {
		caller app.Caller
		id     string
		want   error
	}{
		{staffOfTO, b.ID, nil},
		{theFederation, b.ID, nil},
		{staffOfMI, b.ID, domain.ErrBatchNotFound}, // not forbidden: another Order learns nothing
		{staffOfTO, "nope", domain.ErrBatchNotFound},
	} {
		got, err := f.batches.GetBatch(f.ctx, tc.caller, tc.id)
		if !errors.Is(err, tc.want) || (err == nil && got.ID != b.ID) {
			t.Errorf("GetBatch(%v, %s) = %v, %v; want %v", tc.caller, tc.id, got, err, tc.want)
		}
	}
}

func TestListBatches_NewestFirstPageByPage(t *testing.T) {
	f := newFederation(t)
	var ids []string
	for n := range 3 {
		f.order, _ = f.store.GetOrder(f.ctx, "TO")
		f.mailbox(n+1, domain.StateRichiesta)
		ids = append(ids, f.createBatch().ID)
		f.now = f.now.Add(time.Minute)
	}

	page, next, err := f.batches.ListBatches(f.ctx, staffOfTO, "TO", 2, "")
	if err != nil || len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[1] || next == "" {
		t.Fatalf("first page = %v, %q, %v; want the two newest and a cursor", page, next, err)
	}
	page, next, err = f.batches.ListBatches(f.ctx, staffOfTO, "TO", 2, next)
	if err != nil || len(page) != 1 || page[0].ID != ids[0] || next != "" {
		t.Fatalf("second page = %v, %q, %v; want the oldest and no cursor", page, next, err)
	}

	_, _, err = f.batches.ListBatches(f.ctx, staffOfTO, "TO", 1001, "")
	f.wantCode(err, "invalid_limit")
	_, _, err = f.batches.ListBatches(f.ctx, staffOfTO, "TO", 2, "bm90IGEgY3Vyc29y")
	f.wantCode(err, "invalid_cursor")
	_, _, err = f.batches.ListBatches(f.ctx, staffOfMI, "TO", 2, "")
	f.wantErr(err, domain.ErrForbidden)
}

func TestConfirmAndPay_InEitherOrderResumeTheParkedStepOnce(t *testing.T) {
	confirm := func(f *federation, id string) error {
		_, err := f.batches.ConfirmBatch(f.ctx, staffOfTO, id)
		return err
	}
	pay := func(f *federation, id string) error {
		_, err := f.batches.PayBatch(f.ctx, staffOfTO, id, "CRO-1", 1220)
		return err
	}
	for name, steps := range map[string][]func(*federation, string) error{
		"confirm then pay": {confirm, pay},
		"pay then confirm": {pay, confirm},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFederation(t)
			f.mailbox(1, domain.StateRichiesta)
			f.mailbox(2, domain.StateRichiesta)
			b := f.createBatch()
			if err := f.batches.AwaitAuthorization(f.ctx, b.ID, "tok-1"); err != nil {
				t.Fatal(err)
			}

			if err := steps[0](f, b.ID); err != nil {
				t.Fatal(err)
			}
			if got := f.workflow.Resumed(); len(got) != 0 {
				t.Fatalf("resumed %q after one step of two", got)
			}
			if err := steps[1](f, b.ID); err != nil {
				t.Fatal(err)
			}
			for _, step := range steps { // again: nothing changes
				if err := step(f, b.ID); err != nil {
					t.Fatal(err)
				}
			}

			f.wantStrings("resumed", f.workflow.Resumed(), "tok-1")
			got, park := f.batch(b.ID)
			if !got.Submitted() || !got.Confirmed || got.ConfirmedBy != "order:TO" || !got.Paid || got.PaymentRef != "CRO-1" || park.Token != "" {
				t.Errorf("batch = %+v, park %+v; want submitted, confirmed by order:TO, paid CRO-1, nothing parked", got, park)
			}
		})
	}
}

func TestConfirmBatch_OnlyTheOrdersOwnStaff(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	b := f.createBatch()

	_, err := f.batches.ConfirmBatch(f.ctx, theFederation, b.ID)
	f.wantCode(err, "order_staff_only")
	_, err = f.batches.ConfirmBatch(f.ctx, staffOfMI, b.ID)
	f.wantErr(err, domain.ErrBatchNotFound)

	if got, _ := f.batch(b.ID); got.Confirmed {
		t.Error("the batch is confirmed")
	}
}

func TestPayBatch_Refuses(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	b := f.createBatch()

	_, err := f.batches.PayBatch(f.ctx, staffOfTO, b.ID, "CRO-1", 1)
	f.wantErr(err, domain.ErrAmountMismatch)
	_, err = f.batches.PayBatch(f.ctx, staffOfTO, b.ID, " ", 610)
	f.wantCode(err, "invalid_reference")
	_, err = f.batches.PayBatch(f.ctx, staffOfMI, b.ID, "CRO-1", 610)
	f.wantErr(err, domain.ErrBatchNotFound)

	if _, err := f.batches.PayBatch(f.ctx, theFederation, b.ID, "CRO-1", 610); err != nil {
		t.Fatal(err)
	}
	if _, err := f.batches.PayBatch(f.ctx, staffOfTO, b.ID, "CRO-1", 610); err != nil {
		t.Errorf("the same payment again: %v", err)
	}
	_, err = f.batches.PayBatch(f.ctx, staffOfTO, b.ID, "CRO-2", 610)
	f.wantErr(err, domain.ErrAlreadyPaid)
	f.wantStrings("audit", f.audit(), "federation order.created", "system batch.created", "federation batch.paid")
}

func TestAwaitAuthorization_ParksAndAsksTheOrderThenReminds(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.mailbox(2, domain.StateRichiesta)
	b := f.createBatch()

	if err := f.batches.AwaitAuthorization(f.ctx, b.ID, "tok-1"); err != nil {
		t.Fatal(err)
	}
	if err := f.batches.AwaitAuthorization(f.ctx, b.ID, "tok-2"); err != nil {
		t.Fatal(err)
	}

	f.wantStrings("PEC to the Order", f.mails(f.orderMail),
		"to@pec.ordine.example.it: Richiesta di autorizzazione all'emissione di 2 caselle PEC – lotto id-1 – Ordine TSRM PSTRP di TO",
		"to@pec.ordine.example.it: Sollecito: Richiesta di autorizzazione all'emissione di 2 caselle PEC – lotto id-1 – Ordine TSRM PSTRP di TO")
	f.wantContains("the request", f.orderMail.Sent()[0].Text, "si apra il lotto id-1", "€ 12,20")
	if _, park := f.batch(b.ID); park != (app.BatchPark{Token: "tok-2", Requests: 2}) {
		t.Errorf("park = %+v, want the latest token after two requests", park)
	}
	if got := f.workflow.Signals(); len(got) != 0 {
		t.Errorf("workflow told %v", got)
	}
}

func TestAwaitAuthorization_ResumesAtOnceWhenAlreadyConfirmedAndPaid(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	b := f.submit(f.createBatch())
	if got := f.workflow.Resumed(); len(got) != 0 {
		t.Fatalf("resumed %q with nothing parked", got)
	}

	if err := f.batches.AwaitAuthorization(f.ctx, b.ID, "tok-1"); err != nil {
		t.Fatal(err)
	}

	f.wantStrings("resumed", f.workflow.Resumed(), "tok-1")
	f.wantStrings("PEC to the Order", f.mails(f.orderMail))
	if _, park := f.batch(b.ID); park.Token != "" {
		t.Errorf("parked %+v", park)
	}
}

func TestAwaitAuthorization_AFailingMailerKeepsTheStepParked(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	b := f.createBatch()
	f.orderMail.Fail("Send", fake.ErrInjected)

	f.wantErr(f.batches.AwaitAuthorization(f.ctx, b.ID, "tok-1"), fake.ErrInjected)
	if _, park := f.batch(b.ID); park.Token != "tok-1" {
		t.Fatalf("park = %+v, want tok-1 (the Order can confirm and pay meanwhile)", park)
	}
	if err := f.batches.AwaitAuthorization(f.ctx, b.ID, "tok-1"); err != nil { // the state machine's retry
		t.Fatal(err)
	}
	f.wantStrings("PEC to the Order", f.mails(f.orderMail),
		"to@pec.ordine.example.it: Richiesta di autorizzazione all'emissione di 1 casella PEC – lotto id-1 – Ordine TSRM PSTRP di TO")
	f.submit(b)
	f.wantStrings("resumed", f.workflow.Resumed(), "tok-1")
}

func TestStartMailboxes_StartsTheBatchsMailboxesPageByPage(t *testing.T) {
	f := newFederation(t)
	for n := 1; n <= 5; n++ {
		f.mailbox(n, domain.StateRichiesta)
	}
	f.mailbox(6, domain.StateRichiesta, func(mb *domain.Mailbox) { mb.RequestID = "req-6" })
	b := f.submit(f.createBatch())
	f.mailbox(7, domain.StateRichiesta, func(mb *domain.Mailbox) { mb.BatchSeq = 1 }) // the next batch's

	calls := 0
	for cursor := ""; ; {
		next, err := f.batches.StartMailboxes(f.ctx, b.ID, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if calls++; next == "" {
			break
		}
		cursor = next
	}

	if calls != 3 {
		t.Errorf("%d calls, want 3 pages of at most 2", calls)
	}
	var started []string
	for _, s := range f.workflow.StartedMailboxes() {
		if s.BatchID != b.ID {
			t.Errorf("%s started for batch %s", s.MailboxID, s.BatchID)
		}
		started = append(started, s.MailboxID)
	}
	f.wantStrings("started", started, "mb-1", "mb-2", "mb-3", "mb-4", "mb-5")

	_, err := f.batches.StartMailboxes(f.ctx, b.ID, "bm90IGEgY3Vyc29y")
	f.wantCode(err, "invalid_cursor")
	_, err = f.batches.StartMailboxes(f.ctx, "nope", "")
	f.wantErr(err, domain.ErrBatchNotFound)
}

func TestStartMailboxes_AFailedStartIsRetriedWithoutASecondLifecycle(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.mailbox(2, domain.StateRichiesta)
	b := f.submit(f.createBatch())
	f.workflow.Faults.Fail("StartMailbox", fake.ErrInjected)

	_, err := f.batches.StartMailboxes(f.ctx, b.ID, "")
	f.wantErr(err, fake.ErrInjected)
	for range 2 { // the state machine's retry, and a repeated page
		if _, err := f.batches.StartMailboxes(f.ctx, b.ID, ""); err != nil {
			t.Fatal(err)
		}
	}

	if got := f.workflow.StartedMailboxes(); len(got) != 2 || got[0].MailboxID != "mb-1" || got[1].MailboxID != "mb-2" {
		t.Errorf("started %v, want mb-1 and mb-2 once each", got)
	}
}

func TestRunBatching_BatchesEveryConventionOrder(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.mailbox(2, domain.StateRichiesta)
	f.putOrder("MI", true) // nothing to authorise
	noConvention := f.putOrder("BO", false)
	f.mailboxOf(noConvention, 3, domain.StateRichiesta)

	created, repaired, err := f.batches.RunBatching(f.ctx)

	if err != nil || created != 1 || repaired != 0 {
		t.Fatalf("RunBatching = %d created, %d repaired, %v; want 1, 0, nil", created, repaired, err)
	}
	page, _, _ := f.store.ListBatches(f.ctx, "TO", 10, "")
	if len(page) != 1 || page[0].MailboxCount != 2 {
		t.Errorf("TO's batches = %v, want one of 2 mailboxes", page)
	}
	if page, _, _ := f.store.ListBatches(f.ctx, "BO", 10, ""); len(page) != 0 {
		t.Errorf("BO, outside the convention, has batches %v", page)
	}
	f.wantStrings("batch workflows started", f.workflow.StartedBatches(), page[0].ID)
}

func TestRunBatching_AnOrderThatFailsDoesNotStopTheOthers(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.putOrder("MI", true)
	f.store.Fail("ListBatches", fake.ErrInjected) // MI's, the first Order by id

	created, _, err := f.batches.RunBatching(f.ctx)

	f.wantErr(err, fake.ErrInjected)
	if created != 1 {
		t.Errorf("created %d, want TO's batch", created)
	}
}

func TestRunBatching_StartsTheMailboxesOfASubmittedBatchWhoseWorkflowEnded(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.mailbox(2, domain.StateRichiesta)
	b := f.submit(f.createBatch()) // paid after the workflow gave up: nothing parked to resume
	f.mailbox(3, domain.StateRichiesta, func(mb *domain.Mailbox) { mb.BatchSeq = 1 })

	f.now = f.now.Add(30 * time.Minute)
	_, repaired, err := f.batches.RunBatching(f.ctx)
	if err != nil || repaired != 0 {
		t.Fatalf("RunBatching before RepairAfter repaired %d, %v; want 0", repaired, err)
	}
	f.now = f.now.Add(time.Hour)
	_, repaired, err = f.batches.RunBatching(f.ctx)
	if err != nil || repaired != 2 {
		// The submitted batch, and mb-3's batch, whose workflow never parked on the fakes.
		t.Fatalf("RunBatching after RepairAfter repaired %d, %v; want 2", repaired, err)
	}

	var started []string
	for _, s := range f.workflow.StartedMailboxes() {
		if s.BatchID == b.ID {
			started = append(started, s.MailboxID)
		}
	}
	f.wantStrings("the repaired batch's mailboxes started", started, "mb-1", "mb-2")
	if got := f.workflow.StartedBatches(); !slices.Contains(got, b.ID) || len(got) != 2 {
		t.Errorf("batch workflows %q: want the first, and the one the first run made for mb-3", got)
	}
}

func TestRunBatching_StartsTheWorkflowOfABatchThatNeverAskedTheOrder(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.workflow.Faults.Fail("StartBatch", fake.ErrInjected)
	unasked := f.createBatch() // its workflow failed to start: logged, the batch kept
	f.mailbox(2, domain.StateRichiesta, func(mb *domain.Mailbox) { mb.BatchSeq = 1 })
	asked := f.createBatch()
	if err := f.batches.AwaitAuthorization(f.ctx, asked.ID, "tok-1"); err != nil {
		t.Fatal(err)
	}
	if got := f.workflow.StartedBatches(); !slices.Equal(got, []string{asked.ID}) {
		t.Fatalf("started %q, want only %s", got, asked.ID)
	}

	f.now = f.now.Add(2 * time.Hour)
	_, repaired, err := f.batches.RunBatching(f.ctx)

	if err != nil || repaired != 1 {
		t.Fatalf("RunBatching repaired %d, %v; want 1", repaired, err)
	}
	if got := f.workflow.StartedBatches(); !slices.Contains(got, unasked.ID) || len(got) != 2 {
		t.Errorf("started %q, want %s started by the repair", got, unasked.ID)
	}
}
