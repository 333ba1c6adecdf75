package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/tasks"
)

// asyncInvoker invokes a function asynchronously (Lambda retries it on failure).
type asyncInvoker struct {
	api  *lambda.Client
	name string
}

func (a asyncInvoker) invoke(ctx context.Context, payload map[string]string) error {
	b, _ := json.Marshal(payload)
	_, err := a.api.Invoke(ctx, &lambda.InvokeInput{FunctionName: &a.name, InvocationType: types.InvocationTypeEvent, Payload: b})
	if err != nil {
		return fmt.Errorf("invoke %s: %w", a.name, err)
	}
	return nil
}

// Continue continues an import in a new invocation of the running function.
func (a asyncInvoker) Continue(ctx context.Context, importID string) error {
	return a.invoke(ctx, map[string]string{"importId": importID})
}

// StartExport runs a full INI-PEC export in the sync function.
func (a asyncInvoker) StartExport(ctx context.Context, orderID string) error {
	return a.invoke(ctx, map[string]string{"fullExport": orderID})
}

// Imports builds the import jobs with the real adapters.
func Imports(ctx context.Context, getenv Getenv) (*app.Imports, error) {
	store, err := Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	files, err := Files(ctx, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	domains := domain.DefaultAlboDomains
	if s := getenv("ALBO_DOMAINS"); s != "" {
		if domains, err = domain.ParseAlboDomains(s); err != nil {
			return nil, err
		}
	}
	chunk, _ := strconv.Atoi(getenv("IMPORT_CHUNK_ROWS"))
	if chunk <= 0 {
		chunk = 500
	}
	panicAfter, _ := strconv.Atoi(getenv("IMPORT_FAULT_PANIC_AFTER_ROWS"))
	reserve, err := durationEnv(getenv, "IMPORT_RESERVE_SECONDS", 90*time.Second)
	if err != nil {
		return nil, err
	}
	return &app.Imports{
		Service: app.New(store, domains), Store: store, Uploads: files, Log: Logger(getenv), Now: time.Now,
		Continue:  asyncInvoker{api: lambda.NewFromConfig(cfg), name: getenv("AWS_LAMBDA_FUNCTION_NAME")},
		UploadTTL: time.Hour, Chunk: chunk, Reserve: reserve, PanicAfter: panicAfter,
	}, nil
}

// ImportsAPI builds ImportsFunction's handler.
func ImportsAPI(ctx context.Context, getenv func(string) string) (any, error) {
	j, err := Imports(ctx, getenv)
	if err != nil {
		return nil, err
	}
	store, err := Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return httpapi.Imports(j, j.Log, store).Serve, nil
}

// ImportJob builds ImportJobFunction's handler.
func ImportJob(ctx context.Context, getenv func(string) string) (any, error) {
	j, err := Imports(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return tasks.ImportJob(j), nil
}
