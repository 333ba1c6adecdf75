// Package lambdainvoke hands work to another invocation of a function (the Lambda Invoke API):
// an import job's hand-over to its next run, a full INI-PEC export in the sync function.
package lambdainvoke

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/pecplatform/pec/shared/app"
)

var (
	_ app.Continuer = Async{}
	_ app.Exporter  = Async{}
)

// Async invokes one function asynchronously (Lambda retries it on failure).
type Async struct {
	api  *lambda.Client
	name string
}

// New returns the asynchronous invoker of the function name.
func New(cfg aws.Config, name string) Async {
	return Async{api: lambda.NewFromConfig(cfg), name: name}
}

func (a Async) invoke(ctx context.Context, payload map[string]string) error {
	b, _ := json.Marshal(payload)
	_, err := a.api.Invoke(ctx, &lambda.InvokeInput{FunctionName: &a.name, InvocationType: types.InvocationTypeEvent, Payload: b})
	if err != nil {
		return fmt.Errorf("invoke %s: %w", a.name, err)
	}
	return nil
}

// Continue continues an import in a new invocation of the running function.
func (a Async) Continue(ctx context.Context, importID string) error {
	return a.invoke(ctx, map[string]string{"importId": importID})
}

// StartExport runs a full INI-PEC export in the sync function.
func (a Async) StartExport(ctx context.Context, orderID string) error {
	return a.invoke(ctx, map[string]string{"fullExport": orderID})
}
