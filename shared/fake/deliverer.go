package fake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/inipecupload"
)

// Deliverer is an in-memory INI-PEC receiver: it keeps every file delivered to it, by name.
// Like the real receiver, it takes the same name and content again as the same file, and
// refuses another content under a name it holds (inipecupload.ErrConflict).
type Deliverer struct {
	Faults
	mu    sync.Mutex
	files []DeliveredFile
	calls int
}

// DeliveredFile is a file the receiver holds.
type DeliveredFile struct {
	Name    string
	Content []byte
}

var _ app.Deliverer = (*Deliverer)(nil)

// Deliver implements app.Deliverer. It reads the whole file, which must be size bytes long
// when size is not -1.
func (d *Deliverer) Deliver(_ context.Context, name string, size int64, open func() (io.ReadCloser, error)) error {
	d.mu.Lock()
	d.calls++
	d.mu.Unlock()
	if err := d.check("Deliver"); err != nil {
		return err
	}
	body, err := open()
	if err != nil {
		return fmt.Errorf("inipec: upload %s: opening the file: %w", name, err)
	}
	defer body.Close()
	content, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("inipec: upload %s: %w", name, err)
	}
	if size >= 0 && int64(len(content)) != size {
		return fmt.Errorf("inipec: upload %s: %d bytes announced, %d sent", name, size, len(content))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range d.files {
		if f.Name == name {
			if !bytes.Equal(f.Content, content) {
				return inipecupload.ErrConflict
			}
			return nil
		}
	}
	d.files = append(d.files, DeliveredFile{Name: name, Content: content})
	return nil
}

// Files returns the files received, in the order they first arrived.
func (d *Deliverer) Files() []DeliveredFile {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]DeliveredFile, len(d.files))
	for i, f := range d.files {
		out[i] = DeliveredFile{Name: f.Name, Content: bytes.Clone(f.Content)}
	}
	return out
}

// Calls counts the calls of Deliver, failed ones and repeated files included.
func (d *Deliverer) Calls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

// Confirmer records the no-change confirmations (fault point "Confirm").
type Confirmer struct {
	Faults
	mu        sync.Mutex
	confirmed []string // "<orderId> <name> <YYYY-MM-DD>"
}

var _ app.Confirmer = (*Confirmer)(nil)

// Confirm implements app.Confirmer.
func (c *Confirmer) Confirm(_ context.Context, orderID, name string, day time.Time) error {
	if err := c.check("Confirm"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.confirmed = append(c.confirmed, orderID+" "+name+" "+day.Format("2006-01-02"))
	return nil
}

// Confirmed returns the confirmations, in order.
func (c *Confirmer) Confirmed() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.confirmed)
}
