package inipecupload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/httpretry"
	"github.com/pecplatform/pec/shared/notice"
)

// MaxPECFile is the largest file sent by PEC: PEC providers take messages of about 30 MB to
// 100 MB, attachments grow by a third in base64, and the daily delta of an Order is far smaller.
const MaxPECFile = 20 << 20

// PEC delivers the INI-PEC file as the attachment of a PEC to To (the first loads went to
// aggiornamento@cert.inipec.gov.it, MiSE note of 15/5/2013), through the platform's PEC
// mailbox, and confirms a day without changes by a PEC without attachment. A PEC the server
// accepted is sent: a run cut off before recording it sends the same file, under the same name,
// again, which INI-PEC takes as the same file.
type PEC struct {
	Mail app.Mailer
	To   string
}

var (
	_ app.Deliverer = PEC{}
	_ app.Confirmer = PEC{}
)

// Deliver implements app.Deliverer.
func (p PEC) Deliver(ctx context.Context, name string, size int64, open func() (io.ReadCloser, error)) error {
	if size > MaxPECFile {
		return fmt.Errorf("inipec: %s is %d bytes, over the %d a PEC carries", name, size, MaxPECFile)
	}
	f, err := open()
	if err != nil {
		return fmt.Errorf("inipec: pec %s: opening the file: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPECFile+1))
	if err != nil {
		return fmt.Errorf("inipec: pec %s: %w", name, err)
	}
	if len(data) > MaxPECFile {
		return fmt.Errorf("inipec: %s is over the %d bytes a PEC carries", name, MaxPECFile)
	}
	order := orderOf(name)
	msg := notice.Message{
		Subject: "Aggiornamento INI-PEC - " + order + " - " + name,
		Text: "Spettabile INI-PEC,\n\nsi trasmette in allegato il file " + name + " con l'aggiornamento degli indirizzi PEC " +
			"degli iscritti (" + order + "), nel tracciato pubblicato per gli Ordini e i Collegi.\n\nCordiali saluti.\n\n" + notice.Signature,
		Attachments: []notice.Attachment{{Name: name, ContentType: "text/csv", Data: data}},
		IDKey:       MessageIDKey(name),
	}
	if _, err := p.Mail.Send(ctx, p.To, msg); err != nil {
		return fmt.Errorf("inipec: pec %s: %w", name, err)
	}
	return nil
}

// Confirm implements app.Confirmer: a day without changes, confirmed by PEC.
func (p PEC) Confirm(ctx context.Context, orderID, name string, day time.Time) error {
	msg := notice.Message{
		Subject: "Conferma assenza di variazioni INI-PEC - " + orderID + " - " + name,
		Text: "Spettabile INI-PEC,\n\nsi conferma che in data " + notice.FormatDate(day) + " non vi sono variazioni da comunicare " +
			"per gli iscritti (" + orderID + "). Riferimento: " + name + ".\n\nCordiali saluti.\n\n" + notice.Signature,
		IDKey: MessageIDKey(name),
	}
	if _, err := p.Mail.Send(ctx, p.To, msg); err != nil {
		return fmt.Errorf("inipec: pec confirmation %s: %w", name, err)
	}
	return nil
}

// MessageIDKey is the key of the deterministic Message-ID of the PEC that carries (or confirms)
// the delivery named name: "inipec.<name>". A delivery's name is unique (Order or federation,
// day, number), so the PEC sent again by a run that completes a delivery cut off after the send
// carries the same Message-ID, and INI-PEC's reading (the stand-in's too) takes it once.
func MessageIDKey(name string) string { return "inipec." + name }

// orderOf is the Order's id in a file name made by inipec.FileName.
func orderOf(name string) string {
	s := strings.TrimPrefix(name, "INIPEC_")
	if i := strings.LastIndex(s, "_"); i > 0 {
		if j := strings.LastIndex(s[:i], "_"); j > 0 {
			return s[:j]
		}
	}
	return s
}

// Confirm implements app.Confirmer: a day without changes, confirmed by a call,
// POST {BaseURL}/confirm/{name} {"orderId", "day"} with the bearer token, answered 200 or 201
// (again for a name confirmed before, so a retry after a lost answer is safe).
func (u HTTPUploader) Confirm(ctx context.Context, orderID, name string, day time.Time) error {
	body, _ := json.Marshal(map[string]string{"orderId": orderID, "day": day.Format(time.DateOnly)})
	target := strings.TrimRight(u.BaseURL, "/") + "/confirm/" + url.PathEscape(name)
	client := u.Client
	if client == nil {
		client = defaultClient
	}
	policy := httpretry.Policy{Attempts: max(u.Attempts, 1), Backoff: u.Backoff}
	if u.Attempts <= 0 {
		policy.Attempts = DefaultAttempts
	}
	if u.Backoff <= 0 {
		policy.Backoff = DefaultBackoff
	}
	return policy.Do(ctx, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+u.Token)
		resp, err := client.Do(req)
		if err != nil {
			return httpretry.Again(fmt.Errorf("inipec: confirm %s: %w", name, err), nil)
		}
		resp.Body.Close()
		switch code := resp.StatusCode; {
		case code == http.StatusOK || code == http.StatusCreated:
			return nil
		case code >= 500 || retryableStatus(code):
			return httpretry.Again(&StatusError{Name: name, StatusCode: code}, nil)
		default:
			return &StatusError{Name: name, StatusCode: code}
		}
	})
}

var _ app.Confirmer = HTTPUploader{}
