package notice

import "time"

// RegindeData is what the ReGIndE e-mail to a court-appointed expert (CTU) says.
type RegindeData struct {
	Nome, Cognome string
	Address       string    // the domicilio digitale to register: exactly the one the Order has
	OrderName     string    // e.g. "Ordine TSRM PSTRP di Firenze"
	Link          string    // the confirmation URL: the only place a token may appear
	ExpiresAt     time.Time // when Link stops working
	Reminder      bool      // the Order asked again
}

type regindeView struct {
	Name       string
	Address    string
	OrderName  string
	Link       string
	ExpiryDate string
	Reminder   bool
}

// RegindeEmail is the ordinary e-mail that tells a CTU to register the domicilio digitale in
// ReGIndE, the Ministry of Justice's register of electronic addresses (seed 003, second half):
// the same PEC the Order has, what registration needs (CNS/CRS or a digital-signature device),
// the steps on pst.giustizia.it, why it matters (only a PEC registered there receives court
// appointments), and the link to confirm once done.
func RegindeEmail(d RegindeData) (Message, error) {
	v := regindeView{
		Name:      fullName(d.Nome, d.Cognome),
		Address:   clean(d.Address),
		OrderName: clean(d.OrderName),
		Link:      d.Link,
		Reminder:  d.Reminder,
	}
	switch {
	case v.Address == "":
		return Message{}, invalid("Address", "is required")
	case v.OrderName == "":
		return Message{}, invalid("OrderName", "is required")
	case d.ExpiresAt.IsZero():
		return Message{}, invalid("ExpiresAt", "is required")
	}
	if err := checkLink(d.Link); err != nil {
		return Message{}, err
	}
	v.ExpiryDate = FormatDate(d.ExpiresAt)
	return render("reginde", v, true)
}
