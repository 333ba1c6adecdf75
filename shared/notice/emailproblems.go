package notice

// EmailProblem is a member's ordinary e-mail address that bounced or complained.
type EmailProblem struct {
	Nome, Cognome    string
	NumeroIscrizione string
	Email            string // shown masked
	Complaint        bool   // the member marked a message as unwanted; otherwise it bounced
}

// EmailProblemsDigest tells an Order, by PEC, of the day's members whose ordinary e-mail
// address bounced or complained.
func EmailProblemsDigest(orderName string, problems []EmailProblem) (Message, error) {
	if clean(orderName) == "" {
		return Message{}, invalid("OrderName", "is required")
	}
	if len(problems) == 0 {
		return Message{}, invalid("Problems", "at least one is required")
	}
	type line struct{ Name, NumeroIscrizione, Email, What string }
	v := struct {
		OrderName string
		Problems  []line
	}{OrderName: clean(orderName)}
	for _, p := range problems {
		what := "messaggio non recapitato"
		if p.Complaint {
			what = "messaggio segnalato come indesiderato"
		}
		v.Problems = append(v.Problems, line{Name: fullName(p.Nome, p.Cognome), NumeroIscrizione: clean(p.NumeroIscrizione),
			Email: MaskEmail(p.Email), What: what})
	}
	return render("emailproblems", v, false)
}
