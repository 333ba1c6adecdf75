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

// selfInvoker continues an import in a new asynchronous invocation of the running function.
type selfInvoker struct {
	api  *lambda.Client
	name string
}

func (s selfInvoker) Continue(ctx context.Context, importID string) error {
	payload, _ := json.Marshal(map[string]string{"importId": importID})
	_, err := s.api.Invoke(ctx, &lambda.InvokeInput{FunctionName: &s.name, InvocationType: types.InvocationTypeEvent, Payload: payload})
	if err != nil {
		return fmt.Errorf("continue import: %w", err)
	}
	return nil
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
		Continue:  selfInvoker{api: lambda.NewFromConfig(cfg), name: getenv("AWS_LAMBDA_FUNCTION_NAME")},
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
