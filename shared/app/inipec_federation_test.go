package app_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/fake"
	"github.com/pecplatform/pec/shared/inipecupload"
)

// The PEC channel: the file goes attached to one PEC to INI-PEC's address. A run cut off
// between the send and its record sends it again as the same PEC (the same Message-ID, the same
// attachment under the same name), and the delivery is recorded once.
func TestSync_ThePECChannelSendsTheFileAttachedToOnePECAcrossACrash(t *testing.T) {
	f := newSyncFixture(t)
	mail := &fake.Mailer{}
	f.sync.Deliver = inipecupload.PEC{Mail: mail, To: "aggiornamento@cert.inipec.gov.it"}
	f.ownPEC(t, asFI, "TSRM-FI", mario, "Mario", "Rossi")
	f.clock.Advance(time.Hour)

	f.run(t, f.sync)
	sent := mail.Sent()
	want := line("mario.rossi@legalmail.it", "Mario", "Rossi", mario, "2", "")
	if len(sent) != 1 || sent[0].To != "aggiornamento@cert.inipec.gov.it" || len(sent[0].Attachments) != 1 ||
		sent[0].Attachments[0].Name != "INIPEC_TSRM-FI_20260302_000001.csv" || string(sent[0].Attachments[0].Data) != want ||
		sent[0].IDKey != "inipec.INIPEC_TSRM-FI_20260302_000001.csv" {
		t.Fatalf("sent %+v", sent)
	}

	// A new change; the run dies after the PEC went, before the delivery was recorded.
	f.ownPEC(t, asFI, "TSRM-FI", anna, "Anna", "Bianchi")
	f.clock.Advance(time.Hour)
	f.store.Fail("CompleteDelivery", fake.ErrInjected)
	if _, err := f.sync.Sync(t.Context()); err == nil {
		t.Fatal("the cut-off run reported no error")
	}
	f.run(t, f.sync) // completes the delivery
	f.run(t, f.sync) // nothing left
	sent = mail.Sent()
	if len(sent) != 3 || sent[1].IDKey != sent[2].IDKey || string(sent[1].Attachments[0].Data) != string(sent[2].Attachments[0].Data) ||
		sent[1].Attachments[0].Name != "INIPEC_TSRM-FI_20260302_000002.csv" {
		t.Fatalf("sent %d PECs: %+v", len(sent), sent)
	}
	if d, _ := f.store.LastDelivery(t.Context(), "TSRM-FI"); d.N != 2 || d.State != app.DeliveryDelivered || d.Inserts != 1 {
		t.Errorf("last delivery %+v", d)
	}
}

// With Sender federation, one file a day carries every Order's changes, Order after Order, and
// each Order's deliveries name that file.
func TestSync_AFederationSendsOneFileADayForAllItsOrders(t *testing.T) {
	f := newSyncFixture(t)
	f.sync.Sender = app.SenderFederation
	f.ownPEC(t, asPI, "TSRM-PI", carlo, "Carlo", "Zurzi")
	f.ownPEC(t, asFI, "TSRM-FI", mario, "Mario", "Rossi")
	f.activated(t, anna, "Anna", "Bianchi")
	f.clock.Advance(time.Hour)

	res := f.run(t, f.sync)
	const name = "INIPEC_FEDERAZIONE_20260302_000001.csv"
	files := f.receiver.Files()
	if len(res.Delivered) != 1 || res.Delivered[0].FileName != name || len(files) != 1 || files[0].Name != name {
		t.Fatalf("delivered %+v, files %v", res.Delivered, names(files))
	}
	want := line("mario.rossi@legalmail.it", "Mario", "Rossi", mario, "2", "") +
		line("anna.bianchi@pec.tsrm.org", "Anna", "Bianchi", anna, "2", "") +
		line("carlo.zurzi@legalmail.it", "Carlo", "Zurzi", carlo, "2", "")
	if string(files[0].Content) != want {
		t.Errorf("the federation's file:\n%q\nwant\n%q", files[0].Content, want)
	}
	for order, inserts := range map[string]int{"TSRM-FI": 2, "TSRM-PI": 1} {
		d, _ := f.store.LastDelivery(t.Context(), order)
		if d == nil || d.N != 1 || d.State != app.DeliveryDelivered || d.FileName != name || d.Inserts != inserts {
			t.Errorf("%s's delivery %+v", order, d)
		}
	}
	if res := f.run(t, f.sync); len(res.Delivered) != 0 || res.Unchanged != 2 || f.receiver.Calls() != 1 {
		t.Errorf("the same day again: %+v, %d calls", res, f.receiver.Calls())
	}

	// The next day, nothing new: the federation confirms once, no Order does.
	f.clock.Advance(24 * time.Hour)
	f.run(t, f.sync)
	f.run(t, f.sync)
	files = f.receiver.Files()
	if got := names(files); !slices.Equal(got, []string{name, "INIPEC_FEDERAZIONE_20260303_000002.csv"}) || len(files[1].Content) != 0 {
		t.Errorf("files %v, want the federation's file and its one empty confirmation", got)
	}
	// A change of one Order: the federation's third file holds it alone.
	f.ownPEC(t, asPI, "TSRM-PI", mario2, "Mario", "Rossi")
	f.clock.Advance(24 * time.Hour)
	f.run(t, f.sync)
	files = f.receiver.Files()
	if len(files) != 3 || files[2].Name != "INIPEC_FEDERAZIONE_20260304_000003.csv" || strings.Count(string(files[2].Content), "\r\n") != 1 {
		t.Errorf("files %v, last %q", names(files), files[len(files)-1].Content)
	}
	if d, _ := f.store.LastDelivery(t.Context(), "TSRM-PI"); d.N != 2 || d.FileName != files[2].Name {
		t.Errorf("TSRM-PI's delivery %+v", d)
	}
}

// A federation file sent by a run cut off before its record is sent again, byte for byte under
// the same name, by the next run, which completes every Order's part: each change once.
func TestSync_AFederationFileCutOffAfterTheSendIsCompletedOnce(t *testing.T) {
	f := newSyncFixture(t)
	f.sync.Sender = app.SenderFederation
	f.ownPEC(t, asFI, "TSRM-FI", mario, "Mario", "Rossi")
	f.ownPEC(t, asPI, "TSRM-PI", carlo, "Carlo", "Zurzi")
	f.clock.Advance(time.Hour)
	f.store.Fail("CompleteDelivery", fake.ErrInjected) // the first part's record, after the send
	if _, err := f.sync.Sync(t.Context()); err == nil {
		t.Fatal("the cut-off run reported no error")
	}
	first := f.receiver.Files()
	f.ownPEC(t, asFI, "TSRM-FI", anna, "Anna", "Bianchi") // a change after the cut-off run
	f.clock.Advance(time.Hour)
	res := f.run(t, f.sync)
	files := f.receiver.Files()
	if len(first) != 1 || len(files) != 2 || string(files[0].Content) != string(first[0].Content) || f.receiver.Calls() != 3 {
		t.Fatalf("files %v in %d calls", names(files), f.receiver.Calls())
	}
	if len(res.Delivered) != 2 || res.Delivered[0].N != 1 || res.Delivered[1].N != 2 ||
		string(files[1].Content) != line("anna.bianchi@legalmail.it", "Anna", "Bianchi", anna, "2", "") {
		t.Errorf("delivered %+v; second file %q", res.Delivered, files[1].Content)
	}
	for order, n := range map[string]int{"TSRM-FI": 2, "TSRM-PI": 1} {
		if d, _ := f.store.LastDelivery(t.Context(), order); d.N != n || d.State != app.DeliveryDelivered {
			t.Errorf("%s's delivery %+v", order, d)
		}
	}
}

// An Order's part recorded by a run cut off before the federation's file was prepared goes in
// the next run's file.
func TestSync_APartLeftByARunCutOffGoesInTheNextFederationFile(t *testing.T) {
	f := newSyncFixture(t)
	f.sync.Sender = app.SenderFederation
	f.ownPEC(t, asFI, "TSRM-FI", mario, "Mario", "Rossi")
	f.clock.Advance(time.Hour)
	f.archive.Fail("Put", fake.ErrInjected)
	if _, err := f.sync.Sync(t.Context()); err == nil {
		t.Fatal("the cut-off run reported no error")
	}
	if d, _ := f.store.LastDelivery(t.Context(), "TSRM-FI"); d == nil || d.State != app.DeliveryPrepared || f.receiver.Calls() != 0 {
		t.Fatalf("after the cut-off run: %+v, %d calls", d, f.receiver.Calls())
	}
	f.ownPEC(t, asPI, "TSRM-PI", carlo, "Carlo", "Zurzi")
	f.clock.Advance(24 * time.Hour)
	f.run(t, f.sync)
	files := f.receiver.Files()
	want := line("mario.rossi@legalmail.it", "Mario", "Rossi", mario, "2", "") + line("carlo.zurzi@legalmail.it", "Carlo", "Zurzi", carlo, "2", "")
	if len(files) != 1 || files[0].Name != "INIPEC_FEDERAZIONE_20260303_000001.csv" || string(files[0].Content) != want {
		t.Fatalf("files %v: %q", names(files), files)
	}
	if d, _ := f.store.LastDelivery(t.Context(), "TSRM-FI"); d.N != 1 || d.State != app.DeliveryDelivered || d.FileName != files[0].Name {
		t.Errorf("TSRM-FI's delivery %+v", d)
	}
}

// Two runs at once: the one that loses the race to prepare the federation's file sends nothing,
// and every change is in the one file sent.
func TestSync_TwoFederationRunsAtOnceSendOneFile(t *testing.T) {
	f := newSyncFixture(t)
	f.ownPEC(t, asFI, "TSRM-FI", mario, "Mario", "Rossi")
	f.ownPEC(t, asPI, "TSRM-PI", carlo, "Carlo", "Zurzi")
	f.clock.Advance(time.Hour)
	other := f.newRun(f.archive)
	other.Sender = app.SenderFederation
	hooked := &hookedArchive{Archive: f.archive}
	slow := f.newRun(hooked)
	slow.Sender = app.SenderFederation
	hooked.before = func() { f.run(t, other) } // after slow recorded its parts, before its file
	f.run(t, slow)
	f.run(t, slow)
	files := f.receiver.Files()
	if len(files) != 1 || f.receiver.Calls() != 1 || strings.Count(string(files[0].Content), "\r\n") != 2 {
		t.Fatalf("files %v in %d calls", names(files), f.receiver.Calls())
	}
	for _, order := range []string{"TSRM-FI", "TSRM-PI"} {
		if d, _ := f.store.LastDelivery(t.Context(), order); d.N != 1 || d.State != app.DeliveryDelivered || d.FileName != files[0].Name {
			t.Errorf("%s's delivery %+v", order, d)
		}
	}
}
