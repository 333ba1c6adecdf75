package app

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/pecplatform/pec/shared/domain"
)

// MemberQuery selects a page of an Order's members, ordered by cognome and nome.
type MemberQuery struct {
	OrderID string
	Name    *domain.NameQuery // nil: every member
	Albo    string            // an albo's code; empty: every albo
	CTU     *bool             // nil: both
	State   domain.State      // the domicilio digitale's state; empty: any, members without one included
	Limit   int
	Cursor  string
}

// MemberSearchStore finds an Order's members from an index ordered by cognome and nome.
type MemberSearchStore interface {
	// SearchMembers returns a page of the members the query selects, with their mailboxes, in
	// order, and the cursor of the next page ("" after the last). A page may hold fewer than
	// Limit members when filters skip many: the cursor then continues after the last member
	// examined.
	SearchMembers(ctx context.Context, q MemberQuery) ([]MemberFile, string, error)
}

// MemberFilter is a search as the portal asks for it, before validation.
type MemberFilter struct {
	Q, Albo, State, CTU, Cursor string
	Limit                       int // 0: the default; -1: an unreadable limit
}

// FindMembers searches the Order's members: q is a prefix of the cognome, the nome, "cognome
// nome" or "nome cognome" (folded as addresses are), or a whole codice fiscale in any
// omocodic form; albo, state and ctu filter.
func (s *Service) FindMembers(ctx context.Context, c Caller, orderID string, f MemberFilter) ([]MemberFile, string, error) {
	if err := s.authorizeOrder(c, orderID); err != nil {
		return nil, "", err
	}
	q := MemberQuery{OrderID: orderID, Limit: f.Limit, Cursor: f.Cursor}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 1 || q.Limit > MaxLimit:
		return nil, "", domain.Invalid("limit", "invalid_limit", "limit must be between 1 and 1000")
	}
	if f.Albo != "" {
		a, err := s.Domains.Resolve(f.Albo)
		if err != nil {
			return nil, "", err
		}
		q.Albo = a.Code
	}
	if f.State != "" {
		st, err := domain.ParseState(f.State)
		if err != nil {
			return nil, "", err
		}
		q.State = st
	}
	if f.CTU != "" {
		b, err := strconv.ParseBool(f.CTU)
		if err != nil {
			return nil, "", domain.Invalid("ctu", "invalid_ctu", "ctu must be true or false")
		}
		q.CTU = &b
	}
	var cf domain.CodiceFiscale
	if qs := strings.TrimSpace(f.Q); qs != "" {
		var err error
		if cf, err = domain.ParseCodiceFiscale(qs); err != nil || len(qs) != 16 {
			cf = ""
			nq, err := domain.ParseNameQuery(qs)
			if err != nil {
				return nil, "", err
			}
			q.Name = &nq
		}
	}
	if _, err := s.Store.GetOrder(ctx, orderID); err != nil {
		return nil, "", err
	}
	if cf != "" {
		return s.memberByCode(ctx, q, cf)
	}
	return s.Store.SearchMembers(ctx, q)
}

// memberByCode answers a search by codice fiscale: the one member, if the filters keep them.
func (s *Service) memberByCode(ctx context.Context, q MemberQuery, cf domain.CodiceFiscale) ([]MemberFile, string, error) {
	if q.Cursor != "" {
		return []MemberFile{}, "", nil // the one page was the first
	}
	m, err := s.Store.GetMember(ctx, q.OrderID, cf)
	if errors.Is(err, domain.ErrMemberNotFound) {
		return []MemberFile{}, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	f := MemberFile{Member: m}
	if m.MailboxID != "" {
		if f.Mailbox, err = s.Store.GetMailbox(ctx, m.MailboxID); err != nil {
			return nil, "", err
		}
	}
	if !q.Keeps(f) {
		return []MemberFile{}, "", nil
	}
	return []MemberFile{f}, "", nil
}

// Keeps reports whether the member passes the query's filters (not its name query).
func (q MemberQuery) Keeps(f MemberFile) bool {
	m := f.Member
	if q.Albo != "" && m.Albo != q.Albo {
		return false
	}
	if q.CTU != nil && m.CTU != *q.CTU {
		return false
	}
	if q.State != "" {
		d := m.DomicilioDigitale(f.Mailbox)
		if d == nil || d.State != q.State {
			return false
		}
	}
	return q.Name == nil || q.Name.Matches(m)
}
