package sesmail

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// NewAPI is c narrowed to API. A binary that executes a template keeps every exported method
// of every type it holds in an interface (text/template calls reflect's MethodByName, which
// defeats the linker's dead-code elimination of methods); holding only the method value keeps
// SendEmail alone of the client's hundred operations.
func NewAPI(c *sesv2.Client) API { return api{sendEmail: c.SendEmail} }

type api struct {
	sendEmail func(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

func (a api) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return a.sendEmail(ctx, in, opts...)
}
