package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync"

	"github.com/pecplatform/pec/shared/albo"
	"github.com/pecplatform/pec/shared/domain"
)

// MaxSyncImport is the most lines POST /members:import takes; larger files go through an
// import job.
const MaxSyncImport = 5000

// Failure is one line of an albo file that was not imported.
type Failure struct {
	Line    int    `json:"line" dynamodbav:"line"`
	Code    string `json:"code" dynamodbav:"code"`
	Field   string `json:"field,omitempty" dynamodbav:"field"`
	Message string `json:"message" dynamodbav:"message"`
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created  int       `json:"created"`
	Existing int       `json:"existing"`
	Failed   []Failure `json:"failed"`
}

// ErrUseImportJob: the file is larger than a single request may import.
var ErrUseImportJob = &domain.Error{Kind: domain.KindTooLarge, Code: "use_import_job", Message: "more than 5000 lines: upload the file with POST /v1/orders/{orderId}/imports"}

// importWorkers enrol the rows of one import in parallel; homonyms in one file still get
// distinct addresses, because every reservation is a conditional write.
const importWorkers = 8

// rowSource yields the rows of an albo file, io.EOF at the end.
type rowSource func() (albo.Row, error)

// ImportRows enrols every good row into the Order and reports the rest, without stopping at a
// bad line. A member already enrolled counts as existing, unless importID enrolled it (an
// import resumed after being cut off): then it counts as created, once.
func (s *Service) ImportRows(ctx context.Context, c Caller, orderID string, next rowSource, importID string, each func(ImportResult)) (ImportResult, error) {
	var res ImportResult
	if err := s.authorizeOrder(c, orderID); err != nil {
		return res, err
	}
	order, err := s.Store.GetOrder(ctx, orderID)
	if err != nil {
		return res, err
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		rows = make(chan albo.Row)
		fail error
	)
	record := func(f func()) {
		mu.Lock()
		f()
		mu.Unlock()
	}
	for range importWorkers {
		wg.Go(func() {
			for row := range rows {
				outcome, f, err := s.importRow(ctx, c, order, row, importID)
				record(func() {
					switch {
					case err != nil:
						if fail == nil {
							fail = err
						}
					case f != nil:
						res.Failed = append(res.Failed, *f)
					case outcome:
						res.Created++
					default:
						res.Existing++
					}
				})
			}
		})
	}
	var readErr error
	for {
		row, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		rows <- row
	}
	close(rows)
	wg.Wait()
	if each != nil {
		each(res)
	}
	if fail != nil {
		return res, fail
	}
	var de *domain.Error
	if errors.As(readErr, &de) {
		// The file broke off (JSON that stops mid-array): what was read is imported; the rest
		// is reported as one failure at the line where reading stopped.
		res.Failed = append(res.Failed, Failure{Code: de.Code, Field: de.Field, Message: de.Message})
		return res, nil
	}
	return res, readErr
}

// importRow enrols one row. It returns created=true for a new member, a Failure for a bad
// line, or an error that must stop the import (the store is unavailable).
func (s *Service) importRow(ctx context.Context, c Caller, order *domain.Order, row albo.Row, importID string) (bool, *Failure, error) {
	if row.Err != nil {
		return false, &Failure{Line: row.Line, Code: row.Err.Code, Field: row.Err.Field, Message: row.Err.Message}, nil
	}
	_, _, err := s.enrol(ctx, c, order, row.Enrolment, importID)
	var de *domain.Error
	switch {
	case err == nil:
		return true, nil, nil
	case errors.Is(err, domain.ErrMemberExists):
		if importID == "" {
			return false, nil, nil
		}
		cf, _ := domain.ParseCodiceFiscale(row.Enrolment.CodiceFiscale)
		m, gerr := s.Store.GetMember(ctx, order.ID, cf)
		if gerr != nil {
			return false, nil, gerr
		}
		return m.ImportID == importID, nil, nil
	case errors.As(err, &de) && de.Kind != domain.KindInternal:
		return false, &Failure{Line: row.Line, Code: de.Code, Field: de.Field, Message: de.Message}, nil
	}
	return false, nil, err
}

// ImportFile is the synchronous import of a small albo file (POST /members:import): at most
// MaxSyncImport lines, else ErrUseImportJob and nothing is imported.
func (s *Service) ImportFile(ctx context.Context, c Caller, orderID string, body []byte) (ImportResult, error) {
	if err := s.authorizeOrder(c, orderID); err != nil {
		return ImportResult{}, err
	}
	open := func() (*albo.Reader, error) {
		format, r, err := albo.Detect(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		return albo.NewReader(r, format)
	}
	counter, err := open()
	if err != nil {
		return ImportResult{}, err
	}
	for n := 0; ; n++ {
		if _, err := counter.Next(); err != nil {
			break
		}
		if n == MaxSyncImport {
			return ImportResult{}, ErrUseImportJob
		}
	}
	r, err := open()
	if err != nil {
		return ImportResult{}, err
	}
	res, err := s.ImportRows(ctx, c, orderID, r.Next, "", nil)
	sortFailures(res.Failed)
	return res, err
}

func sortFailures(f []Failure) {
	slices.SortFunc(f, func(a, b Failure) int { return a.Line - b.Line })
}
