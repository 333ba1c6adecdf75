package app

import (
	"context"

	"github.com/pecplatform/pec/shared/domain"
)

// PutOrder creates or updates an Order. Only the federation configures Orders.
func (s *Service) PutOrder(ctx context.Context, c Caller, o *domain.Order) (created bool, err error) {
	if c.Role != RoleFederation {
		return false, domain.ErrForbidden
	}
	if err := o.Validate(); err != nil {
		return false, err
	}
	now := s.Now().UTC()
	o.CreatedAt, o.UpdatedAt = now, now
	return s.Store.PutOrder(ctx, o, c.Actor())
}

// GetOrder returns an Order to the federation or to that Order.
// Albi lists the federation's albi (any caller of the portal may read them: they are what an
// enrolment may name).
func (s *Service) Albi() []domain.Albo { return s.Domains.List() }

func (s *Service) GetOrder(ctx context.Context, c Caller, id string) (*domain.Order, error) {
	if err := s.authorizeOrder(c, id); err != nil {
		return nil, err
	}
	return s.Store.GetOrder(ctx, id)
}

func (s *Service) authorizeOrder(c Caller, orderID string) error {
	if err := domain.ValidateOrderID(orderID); err != nil {
		return err
	}
	if !c.CanAccessOrder(orderID) {
		return domain.ErrForbidden
	}
	return nil
}
