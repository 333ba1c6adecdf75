package notice

import (
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Rome even where the system has no zoneinfo (Lambda's base image)
)

var rome = mustLoadLocation("Europe/Rome")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("notice: " + err.Error()) // unreachable: time/tzdata is embedded
	}
	return loc
}

var months = [12]string{
	"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
	"luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre",
}

// FormatDate writes the day of t in Rome the Italian way: "23 novembre 2026", and "1° marzo 2026"
// for the first of the month, as Italian formal writing does.
func FormatDate(t time.Time) string {
	t = t.In(rome)
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1°"
	}
	return day + " " + months[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// FormatEuro writes an amount in cents the Italian way: "€ 1.234,56", "€ 0,05", "€ -3,00".
func FormatEuro(cents int) string {
	u := uint64(cents)
	sign := ""
	if cents < 0 {
		u, sign = -u, "-" // two's complement: right for math.MinInt too
	}
	units := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	b.WriteString("€ ")
	b.WriteString(sign)
	for i, d := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(d)
	}
	c := u % 100
	b.WriteByte(',')
	b.WriteByte(byte('0' + c/10))
	b.WriteByte(byte('0' + c%10))
	return b.String()
}

// formatPercent writes a percentage to two decimals at most, with a decimal comma and no useless
// zeros: "22", "5,5".
func formatPercent(p float64) string {
	return strings.Replace(strconv.FormatFloat(math.Round(p*100)/100, 'f', -1, 64), ".", ",", 1)
}
