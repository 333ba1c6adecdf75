package fake_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

func TestCreateRequest_ConditionsOfTheTransaction(t *testing.T) {
	member := func() *domain.Member {
		return &domain.Member{OrderID: "TSRM-LU", CodiceFiscale: cf("AAAAAA80A01H501"), Nome: "A", Cognome: "B"}
	}
	request := func(id, mbID string) (*domain.Request, *domain.Mailbox) {
		return &domain.Request{ID: id, OrderID: "TSRM-LU", MailboxID: mbID, CreatedAt: t0},
			domain.NewMailbox(mbID, mbID+"@pec.it", "TSRM-LU", "TSRM", cf("AAAAAA80A01H501"), t0, "member")
	}
	tests := []struct {
		name  string
		setup func(*fake.Store)
		prev  string
		want  error
	}{
		{"a free member", func(*fake.Store) {}, "", nil},
		{"no such member", func(s *fake.Store) {}, "", domain.ErrConcurrentUpdate},
		{"a mailbox meanwhile", func(s *fake.Store) { m := member(); m.MailboxID = "other"; s.PutMember(m) }, "", domain.ErrConcurrentUpdate},
		{"an own PEC meanwhile", func(s *fake.Store) { m := member(); m.PEC = "a@b.it"; s.PutMember(m) }, "", domain.ErrConcurrentUpdate},
		{"the revoked mailbox as read", func(s *fake.Store) { m := member(); m.MailboxID = "old"; s.PutMember(m) }, "old", nil},
		{"address taken", func(s *fake.Store) {
			_, mb := request("x", "mb1")
			mb.ID = "someone-else"
			s.PutMailbox(mb)
		}, "", domain.ErrAddressTaken},
		{"member changed and address taken: the member first", func(s *fake.Store) {
			_, mb := request("x", "mb1")
			mb.ID = "someone-else"
			s.PutMailbox(mb)
			m := member()
			m.PEC = "a@b.it"
			s.PutMember(m)
		}, "", domain.ErrConcurrentUpdate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fake.NewStore()
			if tt.name != "no such member" {
				s.PutMember(member())
			}
			tt.setup(s)
			r, mb := request("r1", "mb1")
			err := s.CreateRequest(t.Context(), r, mb, member(), tt.prev)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			_, gerr := s.GetRequest(t.Context(), "r1")
			if (err == nil) != (gerr == nil) {
				t.Errorf("request written: %v, though the transaction gave %v", gerr == nil, err)
			}
		})
	}
}

func TestUpdateRequest_DecidesAgainAfterARace(t *testing.T) {
	s := fake.NewStore()
	s.PutRequest(&domain.Request{ID: "r1", OrderID: "TSRM-LU", MemberKey: "K"})
	var once sync.Once
	calls := 0
	r, err := s.UpdateRequest(t.Context(), "r1", app.Audit{Actor: "member", Action: "request.paid"}, func(r *domain.Request) (bool, error) {
		calls++
		once.Do(func() {
			_, _ = s.UpdateRequest(t.Context(), "r1", app.Audit{}, func(r *domain.Request) (bool, error) {
				r.Email = "other@example.it"
				return true, nil
			})
		})
		r.AmountCents = 488
		return true, nil
	})
	if err != nil || calls != 2 || r.Email != "other@example.it" || r.AmountCents != 488 || r.Version != 2 {
		t.Errorf("after %d decisions: %+v, %v", calls, r, err)
	}
	if a := s.Audit("TSRM-LU"); len(a) != 1 || a[0].Action != "request.paid" || a[0].Entity != "member:K" {
		t.Errorf("audit %+v", a)
	}
	if _, err := s.UpdateRequest(t.Context(), "nope", app.Audit{}, nil); !errors.Is(err, domain.ErrRequestNotFound) {
		t.Errorf("unknown request: %v", err)
	}
}

func TestHit_CountsPerClientAndWindow(t *testing.T) {
	s := fake.NewStore()
	var got []bool
	for _, hit := range []struct {
		client string
		start  time.Time
		max    int
	}{
		{"a", t0, 2}, {"a", t0, 2}, {"a", t0, 2}, {"b", t0, 2}, {"a", t0.Add(time.Minute), 2}, {"c", t0, 0},
	} {
		ok, err := s.Hit(t.Context(), hit.client, hit.start, time.Minute, hit.max)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ok)
	}
	// As DynamoDB's conditional counter, the first hit of a window counts even with max 0.
	if want := []bool{true, true, false, true, true, true}; !slices.Equal(got, want) {
		t.Errorf("hits %v, want %v", got, want)
	}
}

func TestImportStore_FailuresOnePerLine(t *testing.T) {
	s := fake.NewStore()
	if err := s.PutImport(t.Context(), &app.Import{ID: "i1", Header: []string{"cf"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutImport(t.Context(), &app.Import{ID: "i1"}); err == nil {
		t.Error("an import was put twice")
	}
	_ = s.PutFailures(t.Context(), "i1", []app.Failure{{Line: 9, Code: "a"}, {Line: 3, Code: "b"}})
	_ = s.PutFailures(t.Context(), "i1", []app.Failure{{Line: 9, Code: "c"}, {Line: 5, Code: "d"}})
	all, _ := s.Failures(t.Context(), "i1", 0)
	two, _ := s.Failures(t.Context(), "i1", 2)
	if len(all) != 3 || all[0].Line != 3 || all[1].Line != 5 || all[2].Code != "c" || len(two) != 2 {
		t.Errorf("failures %+v, first two %+v", all, two)
	}
	im, changed, err := s.UpdateImport(t.Context(), "i1", func(im *app.Import) (bool, error) {
		im.Header[0] = "changed"
		return false, nil
	})
	if err != nil || changed || im.Version != 0 {
		t.Fatal(im, changed, err)
	}
	if got, _ := s.GetImport(t.Context(), "i1"); got.Header[0] != "cf" {
		t.Errorf("a change that was not written shows: %+v", got)
	}
}
