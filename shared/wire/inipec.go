package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/httpapi"
	"github.com/pecplatform/pec/shared/inipec"
	"github.com/pecplatform/pec/shared/s3files"
)

// Files returns the platform's bucket (FILES_BUCKET).
func Files(ctx context.Context, getenv Getenv) (*s3files.Bucket, error) {
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	name := getenv("FILES_BUCKET")
	if name == "" {
		return nil, fmt.Errorf("FILES_BUCKET is not set")
	}
	local := getenv("AWS_ENDPOINT_URL") != ""
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = local })
	return &s3files.Bucket{API: client, Presign: s3.NewPresignClient(client), Name: name}, nil
}

// INIPEC builds the INI-PEC sync with the real adapters.
func INIPEC(ctx context.Context, getenv Getenv) (*app.INIPEC, error) {
	store, err := Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	files, err := Files(ctx, getenv)
	if err != nil {
		return nil, err
	}
	format, err := inipec.FormatFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	secrets, err := loadSecrets(ctx, getenv)
	if err != nil {
		return nil, err
	}
	settle, err := durationEnv(getenv, "INIPEC_SETTLE_SECONDS", 10*time.Minute)
	if err != nil {
		return nil, err
	}
	return &app.INIPEC{
		Store: store, Archive: files, Format: format, Log: Logger(getenv), Now: time.Now, Settle: settle,
		Deliver: &inipec.HTTPUploader{BaseURL: getenv("INIPEC_URL"), Token: secrets.INIPECToken},
	}, nil
}

// INIPECSync builds INIPECSyncFunction's handler: the daily delta of every Order, or, when
// invoked with {"fullExport": "<orderId>"}, a full export of one Order.
func INIPECSync(ctx context.Context, getenv func(string) string) (any, error) {
	s, err := INIPEC(ctx, getenv)
	if err != nil {
		return nil, err
	}
	store, err := Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var in struct {
			FullExport string `json:"fullExport"`
		}
		_ = json.Unmarshal(raw, &in)
		if in.FullExport != "" {
			return s.FullExport(ctx, store, in.FullExport)
		}
		return s.Sync(ctx)
	}, nil
}

// INIPECAPI builds INIPECFunction's handler: the delivery history.
func INIPECAPI(ctx context.Context, getenv func(string) string) (any, error) {
	s, err := INIPEC(ctx, getenv)
	if err != nil {
		return nil, err
	}
	store, err := Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	ex := asyncInvoker{api: lambda.NewFromConfig(cfg), name: getenv("INIPEC_SYNC_FUNCTION")}
	return httpapi.INIPEC(s, store, ex, s.Log, store).Serve, nil
}
