// Command imports is the function template.yaml builds from functions/imports.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pecplatform/pec/shared/wire/imports"
)

func main() {
	h, err := imports.API(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("start", "error", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
