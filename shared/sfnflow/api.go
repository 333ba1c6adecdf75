package sfnflow

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// NewAPI is c narrowed to API, held as method values so that a binary that executes a template
// does not keep every operation of the client (see sesmail.NewAPI).
func NewAPI(c *sfn.Client) API {
	return api{startExecution: c.StartExecution, sendTaskSuccess: c.SendTaskSuccess, sendTaskFailure: c.SendTaskFailure}
}

type api struct {
	startExecution  func(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	sendTaskSuccess func(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	sendTaskFailure func(context.Context, *sfn.SendTaskFailureInput, ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

func (a api) StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	return a.startExecution(ctx, in, opts...)
}

func (a api) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	return a.sendTaskSuccess(ctx, in, opts...)
}

func (a api) SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	return a.sendTaskFailure(ctx, in, opts...)
}
