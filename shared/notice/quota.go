package notice

import "time"

// QuotaData is what the notices about a mailbox's storage say.
type QuotaData struct {
	Nome, Cognome    string
	NumeroIscrizione string
	Address          string
	Percent          int // the share of the storage in use
	OrderName        string
	OrderPEC         string
}

type quotaView struct {
	Name, NumeroIscrizione, Address, OrderName, OrderPEC string
	Percent                                              int
}

func quotaViewOf(d QuotaData) (quotaView, error) {
	v := quotaView{Name: fullName(d.Nome, d.Cognome), NumeroIscrizione: clean(d.NumeroIscrizione), Address: clean(d.Address),
		OrderName: clean(d.OrderName), OrderPEC: clean(d.OrderPEC), Percent: d.Percent}
	switch {
	case v.Address == "":
		return v, invalid("Address", "is required")
	case v.OrderName == "":
		return v, invalid("OrderName", "is required")
	case d.Percent < 0:
		return v, invalid("Percent", "must not be negative")
	}
	return v, nil
}

// QuotaWarning is the ordinary e-mail that tells a member the mailbox is nearly full, that a
// full mailbox receives nothing and counts as no domicilio digitale, and what to do.
func QuotaWarning(d QuotaData) (Message, error) {
	v, err := quotaViewOf(d)
	if err != nil {
		return Message{}, err
	}
	return render("quota", v, false)
}

// QuotaFullNotice tells an Order, by PEC, of its members' mailboxes that are full.
func QuotaFullNotice(orderName string, full []QuotaData) (Message, error) {
	if clean(orderName) == "" {
		return Message{}, invalid("OrderName", "is required")
	}
	if len(full) == 0 {
		return Message{}, invalid("Mailboxes", "at least one is required")
	}
	v := struct {
		OrderName string
		Mailboxes []quotaView
	}{OrderName: clean(orderName)}
	for _, d := range full {
		d.OrderName = orderName
		m, err := quotaViewOf(d)
		if err != nil {
			return Message{}, err
		}
		v.Mailboxes = append(v.Mailboxes, m)
	}
	return render("quotafull", v, false)
}

// RequestExpiringData is what the notice of an unpaid request about to expire says.
type RequestExpiringData struct {
	Address     string // the address the request holds
	OrderName   string
	ExpiresOn   time.Time // the last day
	AmountCents int
	Link        string // where the member continues (the convention's page)
}

// RequestExpiring tells the member, once, that the unpaid request expires in a week and the
// address it holds will no longer be kept.
func RequestExpiring(d RequestExpiringData) (Message, error) {
	v := struct {
		Address, OrderName, ExpiresOn, Amount, Link string
	}{Address: clean(d.Address), OrderName: clean(d.OrderName), ExpiresOn: FormatDate(d.ExpiresOn), Amount: FormatEuro(d.AmountCents), Link: d.Link}
	if d.Link != "" { // a link is never cleaned (its token could look like a codice fiscale): checked
		if err := checkLink(d.Link); err != nil {
			return Message{}, err
		}
	}
	switch {
	case v.Address == "":
		return Message{}, invalid("Address", "is required")
	case v.OrderName == "":
		return Message{}, invalid("OrderName", "is required")
	}
	return render("requestexpiring", v, false)
}
