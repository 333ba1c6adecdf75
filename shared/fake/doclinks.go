package fake

import (
	"context"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.DocumentLinkStore = (*Store)(nil)

// PutDocumentLink implements app.DocumentLinkStore.
func (s *Store) PutDocumentLink(_ context.Context, hash string, l app.DocumentLink) error {
	if err := s.check("PutDocumentLink"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docLinks == nil {
		s.docLinks = map[string]app.DocumentLink{}
	}
	if _, ok := s.docLinks[hash]; ok {
		return conditionFailed("document link")
	}
	s.docLinks[hash] = l
	return nil
}

// GetDocumentLink implements app.DocumentLinkStore.
func (s *Store) GetDocumentLink(_ context.Context, hash string) (*app.DocumentLink, error) {
	if err := s.check("GetDocumentLink"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.docLinks[hash]
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &l, nil
}

var _ app.SigningStore = (*Store)(nil)

// PutSignLink implements app.SigningStore.
func (s *Store) PutSignLink(_ context.Context, hash string, l app.SignLink) error {
	if err := s.check("PutSignLink"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signLinks == nil {
		s.signLinks = map[string]app.SignLink{}
	}
	if _, ok := s.signLinks[hash]; ok {
		return conditionFailed("sign link")
	}
	s.signLinks[hash] = l
	return nil
}

// GetSignLink implements app.SigningStore.
func (s *Store) GetSignLink(_ context.Context, hash string) (*app.SignLink, error) {
	if err := s.check("GetSignLink"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.signLinks[hash]
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &l, nil
}
