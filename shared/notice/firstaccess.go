package notice

import "time"

// FirstAccessData is what the e-mail about reaching a new mailbox says.
type FirstAccessData struct {
	Nome, Cognome    string
	Address          string // the mailbox
	OrderName        string
	ProviderName     string // the provider's name, when known
	WebmailURL       string // where to read the mailbox in a browser, when known
	CredentialsBySMS bool   // the first credentials come by SMS; otherwise by e-mail
	SupportURL       string // the provider's help pages, when known
}

// FirstAccessEmail tells the member, once the mailbox is ATTIVATA, how to reach it: where, how
// the credentials arrive, what to do if they do not.
func FirstAccessEmail(d FirstAccessData) (Message, error) {
	v := struct {
		Name, Address, OrderName, ProviderName, WebmailURL, SupportURL string
		BySMS                                                          bool
	}{Name: fullName(d.Nome, d.Cognome), Address: clean(d.Address), OrderName: clean(d.OrderName), ProviderName: clean(d.ProviderName),
		WebmailURL: clean(d.WebmailURL), SupportURL: clean(d.SupportURL), BySMS: d.CredentialsBySMS}
	switch {
	case v.Address == "":
		return Message{}, invalid("Address", "is required")
	case v.OrderName == "":
		return Message{}, invalid("OrderName", "is required")
	}
	return render("firstaccess", v, false)
}

// RequestLinkData is what the e-mail with a self-service request's link says.
type RequestLinkData struct {
	Address     string // the address requested
	OrderName   string
	Link        string // the request's page: its token is the credential
	AmountCents int
}

// RequestLinkEmail gives the member the link to follow and complete the request.
func RequestLinkEmail(d RequestLinkData) (Message, error) {
	v := struct{ Address, OrderName, Link, Amount string }{Address: clean(d.Address), OrderName: clean(d.OrderName),
		Link: d.Link, Amount: FormatEuro(d.AmountCents)}
	if err := checkLink(d.Link); err != nil { // a link is never cleaned: its token could look like a codice fiscale
		return Message{}, err
	}
	switch {
	case v.OrderName == "":
		return Message{}, invalid("OrderName", "is required")
	}
	return render("requestlink", v, false)
}

// SigningData is what the e-mail asking the member to sign the provider's form says.
type SigningData struct {
	Nome, Address, OrderName, ProviderName string
	Link                                   string // the signing page: its token is the credential
	Until                                  time.Time
	Again                                  bool // the provider refused the documents sent
}

// SigningEmail asks the member for the provider's form signed and an identity document.
func SigningEmail(d SigningData) (Message, error) {
	v := struct {
		Nome, Address, OrderName, ProviderName, Link, Until string
		Again                                               bool
	}{Nome: clean(d.Nome), Address: clean(d.Address), OrderName: clean(d.OrderName), ProviderName: clean(d.ProviderName),
		Link: d.Link, Until: FormatDate(d.Until), Again: d.Again}
	if err := checkLink(d.Link); err != nil { // a link is never cleaned: its token could look like a codice fiscale
		return Message{}, err
	}
	switch {
	case v.OrderName == "":
		return Message{}, invalid("OrderName", "is required")
	}
	if v.Nome == "" {
		v.Nome = "professionista"
	}
	if v.ProviderName == "" {
		v.ProviderName = "di posta elettronica certificata"
	}
	return render("signing", v, false)
}
