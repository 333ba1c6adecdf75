package inipecupload

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/notice"
)

// OrderRelay is the delivery where each Order transmits to INI-PEC itself (InipecSender order-relay):
// the platform sends the Order's file to the Order's own PEC address, attached, with what to do
// with it (forward it from the Order's PEC to INI-PEC's address), and asks the Order to confirm a
// day without changes. Otherwise (InipecSender order or federation) the platform sends to
// INI-PEC directly (HTTPUploader or PEC).
type OrderRelay struct {
	Mail   app.Mailer
	Orders app.OrderReader
	INIPEC string // INI-PEC's PEC address, which the Order sends to
}

var (
	_ app.Deliverer = OrderRelay{}
	_ app.Confirmer = OrderRelay{}
)

func (r OrderRelay) order(ctx context.Context, orderID string) (*domain.Order, error) {
	o, err := r.Orders.GetOrder(ctx, orderID)
	if err != nil {
		return nil, fmt.Errorf("inipec: the Order of %s: %w", orderID, err)
	}
	if o.PEC == "" {
		return nil, fmt.Errorf("inipec: Order %s has no PEC address to send its file to", orderID)
	}
	return o, nil
}

// Deliver implements app.Deliverer: the file to the Order's PEC.
func (r OrderRelay) Deliver(ctx context.Context, name string, size int64, open func() (io.ReadCloser, error)) error {
	o, err := r.order(ctx, orderOf(name))
	if err != nil {
		return err
	}
	if size > MaxPECFile {
		return fmt.Errorf("inipec: %s is %d bytes, over the %d a PEC carries", name, size, MaxPECFile)
	}
	f, err := open()
	if err != nil {
		return fmt.Errorf("inipec: relay %s: opening the file: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPECFile+1))
	if err != nil {
		return fmt.Errorf("inipec: relay %s: %w", name, err)
	}
	msg := notice.Message{
		Subject: "File INI-PEC da trasmettere - " + o.Name + " - " + name,
		Text: "Spett.le " + o.Name + ",\n\nsi trasmette in allegato il file " + name + " con l'aggiornamento degli indirizzi PEC dei Vostri iscritti, " +
			"nel tracciato pubblicato da INI-PEC per gli Ordini e i Collegi.\n\nL'invio a INI-PEC è a cura dell'Ordine: si prega di inoltrare il file, " +
			"senza modificarlo, dalla casella PEC dell'Ordine all'indirizzo " + r.INIPEC + ".\n\nDistinti saluti.\n\n" + notice.Signature,
		Attachments: []notice.Attachment{{Name: name, ContentType: "text/csv", Data: data}},
		IDKey:       "relay." + name,
	}
	if _, err := r.Mail.Send(ctx, o.PEC, msg); err != nil {
		return fmt.Errorf("inipec: relay %s: %w", name, err)
	}
	return nil
}

// Confirm implements app.Confirmer: the Order asked to confirm to INI-PEC that the day had no change.
func (r OrderRelay) Confirm(ctx context.Context, orderID, name string, day time.Time) error {
	o, err := r.order(ctx, orderID)
	if err != nil {
		return err
	}
	msg := notice.Message{
		Subject: "INI-PEC: nessuna variazione da comunicare - " + o.Name + " - " + name,
		Text: "Spett.le " + o.Name + ",\n\nin data " + notice.FormatDate(day) + " non vi sono variazioni degli indirizzi PEC dei Vostri iscritti da comunicare a INI-PEC. " +
			"Si ricorda che l'Ordine è tenuto a confermare a INI-PEC l'assenza di aggiornamenti: si prega di farlo dalla casella PEC dell'Ordine all'indirizzo " +
			r.INIPEC + " (riferimento " + name + ").\n\nDistinti saluti.\n\n" + notice.Signature,
		IDKey: "relay." + name,
	}
	if _, err := r.Mail.Send(ctx, o.PEC, msg); err != nil {
		return fmt.Errorf("inipec: relay confirmation %s: %w", name, err)
	}
	return nil
}
