package provider_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/provider"
)

func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	key := []byte("fuzz-secret")
	body := []byte(`{"eventId":"e1"}`)
	good := provider.Sign(key, now, body)
	f.Add(good, body, int64(0))
	f.Add(good+","+good[len("t=1700000000,"):], body, int64(299))
	f.Add(good, body, int64(-301))
	f.Add("t=,v1=", []byte{}, int64(0))
	f.Add("t=1700000000,v1=zz", body, int64(0))
	f.Add("=,=,=", body, int64(0))
	f.Add("t=99999999999999999999999,v1=00", body, int64(0))
	f.Fuzz(func(t *testing.T, header string, body []byte, skew int64) {
		at := now.Add(time.Duration(skew) * time.Second)
		err := provider.Verify([][]byte{key, {}}, header, body, at, provider.DefaultTolerance)
		if err != nil && !errors.Is(err, provider.ErrBadSignature) && !errors.Is(err, provider.ErrStaleSignature) {
			t.Fatalf("Verify(%q) = %v, not one of the two sentinels", header, err)
		}
		// What Sign produces, Verify accepts at the time of signing.
		if err := provider.Verify([][]byte{key}, provider.Sign(key, at, body), body, at, provider.DefaultTolerance); err != nil && at.Unix() >= 0 {
			t.Fatalf("Verify(Sign(%q)) at %v = %v", body, at, err)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"eventId":"e1","type":"mailbox.created","address":"a.b@pec.tsrm.org","providerRef":"R","occurredAt":"2026-03-01T10:00:00Z"}`))
	f.Add([]byte(`{"eventId":1}`))
	f.Add([]byte(`{"address":"Mario <a@b.it>"}`))
	f.Add([]byte(`[{}]`))
	f.Add([]byte(`{"occurredAt":"2026-13-45T99:00:00Z"}`))
	f.Add([]byte("\xff\xfe{"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := provider.ParseEvent(body)
		if err != nil {
			var ee *provider.EventError
			if !errors.As(err, &ee) {
				t.Fatalf("ParseEvent(%q) = %v, not an *EventError", body, err)
			}
			return
		}
		if ev.EventID == "" || ev.Address == "" || ev.OccurredAt.Location() != time.UTC {
			t.Fatalf("ParseEvent(%q) = %+v: accepted without the required fields", body, ev)
		}
		switch ev.Type {
		case provider.EventCreated, provider.EventRejected, provider.EventDeactivated:
		default:
			t.Fatalf("ParseEvent(%q) accepted type %q", body, ev.Type)
		}
	})
}
