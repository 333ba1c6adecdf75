package adhesion

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// amounts are the economic conditions in euro cents.
type amounts struct {
	Net, VAT, Total int
}

// maxNetCents keeps net*basis points well inside int64.
const maxNetCents = math.MaxInt64 / 10000

// price computes VAT and total in integer cents. The rate is taken to the
// hundredth of a percent (22 -> 2200 basis points) so that float noise in the
// configuration (22.000000001) never moves a cent, and the VAT is rounded half up.
func price(netCents int, vatPercent float64) (amounts, error) {
	if netCents < 0 || netCents > maxNetCents {
		return amounts{}, fmt.Errorf("adhesion: net price %d cents out of range", netCents)
	}
	if math.IsNaN(vatPercent) || vatPercent < 0 || vatPercent > 100 {
		return amounts{}, errors.New("adhesion: VAT percent out of range")
	}
	bp := int(math.Round(vatPercent * 100))
	vat := (netCents*bp + 5000) / 10000
	return amounts{Net: netCents, VAT: vat, Total: netCents + vat}, nil
}

// euro formats cents the Italian way: "€ 1.234,56".
func euro(cents int) string {
	units := strconv.Itoa(cents / 100)
	var b strings.Builder
	b.WriteString("€ ")
	for i, r := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	fmt.Fprintf(&b, ",%02d", cents%100)
	return b.String()
}

// percent formats a rate without useless decimals: 22 -> "22", 5.5 -> "5,5".
func percent(p float64) string {
	s := strconv.FormatFloat(math.Round(p*100)/100, 'f', -1, 64)
	return strings.Replace(s, ".", ",", 1)
}

// validity names the term of the service as the conventions do.
func validity(years int) string {
	switch {
	case years <= 0:
		return ""
	case years == 1:
		return "validità annuale"
	case years == 3:
		return "validità triennale"
	default:
		return fmt.Sprintf("validità di %d anni", years)
	}
}
