package app_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

func TestEnrol_ConventionMemberGetsAMailboxAtTheComposedAddress(t *testing.T) {
	tests := []struct {
		nome, cognome, albo, want string
	}{
		{"Mario", "Rossi", "TSRM", "mario.rossi@pec.tsrm.org"},
		{"Niccolò", "D'Amico", "FISIO", "niccolo.damico@pec.tsrm-pstrp.org"},
		{"Maria  Grazia", "De Luca", "tsrm", "mariagrazia.deluca@pec.tsrm.org"},
		{"Anna", "Neri", "IGIENISTA DENTALE", "anna.neri@pec.tsrm-pstrp.org"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			f := newSvcFixture(t)
			e := enrolment(mario, tt.nome, tt.cognome)
			e.Albo = tt.albo
			m, mb := f.enrol(t, asFI, "TSRM-FI", e)
			if mb == nil || mb.Address != tt.want {
				t.Fatalf("mailbox %+v, want the address %s", mb, tt.want)
			}
			if mb.State != domain.StateRichiesta || mb.OrderID != "TSRM-FI" || mb.MemberKey != mario || m.MailboxID != mb.ID ||
				mb.History[0].Actor != "order:TSRM-FI" {
				t.Errorf("member %+v, mailbox %+v", m, mb)
			}
			if want, _ := domain.MustAlbi(domain.DefaultAlbi()).Resolve(tt.albo); m.Albo != want.Code || mb.Albo != want.Code {
				t.Errorf("albo stored as %q / %q, want the code %s", m.Albo, mb.Albo, want.Code)
			}
			stored, err := f.store.GetMailbox(t.Context(), mb.ID)
			if err != nil || stored.Address != tt.want {
				t.Errorf("stored mailbox %+v, %v", stored, err)
			}
			if a := actions(f.store, "TSRM-FI", "member:"); !slices.Equal(a, []string{"order:TSRM-FI member.enrolled"}) {
				t.Errorf("audit trail %v", a)
			}
			if o := f.store.Outbox("TSRM-FI"); len(o) != 0 {
				t.Errorf("a mailbox in RICHIESTA is no domicilio yet, but INI-PEC gets %+v", o)
			}
		})
	}
}

func TestEnrol_HomonymsGetNumberedAddresses(t *testing.T) {
	f := newSvcFixture(t)
	var got []string
	for _, cf := range []string{mario, mario2, mario3} {
		_, mb := f.enrol(t, asFI, "TSRM-FI", enrolment(cf, "Mario", "Rossi"))
		got = append(got, mb.Address)
	}
	want := []string{"mario.rossi@pec.tsrm.org", "mario.rossi1@pec.tsrm.org", "mario.rossi2@pec.tsrm.org"}
	if !slices.Equal(got, want) {
		t.Errorf("addresses %v, want %v", got, want)
	}
}

// racyAddresses says every address is free the first time it is asked, as a read that came
// just before another enrolment reserved the address.
type racyAddresses struct {
	*fake.Store
	asked int
}

func (s *racyAddresses) TakenAddresses(ctx context.Context, addresses []string) (map[string]bool, error) {
	if s.asked++; s.asked == 1 {
		return map[string]bool{}, nil
	}
	return s.Store.TakenAddresses(ctx, addresses)
}

func TestEnrol_AnAddressTakenAfterTheReadGoesToTheNextNumber(t *testing.T) {
	f := newSvcFixture(t)
	f.enrol(t, asFI, "TSRM-FI", enrolment(mario, "Mario", "Rossi"))
	f.svc.Store = &racyAddresses{Store: f.store}
	_, mb := f.enrol(t, asFI, "TSRM-FI", enrolment(mario2, "Mario", "Rossi"))
	if mb.Address != "mario.rossi1@pec.tsrm.org" {
		t.Errorf("address %s", mb.Address)
	}
}

func TestEnrol_OwnPECIssuesNoMailboxAndPublishesIt(t *testing.T) {
	f := newSvcFixture(t)
	e := enrolment(mario, "Mario", "Rossi")
	e.PEC = "Mario.Rossi@LegalMail.it"
	m, mb := f.enrol(t, asFI, "TSRM-FI", e)
	if mb != nil || m.MailboxID != "" || m.PEC != "mario.rossi@legalmail.it" {
		t.Fatalf("member %+v, mailbox %+v", m, mb)
	}
	out := f.store.Outbox("TSRM-FI")
	if len(out) != 1 || out[0].Kind != domain.PublishInsert || out[0].Address != "mario.rossi@legalmail.it" || out[0].MemberKey != mario {
		t.Errorf("outbox %+v, want one insert of the own PEC", out)
	}
	if n, _ := f.store.CountMailboxes(t.Context(), "TSRM-FI"); n[domain.StateRichiesta] != 0 {
		t.Errorf("mailboxes %v", n)
	}
}

func TestEnrol_OrderOutsideTheConventionIssuesNoMailbox(t *testing.T) {
	f := newSvcFixture(t)
	m, mb := f.enrol(t, asPI, "TSRM-PI", enrolment(mario, "Mario", "Rossi"))
	if mb != nil || m.MailboxID != "" {
		t.Errorf("member %+v, mailbox %+v", m, mb)
	}
	if o := f.store.Outbox("TSRM-PI"); len(o) != 0 {
		t.Errorf("outbox %+v", o)
	}
	if a := actions(f.store, "TSRM-PI", "member:"); !slices.Equal(a, []string{"order:TSRM-PI member.enrolled"}) {
		t.Errorf("audit trail %v", a)
	}
}

func TestEnrol_AMemberIsEnrolledOnceWhateverTheOmocodicForm(t *testing.T) {
	f := newSvcFixture(t)
	f.enrol(t, asFI, "TSRM-FI", enrolment(mario, "Mario", "Rossi"))
	for _, cf := range []string{mario, marioOmocodic} {
		if _, _, err := f.svc.Enrol(t.Context(), asFI, "TSRM-FI", enrolment(cf, "Mario", "Rossi")); !errors.Is(err, domain.ErrMemberExists) {
			t.Errorf("%s again: %v", cf, err)
		}
	}
	if n, _ := f.store.CountMailboxes(t.Context(), "TSRM-FI"); n[domain.StateRichiesta] != 1 {
		t.Errorf("mailboxes %v, want one", n)
	}
	// The same person may be enrolled in another Order.
	f.enrol(t, asPI, "TSRM-PI", enrolment(marioOmocodic, "Mario", "Rossi"))
}

func TestEnrol_InvalidFieldIsNamedAndNothingIsWritten(t *testing.T) {
	tests := []struct {
		field string
		edit  func(*domain.Enrolment)
		code  string
	}{
		{"codiceFiscale", func(e *domain.Enrolment) { e.CodiceFiscale = "RSSMRA80A01H501A" }, "invalid_codice_fiscale"},
		{"nome", func(e *domain.Enrolment) { e.Nome = "  " }, "invalid_nome"},
		{"cognome", func(e *domain.Enrolment) { e.Cognome = "" }, "invalid_cognome"},
		{"albo", func(e *domain.Enrolment) { e.Albo = "T" }, "invalid_albo"},
		{"numeroIscrizione", func(e *domain.Enrolment) { e.NumeroIscrizione = "" }, "invalid_numero_iscrizione"},
		{"dataIscrizione", func(e *domain.Enrolment) { e.DataIscrizione = "2099-01-01" }, "invalid_data_iscrizione"},
		{"email", func(e *domain.Enrolment) { e.Email = "mario" }, "invalid_email"},
		{"pec", func(e *domain.Enrolment) { e.PEC = "a@b.it, c@d.it" }, "invalid_pec"},
		{"nome", func(e *domain.Enrolment) { e.Nome = "李" }, "unusable_name"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			f := newSvcFixture(t)
			e := enrolment(mario, "Mario", "Rossi")
			tt.edit(&e)
			_, _, err := f.svc.Enrol(t.Context(), asFI, "TSRM-FI", e)
			var de *domain.Error
			if !errors.As(err, &de) || de.Kind != domain.KindInvalid || de.Field != tt.field || de.Code != tt.code {
				t.Fatalf("got %v (field %q), want %s on %s", err, field(err), tt.code, tt.field)
			}
			if len(f.store.Audit("TSRM-FI")) != 1 { // the Order's creation
				t.Errorf("something was written: %v", actions(f.store, "TSRM-FI", ""))
			}
		})
	}
}

func TestEnrol_OnlyTheFederationAndTheOrder(t *testing.T) {
	f := newSvcFixture(t)
	if _, _, err := f.svc.Enrol(t.Context(), asPI, "TSRM-FI", enrolment(mario, "Mario", "Rossi")); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("another Order: %v", err)
	}
	if _, _, err := f.svc.Enrol(t.Context(), asFederation, "TSRM-XX", enrolment(mario, "Mario", "Rossi")); !errors.Is(err, domain.ErrOrderNotFound) {
		t.Errorf("unknown Order: %v", err)
	}
	m, _ := f.enrol(t, asFederation, "TSRM-FI", enrolment(mario, "Mario", "Rossi"))
	if a := actions(f.store, "TSRM-FI", "member:"+m.Key()); !slices.Equal(a, []string{"federation member.enrolled"}) {
		t.Errorf("audit trail %v", a)
	}
}

func TestEnrol_RetryWithTheSameRequestKeyGetsTheFirstEnrolment(t *testing.T) {
	f := newSvcFixture(t)
	f.svc.Crash = func(point, _ string) {
		if point == app.CrashAfterEnrolment {
			panic("the function dies before answering")
		}
	}
	ctx := app.WithRequestKey(t.Context(), "order:TSRM-FI|POST /members|key-1")
	func() {
		defer func() { _ = recover() }()
		_, _, _ = f.svc.Enrol(ctx, asFI, "TSRM-FI", enrolment(mario, "Mario", "Rossi"))
		t.Fatal("no crash")
	}()
	f.svc.Crash = nil
	m, mb, err := f.svc.Enrol(ctx, asFI, "TSRM-FI", enrolment(mario, "Mario", "Rossi"))
	if err != nil || mb == nil || mb.Address != "mario.rossi@pec.tsrm.org" || m.MailboxID != mb.ID {
		t.Fatalf("retry: %+v, %+v, %v", m, mb, err)
	}
	if n, _ := f.store.CountMailboxes(t.Context(), "TSRM-FI"); n[domain.StateRichiesta] != 1 {
		t.Errorf("mailboxes %v, want the first one only", n)
	}
	other := app.WithRequestKey(t.Context(), "order:TSRM-FI|POST /members|key-2")
	for name, ctx := range map[string]context.Context{"another key": other, "no key": t.Context()} {
		if _, _, err := f.svc.Enrol(ctx, asFI, "TSRM-FI", enrolment(mario, "Mario", "Rossi")); !errors.Is(err, domain.ErrMemberExists) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEnrol_JoinsTheNextBatchWhenTheOrderClosedOneMeanwhile(t *testing.T) {
	f := newSvcFixture(t)
	f.store.Fail("CreateMember", domain.ErrConcurrentUpdate)
	_, mb := f.enrol(t, asFI, "TSRM-FI", enrolment(mario, "Mario", "Rossi"))
	if mb.Address != "mario.rossi@pec.tsrm.org" {
		t.Errorf("mailbox %+v", mb)
	}
}

func TestEnrol_StoreFailureIsReturned(t *testing.T) {
	f := newSvcFixture(t)
	f.store.FailAlways("TakenAddresses", fake.ErrInjected)
	if _, _, err := f.svc.Enrol(t.Context(), asFI, "TSRM-FI", enrolment(mario, "Mario", "Rossi")); !errors.Is(err, fake.ErrInjected) {
		t.Errorf("got %v", err)
	}
}

func TestGetMember_ByAnyOmocodicFormWithItsMailbox(t *testing.T) {
	f := newSvcFixture(t)
	_, mb := f.enrol(t, asFI, "TSRM-FI", enrolment(mario, "Mario", "Rossi"))
	tests := []struct {
		name   string
		caller app.Caller
		order  string
		cf     string
		code   string
	}{
		{"as enrolled", asFI, "TSRM-FI", mario, ""},
		{"omocodic form", asFederation, "TSRM-FI", marioOmocodic, ""},
		{"another Order", asPI, "TSRM-FI", mario, "forbidden"},
		{"not a member", asFI, "TSRM-FI", luigi, "member_not_found"},
		{"unknown Order", asFederation, "TSRM-XX", mario, "order_not_found"},
		{"malformed code", asFI, "TSRM-FI", "RSSMRA", "invalid_codice_fiscale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, err := f.svc.GetMember(t.Context(), tt.caller, tt.order, tt.cf)
			if code(err) != tt.code {
				t.Fatalf("got %v, want %q", err, tt.code)
			}
			if err == nil && (file.Member.Key() != mario || file.Mailbox == nil || file.Mailbox.ID != mb.ID) {
				t.Errorf("file %+v", file)
			}
		})
	}
}

func TestEnrol_AnUnknownAlboIsRefusedAndNothingIsStored(t *testing.T) {
	f := newSvcFixture(t)
	e := enrolment(mario, "Mario", "Rossi")
	e.Albo = "TSMR" // a typo that must not give a radiographer the PSTRP domain for good
	_, _, err := f.svc.Enrol(t.Context(), asFI, "TSRM-FI", e)
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != "invalid_albo" || de.Field != "albo" || de.Kind != domain.KindInvalid {
		t.Fatalf("err = %v, want invalid_albo", err)
	}
	if _, err := f.store.GetMember(t.Context(), "TSRM-FI", domain.CodiceFiscale(mario)); !errors.Is(err, domain.ErrMemberNotFound) {
		t.Errorf("the member was stored: %v", err)
	}
}
