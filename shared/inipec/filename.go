package inipec

import (
	"fmt"
	"strings"
	"time"
)

// FileName returns the deterministic name of an Order's n-th delivery of the day (n from 1):
// "INIPEC_<orderId>_<YYYYMMDD>_<n, 6 digits>.csv", the day taken in day's own location. The
// same arguments always give the same name, so a re-delivered file keeps its name and the
// receiver can recognise it. Order identifiers are A-Z, 0-9 and '-' (api.md); any other
// character is replaced by '-' so that the name stays safe in a URL path and a file system.
func FileName(orderID string, day time.Time, n int) string {
	id := strings.Map(func(r rune) rune {
		switch {
		case 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '-':
			return r
		}
		return '-'
	}, orderID)
	return fmt.Sprintf("INIPEC_%s_%s_%06d.csv", id, day.Format("20060102"), n)
}
