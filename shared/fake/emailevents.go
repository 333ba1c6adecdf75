package fake

import (
	"context"
	"sort"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.EmailEventStore = (*Store)(nil)

type problemRow struct {
	p        app.EmailProblemReport
	reported string
}

// PutSentMail implements app.EmailEventStore.
func (s *Store) PutSentMail(_ context.Context, messageID string, m app.SentMail) error {
	if err := s.check("PutSentMail"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string]app.SentMail{}
	}
	s.sent[messageID] = m
	return nil
}

// SentMail implements app.EmailEventStore.
func (s *Store) SentMail(_ context.Context, messageID string) (*app.SentMail, error) {
	if err := s.check("SentMail"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.sent[messageID]
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &m, nil
}

// PutEmailProblem implements app.EmailEventStore.
func (s *Store) PutEmailProblem(_ context.Context, p app.EmailProblemReport) (bool, error) {
	if err := s.check("PutEmailProblem"); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.problems == nil {
		s.problems = map[string]*problemRow{}
	}
	p.Key = p.MemberKey + "#" + string(p.Kind) + "#" + p.Address
	k := p.OrderID + "|" + p.Key
	if _, ok := s.problems[k]; ok {
		return false, nil
	}
	s.problems[k] = &problemRow{p: p}
	return true, nil
}

// UnreportedProblems implements app.EmailEventStore.
func (s *Store) UnreportedProblems(_ context.Context, orderID string) ([]app.EmailProblemReport, error) {
	if err := s.check("UnreportedProblems"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []app.EmailProblemReport
	for _, r := range s.problems {
		if r.p.OrderID == orderID && r.reported == "" {
			out = append(out, r.p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// MarkReported implements app.EmailEventStore.
func (s *Store) MarkReported(_ context.Context, orderID string, keys []string, day string) error {
	if err := s.check("MarkReported"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if r, ok := s.problems[orderID+"|"+k]; ok {
			r.reported = day
		}
	}
	return nil
}
