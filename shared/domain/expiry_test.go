package domain

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func date(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAddYears_29FebruaryBecomes28InACommonYear(t *testing.T) {
	for _, tc := range []struct {
		from  string
		years int
		want  string
	}{
		{"2024-03-15", 3, "2027-03-15"},
		{"2024-02-29", 3, "2027-02-28"},
		{"2024-02-29", 4, "2028-02-29"},
		{"2027-02-28", 1, "2028-02-28"}, // a renewal keeps the shortened date
		{"2025-12-31", 1, "2026-12-31"},
	} {
		if got := FormatDate(AddYears(date(t, tc.from), tc.years)); got != tc.want {
			t.Errorf("AddYears(%s, %d) = %s, want %s", tc.from, tc.years, got, tc.want)
		}
	}
}

func TestToday_IsTheDayInItaly(t *testing.T) {
	// 23:30 UTC on 31 December is already 1 January in Rome.
	if got := FormatDate(Today(time.Date(2025, 12, 31, 23, 30, 0, 0, time.UTC))); got != "2026-01-01" {
		t.Errorf("Today = %s, want 2026-01-01", got)
	}
}

func TestConvention_ValidityDefaultsToThreeYearsAndIsBounded(t *testing.T) {
	o := &Order{ID: "TSRM-FI", Name: "Ordine", PEC: "fi@pec.example.it"}
	if err := o.Validate(); err != nil || o.Convention.ValidityYears != 3 {
		t.Fatalf("absent validity: %v, %d", err, o.Convention.ValidityYears)
	}
	for _, n := range []int{-1, 11} {
		o.Convention.ValidityYears = n
		var e *Error
		if err := o.Validate(); !errors.As(err, &e) || e.Field != "convention.validityYears" {
			t.Errorf("validityYears %d: %v", n, err)
		}
	}
	if (Convention{}).Validity() != 3 || (Convention{ValidityYears: 5}).Validity() != 5 {
		t.Error("Validity")
	}
}

func activeMailbox(t *testing.T, activated string, years int) *Mailbox {
	m := &Mailbox{State: StateAttivata}
	m.StartValidity(date(t, activated), years)
	return m
}

func TestStartValidity_ExpiresAfterTheYearsAndIsFirstLookedAtAYearBefore(t *testing.T) {
	m := activeMailbox(t, "2024-02-29", 3)
	if m.ExpiresOn != "2027-02-28" || m.ExpiryDueOn != "2026-02-28" || m.LastReminder != 0 {
		t.Errorf("expiresOn %s, dueOn %s, last %d", m.ExpiresOn, m.ExpiryDueOn, m.LastReminder)
	}
}

func TestExpiryStep_EachThresholdOnceAndOnlyTheNearestWhenLate(t *testing.T) {
	thresholds, err := ParseReminderDays("7, 90,30,30")
	if err != nil || !slices.Equal(thresholds, []int{90, 30, 7}) {
		t.Fatalf("ParseReminderDays = %v, %v", thresholds, err)
	}
	m := activeMailbox(t, "2024-06-30", 3) // expires 2027-06-30
	type step struct {
		today  string
		action ExpiryAction
		days   int
		dueOn  string
	}
	for _, s := range []step{
		{"2026-06-30", ExpiryNothing, 0, "2027-04-01"}, // the first look schedules the 90-day reminder
		{"2027-04-01", ExpiryRemind, 90, "2027-05-31"},
		{"2027-04-01", ExpiryNothing, 0, "2027-05-31"}, // the run repeats: nothing again
		{"2027-06-25", ExpiryRemind, 7, "2027-07-01"},  // days late: the 7-day one, not 30 and 7
		{"2027-06-26", ExpiryNothing, 0, "2027-07-01"},
		{"2027-06-30", ExpiryNothing, 0, "2027-07-01"}, // valid through its last day
		{"2027-07-01", ExpiryRevoke, 0, "2027-07-01"},
	} {
		action, days := m.ExpiryStep(date(t, s.today), thresholds)
		if action != s.action || days != s.days || m.ExpiryDueOn != s.dueOn {
			t.Errorf("%s: action %d days %d dueOn %s, want %d %d %s", s.today, action, days, m.ExpiryDueOn, s.action, s.days, s.dueOn)
		}
	}
	if _, err := ParseReminderDays("90,400"); err == nil {
		t.Error("a threshold beyond a year accepted")
	}
}

func TestRenewal_ExtendsFromTheCurrentExpiryOncePerBatch(t *testing.T) {
	m := activeMailbox(t, "2024-02-29", 3) // 2027-02-28
	m.ExpiryStep(date(t, "2027-02-20"), []int{30, 7})
	if !m.JoinRenewal("B1", false) || m.JoinRenewal("B2", true) {
		t.Fatal("join: first must succeed, a second open batch must not take it")
	}
	at := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	if !m.ApplyRenewal("B1", 3, at, "order:X") || m.ApplyRenewal("B1", 3, at, "order:X") {
		t.Fatal("the renewal must apply exactly once")
	}
	if m.ExpiresOn != "2030-02-28" || m.RenewalBatchID != "" || m.LastReminder != 0 || m.ExpiryDueOn != "2029-02-28" {
		t.Errorf("after renewal: %+v", m)
	}
	if h := m.History[len(m.History)-1]; h.State != StateAttivata || h.Reason != "renewed until 2030-02-28 (batch B1)" {
		t.Errorf("history %+v", h)
	}
	// A stale mark (its batch gone or closed) does not keep the mailbox from a new batch.
	m.RenewalBatchID = "GONE"
	if !m.JoinRenewal("B3", false) {
		t.Error("a stale mark blocked the renewal")
	}
	m.State = StateRevocata
	if m.ApplyRenewal("B3", 3, at, "system") {
		t.Error("a revoked mailbox was renewed")
	}
}

func TestRenewalSelection_ExactlyOneCriterion(t *testing.T) {
	for _, s := range []RenewalSelection{
		{},
		{MailboxIDs: []string{}},
		{MailboxIDs: []string{"a"}, ExpiringBefore: "2027-01-01"},
		{ExpiringBefore: "2027-02-30"},
		{MailboxIDs: []string{"a b"}},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	s := RenewalSelection{MailboxIDs: []string{"b", "a", "b"}}
	if err := s.Validate(); err != nil || !slices.Equal(s.MailboxIDs, []string{"a", "b"}) {
		t.Errorf("%v %v", s.MailboxIDs, err)
	}
}
