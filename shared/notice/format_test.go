package notice

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func TestFormatEuro(t *testing.T) {
	for _, c := range []struct {
		cents int
		want  string
	}{
		{0, "€ 0,00"},
		{5, "€ 0,05"},
		{50, "€ 0,50"},
		{100, "€ 1,00"},
		{488, "€ 4,88"},
		{99999, "€ 999,99"},
		{100000, "€ 1.000,00"},
		{123456, "€ 1.234,56"},
		{12345678, "€ 123.456,78"},
		{100000000, "€ 1.000.000,00"},
		{-1, "€ -0,01"},
		{-123456, "€ -1.234,56"},
		{math.MaxInt64, "€ 92.233.720.368.547.758,07"},
		{math.MinInt64, "€ -92.233.720.368.547.758,08"},
	} {
		if got := FormatEuro(c.cents); got != c.want {
			t.Errorf("FormatEuro(%d) = %q, want %q", c.cents, got, c.want)
		}
	}
}

func TestFormatDate_InRome(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), "23 novembre 2026"},
		{time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC), "24 novembre 2026"}, // CET, UTC+1
		{time.Date(2026, 7, 31, 22, 30, 0, 0, time.UTC), "1° agosto 2026"},    // CEST, UTC+2
		{time.Date(2026, 7, 31, 21, 30, 0, 0, time.UTC), "31 luglio 2026"},
		{time.Date(2027, 1, 5, 12, 0, 0, 0, time.FixedZone("NYC", -5*3600)), "5 gennaio 2027"},
	} {
		if got := FormatDate(c.t); got != c.want {
			t.Errorf("FormatDate(%v) = %q, want %q", c.t, got, c.want)
		}
	}
	want := []string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
		"luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}
	for i, m := range want {
		if got := FormatDate(time.Date(2026, time.Month(i+1), 15, 12, 0, 0, 0, rome)); got != fmt.Sprintf("15 %s 2026", m) {
			t.Errorf("month %d: %q", i+1, got)
		}
	}
}

func TestFormatPercent(t *testing.T) {
	for in, want := range map[float64]string{22: "22", 5.5: "5,5", 0: "0", 10.004: "10", 4.25: "4,25"} {
		if got := formatPercent(in); got != want {
			t.Errorf("formatPercent(%v) = %q, want %q", in, got, want)
		}
	}
}

func ExampleFormatEuro() {
	fmt.Println(FormatEuro(123456))
	fmt.Println(FormatEuro(488))
	// Output:
	// € 1.234,56
	// € 4,88
}

func ExampleFormatDate() {
	fmt.Println(FormatDate(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)))
	fmt.Println(FormatDate(time.Date(2026, 2, 28, 23, 30, 0, 0, time.UTC))) // already March in Rome
	// Output:
	// 23 novembre 2026
	// 1° marzo 2026
}
