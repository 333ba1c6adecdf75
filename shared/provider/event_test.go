package provider_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/provider"
)

func TestParseEvent_Valid(t *testing.T) {
	body := `{"eventId":"evt-1","type":"mailbox.rejected","address":"Mario.Rossi@pec.tsrm.org",
		"providerRef":"ARU-77","occurredAt":"2026-03-01T10:00:00+01:00","reason":"duplicate","extra":1}`
	got, err := provider.ParseEvent([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := provider.Event{
		EventID:     "evt-1",
		Type:        provider.EventRejected,
		Address:     "mario.rossi@pec.tsrm.org",
		ProviderRef: "ARU-77",
		OccurredAt:  time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		Reason:      "duplicate",
	}
	if got != want {
		t.Fatalf("ParseEvent = %+v, want %+v", got, want)
	}
}

func TestParseEvent_RoundTripsMarshalledEvent(t *testing.T) {
	for _, typ := range []string{provider.EventCreated, provider.EventRejected, provider.EventDeactivated} {
		ev := provider.Event{EventID: "e", Type: typ, Address: "a.b@pec.example.it", ProviderRef: "R",
			OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := provider.ParseEvent(b)
		if err != nil || got != ev {
			t.Fatalf("ParseEvent(%s) = %+v, %v; want %+v", b, got, err, ev)
		}
	}
}

func TestParseEvent_Invalid(t *testing.T) {
	valid := map[string]any{
		"eventId": "evt-1", "type": "mailbox.created", "address": "mario.rossi@pec.tsrm.org",
		"providerRef": "R1", "occurredAt": "2026-03-01T10:00:00Z",
	}
	with := func(k string, v any) string {
		m := map[string]any{}
		for k, v := range valid {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name, body, field string
	}{
		{"not JSON", `eventId=1`, ""},
		{"array", `[]`, ""},
		{"null", `null`, ""},
		{"empty", ``, ""},
		{"truncated", with("reason", "x")[:40], ""},
		{"trailing garbage", with("reason", "x") + "x", ""},
		{"eventId missing", with("eventId", nil), "eventId"},
		{"eventId empty", with("eventId", ""), "eventId"},
		{"eventId too long", with("eventId", strings.Repeat("é", 129)), "eventId"},
		{"eventId a number", with("eventId", 7), "eventId"},
		{"type missing", with("type", nil), "type"},
		{"type unknown", with("type", "mailbox.activated"), "type"},
		{"type in another case", with("type", "MAILBOX.CREATED"), "type"},
		{"address missing", with("address", nil), "address"},
		{"address without domain", with("address", "mario.rossi"), "address"},
		{"address with name", with("address", "Mario <mario.rossi@pec.tsrm.org>"), "address"},
		{"address list", with("address", "a@pec.it,b@pec.it"), "address"},
		{"address with line break", with("address", "a@pec.it\r\nBcc: x@y.it"), "address"},
		{"address domain without dot", with("address", "a@localhost"), "address"},
		{"address an object", with("address", map[string]string{"x": "y"}), "address"},
		{"occurredAt missing", with("occurredAt", nil), "occurredAt"},
		{"occurredAt a date", with("occurredAt", "2026-03-01"), "occurredAt"},
		{"occurredAt without zone", with("occurredAt", "2026-03-01T10:00:00"), "occurredAt"},
		{"occurredAt unix", with("occurredAt", 1772359200), "occurredAt"},
		{"providerRef too long", with("providerRef", strings.Repeat("r", 129)), "providerRef"},
		{"reason too long", with("reason", strings.Repeat("r", 1001)), "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := provider.ParseEvent([]byte(tt.body))
			var ee *provider.EventError
			if !errors.As(err, &ee) {
				t.Fatalf("ParseEvent(%s) = %v, want an *EventError", tt.body, err)
			}
			if ee.Field != tt.field {
				t.Fatalf("ParseEvent(%s): field %q (%v), want %q", tt.body, ee.Field, err, tt.field)
			}
			if tt.field != "" && !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("error %q does not name the field %q", err, tt.field)
			}
		})
	}
}
