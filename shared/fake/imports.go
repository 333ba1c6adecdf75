package fake

import (
	"context"
	"slices"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
)

var _ app.ImportStore = (*Store)(nil)

// copyImport copies an import, sharing no memory with it.
func copyImport(im *app.Import) *app.Import {
	c := *im
	c.Header = slices.Clone(im.Header)
	return &c
}

// PutImport implements app.ImportStore; an import is recorded once.
func (s *Store) PutImport(_ context.Context, im *app.Import) error {
	if err := s.check("PutImport"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.imports[im.ID]; ok {
		return conditionFailed("put import")
	}
	s.imports[im.ID] = copyImport(im)
	return nil
}

// GetImport implements app.ImportStore.
func (s *Store) GetImport(_ context.Context, id string) (*app.Import, error) {
	if err := s.check("GetImport"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.imports[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	return copyImport(im), nil
}

// UpdateImport implements app.ImportStore under the import's version.
func (s *Store) UpdateImport(_ context.Context, id string, change func(*app.Import) (bool, error)) (*app.Import, bool, error) {
	if err := s.check("UpdateImport"); err != nil {
		return nil, false, err
	}
	for range optimisticAttempts {
		s.mu.Lock()
		cur, ok := s.imports[id]
		if !ok {
			s.mu.Unlock()
			return nil, false, domain.ErrNotFound
		}
		im := copyImport(cur)
		s.mu.Unlock()
		version := im.Version
		changed, err := change(im)
		if err != nil || !changed {
			return im, false, err
		}
		s.mu.Lock()
		if s.imports[id].Version != version {
			s.mu.Unlock()
			continue
		}
		im.Version = version + 1
		s.imports[id] = copyImport(im)
		s.mu.Unlock()
		return im, true, nil
	}
	return nil, false, domain.ErrConcurrentUpdate
}

// PutFailures implements app.ImportStore: one record per line, so a line imported again after
// a resume replaces its own failure.
func (s *Store) PutFailures(_ context.Context, importID string, failures []app.Failure) error {
	if err := s.check("PutFailures"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range failures {
		fs := s.failures[importID]
		i, found := slices.BinarySearchFunc(fs, f.Line, func(e app.Failure, line int) int { return e.Line - line })
		if found {
			fs[i] = f
			continue
		}
		s.failures[importID] = slices.Insert(fs, i, f)
	}
	return nil
}

// Failures implements app.ImportStore, in line order; limit 0 means all.
func (s *Store) Failures(_ context.Context, importID string, limit int) ([]app.Failure, error) {
	if err := s.check("Failures"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.failures[importID]
	if limit > 0 && len(fs) > limit {
		fs = fs[:limit]
	}
	return slices.Clone(fs), nil
}
