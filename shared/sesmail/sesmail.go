// Package sesmail sends the platform's ordinary e-mails to members (notice.Message) through
// Amazon SES v2, as Simple content with a UTF-8 HTML part and text part.
package sesmail

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/mailheader"
	"github.com/pecplatform/pec/shared/notice"
)

// API is the part of the SES v2 client that Sender uses; *sesv2.Client implements it.
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

var (
	_ API        = (*sesv2.Client)(nil)
	_ app.Mailer = (*Sender)(nil)
)

// ErrInvalidMessage is wrapped by the errors about what Send was asked to send, before anything
// reaches SES. The errors never repeat the addresses or the message.
var ErrInvalidMessage = errors.New("sesmail: invalid message")

// Sender sends members' e-mails from one verified identity.
type Sender struct {
	API              API
	From             string // "noreply@pec.example.it" or "Federazione <noreply@pec.example.it>"
	ConfigurationSet string // optional SES configuration set (event publishing, suppression)
	// Once makes one attempt per Send, without the SDK's retries. SES takes no idempotency
	// token: when an answer is lost after SES accepted the message, the SDK's retry delivers it
	// a second time. Senders whose caller retries the whole step with a fresh message (the
	// activation link) set it, so that one link is never in two e-mails.
	Once bool
}

const charset = "UTF-8"

// Send sends m to the single address to ("a@b.it" or "Mario Rossi <a@b.it>") and returns the
// SES message id. A to with a line break or more than one address is refused.
func (s *Sender) Send(ctx context.Context, to string, m notice.Message) (messageID string, err error) {
	if s.API == nil {
		return "", errors.New("sesmail: Sender.API is nil")
	}
	from, err := mailheader.Address("From", s.From)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	rcpt, err := mailheader.Address("to", to)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if err := mailheader.Subject(m.Subject); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if m.Text == "" && m.HTML == "" {
		return "", fmt.Errorf("%w: empty body", ErrInvalidMessage)
	}

	body := &types.Body{}
	if m.Text != "" {
		body.Text = &types.Content{Data: aws.String(m.Text), Charset: aws.String(charset)}
	}
	if m.HTML != "" {
		body.Html = &types.Content{Data: aws.String(m.HTML), Charset: aws.String(charset)}
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(mailheader.Format(from)),
		Destination:      &types.Destination{ToAddresses: []string{mailheader.Format(rcpt)}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String(charset)},
			Body:    body,
		}},
	}
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	for _, k := range slices.Sorted(maps.Keys(m.Tags)) {
		in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String(k), Value: aws.String(m.Tags[k])})
	}
	var opts []func(*sesv2.Options)
	if s.Once {
		opts = append(opts, func(o *sesv2.Options) { o.RetryMaxAttempts = 1 })
	}
	out, err := s.API.SendEmail(ctx, in, opts...)
	if err != nil {
		return "", fmt.Errorf("sesmail: send: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}
