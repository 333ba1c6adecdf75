package domain

import (
	"errors"
	"testing"
)

func TestAmount_IsPricePlusVATRoundedOnceOnTheTotal(t *testing.T) {
	for _, tc := range []struct {
		n, price int
		vat      float64
		want     int
	}{
		{1, 400, 22, 488},
		{3, 333, 22, 1219}, // 1218.78: rounded once, not per mailbox (406.26 -> 406 * 3 = 1218)
		{100000, 400, 22, 48_800_000},
		{5, 400, 0, 2000},
	} {
		if got := Amount(tc.n, Convention{PriceCents: tc.price, VATPercent: tc.vat}); got != tc.want {
			t.Errorf("Amount(%d, %d, %v) = %d, want %d", tc.n, tc.price, tc.vat, got, tc.want)
		}
	}
}

func TestBatch_SubmittedOnlyWhenConfirmedAndPaid_InEitherOrder(t *testing.T) {
	for _, payFirst := range []bool{false, true} {
		b := &Batch{AmountCents: 488, State: BatchAwaitingAuthorization}
		if payFirst {
			if _, err := b.Pay("PAY-1", 488, t0); err != nil {
				t.Fatal(err)
			}
			if b.Submitted() {
				t.Fatal("submitted on payment alone")
			}
			b.Confirm(t0, "order:X")
		} else {
			b.Confirm(t0, "order:X")
			if b.Submitted() {
				t.Fatal("submitted on confirmation alone")
			}
			if _, err := b.Pay("PAY-1", 488, t0); err != nil {
				t.Fatal(err)
			}
		}
		if !b.Submitted() {
			t.Fatalf("payFirst=%v: not submitted after both", payFirst)
		}
	}
}

func TestBatch_RepeatedConfirmOrPaymentIsNoOp_OtherReferenceConflicts(t *testing.T) {
	b := &Batch{AmountCents: 976, State: BatchAwaitingAuthorization}
	if !b.Confirm(t0, "order:X") || b.Confirm(t0, "order:X") {
		t.Fatal("confirm not idempotent")
	}
	if _, err := b.Pay("PAY-1", 975, t0); !errors.Is(err, ErrAmountMismatch) {
		t.Fatalf("wrong amount: %v", err)
	}
	if changed, err := b.Pay("PAY-1", 976, t0); !changed || err != nil {
		t.Fatal(changed, err)
	}
	if changed, err := b.Pay("PAY-1", 976, t0); changed || err != nil {
		t.Fatalf("same payment again: changed=%v err=%v", changed, err)
	}
	if _, err := b.Pay("PAY-2", 976, t0); !errors.Is(err, ErrAlreadyPaid) {
		t.Fatalf("second reference: %v", err)
	}
	var e *Error
	if _, err := b.Pay(" ", 976, t0); !errors.As(err, &e) || e.Field != "reference" {
		t.Fatalf("empty reference: %v", err)
	}
}
