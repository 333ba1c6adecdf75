package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

// complianceFixture enrols, in TSRM-FI: Mario (mailbox in RICHIESTA) and Giulia (mailbox sent
// to the provider), both in the albo for years; Anna, whose mailbox is ATTIVATA; Luigi, with
// a PEC of his own; Mario Rossi 2, enrolled in the albo ten days ago; and Mario Rossi 3, who
// left the albo. In TSRM-PI (no convention), Carlo, without any PEC.
func complianceFixture(t *testing.T) (*svcFixture, *app.Compliance) {
	t.Helper()
	f := newSvcFixture(t)
	f.enrol(t, asFI, "TSRM-FI", enrolment(mario, "Mario", "Rossi"))
	_, mb := f.enrol(t, asFI, "TSRM-FI", enrolment(giulia, "Giulia", "Verdi"))
	f.transition(t, mb.ID, domain.StateRichiestaInviata)
	_, mb = f.enrol(t, asFI, "TSRM-FI", enrolment(anna, "Anna", "Bianchi"))
	for _, st := range []domain.State{domain.StateRichiestaInviata, domain.StateAbilitata, domain.StateAttivata} {
		f.transition(t, mb.ID, st)
	}
	own := enrolment(luigi, "Luigi", "Verdi")
	own.PEC = "luigi.verdi@legalmail.it"
	f.enrol(t, asFI, "TSRM-FI", own)
	recent := enrolment(mario2, "Mario", "Rossi")
	recent.DataIscrizione = "2026-02-20"
	f.enrol(t, asFI, "TSRM-FI", recent)
	m, _ := f.enrol(t, asFI, "TSRM-FI", enrolment(mario3, "Mario", "Rossi"))
	_, err := f.store.UpdateMember(t.Context(), "TSRM-FI", m.CodiceFiscale, app.Audit{}, func(m *domain.Member) (bool, error) {
		m.CancelledOn, m.CancelReason = "2026-01-10", "trasferito"
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pi := enrolment(carlo, "Carlo", "Zurzi")
	pi.DataIscrizione = "2025-12-01"
	f.enrol(t, asPI, "TSRM-PI", pi)
	return f, &app.Compliance{Store: f.store, Now: f.clock.Now, GraceDays: 30}
}

// transition moves a mailbox one step.
func (f *svcFixture) transition(t *testing.T, id string, to domain.State) {
	t.Helper()
	_, _, err := f.store.UpdateMailbox(t.Context(), id, func(mb *domain.Mailbox) (bool, error) {
		return mb.Transition(to, f.clock.Now(), "system", "test")
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestComplianceReport_MembersWithoutDomicilioPastTheGracePeriod(t *testing.T) {
	_, c := complianceFixture(t)
	got, next, err := c.Report(t.Context(), asFI, "TSRM-FI", 0, "")
	if err != nil || next != "" {
		t.Fatalf("next %q, %v", next, err)
	}
	if len(got) != 2 || got[0].Member.Key() != mario || got[1].Member.Key() != giulia {
		t.Fatalf("got %d members: %+v", len(got), got)
	}
	if got[0].Mailbox == nil || got[0].Mailbox.State != domain.StateRichiesta || got[1].Mailbox.State != domain.StateRichiestaInviata {
		t.Errorf("mailboxes %+v, %+v", got[0].Mailbox, got[1].Mailbox)
	}
	if want := int(t0.Sub(time.Date(2020, 1, 15, 0, 0, 0, 0, time.UTC)).Hours() / 24); got[0].DaysWithout != want {
		t.Errorf("days without %d, want %d", got[0].DaysWithout, want)
	}
	got, _, err = c.Report(t.Context(), asFederation, "TSRM-PI", 0, "")
	if err != nil || len(got) != 1 || got[0].Member.Key() != carlo || got[0].Mailbox != nil || got[0].DaysWithout != 91 {
		t.Errorf("TSRM-PI: %+v, %v", got, err)
	}
}

func TestComplianceReport_PagesSkipActiveMailboxesAndStillFillThePage(t *testing.T) {
	_, c := complianceFixture(t)
	var keys []string
	cursor, pages := "", 0
	for {
		got, next, err := c.Report(t.Context(), asFI, "TSRM-FI", 1, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, l := range got {
			keys = append(keys, l.Member.Key())
		}
		if cursor = next; cursor == "" || pages > 5 {
			break
		}
	}
	if pages != 2 || len(keys) != 2 || keys[0] != mario || keys[1] != giulia {
		t.Errorf("%d pages: %v", pages, keys)
	}
}

func TestComplianceReport_Refusals(t *testing.T) {
	_, c := complianceFixture(t)
	tests := []struct {
		name   string
		caller app.Caller
		order  string
		limit  int
		cursor string
		code   string
	}{
		{"another Order", asPI, "TSRM-FI", 0, "", "forbidden"},
		{"malformed Order id", asFederation, "fi", 0, "", "invalid_order_id"},
		{"unknown Order", asFederation, "TSRM-XX", 0, "", "order_not_found"},
		{"negative limit", asFI, "TSRM-FI", -1, "", "invalid_limit"},
		{"forged cursor", asFI, "TSRM-FI", 0, "nope", "invalid_cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := c.Report(t.Context(), tt.caller, tt.order, tt.limit, tt.cursor); code(err) != tt.code {
				t.Errorf("got %v, want %s", err, tt.code)
			}
		})
	}
	f, c := complianceFixture(t)
	f.store.Fail("MailboxesByID", errors.New("DynamoDB is down"))
	if _, _, err := c.Report(t.Context(), asFI, "TSRM-FI", 0, ""); err == nil {
		t.Error("a store failure was swallowed")
	}
}
