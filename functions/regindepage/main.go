// Command regindepage is RegindePageFunction: see template.yaml for what invokes it.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pecplatform/pec/shared/wire/reginde"
)

func main() {
	h, err := reginde.Page(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("start", "error", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
