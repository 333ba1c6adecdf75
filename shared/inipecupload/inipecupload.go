// Package inipecupload delivers the daily INI-PEC file (package inipec) to the receiver by
// HTTPS: HTTPUploader is the app.Deliverer of the INI-PEC sync.
package inipecupload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/httpretry"
	"github.com/pecplatform/pec/shared/inipec"
)

// ErrConflict means the receiver already holds a different file under the same name: the
// delivery must not be retried as is (a new name, i.e. the next sequence number, is needed).
var ErrConflict = errors.New("inipec: a different file with this name was already delivered")

// RejectedError is the receiver's refusal of a malformed file (HTTP 422), with its line errors.
// It is permanent: the same file would be refused again.
type RejectedError struct {
	Name   string
	Errors []inipec.LineError
}

func (e *RejectedError) Error() string {
	switch len(e.Errors) {
	case 0:
		return fmt.Sprintf("inipec: %s rejected by the receiver", e.Name)
	case 1:
		return fmt.Sprintf("inipec: %s rejected by the receiver: %v", e.Name, e.Errors[0])
	}
	return fmt.Sprintf("inipec: %s rejected by the receiver: %v (and %d more problems)", e.Name, e.Errors[0], len(e.Errors)-1)
}

// StatusError is any other answer the uploader does not treat as done. The body is not kept:
// it may repeat personal data.
type StatusError struct {
	Name       string
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("inipec: upload %s: HTTP %d %s", e.Name, e.StatusCode, http.StatusText(e.StatusCode))
}

// IsPermanent reports whether retrying the same delivery later cannot help: a conflict, a
// rejection, or a 4xx answer other than 408 and 429. Transport errors, 5xx, 408 and 429 (after
// the uploader's own retries) are not permanent.
func IsPermanent(err error) bool {
	var rej *RejectedError
	var st *StatusError
	switch {
	case errors.Is(err, ErrConflict), errors.As(err, &rej):
		return true
	case errors.As(err, &st):
		return st.StatusCode >= 400 && st.StatusCode < 500 && !retryableStatus(st.StatusCode)
	}
	return false
}

// Defaults of HTTPUploader.
const (
	DefaultAttempts = 4
	DefaultBackoff  = time.Second
)

var _ app.Deliverer = (*HTTPUploader)(nil)

var defaultClient = &http.Client{Timeout: 2 * time.Minute}

// HTTPUploader delivers files by HTTPS PUT to {BaseURL}/upload/{name} with a bearer token.
// 200 and 201 are done (the receiver answers 200 to a re-delivered identical file, so a retry
// after a lost answer is safe); 409 is ErrConflict and 422 a *RejectedError, both permanent;
// transport errors, 5xx, 408 and 429 are retried with exponential backoff; anything else is a
// *StatusError.
type HTTPUploader struct {
	BaseURL  string // e.g. https://inipec.example/api, or http://127.0.0.1:3000/_local/inipec
	Token    string
	Client   *http.Client  // a client with a 2-minute timeout when nil
	Attempts int           // attempts in all, DefaultAttempts when 0
	Backoff  time.Duration // longest wait before the second attempt, doubling, with jitter, up to 30 s; DefaultBackoff when 0
}

// Deliver uploads the file open gives under name, streaming it: size is its length in bytes
// (sent as Content-Length; -1 when unknown, sent chunked), and open is called again for each
// attempt. It returns nil once the receiver holds exactly this file.
func (u HTTPUploader) Deliver(ctx context.Context, name string, size int64, open func() (io.ReadCloser, error)) error {
	if name == "" || strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
		return fmt.Errorf("inipec: invalid file name %q", name)
	}
	client := u.Client
	if client == nil {
		client = defaultClient
	}
	attempts := u.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	backoff := u.Backoff
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	target := strings.TrimRight(u.BaseURL, "/") + "/upload/" + url.PathEscape(name)

	err := httpretry.Policy{Attempts: attempts, Backoff: backoff}.Do(ctx, func(ctx context.Context) error {
		return u.put(ctx, client, target, name, size, open)
	})
	if stop, ok := errors.AsType[*httpretry.Error](err); ok {
		if stop.Ctx != nil {
			return fmt.Errorf("inipec: upload %s: %w (last attempt: %v)", name, ctx.Err(), stop.Last)
		}
		return fmt.Errorf("inipec: upload %s: giving up after %d attempts: %w", name, stop.Attempts, stop.Last)
	}
	return err
}

// put makes one attempt; its failures worth another attempt are marked with httpretry.Again.
func (u HTTPUploader) put(ctx context.Context, client *http.Client, target, name string, size int64, open func() (io.ReadCloser, error)) error {
	body, err := open()
	if err != nil {
		// The file is ours: failing to read it (an archive briefly unavailable) is worth a retry.
		return httpretry.Again(fmt.Errorf("inipec: upload %s: opening the file: %w", name, err), nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, body)
	if err != nil {
		body.Close()
		return fmt.Errorf("inipec: upload %s: %w", name, err)
	}
	req.ContentLength = size
	if size == 0 { // an empty file: Go would send a zero length with a body as chunked
		body.Close()
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+u.Token)
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("inipec: upload %s: %w", name, ctx.Err())
		}
		return httpretry.Again(fmt.Errorf("inipec: upload %s: %w", name, err), nil)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	switch code := resp.StatusCode; {
	case code == http.StatusOK || code == http.StatusCreated:
		return nil
	case code == http.StatusConflict:
		return fmt.Errorf("inipec: upload %s: %w", name, ErrConflict)
	case code == http.StatusUnprocessableEntity:
		var r struct {
			Errors []inipec.LineError `json:"errors"`
		}
		_ = json.Unmarshal(answer, &r)
		return &RejectedError{Name: name, Errors: r.Errors}
	case code >= 500 || retryableStatus(code):
		return httpretry.Again(&StatusError{Name: name, StatusCode: code}, nil)
	default:
		return &StatusError{Name: name, StatusCode: code}
	}
}

func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests
}
