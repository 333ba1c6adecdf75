package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/albo"
	"github.com/pecplatform/pec/shared/domain"
)

// Import job states.
const (
	ImportWaitingUpload = "WAITING_UPLOAD"
	ImportRunning       = "RUNNING"
	ImportDone          = "DONE"
	ImportFailed        = "FAILED"
)

// Import is an albo import job: a file uploaded to the bucket, enrolled row by row, resumable.
type Import struct {
	ID, OrderID, Key string
	Actor            Caller
	State            string
	Processed        int
	Created          int
	Existing         int
	FailedCount      int
	// Where to resume: the byte after the last checkpointed row, the CSV header and separator.
	Offset   int64
	NextLine int
	Header   []string
	Sep      rune
	// Owner is the invocation running the job; a retry of the same invocation (same id) takes
	// over at once, any other only after LeaseUntil.
	Owner      string
	LeaseUntil time.Time
	Runs       int // how many runs claimed the job
	Error      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int
}

// ImportStore is what import jobs need from persistence.
type ImportStore interface {
	GetOrder(ctx context.Context, id string) (*domain.Order, error)
	PutImport(ctx context.Context, im *Import) error
	GetImport(ctx context.Context, id string) (*Import, error)
	UpdateImport(ctx context.Context, id string, change func(*Import) (bool, error)) (*Import, bool, error)
	PutFailures(ctx context.Context, importID string, f []Failure) error
	Failures(ctx context.Context, importID string, limit int) ([]Failure, error)
}

// Uploads is what import jobs need from the bucket.
type Uploads interface {
	PresignPut(ctx context.Context, key string, ttl time.Duration) (url string, err error)
	Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error)
}

// Continuer starts another run of a job that ran out of time.
type Continuer interface {
	Continue(ctx context.Context, importID string) error
}

// Imports runs albo import jobs.
type Imports struct {
	Service   *Service
	Store     ImportStore
	Uploads   Uploads
	Continue  Continuer
	Log       *slog.Logger
	Now       func() time.Time
	UploadTTL time.Duration // how long the upload URL works
	Chunk     int           // rows between checkpoints
	// Reserve is the time left at which a run checkpoints and hands over to a new one.
	Reserve time.Duration
	// PanicAfter, when set, makes the first run of a job die after that many rows: fault
	// injection for the tests of resumption (IMPORT_FAULT_PANIC_AFTER_ROWS).
	PanicAfter int
}

var errImportNotFound = &domain.Error{Kind: domain.KindNotFound, Code: "import_not_found", Message: "no such import"}

// Create records a new import and returns the URL to PUT the file to.
func (j *Imports) Create(ctx context.Context, c Caller, orderID string) (*Import, string, time.Time, error) {
	if err := j.Service.authorizeOrder(c, orderID); err != nil {
		return nil, "", time.Time{}, err
	}
	if _, err := j.Store.GetOrder(ctx, orderID); err != nil {
		return nil, "", time.Time{}, err
	}
	now := j.Now().UTC()
	im := &Import{ID: NewID(), OrderID: orderID, Actor: c, State: ImportWaitingUpload, CreatedAt: now, UpdatedAt: now, NextLine: 1}
	im.Key = "uploads/" + orderID + "/" + im.ID
	if err := j.Store.PutImport(ctx, im); err != nil {
		return nil, "", time.Time{}, err
	}
	url, err := j.Uploads.PresignPut(ctx, im.Key, j.UploadTTL)
	return im, url, now.Add(j.UploadTTL), err
}

// Get returns an import with its first failures to its Order or the federation.
func (j *Imports) Get(ctx context.Context, c Caller, id string, failures int) (*Import, []Failure, error) {
	im, err := j.Store.GetImport(ctx, id)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !c.CanAccessOrder(im.OrderID)) {
		return nil, nil, errImportNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	f, err := j.Store.Failures(ctx, id, failures)
	return im, f, err
}

// ImportIDOfKey returns the import an uploaded object belongs to.
func ImportIDOfKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "uploads/")
	if !ok {
		return "", false
	}
	_, id, ok := strings.Cut(rest, "/")
	return id, ok && id != ""
}

// Run runs (or resumes) an import as invocation owner until the file ends or the context is
// about to run out, checkpointing every Chunk rows. Rows after the last checkpoint are
// imported again by the next run, which is safe: an import never enrols twice, and it counts
// its own members as created.
func (j *Imports) Run(ctx context.Context, id, owner string) error {
	lease := 15 * time.Minute
	retry := false // a retry of an invocation that died (Lambda retries keep the request id)
	im, claimed, err := j.Store.UpdateImport(ctx, id, func(im *Import) (bool, error) {
		now := j.Now()
		retry = im.State == ImportRunning && im.Owner == owner
		switch {
		case im.State == ImportDone || im.State == ImportFailed:
			return false, nil
		case im.State == ImportRunning && im.Owner != owner && now.Before(im.LeaseUntil):
			return false, nil // another run holds it
		}
		im.State, im.Owner, im.LeaseUntil, im.UpdatedAt = ImportRunning, owner, now.Add(lease), now.UTC()
		im.Runs++
		return true, nil
	})
	if err != nil || !claimed {
		return err
	}
	if len(im.Header) == 0 {
		im.Offset = 0 // JSON (or no checkpoint yet): from the beginning
	}
	body, err := j.Uploads.Open(ctx, im.Key, im.Offset)
	if err != nil {
		return j.fail(ctx, im, "the uploaded file cannot be read", err)
	}
	defer body.Close()
	reader, err := j.open(im, body)
	if err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			return j.fail(ctx, im, de.Message, nil)
		}
		return j.fail(ctx, im, "the uploaded file cannot be read", err)
	}
	base := im.Offset
	for {
		rows, readErr := j.chunk(reader)
		res, err := j.Service.ImportRows(ctx, im.Actor, im.OrderID, sliceSource(rows), im.ID, nil)
		if err != nil {
			return err // the store failed: the invocation is retried and resumes here
		}
		if !retry && j.PanicAfter > 0 && im.Processed < j.PanicAfter && im.Processed+len(rows) >= j.PanicAfter {
			// Rows written, checkpoint not: the worst moment to die.
			j.Log.WarnContext(ctx, "fault injection: the import run dies", "importId", id, "processed", im.Processed)
			panic("fault injection: import cut off halfway")
		}
		if err := j.Store.PutFailures(ctx, im.ID, res.Failed); err != nil {
			return err
		}
		done := errors.Is(readErr, io.EOF)
		var de *domain.Error
		if readErr != nil && !done && errors.As(readErr, &de) {
			// The file broke off: what came before is imported, the break is one failure.
			f := Failure{Line: reader.NextLine(), Code: de.Code, Field: de.Field, Message: de.Message}
			if err := j.Store.PutFailures(ctx, im.ID, []Failure{f}); err != nil {
				return err
			}
			res.Failed = append(res.Failed, f)
			done = true
		} else if readErr != nil && !done {
			return readErr
		}
		header, sep := reader.Header()
		dl, ok := ctx.Deadline()
		handOver := !done && ok && time.Until(dl) < j.Reserve
		im, _, err = j.Store.UpdateImport(ctx, id, func(cur *Import) (bool, error) {
			if cur.Owner != owner {
				return false, errLostLease
			}
			cur.Processed += len(rows)
			cur.Created += res.Created
			cur.Existing += res.Existing
			cur.FailedCount += len(res.Failed)
			cur.Offset, cur.NextLine, cur.Header, cur.Sep = base+reader.Offset(), reader.NextLine(), header, sep
			cur.UpdatedAt = j.Now().UTC()
			if done {
				cur.State = ImportDone
			}
			if handOver {
				cur.LeaseUntil = time.Time{} // the next run may claim it at once
			}
			return true, nil
		})
		if err == nil { // counted with their checkpoint: a chunk done again after a crash counts once
			count(ctx, j.Service.Metrics, MetricImportRows, res.Created, Dimension{"Outcome", "created"})
			count(ctx, j.Service.Metrics, MetricImportRows, res.Existing, Dimension{"Outcome", "existing"})
			count(ctx, j.Service.Metrics, MetricImportRows, len(res.Failed), Dimension{"Outcome", "failed"})
		}
		if err != nil || done {
			if err == nil {
				j.Log.InfoContext(ctx, "import done", "importId", id, "processed", im.Processed, "created", im.Created,
					"existing", im.Existing, "failed", im.FailedCount)
			}
			return err
		}
		if handOver {
			j.Log.InfoContext(ctx, "import continues in a new run", "importId", id, "processed", im.Processed)
			return j.Continue.Continue(ctx, id)
		}
	}
}

var errLostLease = errors.New("the import was taken over by another run")

// open reads the file from the start, or resumes at the checkpoint: a CSV from its byte
// offset; a JSON file, which cannot be entered mid-array, from the beginning, passing over the
// elements the checkpoint counts as processed (read, not imported again).
func (j *Imports) open(im *Import, body io.Reader) (*albo.Reader, error) {
	if im.Offset > 0 && len(im.Header) > 0 {
		return albo.ResumeCSV(body, im.Header, im.Sep, im.NextLine)
	}
	format, r, err := albo.Detect(body)
	if err != nil {
		return nil, err
	}
	reader, err := albo.NewReader(r, format)
	if err != nil || format != albo.FormatJSON {
		return reader, err
	}
	for range im.Processed {
		if _, err := reader.Next(); err != nil {
			return nil, err
		}
	}
	return reader, nil
}

func (j *Imports) chunk(r *albo.Reader) ([]albo.Row, error) {
	rows := make([]albo.Row, 0, j.Chunk)
	for len(rows) < j.Chunk {
		row, err := r.Next()
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func sliceSource(rows []albo.Row) rowSource {
	i := 0
	return func() (albo.Row, error) {
		if i == len(rows) {
			return albo.Row{}, io.EOF
		}
		i++
		return rows[i-1], nil
	}
}

func (j *Imports) fail(ctx context.Context, im *Import, reason string, cause error) error {
	if cause != nil {
		j.Log.ErrorContext(ctx, "import failed", "importId", im.ID, "error", cause)
	}
	_, _, err := j.Store.UpdateImport(ctx, im.ID, func(cur *Import) (bool, error) {
		cur.State, cur.Error, cur.UpdatedAt = ImportFailed, reason, j.Now().UTC()
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("mark import failed: %w", err)
	}
	return nil
}
