// Package sfnflow drives the lifecycle's state machines on AWS Step Functions.
package sfnflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pecplatform/pec/shared/app"
)

// API is the part of the Step Functions client the adapter uses.
type API interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(context.Context, *sfn.SendTaskFailureInput, ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

// Flow implements app.Workflow.
type Flow struct {
	API        API
	BatchARN   string // the batch state machine
	MailboxARN string // the mailbox state machine
}

var (
	_ app.Workflow       = (*Flow)(nil)
	_ app.MailboxStarter = (*Flow)(nil)
)

// Execution names are deterministic, so starting twice is one lifecycle, not two.
func BatchExecution(batchID string) string     { return "batch-" + batchID }
func MailboxExecution(mailboxID string) string { return "mailbox-" + mailboxID }

// BatchInput is the batch execution's input.
type BatchInput struct {
	BatchID   string `json:"batchId"`
	Cursor    string `json:"cursor"`
	Reminders int    `json:"reminders"`
}

// MailboxInput is the mailbox execution's input.
type MailboxInput struct {
	MailboxID string `json:"mailboxId"`
	BatchID   string `json:"batchId"`
	Reminders int    `json:"reminders"`
	Resubmits int    `json:"resubmits"`
}

// StartBatch implements app.Workflow.
func (f *Flow) StartBatch(ctx context.Context, batchID string) error {
	return f.start(ctx, f.BatchARN, BatchExecution(batchID), BatchInput{BatchID: batchID})
}

// StartMailbox implements app.Workflow.
func (f *Flow) StartMailbox(ctx context.Context, mailboxID, batchID string) error {
	return f.start(ctx, f.MailboxARN, MailboxExecution(mailboxID), MailboxInput{MailboxID: mailboxID, BatchID: batchID})
}

func (f *Flow) start(ctx context.Context, arn, name string, input any) error {
	in, _ := json.Marshal(input)
	_, err := f.API.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &arn, Name: &name, Input: aws.String(string(in))})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start execution %s: %w", name, err)
	}
	return nil
}

// Resume implements app.Workflow.
func (f *Flow) Resume(ctx context.Context, token string) error {
	_, err := f.API.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &token, Output: aws.String("{}")})
	return ignoreGone(err, "resume")
}

// Fail implements app.Workflow.
func (f *Flow) Fail(ctx context.Context, token, errorName, cause string) error {
	_, err := f.API.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: &token, Error: &errorName, Cause: &cause})
	return ignoreGone(err, "fail")
}

// ignoreGone treats a token whose step no longer waits (timed out, resumed, execution over) as
// done: the outcome is already in the store, which is the truth.
// ResumeOrGone implements app.Workflow: Resume, telling whether the step was already gone.
func (f *Flow) ResumeOrGone(ctx context.Context, token string) (gone bool, err error) {
	_, err = f.API.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &token, Output: aws.String("{}")})
	if err != nil && ignoreGone(err, "resume") == nil {
		return true, nil
	}
	return false, ignoreGone(err, "resume")
}

// FailOrGone implements app.Workflow: Fail, telling whether the step was already gone.
func (f *Flow) FailOrGone(ctx context.Context, token, errorName, cause string) (gone bool, err error) {
	_, err = f.API.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: &token, Error: &errorName, Cause: &cause})
	if err != nil && ignoreGone(err, "fail") == nil {
		return true, nil
	}
	return false, ignoreGone(err, "fail")
}

func ignoreGone(err error, op string) error {
	var timedOut *types.TaskTimedOut
	var missing *types.TaskDoesNotExist
	var invalid *types.InvalidToken
	if err == nil || errors.As(err, &timedOut) || errors.As(err, &missing) || errors.As(err, &invalid) {
		return nil
	}
	return fmt.Errorf("%s task: %w", op, err)
}
