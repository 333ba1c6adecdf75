// Command batchtask is BatchTaskFunction: see template.yaml for what invokes it.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pecplatform/pec/shared/wire/lifecycle"
)

func main() {
	h, err := lifecycle.BatchTask(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("start", "error", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
