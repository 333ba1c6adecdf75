package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

// reqFixture runs self-service requests under TSRM-LU's convention LU-2026 (4 euro plus VAT;
// the Order issues no mailbox itself), whose members are Mario Rossi and Niccolò D'Amico.
type reqFixture struct {
	*svcFixture
	files    *fake.Files
	starter  *fake.Starter
	payments *fake.Payments
	q        *app.Requests
}

const luAmount = 488 // 400 cents plus 22% VAT

var (
	pdf  = []byte("%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n")
	png  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	jpeg = []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF")
)

func newReqFixture(t *testing.T) *reqFixture {
	t.Helper()
	f := &reqFixture{svcFixture: newSvcFixture(t), files: &fake.Files{}, starter: &fake.Starter{}, payments: &fake.Payments{}}
	f.putOrder(t, &domain.Order{ID: "TSRM-LU", Name: "Ordine TSRM PSTRP di Lucca", PEC: "ordine@pec.tsrm-lu.it",
		Convention: domain.Convention{OfferCode: offer("LU-2026"), PriceCents: 400, VATPercent: 22}})
	f.enrol(t, asFederation, "TSRM-LU", enrolment(mario, "Mario", "Rossi"))
	f.enrol(t, asFederation, "TSRM-LU", enrolment(giulia, "Niccolò", "D'Amico"))
	f.q = &app.Requests{Store: f.store, Files: f.files, Workflow: f.starter, Payments: f.payments,
		Domains: domain.MustAlbi(domain.DefaultAlbi()), Log: discard, Now: f.clock.Now, NewID: f.ids.Next}
	return f
}

func marioAsks() domain.RequestInput {
	return domain.RequestInput{CodiceFiscale: mario, Cognome: "Rossi", Nome: "Mario", Email: "mario@example.it"}
}

func (f *reqFixture) create(t *testing.T, in domain.RequestInput) *app.NewRequest {
	t.Helper()
	nr, err := f.q.Create(t.Context(), "LU-2026", "", in)
	if err != nil {
		t.Fatal(err)
	}
	return nr
}

func (f *reqFixture) pay(t *testing.T, nr *app.NewRequest) *app.RequestView {
	t.Helper()
	f.payments.Confirm("PAY-1", luAmount, nr.Request.ID)
	v, err := f.q.Pay(t.Context(), nr.Request.ID, nr.AccessToken, "PAY-1", luAmount)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *reqFixture) documents(t *testing.T, nr *app.NewRequest, uploads ...app.Upload) *app.RequestView {
	t.Helper()
	v, err := f.q.AddDocuments(t.Context(), nr.Request.ID, nr.AccessToken, uploads)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRequestCreate_ReservesAMailboxAtTheMembersAddress(t *testing.T) {
	f := newReqFixture(t)
	in := marioAsks()
	in.Email = " Mario@Example.IT "
	nr, err := f.q.Create(t.Context(), " lu-2026 ", "", in)
	if err != nil {
		t.Fatal(err)
	}
	r := nr.Request
	if nr.Renewed || r.OrderID != "TSRM-LU" || r.OfferCode != "LU-2026" || r.MemberKey != mario || r.Email != "mario@example.it" ||
		r.PriceCents != 400 || r.VATPercent != 22 || r.AmountCents != luAmount || r.Address != "mario.rossi@pec.tsrm.org" ||
		r.TokenHash != app.HashLinkToken(nr.AccessToken) || r.State() != domain.RequestAwaitingPayment {
		t.Errorf("request %+v", r)
	}
	mb, err := f.store.GetMailbox(t.Context(), r.MailboxID)
	if err != nil || mb.State != domain.StateRichiesta || mb.RequestID != r.ID || mb.Address != r.Address ||
		mb.History[0].Actor != "member" || mb.History[0].Reason != "self-service request under convention LU-2026" {
		t.Fatalf("mailbox %+v, %v", mb, err)
	}
	if m, _ := f.store.GetMember(t.Context(), "TSRM-LU", domain.CodiceFiscale(mario)); m.MailboxID != mb.ID {
		t.Errorf("the member is not linked to the mailbox: %+v", m)
	}
	if taken, _ := f.store.TakenAddresses(t.Context(), []string{r.Address}); !taken[r.Address] {
		t.Error("the address is not reserved")
	}
	if a := actions(f.store, "TSRM-LU", "member:"+mario); !slices.Equal(a, []string{"federation member.enrolled", "member request.created"}) {
		t.Errorf("audit trail %v", a)
	}
	v, err := f.q.Get(t.Context(), r.ID, nr.AccessToken)
	if err != nil || v.Request.ID != r.ID || v.Mailbox.ID != mb.ID || v.Order.ID != "TSRM-LU" {
		t.Errorf("view %+v, %v", v, err)
	}
	if f.starter.Calls() != 0 {
		t.Error("an unpaid request started a lifecycle")
	}
}

func TestRequestCreate_IdentityMismatchRevealsNobodysEnrolment(t *testing.T) {
	tests := []struct {
		name string
		edit func(*domain.RequestInput)
	}{
		{"codice fiscale not enrolled", func(in *domain.RequestInput) { in.CodiceFiscale = luigi }},
		{"another cognome", func(in *domain.RequestInput) { in.Cognome = "Russo" }},
		{"another nome", func(in *domain.RequestInput) { in.Nome = "Marco" }},
		{"enrolled in another Order only", func(in *domain.RequestInput) { in.CodiceFiscale, in.Nome, in.Cognome = anna, "Anna", "Bianchi" }},
	}
	var messages []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newReqFixture(t)
			f.enrol(t, asFI, "TSRM-FI", enrolment(anna, "Anna", "Bianchi"))
			in := marioAsks()
			tt.edit(&in)
			_, err := f.q.Create(t.Context(), "LU-2026", "", in)
			if !errors.Is(err, domain.ErrIdentityMismatch) {
				t.Fatalf("got %v", err)
			}
			messages = append(messages, err.Error())
			if a := actions(f.store, "TSRM-LU", "member:"+mario); len(a) != 1 {
				t.Errorf("audit trail %v", a)
			}
		})
	}
	if len(slices.Compact(messages)) != 1 {
		t.Errorf("the answers differ: %q", messages)
	}
}

func TestRequestCreate_MemberWhoLeftTheAlboMatchesNobody(t *testing.T) {
	f := newReqFixture(t)
	if _, err := f.store.UpdateMember(t.Context(), "TSRM-LU", domain.CodiceFiscale(mario), app.Audit{}, func(m *domain.Member) (bool, error) {
		m.CancelledOn = "2026-01-01"
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.q.Create(t.Context(), "LU-2026", "", marioAsks()); !errors.Is(err, domain.ErrIdentityMismatch) {
		t.Errorf("got %v", err)
	}
}

func TestRequestCreate_MatchesOmocodiaCaseAccentsAndApostrophes(t *testing.T) {
	tests := []domain.RequestInput{
		{CodiceFiscale: marioOmocodic, Cognome: "ROSSI", Nome: "mario", Email: "m@example.it"},
		{CodiceFiscale: strings.ToLower(mario), Cognome: " rossi ", Nome: "Mario", Email: "m@example.it"},
		{CodiceFiscale: giulia, Cognome: "DAMICO", Nome: "Niccolo", Email: "n@example.it"},
		{CodiceFiscale: giulia, Cognome: "d' amico", Nome: "NICCOLÒ", Email: "n@example.it"},
	}
	for _, in := range tests {
		t.Run(in.Nome+" "+in.Cognome, func(t *testing.T) {
			f := newReqFixture(t)
			if _, err := f.q.Create(t.Context(), "LU-2026", "", in); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestRequestCreate_RefusesBadInputNamingTheField(t *testing.T) {
	tests := []struct {
		name, offer string
		edit        func(*domain.RequestInput)
		code, field string
	}{
		{"unknown offer", "XX-2026", func(*domain.RequestInput) {}, "offer_not_found", ""},
		{"malformed codice fiscale", "LU-2026", func(in *domain.RequestInput) { in.CodiceFiscale = "RSSMRA" }, "invalid_codice_fiscale", "codiceFiscale"},
		{"no cognome", "LU-2026", func(in *domain.RequestInput) { in.Cognome = "" }, "invalid_cognome", "cognome"},
		{"bad e-mail", "LU-2026", func(in *domain.RequestInput) { in.Email = "mario@" }, "invalid_email", "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newReqFixture(t)
			in := marioAsks()
			tt.edit(&in)
			if _, err := f.q.Create(t.Context(), tt.offer, "", in); code(err) != tt.code || field(err) != tt.field {
				t.Errorf("got %v (field %q), want %s (field %q)", err, field(err), tt.code, tt.field)
			}
		})
	}
}

func TestRequestCreate_AnUnpaidRequestIsRenewedWithANewToken(t *testing.T) {
	f := newReqFixture(t)
	first := f.create(t, marioAsks())
	f.clock.Advance(time.Hour)
	in := marioAsks()
	in.Email = "mario.rossi@example.it"
	again := f.create(t, in)
	if !again.Renewed || again.Request.ID != first.Request.ID || again.AccessToken == first.AccessToken || again.Request.Email != in.Email {
		t.Fatalf("renewed %+v", again)
	}
	if _, err := f.q.Get(t.Context(), first.Request.ID, first.AccessToken); !errors.Is(err, domain.ErrRequestNotFound) {
		t.Errorf("the old token still works: %v", err)
	}
	if _, err := f.q.Get(t.Context(), first.Request.ID, again.AccessToken); err != nil {
		t.Errorf("the new token: %v", err)
	}
	if n, _ := f.store.CountMailboxes(t.Context(), "TSRM-LU"); n[domain.StateRichiesta] != 1 {
		t.Errorf("mailboxes %v, want one", n)
	}
	if a := actions(f.store, "TSRM-LU", "member:"+mario); !slices.Equal(a[1:], []string{"member request.created", "member request.token_renewed"}) {
		t.Errorf("audit trail %v", a)
	}
}

func TestRequestCreate_RefusedWhileTheMemberHasADomicilioOnItsWay(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*testing.T, *reqFixture)
		code  string
	}{
		{"a paid request", func(t *testing.T, f *reqFixture) { f.pay(t, f.create(t, marioAsks())) }, "request_in_progress"},
		{"a submitted request", func(t *testing.T, f *reqFixture) {
			nr := f.create(t, marioAsks())
			f.pay(t, nr)
			f.documents(t, nr, app.Upload{Kind: domain.DocumentForm, Content: pdf}, app.Upload{Kind: domain.DocumentIdentity, Content: png})
		}, "mailbox_exists"},
		{"a mailbox the Order asked for", func(t *testing.T, f *reqFixture) {
			f.putOrder(t, &domain.Order{ID: "TSRM-LU", Name: "Lucca", PEC: "lu@pec.example.it",
				Convention: domain.Convention{WebPEC: true, OfferCode: offer("LU-2026"), PriceCents: 400, VATPercent: 22}})
			f.store.PutMember(&domain.Member{OrderID: "TSRM-LU", CodiceFiscale: domain.CodiceFiscale(mario), Nome: "Mario", Cognome: "Rossi", Albo: "TSRM", MailboxID: "mb-order"})
			f.store.PutMailbox(domain.NewMailbox("mb-order", "mario.rossi@pec.tsrm.org", "TSRM-LU", "TSRM", domain.CodiceFiscale(mario), t0, "order:TSRM-LU"))
		}, "mailbox_exists"},
		{"a PEC of their own", func(t *testing.T, f *reqFixture) {
			f.store.PutMember(&domain.Member{OrderID: "TSRM-LU", CodiceFiscale: domain.CodiceFiscale(mario), Nome: "Mario", Cognome: "Rossi", Albo: "TSRM", PEC: "mario@legalmail.it"})
		}, "domicilio_exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newReqFixture(t)
			tt.setup(t, f)
			if _, err := f.q.Create(t.Context(), "LU-2026", "", marioAsks()); code(err) != tt.code {
				t.Errorf("got %v, want %s", err, tt.code)
			}
		})
	}
}

func TestRequestCreate_AfterARevokedMailboxANewOneAtANewAddress(t *testing.T) {
	f := newReqFixture(t)
	old := domain.NewMailbox("mb-old", "mario.rossi@pec.tsrm.org", "TSRM-LU", "TSRM", domain.CodiceFiscale(mario), t0, "order:TSRM-LU")
	old.State = domain.StateRevocata
	f.store.PutMailbox(old)
	f.store.PutMember(&domain.Member{OrderID: "TSRM-LU", CodiceFiscale: domain.CodiceFiscale(mario), Nome: "Mario", Cognome: "Rossi", Albo: "TSRM", MailboxID: "mb-old"})
	nr := f.create(t, marioAsks())
	if nr.Request.Address != "mario.rossi1@pec.tsrm.org" || nr.Request.MailboxID == "mb-old" {
		t.Errorf("request %+v", nr.Request)
	}
	if m, _ := f.store.GetMember(t.Context(), "TSRM-LU", domain.CodiceFiscale(mario)); m.MailboxID != nr.Request.MailboxID {
		t.Errorf("member %+v", m)
	}
}

func TestRequestCreate_DecidesAgainWhenTheMemberChangedMeanwhile(t *testing.T) {
	f := newReqFixture(t)
	f.store.Fail("CreateRequest", domain.ErrConcurrentUpdate)
	f.create(t, marioAsks())

	f = newReqFixture(t)
	f.store.FailAlways("CreateRequest", domain.ErrConcurrentUpdate)
	if _, err := f.q.Create(t.Context(), "LU-2026", "", marioAsks()); !errors.Is(err, domain.ErrConcurrentUpdate) {
		t.Errorf("a member that keeps changing: %v", err)
	}
}

func TestRequestCreate_RateLimitedPerClientAndWindow(t *testing.T) {
	f := newReqFixture(t)
	f.q.Limits = []app.RateLimit{{Max: 2, Window: time.Minute}, {Max: 3, Window: time.Hour}}
	ask := func(client string) error {
		_, err := f.q.Create(t.Context(), "LU-2026", client, marioAsks())
		return err
	}
	for i, want := range []string{"", "", "rate_limited"} {
		if err := ask("192.0.2.1"); code(err) != want {
			t.Fatalf("request %d: %v, want %q", i+1, err, want)
		}
	}
	if err := ask("192.0.2.2"); err != nil {
		t.Errorf("another client: %v", err)
	}
	f.clock.Advance(time.Minute)
	if err := ask("192.0.2.1"); err != nil {
		t.Errorf("the next minute: %v", err)
	}
	if err := ask("192.0.2.1"); code(err) != "rate_limited" {
		t.Errorf("over the hourly limit: %v", err)
	}
}

func TestRequestPay_OnlyAPaymentTheServiceConfirms(t *testing.T) {
	f := newReqFixture(t)
	nr := f.create(t, marioAsks())
	other := f.create(t, domain.RequestInput{CodiceFiscale: giulia, Cognome: "D'Amico", Nome: "Niccolò", Email: "n@example.it"})
	f.payments.Confirm("PAY-OTHER", luAmount, other.Request.ID)
	f.payments.Confirm("PAY-LOW", 100, nr.Request.ID)
	tests := []struct {
		name, ref string
		amount    int
		code      string
		verified  bool // the payment service was asked
	}{
		{"wrong amount", "PAY-1", 100, "amount_mismatch", false},
		{"no reference", " ", luAmount, "invalid_reference", false},
		{"unknown payment", "PAY-1", luAmount, "payment_not_confirmed", true},
		{"another request's payment", "PAY-OTHER", luAmount, "payment_not_confirmed", true},
		{"a smaller payment", "PAY-LOW", luAmount, "payment_not_confirmed", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := f.payments.Calls()
			if _, err := f.q.Pay(t.Context(), nr.Request.ID, nr.AccessToken, tt.ref, tt.amount); code(err) != tt.code {
				t.Errorf("got %v, want %s", err, tt.code)
			}
			if asked := f.payments.Calls() > calls; asked != tt.verified {
				t.Errorf("payment service asked: %v", asked)
			}
		})
	}
	if r, _ := f.store.GetRequest(t.Context(), nr.Request.ID); r.Payment != nil {
		t.Fatalf("an unconfirmed payment was recorded: %+v", r.Payment)
	}
	v := f.pay(t, nr)
	if p := v.Request.Payment; p == nil || p.Reference != "PAY-1" || p.AmountCents != luAmount || !p.PaidAt.Equal(t0) ||
		v.Request.State() != domain.RequestAwaitingDocuments {
		t.Errorf("request %+v", v.Request)
	}
	calls := f.payments.Calls()
	if _, err := f.q.Pay(t.Context(), nr.Request.ID, nr.AccessToken, "PAY-1", luAmount); err != nil || f.payments.Calls() != calls {
		t.Errorf("the same payment again: %v, %d calls", err, f.payments.Calls()-calls)
	}
	f.payments.Confirm("PAY-2", luAmount, nr.Request.ID)
	if _, err := f.q.Pay(t.Context(), nr.Request.ID, nr.AccessToken, "PAY-2", luAmount); !errors.Is(err, domain.ErrPaidOtherRef) {
		t.Errorf("a second payment: %v", err)
	}
	if a := actions(f.store, "TSRM-LU", "member:"+mario); !slices.Equal(a[1:], []string{"member request.created", "member request.paid"}) {
		t.Errorf("audit trail %v", a)
	}
	if f.starter.Calls() != 0 {
		t.Error("a request without documents started a lifecycle")
	}
}

func TestRequestDocuments_TypeIsCheckedByContent(t *testing.T) {
	tests := []struct {
		name        string
		uploads     []app.Upload
		code, field string
		contentType string
	}{
		{"a PDF form", []app.Upload{{Kind: domain.DocumentForm, Content: pdf}}, "", "", "application/pdf"},
		{"a PNG identity", []app.Upload{{Kind: domain.DocumentIdentity, Content: png}}, "", "", "image/png"},
		{"a JPEG identity", []app.Upload{{Kind: domain.DocumentIdentity, Content: jpeg}}, "", "", "image/jpeg"},
		{"a text file named .pdf", []app.Upload{{Kind: domain.DocumentForm, Content: []byte("PDF-1.7 not really")}}, "unsupported_document_type", "form", ""},
		{"too large", []app.Upload{{Kind: domain.DocumentIdentity, Content: append(bytes.Clone(pdf), make([]byte, domain.MaxDocument)...)}}, "document_too_large", "identity", ""},
		{"nothing", nil, "no_documents", "form", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newReqFixture(t)
			nr := f.create(t, marioAsks())
			v, err := f.q.AddDocuments(t.Context(), nr.Request.ID, nr.AccessToken, tt.uploads)
			if code(err) != tt.code || field(err) != tt.field {
				t.Fatalf("got %v (field %q), want %q (field %q)", err, field(err), tt.code, tt.field)
			}
			if err != nil {
				if f.files.Len() != 0 {
					t.Error("a refused document was stored")
				}
				return
			}
			u := tt.uploads[0]
			d := v.Request.Documents[u.Kind]
			sum := sha256.Sum256(u.Content)
			content, ct, ok := f.files.Get(d.Key)
			if !ok || !bytes.Equal(content, u.Content) || ct != tt.contentType || d.ContentType != tt.contentType ||
				d.SHA256 != hex.EncodeToString(sum[:]) || d.Size != int64(len(u.Content)) ||
				d.Key != "requests/"+nr.Request.ID+"/"+string(u.Kind)+"-"+d.SHA256[:16] {
				t.Errorf("document %+v stored as %q (%s)", d, content, ct)
			}
		})
	}
}

func TestRequestDocuments_TheSameDocumentTwiceChangesNothing(t *testing.T) {
	f := newReqFixture(t)
	nr := f.create(t, marioAsks())
	first := f.documents(t, nr, app.Upload{Kind: domain.DocumentForm, Content: pdf})
	f.clock.Advance(time.Minute)
	again := f.documents(t, nr, app.Upload{Kind: domain.DocumentForm, Content: pdf})
	if again.Request.Version != first.Request.Version || !again.Request.Documents[domain.DocumentForm].UploadedAt.Equal(t0) || f.files.Len() != 1 {
		t.Errorf("the repeated upload changed the request: %+v", again.Request)
	}
	if a := actions(f.store, "TSRM-LU", "member:"+mario); !slices.Equal(a[1:], []string{"member request.created", "member request.documents"}) {
		t.Errorf("audit trail %v", a)
	}
}

func TestRequestSubmission_PaidAndDocumentedStartsTheMailboxOnce(t *testing.T) {
	f := newReqFixture(t)
	nr := f.create(t, marioAsks())
	f.documents(t, nr, app.Upload{Kind: domain.DocumentForm, Content: pdf})
	f.documents(t, nr, app.Upload{Kind: domain.DocumentIdentity, Content: jpeg})
	if f.starter.Calls() != 0 {
		t.Fatal("an unpaid request started a lifecycle")
	}
	f.clock.Advance(time.Hour)
	v := f.pay(t, nr)
	if !v.Request.Submitted || !v.Request.SubmittedAt.Equal(t0.Add(time.Hour)) || v.Request.State() != domain.RequestSubmitted {
		t.Errorf("request %+v", v.Request)
	}
	if got := f.starter.Started(); !slices.Equal(got, []string{nr.Request.MailboxID}) {
		t.Errorf("started %v", got)
	}
	if a := actions(f.store, "TSRM-LU", "member:"+mario); !slices.Equal(a[1:], []string{"member request.created", "member request.documents",
		"member request.documents", "member request.paid", "system request.submitted"}) {
		t.Errorf("audit trail %v", a)
	}
	if _, err := f.q.AddDocuments(t.Context(), nr.Request.ID, nr.AccessToken, []app.Upload{{Kind: domain.DocumentForm, Content: png}}); !errors.Is(err, domain.ErrRequestSubmitted) {
		t.Errorf("a document after submission: %v", err)
	}
	if _, err := f.q.Get(t.Context(), nr.Request.ID, nr.AccessToken); err != nil {
		t.Fatal(err)
	}
	if got := f.starter.Started(); len(got) != 1 {
		t.Errorf("started %v: the lifecycle started twice", got)
	}
}

func TestRequestSubmission_ALostStartIsRepairedByTheNextGet(t *testing.T) {
	f := newReqFixture(t)
	nr := f.create(t, marioAsks())
	f.pay(t, nr)
	f.starter.Fail("StartMailbox", errors.New("Step Functions is down"))
	if _, err := f.q.AddDocuments(t.Context(), nr.Request.ID, nr.AccessToken, []app.Upload{
		{Kind: domain.DocumentForm, Content: pdf}, {Kind: domain.DocumentIdentity, Content: png}}); err == nil {
		t.Fatal("a failed start was not reported")
	}
	if r, _ := f.store.GetRequest(t.Context(), nr.Request.ID); !r.Submitted || len(f.starter.Started()) != 0 {
		t.Fatalf("request %+v, started %v", r, f.starter.Started())
	}
	if _, err := f.q.Get(t.Context(), nr.Request.ID, nr.AccessToken); err != nil {
		t.Fatal(err)
	}
	if got := f.starter.Started(); !slices.Equal(got, []string{nr.Request.MailboxID}) {
		t.Errorf("started %v", got)
	}
}

func TestRequestGet_AWrongTokenIsTheSameAsNoRequest(t *testing.T) {
	f := newReqFixture(t)
	nr := f.create(t, marioAsks())
	tests := []struct {
		name, id, token, code string
	}{
		{"no token", nr.Request.ID, "", "unauthorized"},
		{"wrong token", nr.Request.ID, "x" + nr.AccessToken[1:], "request_not_found"},
		{"unknown request", "nope", nr.AccessToken, "request_not_found"},
		{"id too long", strings.Repeat("a", 65), nr.AccessToken, "request_not_found"},
		{"right token", nr.Request.ID, nr.AccessToken, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.q.Get(t.Context(), tt.id, tt.token); code(err) != tt.code {
				t.Errorf("got %v, want %q", err, tt.code)
			}
		})
	}
}

func TestRequestForm_IsAPDFForTheMember(t *testing.T) {
	f := newReqFixture(t)
	nr := f.create(t, marioAsks())
	b, err := f.q.Form(t.Context(), nr.Request.ID, nr.AccessToken)
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("form of %d bytes, %v", len(b), err)
	}
	if _, err := f.q.Form(t.Context(), nr.Request.ID, "wrong"); !errors.Is(err, domain.ErrRequestNotFound) {
		t.Errorf("wrong token: %v", err)
	}
}
