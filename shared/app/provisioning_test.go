package app_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

func TestSubmitMailbox_ParksAndAsksTheProviderForExactlyTheMailbox(t *testing.T) {
	f := newFederation(t)
	mb := f.mailbox(1, domain.StateRichiesta)

	if err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1"); err != nil {
		t.Fatal(err)
	}

	got := f.get("mb-1")
	if got.State != domain.StateRichiestaInviata || got.BatchID != "batch-1" || got.ProviderRef != "ref-mb-1" ||
		got.Park != (domain.Park{Token: "tok-1", Waiting: domain.WaitingProvider}) {
		t.Errorf("mailbox = %+v, want RICHIESTA_INVIATA in batch-1 with the provider's reference, waiting for the provider", got)
	}
	f.wantStrings("history", f.transitions(got), "RICHIESTA order:TO enrolled", "RICHIESTA_INVIATA system authorized and paid")
	want := app.SubmitRequest{RequestID: "mb-1", Address: mb.Address, Nome: "Mario", Cognome: "Bianchi", CodiceFiscale: string(f.cf(1)), Email: "mario.bianchi1@example.it"}
	if sub := f.provider.Submitted(); len(sub) != 1 || fmt.Sprint(sub[0]) != fmt.Sprint(want) {
		t.Errorf("submitted %+v, want only %+v", sub, want)
	}
	if got := f.workflow.Signals(); len(got) != 0 {
		t.Errorf("workflow told %v: the provider's callback resumes the step", got)
	}
	f.wantStrings("outbox", f.outbox())
}

// The holder's telephone and residence, where enrolled, go with the request: the adapters of
// providers that require them (Legalmail) send them, the others leave them out.
func TestSubmitMailbox_GivesTheProviderTheHoldersPhoneAndResidence(t *testing.T) {
	f := newFederation(t)
	mb := f.mailbox(1, domain.StateRichiesta)
	m := f.member(mb)
	home := &domain.Residence{Address: "Via Fillungo 1", City: "Lucca", PostCode: "55100", Province: "LU", Country: "IT"}
	m.Phone, m.Residence = "+390583123456", home
	f.store.PutMember(m)

	if err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1"); err != nil {
		t.Fatal(err)
	}
	if sub := f.provider.Submitted(); len(sub) != 1 || sub[0].Phone != "+390583123456" || sub[0].Residence == nil || *sub[0].Residence != *home {
		t.Errorf("submitted %+v, want the phone and the residence", sub)
	}
}

func TestSubmitMailbox_LinksTheProviderToASelfServiceRequestsDocuments(t *testing.T) {
	f := newFederation(t)
	f.store.PutRequest(&domain.Request{ID: "req-1", OrderID: "TO", Documents: map[domain.DocumentKind]domain.Document{
		domain.DocumentIdentity: {Key: "requests/req-1/identity.jpg", ContentType: "image/jpeg", Size: 2048, SHA256: "b2"},
		domain.DocumentForm:     {Key: "requests/req-1/form.pdf", ContentType: "application/pdf", Size: 1024, SHA256: "a1"},
	}})
	f.mailbox(1, domain.StateRichiesta, func(mb *domain.Mailbox) { mb.RequestID = "req-1" })

	if err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "", "tok-1"); err != nil {
		t.Fatal(err)
	}

	// Each document: a link to the platform's own route, valid 30 days, which answers with a
	// fresh S3 link of a few minutes every time, so that it outlives the signing credentials.
	sub := f.provider.Submitted()
	if len(sub) != 1 || len(sub[0].Documents) != 2 {
		t.Fatalf("submitted %+v", sub)
	}
	opener := &app.DocumentOpener{Store: f.store, Files: f.documents, Now: func() time.Time { return f.now }}
	for i, want := range []struct{ kind, key string }{{"form", "requests/req-1/form.pdf"}, {"identity", "requests/req-1/identity.jpg"}} {
		d := sub[0].Documents[i]
		token, ok := strings.CutPrefix(d.URL, "https://pec.example.it/v1/provider/documents/")
		if d.Kind != want.kind || !ok || !d.ExpiresAt.Equal(f.now.Add(30*24*time.Hour)) {
			t.Errorf("document %+v", d)
			continue
		}
		f.now = f.now.Add(8 * 24 * time.Hour) // eight days later, the provider downloads
		url, err := opener.Open(f.ctx, token)
		if err != nil || url != "https://documents.example.test/"+want.key+"?expires=300" {
			t.Errorf("opened after 8 days: %q %v", url, err)
		}
		f.now = f.now.Add(23 * 24 * time.Hour) // past the 30 days
		if _, err := opener.Open(f.ctx, token); code(err) != "document_link_expired" {
			t.Errorf("opened after 31 days: %v", err)
		}
		f.now = f.now.Add(-31 * 24 * time.Hour)
	}
	for _, bad := range []string{"", "short", strings.Repeat("A", 43), strings.Repeat("!", 43)} {
		if _, err := opener.Open(f.ctx, bad); code(err) != "document_link_unknown" {
			t.Errorf("token %q: %v", bad, err)
		}
	}
}

func TestSubmitMailbox_ASelfServiceMailboxWithoutTheDocumentsBucketIsNotSubmitted(t *testing.T) {
	f := newFederation(t)
	f.store.PutRequest(&domain.Request{ID: "req-1", OrderID: "TO"})
	f.mailbox(1, domain.StateRichiesta, func(mb *domain.Mailbox) { mb.RequestID = "req-1" })
	f.provisioning.Documents = nil

	if err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "", "tok-1"); err == nil {
		t.Fatal("submitted without the documents")
	}
	if n := f.provider.Calls("Submit"); n != 0 {
		t.Errorf("%d submissions", n)
	}
	if got := f.get("mb-1"); got.Park.Token != "tok-1" {
		t.Errorf("park = %+v, want the step still parked for the retry", got.Park)
	}
}

func TestSubmitMailbox_AProviderRefusalRevokesTheMailbox(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.provider.Refuse("mb-1")

	err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1")

	var rejected *app.MailboxRejected
	if !errors.As(err, &rejected) || rejected.ID != "mb-1" {
		t.Fatalf("error = %v, want MailboxRejected, which the state machine catches", err)
	}
	got := f.get("mb-1")
	if got.State != domain.StateRevocata || got.Park != (domain.Park{}) {
		t.Errorf("mailbox = %+v, want REVOCATA with nothing parked", got)
	}
	if want := "REVOCATA provider rejected: the provider refused the request"; f.lastTransition(got) != want {
		t.Errorf("last transition = %q, want %q", f.lastTransition(got), want)
	}
	f.wantStrings("outbox", f.outbox()) // never a domicilio digitale
}

func TestSubmitMailbox_AnUnavailableProviderKeepsTheStepForTheRetry(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)
	f.provider.Fail("Submit", fake.ErrUnavailable)

	err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1")

	var rejected *app.MailboxRejected
	if !errors.Is(err, fake.ErrUnavailable) || errors.As(err, &rejected) {
		t.Fatalf("error = %v, want the provider's unavailability, which the state machine retries", err)
	}
	if got := f.get("mb-1"); got.State != domain.StateRichiestaInviata || got.Park.Token != "tok-1" || got.ProviderRef != "" {
		t.Fatalf("mailbox = %+v, want RICHIESTA_INVIATA, parked, without a reference", got)
	}
	if err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-1"); err != nil {
		t.Fatal(err)
	}
	got := f.get("mb-1")
	if got.ProviderRef != "ref-mb-1" || len(f.provider.Submitted()) != 1 {
		t.Errorf("reference %q after %d submissions, want ref-mb-1 after 1", got.ProviderRef, len(f.provider.Submitted()))
	}
	f.wantStrings("history", f.transitions(got), "RICHIESTA order:TO enrolled", "RICHIESTA_INVIATA system authorized and paid")
}

func TestSubmitMailbox_WhatHappenedMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		state   domain.State
		wantErr error
		resumed []string
	}{
		{"revoked before it was submitted", domain.StateRevocata, &app.MailboxRevoked{ID: "mb-1"}, nil},
		{"created by the provider before the retried step", domain.StateAbilitata, nil, []string{"tok-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFederation(t)
			before := f.mailbox(1, tc.state)

			err := f.provisioning.SubmitMailbox(f.ctx, "mb-1", "batch-1", "tok-2")

			if fmt.Sprint(err) != fmt.Sprint(tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
			f.wantStrings("resumed", f.workflow.Resumed(), tc.resumed...)
			if n := f.provider.Calls("Submit"); n != 0 {
				t.Errorf("%d submissions", n)
			}
			if got := f.get("mb-1"); got.Version != before.Version {
				t.Errorf("the mailbox changed: %+v", got)
			}
		})
	}
}

// event is a provider event about mailbox n of the federation.
func (f *federation) event(id, typ string, n int, reason string) app.ProviderEvent {
	return app.ProviderEvent{EventID: id, Type: typ, Address: f.get(fmt.Sprintf("mb-%d", n)).Address, ProviderRef: "ref-event", Reason: reason}
}

func TestProviderEvent_AppliesTheProvidersOutcome(t *testing.T) {
	for _, tc := range []struct {
		name     string
		state    domain.State
		park     domain.Park
		event    string
		want     string // the last transition
		resumed  []string
		failures []string
		outbox   []string
	}{
		{name: "created", state: domain.StateRichiestaInviata, park: domain.Park{Token: "tok-1", Waiting: domain.WaitingProvider},
			event: app.ProviderCreated, want: "ABILITATA provider created", resumed: []string{"tok-1"}},
		{name: "rejected", state: domain.StateRichiestaInviata, park: domain.Park{Token: "tok-1", Waiting: domain.WaitingProvider},
			event: app.ProviderRejected, want: "REVOCATA provider rejected: dati non validi", failures: []string{"tok-1 MailboxRejected"}},
		{name: "deactivated while waiting for the member", state: domain.StateAbilitata, park: domain.Park{Token: "tok-2", Waiting: domain.WaitingMember},
			event: app.ProviderDeactivated, want: "REVOCATA provider deactivated by the provider: dati non validi", failures: []string{"tok-2 MailboxRevoked"}},
		{name: "deactivated when active", state: domain.StateAttivata,
			event: app.ProviderDeactivated, want: "REVOCATA provider deactivated by the provider: dati non validi", outbox: []string{"delete mario.bianchi1@pec.tsrm.org"}},
		{name: "created, late: already active", state: domain.StateAttivata, event: app.ProviderCreated, want: "ATTIVATA system seeded"},
		{name: "created, late: already revoked", state: domain.StateRevocata, event: app.ProviderCreated, want: "REVOCATA order:TO seeded"},
		{name: "rejected, late: already revoked", state: domain.StateRevocata, event: app.ProviderRejected, want: "REVOCATA order:TO seeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFederation(t)
			f.mailbox(1, tc.state, func(mb *domain.Mailbox) {
				mb.Park = tc.park
				mb.Activation.Hash = "h"
			})

			if err := f.provisioning.ProviderEvent(f.ctx, f.event("ev-1", tc.event, 1, "dati non validi")); err != nil {
				t.Fatal(err)
			}

			got := f.get("mb-1")
			if f.lastTransition(got) != tc.want {
				t.Errorf("last transition = %q, want %q", f.lastTransition(got), tc.want)
			}
			f.wantStrings("resumed", f.workflow.Resumed(), tc.resumed...)
			f.wantStrings("failed", f.failures(), tc.failures...)
			f.wantStrings("outbox", f.outbox(), tc.outbox...)
			if tc.park.Token != "" && (got.Park != domain.Park{} || (got.State == domain.StateRevocata && got.Activation.Hash != "")) {
				t.Errorf("park %+v, link %q: want both forgotten once the step was told", got.Park, got.Activation.Hash)
			}
			if tc.name == "created" && got.ProviderRef != "ref-event" {
				t.Errorf("provider reference = %q, want the event's", got.ProviderRef)
			}
			if seen, _ := f.store.SeenEvent(f.ctx, "ev-1"); !seen {
				t.Error("the event is not recorded as seen")
			}
		})
	}
}

func TestProviderEvent_ARepeatedEventIDChangesNothing(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiestaInviata, withPark("tok-1", domain.WaitingProvider))
	for _, typ := range []string{app.ProviderCreated, app.ProviderCreated, app.ProviderRejected} { // the last one forged on a used id
		if err := f.provisioning.ProviderEvent(f.ctx, f.event("ev-1", typ, 1, "")); err != nil {
			t.Fatal(err)
		}
	}

	if got := f.get("mb-1"); got.State != domain.StateAbilitata {
		t.Errorf("state = %s, want ABILITATA", got.State)
	}
	f.wantStrings("resumed", f.workflow.Resumed(), "tok-1")
	f.wantStrings("failed", f.failures())
}

func TestProviderEvent_RefusesWhatNoMailboxCanTake(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiesta)

	err := f.provisioning.ProviderEvent(f.ctx, app.ProviderEvent{EventID: "ev-1", Type: app.ProviderCreated, Address: "nobody@pec.tsrm.org"})
	f.wantErr(err, app.ErrUnknownAddress)
	// Created for a mailbox the provider was never asked for: a step that never happened.
	err = f.provisioning.ProviderEvent(f.ctx, f.event("ev-2", app.ProviderCreated, 1, ""))
	f.wantErr(err, domain.ErrInvalidTransition)

	if got := f.get("mb-1"); got.State != domain.StateRichiesta || got.Version != 0 {
		t.Errorf("mailbox = %+v, want it untouched", got)
	}
	for _, id := range []string{"ev-1", "ev-2"} {
		if seen, _ := f.store.SeenEvent(f.ctx, id); seen {
			t.Errorf("%s recorded as seen", id)
		}
	}
}

func TestProviderEvent_FindsTheAddressWhateverItsCase(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiestaInviata, withPark("tok-1", domain.WaitingProvider))
	ev := f.event("ev-1", app.ProviderCreated, 1, "")
	ev.Address = strings.ToUpper(ev.Address)

	if err := f.provisioning.ProviderEvent(f.ctx, ev); err != nil {
		t.Fatal(err)
	}
	if got := f.get("mb-1"); got.State != domain.StateAbilitata {
		t.Errorf("state = %s, want ABILITATA", got.State)
	}
}

func TestProviderEvent_ARedeliveryFinishesWhatACrashLeft(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiestaInviata, withPark("tok-1", domain.WaitingProvider))
	f.provisioning.Crash = func(point, _ string) {
		if point == app.CrashAfterCallback {
			panic("crash")
		}
	}
	ev := f.event("ev-1", app.ProviderCreated, 1, "")

	func() {
		defer func() { _ = recover() }()
		_ = f.provisioning.ProviderEvent(f.ctx, ev)
		t.Fatal("did not crash")
	}()
	got := f.get("mb-1")
	if got.State != domain.StateAbilitata || got.Park.Token != "tok-1" || len(f.workflow.Signals()) != 0 {
		t.Fatalf("after the crash: %+v, signals %v; want ABILITATA, still parked, nobody told", got, f.workflow.Signals())
	}

	f.provisioning.Crash = nil
	if err := f.provisioning.ProviderEvent(f.ctx, ev); err != nil {
		t.Fatal(err)
	}
	f.wantStrings("resumed", f.workflow.Resumed(), "tok-1")
	if got := f.get("mb-1"); got.Park != (domain.Park{}) {
		t.Errorf("park = %+v after the step was told", got.Park)
	}
	f.wantStrings("history", f.transitions(f.get("mb-1")),
		"RICHIESTA order:TO enrolled", "RICHIESTA_INVIATA system seeded", "ABILITATA provider created")
}

func TestProviderEvent_AFailedResumptionIsToldAgainOnRedelivery(t *testing.T) {
	f := newFederation(t)
	f.mailbox(1, domain.StateRichiestaInviata, withPark("tok-1", domain.WaitingProvider))
	f.workflow.Faults.Fail("Resume", fake.ErrInjected)
	ev := f.event("ev-1", app.ProviderCreated, 1, "")

	f.wantErr(f.provisioning.ProviderEvent(f.ctx, ev), fake.ErrInjected)
	if seen, _ := f.store.SeenEvent(f.ctx, "ev-1"); seen {
		t.Fatal("the event is recorded though its step was not told")
	}
	if err := f.provisioning.ProviderEvent(f.ctx, ev); err != nil {
		t.Fatal(err)
	}
	f.wantStrings("resumed", f.workflow.Resumed(), "tok-1")
}
