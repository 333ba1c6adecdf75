// Command inipecsync is the function template.yaml builds from functions/inipecsync.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pecplatform/pec/shared/wire/inipecsync"
)

func main() {
	h, err := inipecsync.Sync(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("start", "error", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
