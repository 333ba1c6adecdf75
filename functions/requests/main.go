// Command requests is the function template.yaml builds from functions/requests.
package main

import (
	"context"
	"log/slog"
	"os"
	_ "time/tzdata" // the form prints dates in Italian time; the runtime image has no zone files

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pecplatform/pec/shared/wire/requests"
)

func main() {
	h, err := requests.API(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("start", "error", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
